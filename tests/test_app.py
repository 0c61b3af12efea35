"""The app answers gradio_client calls with real models on the embedded tier."""
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BOARD_TESTS = Path(__file__).parent / "leaderboard" / "board"
CLASSIFIER = "app_test_classes"


def _register_classifier() -> None:
    """A fast method that classifies (pixel_zscore plus a bright/dark class map), as UniADC-style methods report."""
    import methods
    from methods.reference import PixelZScore

    class TwoClasses(PixelZScore):
        def _predict(self, images):
            out = super()._predict(images)
            for img, pred in zip(images, out):
                hot = pred.anomaly_map > np.percentile(pred.anomaly_map, 95)
                bright = img.mean(axis=2) > img.mean()
                pred.class_map = np.where(hot, np.where(bright, 1, 2), 0).astype(np.int32)
                pred.class_name = "bright" if (pred.class_map == 1).sum() >= (pred.class_map == 2).sum() else "dark"
                pred.details["class_names"] = ["normal", "bright", "dark"]  # class_map indexes it, 0 = normal
            return out

    if CLASSIFIER not in methods.available():
        methods.register(CLASSIFIER)(TwoClasses)


def _seed_finished_run() -> None:
    """One finished leaderboard run on the tiny board suite, so charts and run detail have data."""
    sys.path.insert(0, str(BOARD_TESTS))
    from board_fixtures import tiny

    from leaderboard.board import FINISHED, Queue, parse
    from leaderboard.board.worker import work

    queue = Queue()
    job = queue.submit(parse(tiny())).id
    assert work(queue, once=True) == [(job, FINISHED)]
    queue.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    import os

    os.environ["ANOMALY_HUB_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["ANOMALY_HUB_DATA"] = str(tmp_path_factory.mktemp("data"))
    _register_classifier()
    _seed_finished_run()
    import app

    demo = app.build_app()
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True, show_error=True,
                        max_file_size=app.MAX_FILE_SIZE)
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture
def visitor(app_url):
    """A fresh session: its own detections, rule sets and fitted models."""
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _brick_images():
    from leaderboard import examples

    good, *rest = examples.example_images("brick")
    return good, next(p for p in rest if p.parent.name != "good")


def test_detect_scores_an_example_image(client):
    from gradio_client import handle_file

    from leaderboard import examples

    good, *rest = examples.example_images("brick")
    defect = next(p for p in rest if p.parent.name != "good")
    score_good, heat, text_good = client.predict(handle_file(str(good)), "patchcore", "brick", api_name="/detect")
    score_bad, _, text_bad = client.predict(handle_file(str(defect)), "patchcore", "brick", api_name="/detect")
    assert np.isfinite(score_good) and np.isfinite(score_bad)
    assert score_bad > score_good
    assert np.asarray(Image.open(heat)).shape[:2] == np.asarray(Image.open(good)).shape[:2]
    assert "threshold" in text_good and "ANOMALOUS" in text_bad


def test_detect_refuses_a_non_image(client, tmp_path):
    from gradio_client import handle_file

    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    with pytest.raises(Exception) as info:
        client.predict(handle_file(str(bogus)), "patchcore", "brick", api_name="/detect")
    assert "image" in str(info.value).lower()


def test_detect_refuses_an_unknown_method(client):
    from gradio_client import handle_file

    from leaderboard import examples

    with pytest.raises(Exception, match="Unknown method|not in the list of choices"):
        client.predict(handle_file(str(examples.example_images("brick")[0])), "nope", "brick", api_name="/detect")


def test_synthesize_returns_candidates_best_first_and_a_zip(client):
    import zipfile

    from gradio_client import handle_file

    from leaderboard import examples

    good = examples.example_images("brick")[0]
    gallery, archive = client.predict(handle_file(str(good)), "stain", "a brown coffee stain", "Ellipse", "Medium",
                                      3, 7, api_name="/synthesize")
    assert len(gallery) == 3 and gallery[0]["caption"].startswith("BEST")
    names = zipfile.ZipFile(archive).namelist()
    assert "test/stain/000.png" in names and "ground_truth/stain/000_mask.png" in names and len(names) == 6


def test_synthesize_refuses_too_many_and_bad_shapes(client):
    from gradio_client import handle_file

    from leaderboard import examples

    good = handle_file(str(examples.example_images("brick")[0]))
    with pytest.raises(Exception, match="1 to 16|maximum|less than or equal"):
        client.predict(good, "stain", "a stain", "Ellipse", "Medium", 10000, 0, api_name="/synthesize")
    with pytest.raises(Exception, match="Elipse|not in the list of choices|unknown shape"):
        client.predict(good, "stain", "a stain", "Elipse", "Medium", 2, 0, api_name="/synthesize")


def test_submit_then_see_it_queued(client):
    from pathlib import Path

    text = (Path(__file__).parents[1] / "examples" / "submissions" / "pixel_zscore.yaml").read_text()
    first = client.predict(text, api_name="/submit")
    again = client.predict(text, api_name="/submit")
    assert first.startswith("queued") and "identical" in again and first.split()[1] == again.split()[-2]
    status = client.predict("", api_name="/status")
    assert any(row[1] == "PENDING" for row in status["data"])
    with pytest.raises(Exception, match="nope"):
        client.predict(text.replace("method: pixel_zscore", "method: nope"), api_name="/submit")


def test_leaderboard_table_and_about(client):
    table = client.predict("", "", "", "", api_name="/leaderboard_table")
    assert "headers" in table and "rank" in table["headers"]
    text = client.predict(api_name="/about")
    assert "Tier: embedded" in text


def test_fit_on_own_normals_stays_in_its_session(client, app_url, tmp_path):
    import zipfile

    from gradio_client import Client, handle_file

    from leaderboard import examples

    normals = sorted((examples.example_dataset("gravel") / "train" / "good").glob("*.png"))[:6]
    archive = tmp_path / "normals.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in normals:
            zf.write(p, p.name)
    note = client.predict([handle_file(str(archive))], "pixel_zscore", api_name="/fit")
    assert "Fitted pixel_zscore on 5 images" in note
    test_image = handle_file(str(normals[0]))
    score, _, text = client.predict(test_image, "pixel_zscore", "your normals", api_name="/detect")
    assert score > 0 and "threshold" in text
    stranger = Client(app_url, verbose=False)  # another visitor: a session of its own
    with pytest.raises(Exception, match="Fit pixel_zscore on your normals first"):
        stranger.predict(test_image, "pixel_zscore", "your normals", api_name="/detect")


def test_fit_refuses_a_zip_bomb(client, tmp_path):
    import zipfile

    from gradio_client import handle_file

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.png", b"\0" * 5_000_000)
    with pytest.raises(Exception, match="zip bomb"):
        client.predict([handle_file(str(bomb))], "pixel_zscore", api_name="/fit")


def test_caption_then_score_an_edited_caption(client):
    from gradio_client import handle_file

    from leaderboard import examples

    good, _, logical = examples.example_images("Fruits")[:3]
    caption, score_good, nearest, diff = client.predict(handle_file(str(good)), "Fruits", api_name="/caption")
    assert caption and nearest and 0.0 <= score_good <= 1.0
    _, score_bad, _, _ = client.predict(handle_file(str(logical)), "Fruits", api_name="/caption")
    assert 0.0 <= score_bad <= 1.0
    text_score, text_nearest, _ = client.predict(caption, "Fruits", api_name="/score_text")
    assert text_score == pytest.approx(score_good, abs=1e-4) and text_nearest == nearest
    with pytest.raises(Exception, match="limit"):
        client.predict("x" * 100_000, "Fruits", api_name="/score_text")


def test_rules_load_validate_and_check(client):
    from gradio_client import handle_file

    from leaderboard import examples

    text = client.predict("Fruits", api_name="/load_rules")
    assert "interests:" in text and "kind: count" in text
    assert client.predict(text, api_name="/validate_rules").startswith("✅")
    broken = text.replace("kind: count", "kind: cuont", 1)
    message = client.predict(broken, api_name="/validate_rules")
    assert message.startswith("❌") and "line" in message and "cuont" in message
    logical = examples.example_images("Fruits")[2]
    shown, table, summary = client.predict(handle_file(str(logical)), "Fruits", text, api_name="/check_rules")
    rows = table["data"]
    assert rows and all(r[2] in ("pass", "FAIL") for r in rows) and "components" in summary
    with pytest.raises(Exception, match="cuont|line"):
        client.predict(handle_file(str(logical)), "Fruits", broken, api_name="/check_rules")


def test_detect_batch_csv_matches_single_detects(client, tmp_path):
    import pandas as pd
    from gradio_client import handle_file

    good, defect = _brick_images()
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    table, csv_path = client.predict([handle_file(str(p)) for p in (good, defect, bogus)], "patchcore", "brick",
                                     api_name="/detect_batch")
    rows = pd.read_csv(csv_path)
    assert list(rows.columns) == ["file", "score", "decision", "threshold", "class_name", "explanation"]
    assert list(rows["file"]) == [good.name, defect.name, bogus.name] and len(table["data"]) == 3
    for path, row in zip((good, defect), rows.itertuples()):
        score, _, text = client.predict(handle_file(str(path)), "patchcore", "brick", api_name="/detect")
        assert row.score == pytest.approx(score, abs=1e-4)
        assert row.decision == ("ANOMALOUS" if row.score > row.threshold else "normal")
        said = float(re.search(r"threshold (-?[\d.]+)", text).group(1))  # the CSV holds 4 decimals, the text 3
        assert text.startswith(row.decision) and said == pytest.approx(row.threshold, abs=1e-3)
    assert rows.loc[2, "decision"] == "unreadable" and "image" in rows.loc[2, "explanation"].lower()
    with pytest.raises(Exception, match="Upload one or more images"):
        client.predict([], "patchcore", "brick", api_name="/detect_batch")
    with pytest.raises(Exception, match="Unknown method|not in the list of choices"):
        client.predict([handle_file(str(good))], "nope", "brick", api_name="/detect_batch")


def test_threshold_redecides_without_the_model_and_the_histogram_marks_the_image(visitor):
    from gradio_client import handle_file

    with pytest.raises(Exception, match="Detect first"):
        visitor.predict(0.5, api_name="/decide")
    _, defect = _brick_images()
    score, _, text = visitor.predict(handle_file(str(defect)), "patchcore", "brick", api_name="/detect")
    slider, decision, class_map, note, plot, table, csv_path, _ = visitor.predict(api_name="/detect_views")
    default = float(text.split("threshold ")[1].split(",")[0])
    assert slider["value"] == pytest.approx(default, abs=1e-3) and decision == text
    assert slider["minimum"] < min(score, default) and slider["maximum"] > max(score, default)
    assert class_map["visible"] is False and "patchcore gives no class map" in note
    figure = json.loads(plot["plot"])
    assert plot["type"] == "plotly" and figure["data"][0]["type"] == "histogram" and len(figure["data"][0]["x"]) == 10
    marks = [s["x0"] for s in figure["layout"]["shapes"]]
    assert marks == pytest.approx([score, default], abs=1e-3)  # this image's score, then the threshold
    higher, plot, table, _ = visitor.predict(score + 1.0, api_name="/decide")
    assert higher.startswith("normal") and "set by you" in higher and table["data"][0][2] == "normal"
    assert json.loads(plot["plot"])["layout"]["shapes"][-1]["x0"] == pytest.approx(score + 1.0)
    lower, _, table, _ = visitor.predict(score - 1.0, api_name="/decide")
    assert lower.startswith("ANOMALOUS") and table["data"][0][2] == "ANOMALOUS"


def test_class_map_shown_for_a_classifying_method(visitor):
    from gradio_client import handle_file

    _, defect = _brick_images()
    visitor.predict(handle_file(str(defect)), CLASSIFIER, "brick", api_name="/detect")
    _, _, class_map, note, _, table, _, _ = visitor.predict(api_name="/detect_views")
    assert class_map["visible"] is True and set(class_map["color_map"]) == {"bright", "dark"}
    layers = {a["label"]: np.asarray(Image.open(a["image"])) for a in class_map["value"]["annotations"]}
    assert set(layers) <= {"bright", "dark"} and note.startswith("**Class: ")
    base = np.asarray(Image.open(class_map["value"]["image"]))
    assert base.shape[:2] == np.asarray(Image.open(defect)).shape[:2] == next(iter(layers.values())).shape[:2]
    assert table["data"][0][4] in ("bright", "dark")  # the class_name column


def test_a_saved_rule_set_is_used_in_detect_and_stays_in_its_session(client, visitor):
    from gradio_client import handle_file

    from leaderboard import examples

    mined = client.predict("Fruits", api_name="/load_rules")
    strict = mined.replace("interest: orange disc\n  range: [3, 3]", "interest: orange disc\n  range: [4, 4]", 1)
    assert strict != mined
    *_, note, choices = client.predict("strict", strict, api_name="/save_rules")
    assert "saved 'strict'" in note and "saved: strict" in [c[0] for c in choices["choices"]]
    good = handle_file(str(examples.example_images("Fruits")[0]))
    _, _, with_mined = client.predict(good, "logsad", "Fruits", "mined from the normals", api_name="/detect")
    _, _, with_strict = client.predict(good, "logsad", "Fruits", "saved: strict", api_name="/detect")
    assert "all rules hold" in with_mined
    assert "broken" in with_strict and "orange disc" in with_strict
    with pytest.raises(Exception, match="No saved rule set 'strict' in this session"):
        visitor.predict(good, "logsad", "Fruits", "saved: strict", api_name="/detect")
    _, _, with_example = visitor.predict(good, "logsad", "Fruits", "bundled example rules", api_name="/detect")
    assert "threshold" in with_example
    with pytest.raises(Exception, match="No bundled rule file for 'brick'"):
        visitor.predict(good, "logsad", "brick", "bundled example rules", api_name="/detect")
    broken = mined.replace("kind: count", "kind: cuont", 1)
    with pytest.raises(Exception, match="line .*cuont"):
        visitor.predict("broken", broken, api_name="/save_rules")


def test_leaderboard_charts_and_run_detail(client):
    table = client.predict("", "", "", "", api_name="/leaderboard_table")
    run = next(r for r in table["data"] if r[table["headers"].index("suite")] == "board-tiny")
    sid = run[table["headers"].index("submission_id")]
    robust, scatter = client.predict("board-tiny", "", "", "", api_name="/leaderboard_charts")
    bars = json.loads(robust["plot"])["data"]
    assert [b["type"] for b in bars] == ["bar"] and bars[0]["x"] == ["white_bg", "low_light"]
    assert bars[0]["y"] == pytest.approx([1.0, 0.25])  # histogram_knn on the tiny suite, as the worker logged
    empty = json.loads(scatter["plot"])
    assert not empty["data"] and "logical/structural split" in empty["layout"]["annotations"][0]["text"]
    metrics, tasks, config = client.predict(sid, api_name="/run_detail")
    assert metrics["n_tasks"] == 6 and metrics["mean"]["image_auroc"] == pytest.approx(0.625)
    assert len(tasks["data"]) == 6 and {r[2] for r in tasks["data"]} == {"white_bg", "low_light"}
    assert "method: histogram_knn" in config and "board-tiny" in config
    with pytest.raises(Exception, match="no submission"):
        client.predict("0000", api_name="/run_detail")


def test_a_file_over_max_file_size_is_refused(client, app_url, tmp_path):
    import httpx
    from gradio_client import handle_file

    huge = tmp_path / "huge.png"
    with huge.open("wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB without writing them
    with pytest.raises(Exception, match="exceeds the maximum file size of 20971520 bytes"):
        client.predict(handle_file(str(huge)), "patchcore", "brick", api_name="/detect")
    with huge.open("rb") as fh:  # a client that does not check first: the server refuses the upload itself
        answer = httpx.post(f"{app_url.rstrip('/')}/gradio_api/upload", files={"files": ("huge.png", fh)}, timeout=120)
    assert answer.status_code == 413 and "maximum allowed size" in answer.text


def test_fit_refuses_a_zip_of_ten_thousand_normals(client, tmp_path):
    import zipfile

    from gradio_client import handle_file

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(10_000):
            zf.writestr(f"{i:05d}.png", b"")
    with pytest.raises(Exception, match="10000 files, over the limit"):
        client.predict([handle_file(str(many))], "pixel_zscore", api_name="/fit")


def test_synthesize_from_an_anomaly_sample_and_refuse_an_empty_mask(client, tmp_path):
    import cv2
    from gradio_client import handle_file

    from leaderboard import examples

    normal, other = examples.example_images("brick")[:2]
    sample = np.array(Image.open(other).convert("RGB"))
    mask = np.zeros(sample.shape[:2], np.uint8)
    cv2.ellipse(mask, (sample.shape[1] // 2, sample.shape[0] // 2), (30, 12), 20, 0, 360, 255, -1)
    sample[mask > 0] = (40, 30, 20)
    Image.fromarray(sample).save(tmp_path / "sample.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    gallery, archive = client.predict(handle_file(str(normal)), handle_file(str(tmp_path / "sample.png")),
                                      handle_file(str(tmp_path / "mask.png")), "burn", 3, 1,
                                      api_name="/synthesize_samples")
    assert len(gallery) == 3 and gallery[0]["caption"].startswith("BEST")
    import zipfile

    assert "test/burn/000.png" in zipfile.ZipFile(archive).namelist()
    Image.fromarray(np.zeros_like(mask)).save(tmp_path / "empty.png")
    with pytest.raises(Exception, match="mask is empty"):
        client.predict(handle_file(str(normal)), handle_file(str(tmp_path / "sample.png")),
                       handle_file(str(tmp_path / "empty.png")), "burn", 3, 1, api_name="/synthesize_samples")


def test_map_submission_from_the_leaderboard_tab_is_ranked_and_a_zip_slip_refused(client, tmp_path):
    import zipfile

    from gradio_client import handle_file

    from leaderboard.run_suite import run_suite

    run_suite("board-tiny", "pixel_zscore", out=tmp_path / "rows.jsonl", data_root=tmp_path / "data",
              save_maps=tmp_path / "maps", progress=False)
    good = tmp_path / "maps.zip"
    with zipfile.ZipFile(good, "w") as zf:
        for p in sorted((tmp_path / "maps").rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(tmp_path / "maps").as_posix())
    meta = ("name: app maps\nsubmitter: app-tester\nframework: run-suite --save-maps\n"
            "code: https://github.com/example/anomaly-hub\n")
    result = client.predict(handle_file(str(good)), meta, "board-tiny", api_name="/submit_maps")
    assert result.startswith("ranked") and "maps submitted" in result
    table = client.predict("board-tiny", "", "external", "", api_name="/leaderboard_table")
    assert [row for row in table["data"] if "app maps" in " ".join(map(str, row))]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.tiff", b"x")
    with pytest.raises(Exception, match=r"\.\."):
        client.predict(handle_file(str(evil)), meta.replace("app maps", "evil maps"), "board-tiny",
                       api_name="/submit_maps")

"""The app answers gradio_client calls with real models on the embedded tier."""
import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    import os

    os.environ["ANOMALY_HUB_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["ANOMALY_HUB_DATA"] = str(tmp_path_factory.mktemp("data"))
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

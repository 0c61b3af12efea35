"""Map submissions: maps from `run-suite --save-maps`, zipped, rank beside the same method run here; every refusal
stores nothing."""
from __future__ import annotations

import io
import sqlite3
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile

from board_fixtures import SUITE, tiny
from leaderboard.board import export, map_submission
from leaderboard.board.map_submission import MapSubmissionError, parse_meta, submit_maps
from leaderboard.board.queue import FINISHED, Queue
from leaderboard.board.submission import parse
from leaderboard.board.worker import work
from leaderboard.cli import main
from leaderboard.run_suite import run_suite

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "submissions" / "maps" / "anomalib-patchcore-maps.yaml"
META = """
name: z-score maps
submitter: outsider
framework: this repository, run-suite --save-maps
code: https://github.com/example/anomaly-hub
"""
N_TASKS = 6  # board-tiny: alpha, beta, gamma × white_bg, low_light


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(maps folder, run-suite rows) of pixel_zscore on board-tiny, written by run-suite --save-maps."""
    tmp = tmp_path_factory.mktemp("export")
    rows = run_suite(SUITE, "pixel_zscore", out=tmp / "rows.jsonl", data_root=tmp / "data", save_maps=tmp / "maps",
                     progress=False)
    return tmp / "maps", rows


def _tiff(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr)
    return buf.getvalue()


def _zip(out: Path, maps: Path, *, skip=lambda name: False, extra=()) -> Path:
    """The maps folder's contents zipped as a submitter would, minus `skip`ped names, plus (ZipInfo|name, bytes)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(maps.rglob("*")):
            name = p.relative_to(maps).as_posix()
            if p.is_file() and not skip(name):
                zf.write(p, name)
        for info, data in extra:
            zf.writestr(info, data)
    return out


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _stored(db_path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db_path)
    return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("submissions", "results"))


def test_submitted_maps_rank_with_the_metrics_of_the_same_method_run_here(exported, db_path, tmp_path, capsys):
    maps, rows = exported
    queue = Queue(db_path)
    run_here = queue.submit(parse(tiny(method="pixel_zscore"))).id
    assert work(queue, once=True) == [(run_here, FINISHED)]

    res = submit_maps(_zip(tmp_path / "maps.zip", maps), META, SUITE, store_dir=db_path.parent)
    assert (res["created"], res["tier"], res["source"], res["n_tasks"]) == (True, "external", "maps submitted", N_TASKS)
    assert {r["task"]: r["metrics"] for r in res["rows"]} == {r["task"]: r["metrics"] for r in rows}
    stored = {r["task"]: r["metrics"] for r in export.store.results(queue, res["id"])}
    assert stored == {r["task"]: r["metrics"] for r in export.store.results(queue, run_here)}
    assert res["mean_metrics"]["image_auroc"] == pytest.approx(np.mean([r["metrics"]["image_auroc"] for r in rows]))

    table = export.summary(queue, SUITE).set_index("source")
    assert sorted(table.index) == ["maps submitted", "run here"]
    assert table.loc["maps submitted", "score"] == table.loc["run here", "score"]
    assert table.loc["maps submitted", "pixel_auroc"] == table.loc["run here", "pixel_auroc"]
    assert (table.loc["maps submitted", "tier"], table.loc["maps submitted", "display_name"]) == ("external",
                                                                                                  "z-score maps")
    assert queue.get(res["id"])["state"] == FINISHED

    meta = tmp_path / "meta.yaml"
    meta.write_text(META)
    args = ["--zip", str(tmp_path / "maps.zip"), "--meta", str(meta), "--suite", SUITE, "--db", str(db_path)]
    assert main(["submit-maps", *args]) == 0  # the same zip again: recognised, not stored twice
    out, err = capsys.readouterr()
    assert out.strip() == res["id"] and "identical to an existing submission" in err
    assert _stored(db_path) == (2, 2 * N_TASKS)
    assert main(["table", "--suite", SUITE, "--db", str(db_path)]) == 0
    assert "| z-score maps | maps | board-tiny | standard | external | maps submitted |" in capsys.readouterr().out
    assert main(["reproduce", res["id"], "--db", str(db_path)]) == 2
    assert "scored from submitted maps" in capsys.readouterr().err


def test_a_declared_subset_is_scored_alone(exported, db_path, tmp_path):
    maps, rows = exported
    zipped = _zip(tmp_path / "alpha.zip", maps, skip=lambda name: "/alpha/" not in name)
    res = submit_maps(zipped, META + "categories: [alpha]\n", SUITE, store_dir=db_path.parent)
    assert sorted(r["task"] for r in res["rows"]) == ["alpha/low_light", "alpha/white_bg"]
    assert _stored(db_path) == (1, 2)


REFUSALS = {
    # case: (caps to lower, what to leave out, what to add, words the error must hold)
    "zip too big": ({"MAX_ZIP_BYTES": 1000}, None, (), ["bytes, over the upload limit of 1,000"]),
    "uncompressed too big": ({"MAX_UNCOMPRESSED_BYTES": 5000}, None, (), ["uncompressed, over the limit of 5,000",
                                                                          "largest entry"]),
    "too many files": ({"MAX_ENTRIES": 10}, None, (), ["30 entries (", "over the limit of 10 entries"]),
    "directory too big": ({"MAX_ENTRIES": 40, "MAX_DIRECTORY_BYTES_PER_ENTRY": 10}, None, (),
                          ["30 entries (", "bytes of directory), over the limit of 40 entries"]),
    "absolute path": ({}, None, [("/etc/cron.d/x.tiff", b"")], ["'/etc/cron.d/x.tiff': an absolute path",
                                                                "nothing was extracted"]),
    "dot-dot": ({}, None, [("white_bg/../../evil.csv", b"")], ["'white_bg/../../evil.csv': '..' in the path"]),
    "symlink": ({}, None, [(_symlink("white_bg/alpha/test/good/link.tiff"), b"/etc/passwd")],
                ["'white_bg/alpha/test/good/link.tiff': a symbolic link"]),
    "wrong extension": ({}, None, [("white_bg/alpha/test/good/run.py", b"print(1)")],
                        ["'white_bg/alpha/test/good/run.py': only .tif, .tiff, .csv files are allowed"]),
    "missing task": ({}, lambda name: name.startswith("low_light/"), (),
                     ["3 of 6 task(s) have no maps", "alpha/low_light (no low_light/alpha/test/)", "gamma/low_light",
                      "Partial submissions are refused"]),
    "stray file": ({}, None, [("white_bg/notes.csv", b"x")], ["1 file(s) belong to no task: white_bg/notes.csv"]),
    "folder zipped, not its contents": ({}, lambda name: True, [("maps/white_bg/alpha/test/good/000.tiff", b"")],
                                        ["every entry sits under maps/"]),
    "missing map": ({}, lambda name: name == "white_bg/beta/test/crack/001.tiff", (),
                    ["beta/white_bg: 1 of 4 test images have no map under white_bg/beta/test: crack/001.tiff"]),
    "NaN map": ({}, lambda name: name == "low_light/gamma/test/good/000.tiff",
                [("low_light/gamma/test/good/000.tiff", _tiff(np.full((16, 16), np.nan, np.float32)))],
                ["gamma/low_light: low_light/gamma/test/good/000.tiff: holds 256 NaN"]),
    "wrong-size map": ({}, lambda name: name == "white_bg/alpha/test/crack/000.tiff",
                       [("white_bg/alpha/test/crack/000.tiff", _tiff(np.zeros((8, 8), np.float32)))],
                       ["alpha/white_bg: white_bg/alpha/test/crack/000.tiff: is 8×8 but its image is 16×16"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_the_reason_and_store_nothing(case, exported, db_path, tmp_path, monkeypatch):
    caps, skip, extra, words = REFUSALS[case]
    for name, value in caps.items():
        monkeypatch.setattr(map_submission, name, value)
    zipped = _zip(tmp_path / "maps.zip", exported[0], skip=skip or (lambda name: False), extra=extra)
    with pytest.raises(MapSubmissionError) as info:
        submit_maps(zipped, META, SUITE, store_dir=db_path.parent)
    for w in words:
        assert w in str(info.value)
    assert _stored(db_path) == (0, 0)
    assert not list(db_path.parent.glob("map-submission-*")), "the extraction folder was left behind"


def test_a_failed_write_leaves_no_half_submission(exported, db_path, tmp_path, monkeypatch):
    calls = []

    def insert_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    real = export.store.insert
    monkeypatch.setattr(export.store, "insert", insert_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        submit_maps(_zip(tmp_path / "maps.zip", exported[0]), META, SUITE, store_dir=db_path.parent)
    assert _stored(db_path) == (0, 0)


@pytest.mark.parametrize("text, words", [
    (META + "nmae: typo\n", ["nmae: unknown field. Did you mean 'name'?"]),
    (META.replace("name: z-score maps\n", ""), ["name: Field required"]),
    (META.replace("code: https://github.com/example/anomaly-hub\n", ""), ["give at least one link"]),
    (META + "paper: ftp://example.org/paper.pdf\n", ["paper: Value error, 'ftp://example.org/paper.pdf' is not an "
                                                     "http(s) link"]),
    (META.replace("outsider", "../root"), ["submitter: Value error, submitter '../root' must match"]),
    ("- just\n- a list\n", ["expected a mapping of fields, got list"]),
    ("name: [unclosed\n", ["not valid YAML"]),
])
def test_bad_meta_is_refused_by_field(text, words, exported, db_path, tmp_path):
    with pytest.raises(MapSubmissionError) as info:
        submit_maps(_zip(tmp_path / "maps.zip", exported[0]), text, SUITE, store_dir=db_path.parent)
    for w in words:
        assert w in str(info.value)
    assert _stored(db_path) == (0, 0)


def test_only_suites_with_public_test_images_take_maps(exported, db_path, tmp_path):
    zipped = _zip(tmp_path / "maps.zip", exported[0])
    with pytest.raises(MapSubmissionError, match="'mvtec-ad': its test images are not public.*real-textures"):
        submit_maps(zipped, META, "mvtec-ad", store_dir=db_path.parent)
    with pytest.raises(MapSubmissionError, match="unknown suite 'board-tiy'. Did you mean 'board-tiny'"):
        submit_maps(zipped, META, "board-tiy", store_dir=db_path.parent)
    with pytest.raises(MapSubmissionError, match="has no categories \\['delta'\\]"):
        submit_maps(zipped, META + "categories: [delta]\n", SUITE, store_dir=db_path.parent)


def test_rate_limit_applies_to_map_submissions(exported, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("ANOMALY_HUB_RATE_LIMIT", "0")
    with pytest.raises(MapSubmissionError, match="'outsider' has sent 0 submissions .* the limit is 0"):
        submit_maps(_zip(tmp_path / "maps.zip", exported[0]), META, SUITE, store_dir=db_path.parent)


def test_not_a_zip_and_the_example_meta(db_path, tmp_path):
    fake = tmp_path / "maps.zip"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(MapSubmissionError, match="maps.zip: not a readable zip file"):
        submit_maps(fake, META, SUITE, store_dir=db_path.parent)
    meta = parse_meta(EXAMPLE.read_text())
    assert meta.framework.startswith("anomalib") and meta.code and meta.paper


def test_maps_made_from_written_test_images_score_like_the_run_here(exported, db_path, tmp_path):
    """The path of a tool that runs elsewhere: write-test-images, predict those files, zip maps, submit."""
    import methods
    from PIL import Image

    from leaderboard.datasets import open_dataset
    from leaderboard.run_suite import write_test_images

    _, rows = exported
    images = tmp_path / "images"
    assert main(["write-test-images", SUITE, "--data-root", str(tmp_path / "data"), "--out", str(images)]) == 0
    written = sorted(p.relative_to(images).as_posix() for p in images.rglob("*.png"))
    assert len(written) == N_TASKS * 4 and "low_light/alpha/test/crack/000.png" in written
    bright = np.asarray(Image.open(images / "white_bg/alpha/test/crack/000.png"), np.float32).mean()
    assert np.asarray(Image.open(images / "low_light/alpha/test/crack/000.png"), np.float32).mean() < bright

    maps = tmp_path / "maps"
    for category in ("alpha", "beta", "gamma"):
        ds = open_dataset(tmp_path / "data", category)
        model = methods.create("pixel_zscore").fit([p for p in ds.train])
        for png in images.glob(f"*/{category}/test/*/*.png"):
            target = maps / png.relative_to(images).with_suffix(".tiff")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_tiff(model.predict(str(png))[0].anomaly_map))
    res = submit_maps(_zip(tmp_path / "maps.zip", maps), META, SUITE, store_dir=db_path.parent)
    got = {r["task"]: r["metrics"] for r in res["rows"]}
    for r in rows:
        for key, value in r["metrics"].items():
            expected = value if value is None else pytest.approx(value, abs=1e-6)
            assert got[r["task"]][key] == expected, (r["task"], key)
    assert write_test_images(SUITE, tmp_path / "one", data_root=tmp_path / "data", categories=["beta"],
                             conditions=["low_light"], progress=False) == 4

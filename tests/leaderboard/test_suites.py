"""Suite registry, materialisation and the resumable run-suite loop."""
import json

import pytest

from hub import UnknownNameError
from leaderboard import suites
from leaderboard.run_suite import read_done, run_suite, summary_table
from leaderboard.suites.spec import SuiteError, load_suite


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ANOMALY_HUB_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize("name", suites.available())
def test_every_suite_parses_and_has_tasks(name):
    suite = suites.get(name)
    assert suite.name == name and suite.version >= 1 and suite.tasks
    assert len({t.key for t in suite.tasks}) == len(suite.tasks)


def test_synthetic_logic_is_ten_scenarios_by_five_conditions():
    suite = suites.get("synthetic-logic")
    assert len({t.category for t in suite.tasks}) == 10
    assert {t.condition for t in suite.tasks} == {"white_bg", "cable_bg", "mesh_bg", "blurry", "low_light"}
    assert {t.train_condition for t in suite.tasks} == {"white_bg"}


def test_vid_ad_reports_captured_conditions():
    suite = suites.get("vid-ad")
    assert len(suite.tasks) == 50
    assert {t.reported_condition for t in suite.tasks} == {"white_bg", "cable_bg", "mesh_bg", "blurry", "low_light"}
    assert {t.condition for t in suite.tasks} == {"white_bg"}  # no transform on real captures


def test_unknown_suite_suggests():
    with pytest.raises(UnknownNameError, match="Did you mean 'synthetic-logic'"):
        suites.get("synthetic-logik")


def test_missing_data_root_is_one_clear_line(tmp_path):
    with pytest.raises(SuiteError, match="needs --data-root DIR: download MVTec LOCO"):
        suites.materialise(suites.get("mvtec-loco"))
    with pytest.raises(SuiteError, match="does not exist"):
        suites.materialise(suites.get("mvtec-loco"), data_root=tmp_path / "nope")


def test_suite_file_errors_name_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\ndescription: d\nsource: generated\ngenerator: real-textures\n"
                   "categories: [brick]\nconditions: [foggy]\n")
    with pytest.raises(SuiteError, match="unknown condition 'foggy'"):
        load_suite(bad)
    bad.write_text("name: x\nversion: 1\ndescription: d\nsource: generated\ngenerator: g\ncategorys: [a]\n")
    with pytest.raises(SuiteError, match="categorys"):
        load_suite(bad)


def test_run_suite_is_resumable(tmp_path):
    out = tmp_path / "results.jsonl"
    rows = run_suite("real-textures", "pixel_zscore", out=out, categories=["brick"], progress=False)
    assert len(rows) == 1
    row = rows[0]
    assert row["suite"] == "real-textures" and row["condition"] == "white_bg" and row["n_test"] == 90
    assert row["metrics"]["image_auroc"] is not None and row["metrics"]["aupro"] is not None
    mtime = out.stat().st_mtime_ns
    again = run_suite("real-textures", "pixel_zscore", out=out, categories=["brick"], progress=False)
    assert again == rows and out.stat().st_mtime_ns == mtime  # nothing redone, nothing appended
    with out.open("a") as fh:
        fh.write('{"task_id": "torn')  # a run killed mid-write
    assert read_done(out) == {row["task_id"]}


def test_run_suite_applies_conditions_and_reports_the_gap(tmp_path):
    out = tmp_path / "r.jsonl"
    rows = run_suite("synthetic-logic", "histogram_knn", out=out, categories=["Fruits"],
                     conditions=["white_bg", "low_light"], progress=False)
    assert {r["condition"] for r in rows} == {"white_bg", "low_light"}
    assert len({r["metrics"]["image_auroc"] for r in rows}) == 2  # the transform changed what the method saw
    table = summary_table(rows)
    assert "Fruits" in table and "worst-minus-best condition gap" in table
    assert json.loads(out.read_text().splitlines()[0])["suite_version"] == 1


def test_hub_dataset_offline_falls_back_to_one_line(tmp_path, monkeypatch):
    """A suite naming a Hub dataset repo: offline and uncached, it answers at once with where to put the data."""
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    suite = suites.get("mvtec-loco").model_copy(update={"hub_dataset": "someone/mvtec-loco", "hub_revision": "a" * 40})
    t = time.perf_counter()
    with pytest.raises(SuiteError, match="needs --data-root DIR"):
        suites.materialise(suite)
    assert time.perf_counter() - t < 5


def test_a_folder_holding_other_data_is_not_generated_over(tmp_path):
    """`--data-root` on a dev copy made with another seed (or on anything else) is an error, not a regeneration."""
    suite = suites.get("synthetic-logic")
    other = tmp_path / "Fruits"
    other.mkdir()
    manifest = {"generator": "synthetic_logic", "version": 1, "complete": True, "seed": 1, "size": 256}
    (other / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(SuiteError, match=r"holds seed 1, size 256; nothing was overwritten"):
        suites.materialise(suite, data_root=tmp_path, categories=["Fruits"])
    assert json.loads((other / "MANIFEST.json").read_text())["seed"] == 1
    (tmp_path / "Sticks").mkdir()
    (tmp_path / "Sticks" / "notes.txt").write_text("mine")
    with pytest.raises(SuiteError, match="holds data this suite did not write"):
        suites.materialise(suite, data_root=tmp_path, categories=["Sticks"])
    assert (tmp_path / "Sticks" / "notes.txt").read_text() == "mine"


def test_a_folder_written_by_make_suite_is_used_as_it_is(tmp_path):
    suite = suites.get("synthetic-logic")
    folder = tmp_path / "Fruits"
    folder.mkdir()
    manifest = {"generator": "synthetic_logic", "version": 1, "complete": True, "seed": suite.seed, "size": suite.size}
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    assert suites.materialise(suite, data_root=tmp_path, categories=["Fruits"]) == tmp_path
    assert (folder / ".complete").exists() and not (folder / "train").exists()  # taken, not written again

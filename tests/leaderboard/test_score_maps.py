"""`--save-maps` export and `score-maps`: the evaluate JSON recomputed from maps in the official layout."""
import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
from layout_builders import make_mvtec_ad, make_mvtec_loco, make_vid_ad
from PIL import Image
from sklearn.metrics import roc_auc_score

from leaderboard.cli import main
from leaderboard.datasets import open_dataset
from leaderboard.evaluate import evaluate
from leaderboard.score_maps import MapsError, score_maps

BUILDERS = {
    # MVTec AD wider than PIXEL_METRIC_MAX_SIDE: maps must still be exported at the image's own size.
    "mvtec_ad": lambda root: make_mvtec_ad(root, "widget", size=(12, 530)),
    "mvtec_loco": lambda root: make_mvtec_loco(root, "box", n_good=3, n_logical=3, n_structural=2, instances=2,
                                               size=(20, 36)),
    "vid_ad": lambda root: make_vid_ad(root, "Fruits", violations={"Dual": 2, "Single": 1}, size=(16, 24)),
}


def _export(root: Path, layout: str) -> tuple[Path, Path, dict]:
    """(category folder, maps root, evaluate JSON) for pixel_zscore with --save-maps."""
    cat = BUILDERS[layout](root / "data")
    maps = root / "maps"
    result = evaluate("pixel_zscore", data=cat, save_maps=maps, progress=False)
    return cat, maps, result


@pytest.fixture(scope="module")
def loco_export(tmp_path_factory):
    return _export(tmp_path_factory.mktemp("export"), "mvtec_loco")


@pytest.fixture
def loco_copy(loco_export, tmp_path):
    """A private copy of the LOCO maps, for tests that break them."""
    cat, maps, result = loco_export
    shutil.copytree(maps, tmp_path / "maps")
    return cat, tmp_path / "maps", result


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_save_maps_writes_official_layout_at_image_size(layout, tmp_path):
    cat, maps, result = _export(tmp_path, layout)
    ds = open_dataset(cat)
    expected = {maps / ds.category / "test" / s.defect_type / f"{s.image_id}.tiff": s for s in ds.test}
    assert set(p for p in (maps / ds.category / "test").rglob("*") if p.is_file()) == set(expected)
    for path, sample in expected.items():
        arr = tifffile.imread(path)
        with Image.open(sample.path) as img:
            assert arr.shape == (img.height, img.width)
        assert arr.dtype == np.float32
    if layout == "vid_ad":
        assert (maps / "Fruits" / "test" / "logical_anomalies" / "Dual" / "001.tiff").is_file()
    with (maps / ds.category / "scores.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["score"]) for r in rows] == [r["score"] for r in result["per_image"]]


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_score_maps_reproduces_evaluate(layout, tmp_path):
    cat, maps, result = _export(tmp_path, layout)
    scored = score_maps(maps, cat)
    assert scored["metrics"] == result["metrics"]
    assert scored["per_image"] == result["per_image"]
    assert (scored["method"], scored["tier"], scored["layout"]) == ("maps", None, result["layout"])
    assert "timing" not in scored
    assert scored["maps_dir"] == str(maps / cat.name)
    assert set(scored) == set(result) - {"timing"} | {"maps_dir", "scores_file"}


def test_cli_evaluate_then_score_maps_agree(tmp_path, capsys):
    cat = make_mvtec_loco(tmp_path, "box", n_good=3, n_logical=2, n_structural=2, size=(24, 32))
    assert main(["evaluate", "--method", "pixel_zscore", "--data", str(tmp_path), "--category", "box",
                 "--save-maps", str(tmp_path / "maps"), "--out", str(tmp_path / "e.json")]) == 0
    assert main(["score-maps", "--maps", str(tmp_path / "maps"), "--data", str(cat), "--condition", "blurry",
                 "--out", str(tmp_path / "s.json")]) == 0
    e, s = json.loads((tmp_path / "e.json").read_text()), json.loads((tmp_path / "s.json").read_text())
    assert s["metrics"] == e["metrics"] and s["per_image"] == e["per_image"]
    assert s["metrics"]["spro"] is not None and s["condition"] == "blurry"

    (tmp_path / "maps" / "box" / "test" / "good" / "001.tiff").unlink()
    capsys.readouterr()
    assert main(["score-maps", "--maps", str(tmp_path / "maps"), "--data", str(cat), "--out",
                 str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "good/001.tiff" in err and "Traceback" not in err
    assert not (tmp_path / "x.json").exists()


def test_without_scores_csv_an_image_scores_its_map_maximum(loco_copy):
    cat, maps, result = loco_copy
    (maps / "box" / "scores.csv").unlink()
    scored = score_maps(maps, cat)
    maxima = [float(tifffile.imread(maps / "box" / "test" / s.defect_type / f"{s.image_id}.tiff").max())
              for s in open_dataset(cat).test]
    assert [r["score"] for r in scored["per_image"]] == maxima
    assert maxima != [r["score"] for r in result["per_image"]]  # pixel_zscore scores the top 1 %, not the max
    labels = [r["label"] for r in result["per_image"]]
    assert scored["metrics"]["image_auroc"] == pytest.approx(roc_auc_score(labels, maxima), abs=1e-12)
    for key in ("pixel_auroc", "aupro", "spro", "spro_logical", "spro_structural"):
        assert scored["metrics"][key] == result["metrics"][key]
    assert scored["scores_file"] is None


def test_scores_csv_takes_either_path_form(loco_copy):
    cat, maps, _ = loco_copy
    ds = open_dataset(cat)
    rows = [[f"{s.defect_type}/{s.image_id}" if i % 2 else f"test/{s.defect_type}/{s.path.name}", str(0.5 * i)]
            for i, s in enumerate(ds.test)]
    _write_csv(maps / "box" / "scores.csv", [["path", "score"], *rows[::-1]])
    scored = score_maps(maps, cat)
    assert [r["score"] for r in scored["per_image"]] == [0.5 * i for i in range(len(ds.test))]
    assert scored["metrics"]["image_auroc"] == pytest.approx(
        roc_auc_score([s.label for s in ds.test], np.arange(len(ds.test))), abs=1e-12)


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda rows: rows + [["good/999", "1.0"]], r"line 10: 'good/999' is no test image of box"),
        (lambda rows: rows + [rows[1]], r"line 10: a second score for good/000"),
        (lambda rows: rows[:-2], r"no score for 2 test image\(s\): structural_anomalies/000, structural_anomalies/001"),
        (lambda rows: rows[:1] + [["good/000", "high"]] + rows[2:], r"line 2: score 'high' is not a number"),
        (lambda rows: rows[:1] + [["good/000", "nan"]] + rows[2:], r"line 2: score 'nan' is not finite"),
        (lambda rows: [["file", "score"]] + rows[1:], r"lacks column\(s\) path"),
    ],
)
def test_bad_scores_csv_is_refused(loco_copy, edit, message):
    cat, maps, _ = loco_copy
    path = maps / "box" / "scores.csv"
    with path.open() as f:
        rows = list(csv.reader(f))
    _write_csv(path, edit(rows))
    with pytest.raises(MapsError, match=message):
        score_maps(maps, cat)


def test_every_missing_map_is_named_in_one_error(loco_copy):
    cat, maps, _ = loco_copy
    (maps / "box" / "test" / "good" / "002.tiff").unlink()
    (maps / "box" / "test" / "structural_anomalies" / "001.tiff").unlink()
    missing = r"2 of 8 test images have no map under .*/box/test: good/002.tiff, structural_anomalies/001.tiff$"
    with pytest.raises(MapsError, match=missing):
        score_maps(maps, cat)


def test_extra_and_doubled_maps_are_refused(loco_copy):
    cat, maps, _ = loco_copy
    test = maps / "box" / "test"
    shutil.copy(test / "good" / "000.tiff", test / "good" / "007.tiff")
    shutil.copy(test / "good" / "001.tiff", test / "good" / "001.tif")
    (test / "good" / "notes.txt").write_text("x")
    with pytest.raises(MapsError) as err:
        score_maps(maps, cat)
    assert "several maps for one image: 001.tif, 001.tiff" in str(err.value)
    assert "2 file(s) under" in str(err.value) and "good/007.tiff, good/notes.txt" in str(err.value)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((10, 10), np.float32), r"is 10×10 but its image is 36×20; maps must be at the image's original"),
        (np.full((20, 36), np.nan, np.float32), r"holds 720 NaN and 0 infinite value\(s\)"),
        (np.where(np.eye(20, 36) > 0, np.inf, 0).astype(np.float64), r"holds 0 NaN and 20 infinite value\(s\)"),
        (np.zeros((20, 36), np.uint8), r"holds uint8 values; anomaly maps must be float TIFFs"),
        (np.zeros((20, 36, 3), np.float32), r"an anomaly map must be 2-D \(H, W\), got shape \(20, 36, 3\)"),
    ],
)
def test_bad_map_is_named(loco_copy, array, message):
    cat, maps, _ = loco_copy
    bad = maps / "box" / "test" / "logical_anomalies" / "001.tiff"
    tifffile.imwrite(bad, array)
    with pytest.raises(MapsError, match=re.escape(f"{bad}: ") + message):
        score_maps(maps, cat)


def test_non_tiff_file_is_named(loco_copy):
    cat, maps, _ = loco_copy
    bad = maps / "box" / "test" / "good" / "000.tiff"
    Image.fromarray(np.zeros((20, 36), np.uint8)).save(bad, format="PNG")
    with pytest.raises(MapsError, match=re.escape(f"{bad}: not a readable TIFF")):
        score_maps(maps, cat)


def test_maps_may_be_the_category_folder_and_a_wrong_one_is_named(loco_copy, tmp_path):
    cat, maps, result = loco_copy
    assert score_maps(maps / "box", cat)["per_image"] == result["per_image"]
    with pytest.raises(MapsError, match=r"nowhere: no such folder of anomaly maps"):
        score_maps(tmp_path / "nowhere", cat)
    (tmp_path / "nowhere").mkdir()
    with pytest.raises(MapsError, match=r"nowhere/box/test: missing"):
        score_maps(tmp_path / "nowhere", cat)
    with pytest.raises(ValueError, match=r"unknown condition 'foggy'"):
        score_maps(maps, cat, condition="foggy")

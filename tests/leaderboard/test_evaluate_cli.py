"""The evaluation CLI end to end, on a MVTec LOCO tree built from a real photograph."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from layout_builders import make_mvtec_ad, make_mvtec_loco

ROOT = Path(__file__).resolve().parents[2]
SIZE = 96


def _crop(index: int, offset: int) -> np.ndarray:
    brick = skimage.data.brick()
    y, x = divmod(index * 37 + offset, 400)
    return np.repeat(brick[y % 400 : y % 400 + SIZE, x : x + SIZE, None], 3, axis=2)


def _region(index: int) -> np.ndarray:
    region = np.zeros((SIZE, SIZE), bool)
    r = 30 + 5 * index
    region[r : r + 6, 20:80] = True
    return region


def _images(key: str, index: int) -> np.ndarray:
    offset = {"train": 0, "validation": 3000, "good": 6000, "logical_anomalies": 9000, "structural_anomalies": 12000}[key]
    img = _crop(index, offset)
    if key == "structural_anomalies":
        img = img.copy()
        img[_region(index)] = 255  # a bright scratch
    if key == "logical_anomalies":
        img = img.copy()
        img[_region(index)] = img[_region(index)] // 3  # a dark band where a part should be
    return img


@pytest.fixture(scope="module")
def loco(tmp_path_factory):
    root = tmp_path_factory.mktemp("loco")
    make_mvtec_loco(
        root, "brick_box", n_train=12, n_validation=2, n_good=6, n_logical=4, n_structural=4,
        images=_images, masks=lambda key, i, shape: [(_region(i), 37 if key == "logical_anomalies" else 91)],
    )
    return root


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leaderboard", *args], capture_output=True, text=True, cwd=ROOT)


def test_methods_lists_patchcore():
    proc = _cli("methods")
    assert proc.returncode == 0
    assert "patchcore" in proc.stdout.split()


def test_evaluate_patchcore_on_loco(loco, tmp_path):
    out = tmp_path / "result.json"
    proc = _cli("evaluate", "--method", "patchcore", "--data", str(loco), "--category", "brick_box",
                "--shots", "8", "--tier", "embedded", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the JSON goes to the file only
    result = json.loads(out.read_text())
    for key in ("method", "config", "category", "layout", "tier", "n_train", "n_test", "metrics", "timing", "per_image"):
        assert key in result
    assert (result["method"], result["layout"], result["tier"]) == ("patchcore", "mvtec_loco", "embedded")
    assert result["n_train"] == 8 and result["n_test"] == 14
    m = result["metrics"]
    assert set(m) >= {"image_auroc", "image_auroc_logical", "image_auroc_structural", "pixel_auroc", "aupro", "spro", "f1_max"}
    assert m["image_auroc_structural"] > 0.8  # a bright scratch on brick is easy
    assert all(m[k] is not None and 0.0 <= m[k] <= 1.0 for k in ("pixel_auroc", "aupro", "spro", "f1_max"))
    assert set(result["timing"]) == {"fit_s", "predict_ms_per_image", "peak_rss_mb"}
    rows = result["per_image"]
    assert len(rows) == 14 and {r["type"] for r in rows} == {"good", "logical_anomalies", "structural_anomalies"}
    assert all(set(r) >= {"path", "label", "type", "score"} for r in rows)


def test_evaluate_on_mvtec_ad_has_no_kind_split(tmp_path):
    make_mvtec_ad(tmp_path, "widget", n_train=3, n_good=2, size=(32, 32))
    out = tmp_path / "r.json"
    proc = _cli("evaluate", "--method", "pixel_zscore", "--data", str(tmp_path / "widget"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    m = json.loads(out.read_text())["metrics"]
    assert m["image_auroc_logical"] is None and m["spro"] is None and m["image_auroc"] is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "nope"], "unknown method 'nope'.*Registered methods:.*patchcore"),
        (["--method", "patchcore", "--data", "/no/such/dir"], "/no/such/dir"),
    ],
)
def test_bad_arguments_give_one_line(args, message, tmp_path):
    data = ["--data", str(tmp_path)] if "--data" not in args else []
    proc = _cli("evaluate", *args, *data, "--out", str(tmp_path / "x.json"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    import re

    assert re.search(message, proc.stderr), proc.stderr


def test_bad_config_key_is_named(tmp_path):
    make_mvtec_ad(tmp_path, "widget", size=(16, 16))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("coreset_ration: 0.2\n")
    proc = _cli("evaluate", "--method", "patchcore", "--config", str(cfg), "--data", str(tmp_path / "widget"),
                "--out", str(tmp_path / "x.json"))
    assert proc.returncode == 2 and "unknown config key 'coreset_ration'" in proc.stderr
    assert not (tmp_path / "x.json").exists()


def test_shots_are_the_first_sorted_or_a_seeded_draw():
    from leaderboard.evaluate import pick_shots

    train = [Path(f"train/good/{i:03d}.png") for i in range(20)]
    assert pick_shots(train, None) == train
    assert pick_shots(train, 4) == train[:4]
    drawn = pick_shots(train, 4, seed=1)
    assert drawn == pick_shots(train, 4, seed=1) == sorted(drawn) and len(set(drawn)) == 4
    assert drawn != train[:4] and drawn != pick_shots(train, 4, seed=2)
    with pytest.raises(ValueError, match="only 20 normal training images"):
        pick_shots(train, 21)
    with pytest.raises(ValueError, match="give --shots too"):
        pick_shots(train, None, seed=3)


def test_evaluate_records_the_normals_a_few_shot_fit_saw(tmp_path):
    make_mvtec_ad(tmp_path, "widget", n_train=6, n_good=2, size=(32, 32))
    out = tmp_path / "r.json"
    proc = _cli("evaluate", "--method", "pixel_zscore", "--data", str(tmp_path / "widget"), "--shots", "3",
                "--shot-seed", "5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["n_train"] == 3 and result["shot_seed"] == 5
    assert len(result["train_normals"]) == 3 and all(p.startswith("train/good/") for p in result["train_normals"])
    proc = _cli("evaluate", "--method", "pixel_zscore", "--data", str(tmp_path / "widget"), "--shots", "7",
                "--out", str(out))
    assert proc.returncode == 2 and "only 6 normal training images" in proc.stderr and "Traceback" not in proc.stderr

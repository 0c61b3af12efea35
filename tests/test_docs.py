"""The code in docs/ runs: the method built in docs/adding-a-method.md fits, detects, saves and ranks."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import yaml
from PIL import Image

import methods

DOC = Path(__file__).resolve().parents[1] / "docs" / "adding-a-method.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def doc_method(monkeypatch):
    """The doc's method, registered for this test only."""
    monkeypatch.setattr(methods._REGISTRY, "_items", dict(methods._REGISTRY._items))
    module = types.ModuleType("patch_gaussian_doc")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(_blocks("python")[0], str(DOC), "exec"), module.__dict__)
    return module.PatchGaussian


def _stained(crop: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.ellipse(mask, (int(rng.integers(30, 98)), int(rng.integers(30, 98))), (12, 8), float(rng.uniform(0, 180)),
                0, 360, 255, -1)
    out = crop.copy()
    out[mask > 0] = (0.35 * out[mask > 0] + [60, 35, 10]).astype(np.uint8)
    return out, mask


def _brick_dataset(root: Path) -> Path:
    brick = np.dstack([skimage.data.brick()] * 3)
    rng = np.random.default_rng(0)
    crops = [brick[y:y + 128, x:x + 128] for y, x in zip(rng.integers(0, 384, 16), rng.integers(0, 384, 16))]
    cat = root / "brick"
    for i, c in enumerate(crops[:8]):
        (cat / "train" / "good").mkdir(parents=True, exist_ok=True)
        Image.fromarray(c).save(cat / "train" / "good" / f"{i:03d}.png")
    for i, c in enumerate(crops[8:12]):
        (cat / "test" / "good").mkdir(parents=True, exist_ok=True)
        Image.fromarray(c).save(cat / "test" / "good" / f"{i:03d}.png")
    for i, c in enumerate(crops[12:]):
        image, mask = _stained(c, i)
        for sub, arr, name in (("test/stain", image, f"{i:03d}.png"), ("ground_truth/stain", mask, f"{i:03d}_mask.png")):
            (cat / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(cat / sub / name)
    return cat


def test_the_documented_method_fits_detects_and_round_trips(doc_method, tmp_path):
    model = methods.create("patch_gaussian")
    assert isinstance(model, doc_method) and model.tier == "embedded"
    cat = _brick_dataset(tmp_path)
    model.fit([np.array(Image.open(p)) for p in sorted((cat / "train" / "good").glob("*.png"))])
    good = model.predict(str(cat / "test" / "good" / "000.png"))[0]
    bad = model.predict(str(cat / "test" / "stain" / "000.png"))[0]
    assert bad.score > good.score and bad.anomaly_map.shape == (128, 128)
    mask = np.array(Image.open(cat / "ground_truth" / "stain" / "000_mask.png")) > 0
    assert bad.anomaly_map[mask].mean() > bad.anomaly_map[~mask].mean()
    again = methods.load(str(model.save(tmp_path / "saved")))
    assert again.predict(str(cat / "test" / "stain" / "000.png"))[0].score == pytest.approx(bad.score, rel=1e-5)


def test_the_documented_method_evaluates_and_its_submission_parses(doc_method, tmp_path):
    from leaderboard.board.submission import parse
    from leaderboard.evaluate import evaluate

    _brick_dataset(tmp_path)
    result = evaluate("patch_gaussian", data=tmp_path, category="brick", progress=False)
    assert result["method"] == "patch_gaussian" and result["n_test"] == 8
    assert result["metrics"]["image_auroc"] >= 0.75 and result["metrics"]["pixel_auroc"] >= 0.8
    submission = yaml.safe_load(_blocks("yaml")[0])
    assert parse(submission).config == {"image_size": 256, "layers": [2, 4], "variance_floor": 0.01}

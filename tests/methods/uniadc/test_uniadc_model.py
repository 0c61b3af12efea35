"""The uniadc Method: fit sees only what it is given, selection is on held-out synthetic data,
predictions survive save/load and repeat for a seed."""
import numpy as np
import pytest
import skimage.data
import torch

import methods
from methods.base import AnomalySample
from methods.uniadc.model import OTHER, UniADC

PRIOR = {
    "name": "brick wall",
    "categories": {
        "stain": {"description": "A dark brown stain", "shape": "Ellipse", "size": "Medium"},
        "scratch": {"description": "Thin bright scratches", "shape": "Line", "size": "Medium"},
    },
}
SMALL = dict(prior=PRIOR, image_size=128, n_per_category=3, steps=6, eval_every=2, width=8, n_candidates=1,
             batch_size=4, coreset_ratio=0.2)


def crops(n: int, offset: int = 0, size: int = 96) -> list[np.ndarray]:
    brick = skimage.data.brick()
    return [np.repeat(brick[(i * 41 + offset) % 300:][:size, (i * 67) % 300:][:, :size, None], 3, axis=2)
            for i in range(n)]


def spot_sample(category: str = "spot") -> AnomalySample:
    img = crops(1, offset=150)[0].copy()
    mask = np.zeros(img.shape[:2], bool)
    mask[40:52, 30:44] = True
    img[mask] = (30, 160, 40)
    return AnomalySample(img, mask, category)


def _same(a, b) -> None:
    for x, y in zip(a, b):
        assert x.score == pytest.approx(y.score, rel=1e-6)
        np.testing.assert_allclose(x.anomaly_map, y.anomaly_map, rtol=1e-5, atol=1e-6)
        assert (x.class_map == y.class_map).all() and x.class_name == y.class_name


@pytest.fixture(scope="module")
def fitted():
    return methods.create("uniadc", **SMALL).fit(crops(6), anomalies=[spot_sample()])


def test_predictions_carry_classes(fitted):
    preds = fitted.predict(crops(2, offset=200) + [spot_sample().image])
    names = fitted.meta["class_names"]
    assert names == ["normal", "stain", "scratch", "spot"]
    for p in preds:
        assert p.class_map.shape == p.anomaly_map.shape and p.class_map.dtype == np.int32
        assert 0 <= p.class_map.min() and p.class_map.max() < len(names)
        assert p.class_name in names[1:] + [OTHER]
        assert p.details["class_names"] == names  # class_map indexes it, 0 = normal
        assert 0.0 <= p.score <= 1.0


def test_save_load_gives_identical_predictions(fitted, tmp_path):
    images = crops(2, offset=200) + [spot_sample().image]
    fitted.save(tmp_path / "m")
    again = methods.load(str(tmp_path / "m"))
    assert isinstance(again, UniADC) and again.meta["class_names"] == fitted.meta["class_names"]
    _same(fitted.predict(images), again.predict(images))


def test_same_seed_same_model():
    """Also when only the second fit builds the backbone (which draws from torch's global generator), as
    happens to the first scenario a run-suite process fits."""
    import hub
    from tests.conftest import forget_loaded_models

    a = methods.create("uniadc", **SMALL)
    hub.load("backbone", tier=a.tier, device=a.device)
    a.fit(crops(5))
    forget_loaded_models()
    torch.rand(1000)
    b = methods.create("uniadc", **SMALL).fit(crops(5))
    images = crops(2, offset=200)
    _same(a.predict(images), b.predict(images))
    assert a.meta["history"] == b.meta["history"]


def test_fit_sees_only_the_normals_the_samples_and_syntheses_made_from_them(monkeypatch):
    normals, sample = crops(6), spot_sample()
    seen: list[np.ndarray] = []
    real = UniADC._features

    def spy(self, images):
        seen.extend(images)
        return real(self, images)

    monkeypatch.setattr(UniADC, "_features", spy)
    model = methods.create("uniadc", **SMALL).fit(normals, anomalies=[sample])
    monkeypatch.undo()
    assert seen
    for img in seen:
        if any((img == n).all() for n in normals) or (img == sample.image).all():
            continue
        # A synthesis: a given normal, changed only somewhere (its mask), equal elsewhere.
        agree = [(img == n).all(axis=2).mean() for n in normals if n.shape == img.shape]
        assert max(agree) > 0.7, "fit saw an image that is neither given nor made from a given normal"
    # The selection split is made from normals the training syntheses never used.
    fit_idx, val_idx = model.meta["fit_normals"], model.meta["val_normals"]
    assert val_idx and not set(fit_idx) & set(val_idx) and sorted(fit_idx + val_idx) == list(range(6))


def test_checkpoint_is_the_lowest_held_out_loss(fitted):
    history = fitted.meta["history"]
    assert [h["step"] for h in history] == [2, 4, 6]
    best = min(history, key=lambda h: h["val_loss"])
    assert fitted.meta["best_step"] == best["step"]


def test_open_set_threshold_turns_low_confidence_into_other(fitted):
    image = [spot_sample().image]
    fitted.meta["other_threshold"], kept = 1.01, fitted.meta["other_threshold"]
    try:
        assert fitted.predict(image)[0].class_name == OTHER
        fitted.meta["other_threshold"] = 0.0
        assert fitted.predict(image)[0].class_name != OTHER
    finally:
        fitted.meta["other_threshold"] = kept


def test_bad_config_and_bad_prior_are_refused():
    with pytest.raises(ValueError, match="threshold must be in"):
        methods.create("uniadc", threshold=1.5)
    with pytest.raises(ValueError, match="context must be an odd number"):
        methods.create("uniadc", context=2)
    with pytest.raises(ValueError, match="label_stride must be"):
        methods.create("uniadc", label_stride=0)
    bad = {"name": "x", "categories": {"dent": {"description": "A dent", "shape": "Circle"}}}
    with pytest.raises(ValueError, match="unknown shape 'Circle'"):
        methods.create("uniadc", **dict(SMALL, prior=bad)).fit(crops(3))
    with pytest.raises(ValueError, match="not 'normal' or 'Other'"):
        methods.create("uniadc", **SMALL).fit(crops(3), anomalies=[spot_sample("Other")])


@pytest.mark.parametrize("guided, threshold, calibration", [
    ([False, False, True, True], 0.35, "sample-guided"),  # median of 0.3 and 0.4 only
    ([False, False, False, False], 0.6, "prior-guided"),  # median of all four
])
def test_open_set_threshold_is_set_on_sample_guided_held_out_anomalies_when_there_are_any(
        monkeypatch, guided, threshold, calibration):
    held_out = ([0.9, 0.8, 0.3, 0.4], [True, True, True, True], guided)
    monkeypatch.setattr(UniADC, "_held_out_classification", lambda self, val: held_out)
    model = methods.create("uniadc", **dict(SMALL, other_quantile=0.5)).fit(crops(4))
    assert model.meta["other_threshold"] == pytest.approx(threshold)
    assert model.meta["other_calibration"] == calibration


def test_few_shot_held_out_split_has_sample_guided_anomalies(fitted):
    assert fitted.meta["other_calibration"] == "sample-guided"

"""Every registered method honours the one API (as timm tests every registered model)."""
import numpy as np
import pytest
import skimage.data

import methods
from hub import UnknownNameError
from methods.base import ConfigError, Prediction


def _crops(image: np.ndarray, n: int, size: int = 128, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    return [image[y : y + size, x : x + size] for y, x in zip(rng.integers(0, h - size, n), rng.integers(0, w - size, n))]


# The project's own methods; test suites may register throwaway methods of their own.
SHIPPED = [n for n in methods.available() if methods.get(n).__module__.startswith("methods.")]
RE_EXPOSING = {"logsad", "uniad"}  # methods that use methods/exposure.py by default


@pytest.fixture(scope="module")
def normals():
    return _crops(skimage.data.brick(), 6)


@pytest.mark.parametrize("name", SHIPPED)
def test_fit_predict_save_load(name, normals, tmp_path):
    # A method that trains may declare `smoke_config`: settings that make this check fast.
    model = methods.create(name, **getattr(methods.get(name), "smoke_config", {}))
    assert model.tier == "embedded"
    model.fit(normals)
    gray = skimage.data.brick()[:90, :120]  # grayscale, non-square, another size than training
    rgba = np.dstack([normals[0]] * 3 + [np.full(normals[0].shape, 255, np.uint8)])
    dark = (normals[1] * 0.15).astype(np.uint8)  # an under-exposed capture: methods that re-expose must persist how
    preds = model.predict([gray, rgba, dark])
    assert len(preds) == 3
    for pred, shape in zip(preds, [(90, 120), (128, 128), (128, 128)]):
        assert isinstance(pred, Prediction)
        assert np.isfinite(pred.score)
        assert pred.anomaly_map.shape == shape and pred.anomaly_map.dtype == np.float32
        assert isinstance(pred.explanation, str)
    if name in RE_EXPOSING:  # the dark capture is re-exposed, and the result says so
        assert preds[2].details["exposure_gain"] > 3 and "re-exposed" in preds[2].explanation
        assert preds[1].details["exposure_gain"] == 1.0 and "re-exposed" not in preds[1].explanation
    model.save(tmp_path / name)
    again = methods.load(str(tmp_path / name))
    assert type(again) is type(model) and again.config == model.config
    for a, b in zip(preds, again.predict([gray, rgba, dark])):
        assert a.score == pytest.approx(b.score, rel=1e-5)
        np.testing.assert_allclose(a.anomaly_map, b.anomaly_map, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SHIPPED)
def test_unknown_config_key_is_named(name):
    with pytest.raises(ConfigError, match="unknown config key 'no_such_key'"):
        methods.create(name, no_such_key=1)


def test_unknown_method_lists_registered():
    with pytest.raises(UnknownNameError, match=r"unknown method 'patchcor'\. Did you mean 'patchcore'\?.*patchcore"):
        methods.create("patchcor")


def test_config_typo_gets_a_suggestion_and_bad_type_is_named():
    with pytest.raises(ConfigError, match="Did you mean 'coreset_ratio'"):
        methods.create("patchcore", corset_ratio=0.1)
    with pytest.raises(ConfigError, match="coreset_ratio"):
        methods.create("patchcore", coreset_ratio="lots")


def test_predict_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="before predict"):
        methods.create("patchcore").predict(np.zeros((8, 8, 3), np.uint8))


def test_fit_on_nothing_is_an_error():
    with pytest.raises(ValueError, match="at least one normal image"):
        methods.create("patchcore").fit([])


def test_load_refuses_a_folder_without_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="method.json"):
        methods.load(str(tmp_path))

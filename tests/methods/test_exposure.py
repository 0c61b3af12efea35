import numpy as np
import pytest
from skimage import data

from methods.exposure import Exposure, brightness, exposure_note, _TO_LINEAR, _to_srgb


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.coffee()[::2, ::2].copy()


def _darken(image: np.ndarray, factor: float) -> np.ndarray:
    return _to_srgb(_TO_LINEAR[image] * factor)


def test_srgb_round_trip_is_exact():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, 2)
    assert np.array_equal(_to_srgb(_TO_LINEAR[levels]), levels)


def test_images_exposed_like_the_normals_pass_unchanged(photo):
    exposure = Exposure.fit([photo, _darken(photo, 0.9)])
    assert exposure(photo) is photo
    assert np.array_equal(exposure(_darken(photo, 0.5)), _darken(photo, 0.5))  # within the 3× tolerance


def test_a_dark_capture_is_brought_back_to_the_reference(photo):
    exposure = Exposure(reference=brightness(photo), denoise_gain=100.0)  # gain only
    dark = _darken(photo, 0.2)
    restored = exposure(dark)
    assert exposure.gain(dark) == pytest.approx(5.0, rel=0.05)
    assert brightness(restored) == pytest.approx(brightness(photo), rel=0.03)
    assert np.abs(restored.astype(int) - photo.astype(int)).mean() < np.abs(dark.astype(int) - photo.astype(int)).mean() / 5


def test_a_large_gain_smooths_shot_noise_first(photo):
    rng = np.random.default_rng(0)
    photons = _TO_LINEAR[photo] * 0.15 * 400
    noisy = _to_srgb(rng.poisson(photons) / 400)
    plain = Exposure(reference=brightness(photo), denoise_gain=100.0)(noisy)
    smoothed = Exposure(reference=brightness(photo))(noisy)
    err = lambda x: np.abs(x.astype(int) - photo.astype(int)).mean()  # noqa: E731
    assert err(smoothed) < err(plain)


def test_gain_is_bounded(photo):
    exposure = Exposure(reference=brightness(photo), max_gain=4.0)
    black = np.zeros_like(photo)
    assert exposure.gain(black) == 4.0
    assert exposure(black).max() == 0  # nothing to amplify stays black


def test_fit_needs_normals():
    with pytest.raises(ValueError, match="no normal images"):
        Exposure.fit([])


def test_apply_reports_the_gain_and_the_note_says_which_way(photo):
    exposure = Exposure(reference=brightness(photo))
    assert exposure.apply(photo)[1] == 1.0 and exposure_note(1.0) == ""
    gain = exposure.apply(_darken(photo, 0.2))[1]
    assert gain == pytest.approx(5.0, rel=0.05)
    assert exposure_note(gain) == "image re-exposed ×5 first (darker than the normals)"
    assert "brighter" in exposure_note(0.25)

"""Capture conditions: each one measurably does what VID-AD's condition does, and only that."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from leaderboard.suites.conditions import (
    CONDITIONS,
    apply_condition,
    condition_from_vid_ad_suffix,
    estimate_foreground,
)


def _scene(shadow: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A red disc and a blue bar on a light, slightly uneven, slightly noisy background."""
    h, w = 160, 200
    ys, xs = np.mgrid[0:h, 0:w]
    background = 236.0 - 12.0 * ((xs / w - 0.5) ** 2 + (ys / h - 0.5) ** 2)
    image = np.repeat(background[..., None], 3, axis=2) * np.array([1.0, 1.0, 0.98])
    fg = np.zeros((h, w), dtype=np.uint8)
    cv2.circle(fg, (70, 80), 38, 1, -1)
    cv2.rectangle(fg, (130, 30), (170, 130), 1, -1)
    if shadow:
        cast = cv2.GaussianBlur(np.roll(fg, (5, 5), axis=(0, 1)).astype(np.float32), (0, 0), 4)
        image *= (1.0 - 0.35 * cast)[..., None]
    image += np.random.default_rng(0).normal(0, 1.5, image.shape)
    image[fg == 1] = np.where((xs < 110)[fg == 1, None], [200, 50, 40], [40, 70, 190])
    return np.clip(image, 0, 255).astype(np.uint8), fg.astype(bool)


def _textured(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return cv2.resize(small, (192, 144), interpolation=cv2.INTER_NEAREST)


def _laplacian_variance(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64), cv2.CV_64F).var())


def _to_linear(image: np.ndarray) -> np.ndarray:
    x = image.astype(np.float64) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def test_the_five_vid_ad_conditions() -> None:
    assert CONDITIONS == ("white_bg", "cable_bg", "mesh_bg", "blurry", "low_light")


def test_unknown_condition_lists_the_names() -> None:
    image, _ = _scene()
    with pytest.raises(ValueError, match="white_bg, cable_bg, mesh_bg, blurry, low_light"):
        apply_condition(image, "foggy", seed=0)


def test_bad_inputs_are_refused() -> None:
    image, fg = _scene()
    with pytest.raises(ValueError, match="uint8"):
        apply_condition(image.astype(np.float32), "blurry", seed=0)
    with pytest.raises(ValueError, match="foreground"):
        apply_condition(image, "cable_bg", seed=0, foreground=fg[:-1])


@pytest.mark.parametrize("condition", CONDITIONS)
def test_deterministic_for_a_seed(condition: str) -> None:
    image, fg = _scene()
    first = apply_condition(image, condition, seed=7, foreground=fg)
    again = apply_condition(image, condition, seed=7, foreground=fg)
    other = apply_condition(image, condition, seed=8, foreground=fg)
    assert first.dtype == np.uint8 and first.shape == image.shape
    assert np.array_equal(first, again)
    assert np.array_equal(first, other) == (condition == "white_bg")


def test_white_bg_is_the_image_as_captured() -> None:
    image, _ = _scene()
    out = apply_condition(image, "white_bg", seed=3)
    assert np.array_equal(out, image)
    assert out is not image


@pytest.mark.parametrize(("condition", "min_changed"), [("cable_bg", 0.05), ("mesh_bg", 0.5)])
def test_background_conditions_keep_the_objects_and_change_the_background(condition: str, min_changed: float) -> None:
    image, fg = _scene()
    for seed in range(3):
        out = apply_condition(image, condition, seed=seed, foreground=fg)
        assert np.array_equal(out[fg], image[fg])
        changed = np.abs(out.astype(int) - image.astype(int)).max(axis=2) > 20
        assert changed[~fg].mean() > min_changed


def test_background_conditions_estimate_the_objects_when_not_given() -> None:
    image, fg = _scene(shadow=True)
    core = cv2.erode(fg.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    out = apply_condition(image, "mesh_bg", seed=1)
    assert np.array_equal(out[core], image[core])
    assert (np.abs(out.astype(int) - image.astype(int)).max(axis=2) > 20)[~fg].mean() > 0.5


def test_blurry_removes_most_high_frequency_energy() -> None:
    image = _textured()
    out = apply_condition(image, "blurry", seed=0)
    assert _laplacian_variance(out) < 0.1 * _laplacian_variance(image)
    # Defocus moves light around, it does not remove it: the linear-light mean is kept.
    assert abs(_to_linear(out).mean() - _to_linear(image).mean()) < 0.01


def test_low_light_is_darker_with_signal_dependent_noise() -> None:
    flat = np.zeros((120, 240, 3), dtype=np.uint8)
    flat[:, :120], flat[:, 120:] = 70, 235
    for seed in range(4):
        out = apply_condition(flat, "low_light", seed=seed)
        assert out.mean() < 0.75 * flat.mean()
        linear = _to_linear(out)
        dark, bright = linear[:, 5:115], linear[:, 125:235]
        # Shot noise: the standard deviation grows with the signal (read noise alone would not).
        assert bright.std() > 1.5 * dark.std() > 0
        # Linear light was scaled, so the bright-to-dark ratio of the mean survives the dimming.
        ratio = bright.mean() / dark.mean()
        expected = _to_linear(np.array([235])) / _to_linear(np.array([70]))
        assert 0.7 * expected[0] < ratio < 1.3 * expected[0]


def test_low_light_is_not_a_plain_multiply() -> None:
    image = _textured(1)
    out = apply_condition(image, "low_light", seed=0).astype(np.float64)
    k = float(out.mean() / image.mean())
    residual = out - k * image
    assert residual.std() > 3.0


@pytest.mark.parametrize("shadow", [False, True])
def test_estimate_foreground_finds_a_coloured_disc(shadow: bool) -> None:
    h, w = 180, 220
    ys, xs = np.mgrid[0:h, 0:w]
    image = np.full((h, w, 3), (238, 236, 230), dtype=np.float64)
    image -= 10.0 * (xs / w)[..., None]
    disc = (xs - 120) ** 2 + (ys - 85) ** 2 <= 45**2
    if shadow:
        cast = cv2.GaussianBlur(np.roll(disc, (6, 6), axis=(0, 1)).astype(np.float32), (0, 0), 5)
        image *= (1.0 - 0.4 * cast)[..., None]
    image[disc] = (40, 150, 90)
    image += np.random.default_rng(1).normal(0, 2.0, image.shape)
    estimate = estimate_foreground(np.clip(image, 0, 255).astype(np.uint8))
    iou = (estimate & disc).sum() / (estimate | disc).sum()
    assert iou > 0.9


@pytest.mark.parametrize(
    ("folder", "condition"),
    [
        ("Sticks", "white_bg"),
        ("Sticks_Cable_BG", "cable_bg"),
        ("Cookies_Mesh_BG", "mesh_bg"),
        ("Tapes_Blurry_CD", "blurry"),
        ("Balls_Low-light_CD", "low_light"),
        ("_Low-light_CD", "low_light"),
        ("", "white_bg"),
    ],
)
def test_vid_ad_suffixes(folder: str, condition: str) -> None:
    assert condition_from_vid_ad_suffix(folder) == condition

import cv2
import numpy as np
import pytest

from methods.base import AnomalySample
from methods.uniadc import sample_guided
from methods.uniadc.sample_guided import context_ssim, synthesize_from_samples


def texture(seed: int = 0, size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(80, 180, (size, size, 3)).astype(np.uint8), (0, 0), 1.5)


def sample(seed: int = 1) -> AnomalySample:
    img = texture(seed)
    mask = np.zeros(img.shape[:2], bool)
    cv2.circle(mask.view(np.uint8), (40, 50), 9, 1, -1)
    img[mask] = (200, 30, 30)
    return AnomalySample(img, mask, "red_spot")


def test_candidates_are_sorted_best_first_and_change_only_their_mask():
    normal = texture(5)
    made = synthesize_from_samples(normal, [sample()], np.random.default_rng(0), n_candidates=5)
    assert len(made) == 5
    assert [m.score for m in made] == sorted((m.score for m in made), reverse=True)
    for m in made:
        assert m.category == "red_spot" and m.mask.any()
        assert (m.image[~m.mask] == normal[~m.mask]).all()
        # The pasted region carries the anomaly's red.
        assert m.image[m.mask][:, 0].mean() > m.image[m.mask][:, 2].mean() + 40


def test_pasted_anomaly_is_aligned_with_its_mask_for_both_blends():
    made = synthesize_from_samples(texture(5), [sample()], np.random.default_rng(2), n_candidates=6)
    assert {m.operator for m in made} == {"paste-feather", "paste-poisson"}
    for m in made:
        core = cv2.erode(m.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        px = m.image[core].astype(int)
        assert ((px[:, 0] - px[:, 2]) > 40).mean() > 0.9, m.operator


def test_thin_and_edge_masks_never_break_the_blend():
    rng = np.random.default_rng(0)
    for i in range(40):
        img = texture(i, size=int(rng.integers(24, 80)))
        mask = np.zeros(img.shape[:2], np.uint8)
        h, w = mask.shape
        cv2.line(mask, (int(rng.integers(w)), int(rng.integers(h))), (int(rng.integers(w)), int(rng.integers(h))), 1,
                 int(rng.integers(1, 4)))
        mask[0, 0] = 1  # a region touching the border
        target = texture(100 + i, size=int(rng.integers(24, 80)))
        for m in synthesize_from_samples(target, [AnomalySample(img, mask, "line")], rng, n_candidates=2):
            assert m.mask.any() and m.image.shape == target.shape


def test_deterministic_for_a_seed():
    a = synthesize_from_samples(texture(5), [sample()], np.random.default_rng(3))
    b = synthesize_from_samples(texture(5), [sample()], np.random.default_rng(3))
    for x, y in zip(a, b):
        assert (x.image == y.image).all() and (x.mask == y.mask).all() and x.score == y.score


def test_selection_keeps_the_candidate_most_like_the_original(monkeypatch):
    # Make the second candidate a perfect copy of the original context: SSIM must rank it first.
    calls = []
    real_blend = sample_guided._blend

    def blend(image, patch, mask, top, left, how, rng):
        calls.append(how)
        out = real_blend(image, patch, mask, top, left, how, rng)
        if len(calls) == 2:
            out = out.copy()
            h, w = mask.shape
            out[top:top + h, left:left + w] = patch
        return out

    monkeypatch.setattr(sample_guided, "_blend", blend)
    made = synthesize_from_samples(texture(5), [sample()], np.random.default_rng(0), n_candidates=4)
    assert made[0].score == pytest.approx(1.0, abs=1e-6)
    assert all(m.score < 0.999 for m in made[1:])


def test_context_ssim_is_one_for_identical_and_low_for_an_inverted_copy():
    a = cv2.resize(np.random.default_rng(0).integers(0, 256, (8, 8, 3)).astype(np.uint8), (32, 32))
    valid = np.ones((32, 32), bool)
    assert context_ssim(a, a, valid) == pytest.approx(1.0)
    assert context_ssim(a, 255 - a, valid) < 0.0


def test_bad_samples_are_refused_with_clear_errors():
    with pytest.raises(ValueError, match="at least one anomaly sample"):
        synthesize_from_samples(texture(), [], np.random.default_rng(0))
    with pytest.raises(ValueError, match="mask is empty"):
        AnomalySample(texture(), np.zeros((96, 96), bool), "x")
    with pytest.raises(ValueError, match="mask is 10×10 but its image is 96×96"):
        AnomalySample(texture(), np.ones((10, 10), bool), "x")
    broken = sample()
    broken.mask = np.zeros_like(broken.mask)  # emptied after construction
    with pytest.raises(ValueError, match=r"samples\[0\] \('red_spot'\): mask is empty"):
        synthesize_from_samples(texture(), [broken], np.random.default_rng(0))
    with pytest.raises(TypeError, match="not an AnomalySample"):
        synthesize_from_samples(texture(), [texture()], np.random.default_rng(0))


def test_a_sample_from_a_larger_image_is_scaled_to_fit():
    big = AnomalySample(cv2.resize(sample().image, (192, 192)), cv2.resize(sample().mask.astype(np.uint8), (192, 192)) > 0)
    made = synthesize_from_samples(texture(5), [big], np.random.default_rng(0), n_candidates=2)
    original_fraction = big.mask.mean()
    for m in made:
        assert 0.4 * original_fraction < m.mask.mean() < 2.5 * original_fraction

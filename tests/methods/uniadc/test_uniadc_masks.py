import numpy as np
import pytest
from scipy import ndimage

from methods.uniadc.foreground import estimate_foreground
from methods.uniadc.mask_shapes import SIZE_RANGES, generate_mask, sample_mask
from methods.uniadc.prior import SHAPES, SIZES, Category

LOCAL = [s for s in SHAPES if s != "Foreground Mask"]


def disc(h: int = 192, w: int = 192, r: int = 75) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return (yy - h // 2) ** 2 + (xx - w // 2) ** 2 < r**2


@pytest.mark.parametrize("shape", LOCAL)
@pytest.mark.parametrize("size", SIZES)
def test_area_in_size_range_inside_foreground_and_region_count(shape, size):
    fg = disc()
    lo, hi = SIZE_RANGES[size]
    for seed in range(12):
        mask = generate_mask(fg, shape, size, np.random.default_rng(seed))
        assert not (mask & ~fg).any()
        assert lo * 0.98 <= mask.sum() / fg.sum() <= hi * 1.02, (seed, mask.sum() / fg.sum())
        if shape != "Perlin Noise":
            assert 1 <= ndimage.label(mask)[1] <= 2


def test_foreground_mask_is_the_foreground():
    fg = disc()
    assert (generate_mask(fg, "Foreground Mask", "Small", np.random.default_rng(0)) == fg).all()


def test_deterministic_for_a_seed_and_varied_across_seeds():
    fg = disc()
    cat = Category(description="a stain")
    a = sample_mask(fg, cat, np.random.default_rng(3))
    b = sample_mask(fg, cat, np.random.default_rng(3))
    assert (a.mask == b.mask).all() and (a.shape, a.size) == (b.shape, b.size)
    draws = {(d.shape, d.size) for d in (sample_mask(fg, cat, np.random.default_rng(s)) for s in range(40))}
    assert len({s for s, _ in draws}) >= 5 and "Foreground Mask" not in {s for s, _ in draws}


def test_empty_foreground_and_unknown_shape_are_refused():
    with pytest.raises(ValueError, match="foreground is empty"):
        generate_mask(np.zeros((8, 8), bool), "Ellipse", "Small", np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown mask shape"):
        generate_mask(disc(), "Star", "Small", np.random.default_rng(0))


def test_foreground_finds_an_object_on_a_backdrop_and_not_on_a_texture():
    img = np.full((96, 96, 3), 230, np.uint8)
    img[20:70, 30:80] = (150, 40, 30)
    fg = estimate_foreground(img)
    assert fg[45, 55] and not fg[5, 5]
    assert abs(fg.mean() - 50 * 50 / 96**2) < 0.05
    texture = np.random.default_rng(0).integers(0, 255, (96, 96, 3)).astype(np.uint8)
    assert estimate_foreground(texture).all()


def test_a_crack_is_one_jagged_figure():
    fg = disc()
    lo, hi = SIZE_RANGES["Medium"]
    spread = {True: [], False: []}
    for seed in range(20):
        for jagged in (True, False):
            mask = generate_mask(fg, "Line", "Medium", np.random.default_rng(seed), jagged=jagged)
            assert lo * 0.98 <= mask.sum() / fg.sum() <= hi * 1.02
            if jagged:
                assert ndimage.label(mask, np.ones((3, 3)))[1] == 1
            # Width across the figure's main axis over its length: a crack wanders off any straight line.
            small, large = np.linalg.eigvalsh(np.cov(np.argwhere(mask).T.astype(float)))
            spread[jagged].append(np.sqrt(small / large))
    assert np.median(spread[True]) > 1.4 * np.median(spread[False])

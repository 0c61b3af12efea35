"""Defects on the parts of a scene (objects in bins), not on the bins or the table."""
import cv2
import numpy as np

from methods.base import AnomalySample
from methods.uniadc.foreground import estimate_foreground, learn_parts, object_parts, scene_foreground
from methods.uniadc.inpaint import synthesize
from methods.uniadc.mask_shapes import generate_mask
from methods.uniadc.prior import Category
from methods.uniadc.sample_guided import synthesize_from_samples


def bin_scene(seed: int, size: int = 256) -> tuple[np.ndarray, list[np.ndarray]]:
    """A beige table, three large dark bins, and two small grey parts in each bin; the parts' masks."""
    rng = np.random.default_rng(seed)
    img = np.empty((size, size, 3), np.float32)
    img[:] = (205, 195, 175)
    img += rng.normal(0, 3, img.shape)
    parts = []
    for k in range(3):
        x0 = 12 + k * 82
        cv2.rectangle(img, (x0, 20), (x0 + 70, 236), (95, 80, 70), -1)
        cv2.rectangle(img, (x0, 20), (x0 + 70, 236), (70, 60, 50), 2)
        for y in (70, 170):
            part = np.zeros((size, size), np.uint8)
            cx, cy = x0 + 35 + int(rng.integers(-6, 7)), y + int(rng.integers(-10, 11))
            if k == 0:
                cv2.rectangle(part, (cx - 22, cy - 5), (cx + 22, cy + 5), 1, -1)  # a bolt-like bar
            else:
                cv2.circle(part, (cx, cy), 12, 1, -1)  # a nut-like disc
            img[part.astype(bool)] = (175, 178, 182)
            parts.append(part.astype(bool))
    return np.clip(img, 0, 255).astype(np.uint8), parts


def test_colour_foreground_of_a_bin_scene_covers_the_bins():
    """The problem the part model solves: the plain estimate puts defects on the bins."""
    img, parts = bin_scene(0)
    fg = estimate_foreground(img)
    assert fg.mean() > 0.5
    assert (fg & ~np.logical_or.reduce(parts)).sum() > 10 * np.logical_or.reduce(parts).sum()


def test_part_model_finds_the_parts_and_leaves_the_bins_out():
    model = learn_parts([bin_scene(s)[0] for s in range(6)])
    assert model is not None and model.typical_parts == 6
    img, truth = bin_scene(10)
    found = object_parts(img, model)
    assert len(found) == 6
    union, true_union = np.logical_or.reduce(found), np.logical_or.reduce(truth)
    assert (union & true_union).sum() / union.sum() > 0.8  # next to nothing of the bins or the table
    assert (union & true_union).sum() / true_union.sum() > 0.8
    fg, parts = scene_foreground(img, model)
    assert (fg == union).all() and len(parts) == 6


def test_no_part_model_for_a_texture():
    rng = np.random.default_rng(0)
    textures = [cv2.GaussianBlur(rng.integers(60, 200, (128, 128, 3)).astype(np.uint8), (0, 0), 1.5)
                for _ in range(6)]
    assert learn_parts(textures) is None
    fg, parts = scene_foreground(textures[0], None)
    assert parts == [] and fg.all()


def test_synthesised_defect_lies_on_one_part_sized_by_that_part():
    img, truth = bin_scene(3)
    cat = Category(description="A small round dark hole", shape="Ellipse", size="Medium")
    for seed in range(6):
        made = synthesize(img, cat, np.random.default_rng(seed), 2, np.logical_or.reduce(truth), parts=truth)
        on = [int((made.mask & p).sum()) for p in truth]
        assert sum(on) == made.mask.sum() and sum(1 for n in on if n) == 1
        part = truth[int(np.argmax(on))]
        assert 0.015 * part.sum() * 0.9 <= made.mask.sum() <= 0.05 * part.sum() * 1.1


def test_edge_masks_sit_on_the_outline_and_tiny_parts_still_get_pixels():
    part = np.zeros((128, 128), bool)
    cv2.circle(part.view(np.uint8), (64, 64), 30, 1, -1)
    outline = part & ~cv2.erode(part.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    for seed in range(8):
        mask = generate_mask(part, "Ellipse", "Medium", np.random.default_rng(seed), at_edge=True)
        assert (mask & outline).any() and not (mask & ~part).any()
        inner = generate_mask(part, "Ellipse", "Small", np.random.default_rng(seed))
        assert not (inner & outline).any()
    tiny = np.zeros((128, 128), bool)
    tiny[60:68, 60:70] = True  # 80 px: 0.3 % of it would be under a pixel
    assert generate_mask(tiny, "Ellipse", "Small", np.random.default_rng(0)).sum() >= 8


def stick_scene(angles: tuple[float, ...], seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Blue sticks (6 px thick, 150 long) at the given angles (degrees) on a grey table."""
    rng = np.random.default_rng(seed)
    img = np.full((256, 256, 3), 200, np.float32) + rng.normal(0, 2, (256, 256, 3))
    sticks = []
    for k, angle in enumerate(angles):
        stick = np.zeros((256, 256), np.uint8)
        cx, cy = 128 + 60 * (k - (len(angles) - 1) / 2), 128
        if abs(np.sin(np.radians(angle))) < 0.5:
            cx, cy = cy, cx
        dx, dy = 75 * np.cos(np.radians(angle)), 75 * np.sin(np.radians(angle))
        cv2.line(stick, (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy)), 1, 6)
        img[stick.astype(bool)] = (40, 70, 165)
        sticks.append(stick.astype(bool))
    return np.clip(img, 0, 255).astype(np.uint8), sticks


def test_sample_guided_paste_follows_a_thin_object():
    """A scratch along a horizontal stick lands along a vertical one, not across or beside it."""
    model = learn_parts([stick_scene((a, a + 5), s)[0] for s, a in enumerate(range(0, 180, 30))])
    assert model is not None
    source, (stick,) = stick_scene((0,), 1)
    ys, xs = np.nonzero(stick)
    defect = np.zeros_like(stick)
    defect[int(ys.mean()) - 1:int(ys.mean()) + 1, int(xs.mean()) - 20:int(xs.mean()) + 20] = True
    source[defect] = (20, 15, 10)
    target, parts = stick_scene((90,), 2)
    sample = AnomalySample(source, defect, "scratch")
    on = lambda m: (m.mask & parts[0]).sum() / m.mask.sum()
    posed = [synthesize_from_samples(target, [sample], np.random.default_rng(seed), 2, parts[0], parts, model)[0]
             for seed in range(4)]
    assert min(on(m) for m in posed) >= 0.85
    # Without the parts the pose is random, and the scratch mostly leaves the stick.
    unposed = [synthesize_from_samples(target, [sample], np.random.default_rng(seed), 2, parts[0])[0]
               for seed in range(4)]
    assert min(on(m) for m in unposed) < 0.5


def test_fit_puts_the_synthetic_defects_of_a_bin_scene_on_its_parts(monkeypatch):
    import methods
    from methods.uniadc.model import UniADC

    scenes = [bin_scene(s) for s in range(6)]
    captured = []
    real = UniADC._cache

    def spy(self, items, *args, **kwargs):
        captured.extend(items)
        return real(self, items, *args, **kwargs)

    monkeypatch.setattr(UniADC, "_cache", spy)
    prior = {"name": "tools", "categories": {
        "hole": {"description": "A small round dark hole", "shape": "Ellipse", "size": "Medium"},
        "deformation": {"description": "A bite-shaped notch missing from the edge", "shape": "Ellipse", "size": "Large"}}}
    model = methods.create("uniadc", prior=prior, image_size=128, n_per_category=4, steps=2, eval_every=1, width=8,
                           n_candidates=1, batch_size=4, coreset_ratio=0.2).fit([img for img, _ in scenes])
    assert model.meta["typical_parts"] == 6
    synthetic = [it for it in captured if it.label > 0]
    assert len(synthetic) >= 8
    for it in synthetic:
        parts = next(p for img, p in scenes if (img == it.image).all(axis=2).mean() > 0.9)
        grown = cv2.dilate(np.logical_or.reduce(parts).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        assert (it.mask & grown).sum() == it.mask.sum()


def test_preview_scene_of_parts_puts_each_prior_defect_on_a_part():
    """docs/synthesis/priors.png shows the synthetic-logic priors on this drawn scene: it must have parts."""
    from pathlib import Path

    from methods.uniadc.preview import parts_scene
    from methods.uniadc.prior import load_prior

    scenes = [parts_scene(i) for i in range(6)]
    model = learn_parts(scenes)
    assert model is not None and model.typical_parts == 6  # four discs in two bins, two sticks
    fg, parts = scene_foreground(scenes[0], model)
    on_parts = np.logical_or.reduce(parts)
    prior = load_prior(Path(__file__).resolve().parents[3] / "examples" / "priors" / "synthetic-logic-cookies.yaml")
    for k, cat in enumerate(prior.categories.values()):
        made = synthesize(scenes[0], cat, np.random.default_rng(k), 4, foreground=fg, parts=parts)
        assert made.mask.any() and (made.mask & on_parts).sum() >= 0.9 * made.mask.sum()

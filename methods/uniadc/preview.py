"""Contact sheets that show what the synthesis makes, on photos that ship with scikit-image."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

from methods.uniadc.foreground import estimate_foreground, learn_parts, scene_foreground
from methods.uniadc.inpaint import synthesize
from methods.uniadc.mask_shapes import generate_mask
from methods.uniadc.prior import SHAPES, SIZES, Category, load_prior

PRIORS = Path(__file__).resolve().parents[2] / "examples" / "priors"
TILE = 192


def sample_photos() -> dict[str, np.ndarray]:
    """Square crops: two textures and one object on a plain backdrop."""
    def crop(img: np.ndarray, y: int, x: int, side: int) -> np.ndarray:
        rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
        return cv2.resize(np.ascontiguousarray(rgb[y:y + side, x:x + side]), (256, 256), interpolation=cv2.INTER_AREA)

    return {
        "brick": crop(data.brick(), 0, 0, 512),
        "coffee": crop(data.coffee(), 0, 100, 400),
        "chelsea": crop(data.chelsea(), 0, 60, 300),
    }


def parts_scene(seed: int) -> np.ndarray:
    """A drawn scene of small parts on a light table (two bins of discs, loose sticks), like the
    synthetic-logic scenarios whose priors size defects relative to one part."""
    rng = np.random.default_rng(seed)
    img = np.full((256, 256, 3), (214, 210, 202), np.float32) + rng.normal(0, 2.5, (256, 256, 3))
    for x0 in (24, 136):
        cv2.rectangle(img, (x0, 30), (x0 + 96, 150), (92, 96, 110), -1)
        for k in range(2):
            centre = (x0 + 28 + 40 * k + int(rng.integers(-4, 5)), 90 + int(rng.integers(-20, 21)))
            cv2.circle(img, centre, 15, (226, 118, 40), -1)
            cv2.circle(img, (centre[0] - 4, centre[1] - 5), 5, (240, 160, 90), -1)
    for y in (185, 220):
        x = 40 + int(rng.integers(0, 30))
        cv2.rectangle(img, (x, y), (x + 150 + int(rng.integers(-20, 21)), y + 9), (60, 90, 180), -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 16), (0, 0, 0), -1)
    cv2.putText(out, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _outline(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = image.copy()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, (255, 220, 0), 1)
    return out


def _grid(rows: list[list[np.ndarray]]) -> np.ndarray:
    return np.vstack([np.hstack([cv2.resize(t, (TILE, TILE)) for t in row]) for row in rows])


def mask_families_sheet(seed: int = 0) -> np.ndarray:
    """8 families (rows) × 3 sizes (columns), masks tinted onto a photo."""
    photos = sample_photos()
    rows = []
    for i, shape in enumerate(SHAPES):
        # Foreground Mask is shown on the cup, where the colour-based foreground estimate has an object to find.
        photo = photos["coffee" if shape == "Foreground Mask" else "brick"]
        fg = estimate_foreground(photo)
        row = []
        for size in SIZES:
            mask = generate_mask(fg, shape, size, np.random.default_rng(seed + i))
            tinted = photo.copy()
            tinted[mask] = (0.35 * tinted[mask] + 0.65 * np.array([255, 40, 40])).astype(np.uint8)
            row.append(_label(tinted, f"{shape} / {size if shape != 'Foreground Mask' else 'whole'} {mask.mean():.1%}"))
        rows.append(row)
    return _grid(rows)


def priors_sheet(seed: int = 0) -> np.ndarray:
    """For a few priors, each category on each photo: the defect (left) and its mask outline (right)."""
    photos = sample_photos()
    jobs: list[tuple[str, Category, np.ndarray, tuple]] = []  # title, category, image, (foreground, parts)
    real = load_prior(PRIORS / "real-textures.yaml")
    for name, cat in real.categories.items():
        jobs += [(f"{name} / brick", cat, photos["brick"], (None, [])),
                 (f"{name} / coffee", cat, photos["coffee"], (None, []))]
    # The synthetic-logic priors size a defect relative to one part, so they are shown on a scene of parts.
    scenes = [parts_scene(seed + i) for i in range(6)]
    model = learn_parts(scenes)
    found = [scene_foreground(scene, model) for scene in scenes]
    for scenario in ("cookies", "tools"):
        prior = load_prior(PRIORS / f"synthetic-logic-{scenario}.yaml")
        for name, cat in prior.categories.items():
            i = len(jobs) % len(scenes)
            jobs.append((f"{scenario}: {name}", cat, scenes[i], found[i]))
    tiles = []
    for k, (title, cat, photo, (fg, parts)) in enumerate(jobs):
        made = synthesize(photo, cat, np.random.default_rng(seed + k), n_candidates=4, foreground=fg, parts=parts)
        tiles += [_label(made.image, title), _label(_outline(made.image, made.mask), f"{made.shape} {made.size}")]
    per_row = 6
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % per_row)
    return _grid([tiles[i:i + per_row] for i in range(0, len(tiles), per_row)])


def sample_guided_sheet(seed: int = 0) -> np.ndarray:
    """Per row: one anomaly sample (outlined), then its pastes into another photo, best SSIM first.

    No real defect photo ships with scikit-image, so each sample is itself a prior-guided synthesis.
    """
    from methods.base import AnomalySample
    from methods.uniadc.sample_guided import synthesize_from_samples

    photos = sample_photos()
    real = load_prior(PRIORS / "real-textures.yaml")
    brick_b = cv2.resize(np.ascontiguousarray(np.repeat(data.brick()[-256:, -256:, None], 3, axis=2)), (256, 256))
    jobs = [("stain", photos["brick"], brick_b), ("foreign_texture", photos["brick"], brick_b),
            ("hole", photos["coffee"], photos["coffee"][:, ::-1].copy())]
    rows = []
    for k, (name, source, target) in enumerate(jobs):
        made = synthesize(source, real.categories[name], np.random.default_rng(seed + k), n_candidates=4)
        sample = AnomalySample(made.image, made.mask, name)
        pastes = synthesize_from_samples(target, [sample], np.random.default_rng(seed + k), n_candidates=4)
        row = [_label(_outline(sample.image, sample.mask), f"sample: {name}")]
        row += [_label(_outline(p.image, p.mask), f"SSIM {p.score:.2f} {p.operator}") for p in pastes]
        rows.append(row)
    return _grid(rows)


def write_previews(out: str | Path, seed: int = 0) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "mask_families.png", out / "priors.png", out / "sample_guided.png"]
    for path, sheet in zip(paths, (mask_families_sheet(seed), priors_sheet(seed), sample_guided_sheet(seed))):
        cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return paths

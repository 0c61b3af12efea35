"""A structural anomaly suite on real photographs: scikit-image's brick, gravel and grass.

Synthetic textures are too regular to tell methods apart; these photographs have real
grain, lighting and irregularity, and they ship with scikit-image, so the suite builds
offline in seconds. Normal images are crops of the photographs; the defects (a foreign
texture patch, a scratch, a hole, a stain) are rendered and inserted into those real
photographs, so only the defect itself is synthetic. Train crops come from the left two
thirds of each photograph and test crops from the right third, so a test image is never
a memorised copy of a training image.
"""
from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import cv2
import numpy as np
from PIL import Image

# progress(fraction_done in [0, 1], description), as for methods.
Progress = Callable[[float, str], None]

DEFECTS: tuple[str, ...] = ("foreign_texture", "scratch", "hole", "stain")
DEFAULT_COUNTS: dict[str, int] = {"train": 60, "good": 30, **{d: 15 for d in DEFECTS}}
_TRAIN_FRACTION = 2 / 3  # of the photograph's width, from the left


@dataclass(frozen=True)
class _Texture:
    loader: str  # function in skimage.data; these three load from the wheel, without pooch
    noun: str
    isotropic: bool  # rotations by 90° and vertical flips look like the same material


_TEXTURES: dict[str, _Texture] = {
    "brick": _Texture("brick", "brick wall", isotropic=False),
    "gravel": _Texture("gravel", "gravel", isotropic=True),
    "grass": _Texture("grass", "grass", isotropic=True),
}
TEXTURES: tuple[str, ...] = tuple(_TEXTURES)


def generate(
    out_dir: str | Path,
    *,
    seed: int = 0,
    size: int = 256,
    categories: Sequence[str] | None = None,
    counts: Mapping[str, int] | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write one MVTec AD folder per texture (real photo crops, rendered defects) under `out_dir`; return them.

    `counts` overrides DEFAULT_COUNTS per key ("train", "good" or a defect name). PNG files
    already in the folders written to are removed first so a smaller rerun leaves no
    strays. `MANIFEST.json` at `out_dir` describes every test image; categories written
    earlier with the same seed and size stay in it, so categories can be added one by one.
    """
    names = list(TEXTURES if categories is None else categories)
    unknown = [c for c in names if c not in _TEXTURES]
    if unknown:
        raise ValueError(f"unknown texture(s) {unknown}; choose from {', '.join(TEXTURES)}")
    bad_keys = set(counts or {}) - set(DEFAULT_COUNTS)
    if bad_keys:
        raise ValueError(f"unknown count key(s) {sorted(bad_keys)}; use {', '.join(DEFAULT_COUNTS)}")
    n = {**DEFAULT_COUNTS, **(counts or {})}
    if any(v < 0 for v in n.values()):
        raise ValueError(f"counts must be non-negative, got {n}")
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    out = Path(out_dir)
    jobs = [(c, "train/good", None, i) for c in names for i in range(n["train"])]
    jobs += [(c, "test/good", None, i) for c in names for i in range(n["good"])]
    jobs += [(c, f"test/{d}", d, i) for c in names for d in DEFECTS for i in range(n[d])]
    for folder in {out / c / split for c, split, _, _ in jobs} | {
        out / c / "ground_truth" / d for c, _, d, _ in jobs if d is not None
    }:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.png"):
            stale.unlink()
    manifest: dict = {
        "suite": "real_textures",
        "seed": seed,
        "size": size,
        "source": "photographs from scikit-image (skimage.data); defects rendered into them",
        "categories": {
            c: {
                "photo": f"skimage.data.{_TEXTURES[c].loader}()",
                "photo_shape": list(_photo(c).shape),
                "train_region": list(crop_region(_photo(c).shape, "train")),
                "test_region": list(crop_region(_photo(c).shape, "test")),
                "train_boxes": [],
            }
            for c in names
        },
        "images": [],
    }
    for done, (cat, split, defect, index) in enumerate(jobs):
        rng = _image_rng(seed, cat, split, index)
        box = _crop_box(rng, _photo(cat).shape, "train" if split == "train/good" else "test")
        image = _normal_image(cat, box, size, rng)
        stem = f"{index:03d}"
        rel = f"{cat}/{split}/{stem}.png"
        if split == "train/good":
            manifest["categories"][cat]["train_boxes"].append(list(box))
        else:
            entry = {"path": rel, "label": 0, "defect": "good", "source_box": list(box)}
            entry["description"] = f"a normal crop of the {_TEXTURES[cat].noun}"
            if defect is not None:
                image, mask, description = _DEFECT_RENDERERS[defect](image, rng, cat)
                mask_rel = f"{cat}/ground_truth/{defect}/{stem}_mask.png"
                _save_png(out / mask_rel, np.where(mask, 255, 0).astype(np.uint8))
                entry.update(label=1, defect=defect, description=description, mask=mask_rel)
            manifest["images"].append(entry)
        _save_png(out / rel, _to_uint8(image))
        if progress is not None:
            progress((done + 1) / len(jobs), f"real_textures {cat} {split} {stem}")
    _write_manifest(out / "MANIFEST.json", manifest)
    return [out / c for c in names]


def _write_manifest(path: Path, manifest: dict) -> None:
    """Write `manifest`, keeping the other categories of an earlier run with the same seed and size."""
    try:
        earlier = json.loads(path.read_text())
        same_run = all(earlier.get(k) == manifest[k] for k in ("suite", "seed", "size"))
    except (OSError, ValueError):
        same_run = False
    if same_run:
        fresh = set(manifest["categories"])
        kept = {c: v for c, v in earlier.get("categories", {}).items() if c not in fresh}
        manifest["categories"] = dict(sorted({**kept, **manifest["categories"]}.items()))
        manifest["images"] += [e for e in earlier.get("images", []) if e["path"].split("/", 1)[0] not in fresh]
    manifest["images"].sort(key=lambda e: e["path"])
    path.write_text(json.dumps(manifest, indent=1) + "\n")


def crop_region(shape: tuple[int, ...], split: str) -> tuple[int, int, int, int]:
    """The (x0, y0, x1, y1) part of a photograph that `split` ("train" or "test") crops from."""
    h, w = shape[:2]
    cut = round(w * _TRAIN_FRACTION)
    if split == "train":
        return 0, 0, cut, h
    if split == "test":
        return cut, 0, w, h
    raise ValueError(f"split must be 'train' or 'test', got {split!r}")


@functools.lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    """Grey float32 photograph, read-only because it is shared by every image."""
    import skimage.data

    photo = getattr(skimage.data, _TEXTURES[name].loader)()
    if photo.ndim == 3:
        photo = cv2.cvtColor(photo[..., :3], cv2.COLOR_RGB2GRAY)
    photo = photo.astype(np.float32)
    photo.setflags(write=False)
    return photo


def _image_rng(seed: int, category: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence([seed, zlib.crc32(category.encode()), zlib.crc32(split.encode()), index])
    )


def _crop_box(rng: np.random.Generator, shape: tuple[int, ...], split: str) -> tuple[int, int, int, int]:
    """A square inside the split's region; its side (about 30% of the photo) jitters the scale a little."""
    x0, y0, x1, y1 = crop_region(shape, split)
    side = min(int(rng.uniform(0.29, 0.325) * min(shape[:2])), x1 - x0, y1 - y0)
    x = int(rng.integers(x0, x1 - side + 1))
    y = int(rng.integers(y0, y1 - side + 1))
    return x, y, x + side, y + side


def _normal_image(category: str, box: tuple[int, int, int, int], size: int, rng: np.random.Generator) -> np.ndarray:
    """An RGB float32 crop with mild augmentation: flips, quarter turns where isotropic, brightness/contrast."""
    x0, y0, x1, y1 = box
    crop = _resize(_photo(category)[y0:y1, x0:x1], size)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if _TEXTURES[category].isotropic:
        if rng.random() < 0.5:
            crop = crop[::-1]
        crop = np.rot90(crop, int(rng.integers(4)))
    mean = float(crop.mean())
    crop = (crop - mean) * rng.uniform(0.92, 1.08) + mean + rng.uniform(-8.0, 8.0)
    return np.repeat(np.ascontiguousarray(crop)[..., None], 3, axis=2)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    shrink = image.shape[0] >= size
    out = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    return np.clip(out, 0.0, 255.0)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _save_png(path: Path, array: np.ndarray) -> None:
    Image.fromarray(array).save(path, format="PNG", compress_level=3)


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    return xs, ys


# ------------------------------------------------------------------ defects


def _foreign_texture(image: np.ndarray, rng: np.random.Generator, category: str) -> tuple[np.ndarray, np.ndarray, str]:
    """A patch of another photograph with an irregular, feathered outline, matched in brightness.

    Matching mean and (roughly) contrast leaves the texture, not a brightness jump, as the cue.
    """
    size = image.shape[0]
    other = TEXTURES[int(rng.choice([i for i, t in enumerate(TEXTURES) if t != category]))]
    photo = _photo(other)
    side = int(rng.uniform(0.2, 0.35) * min(photo.shape))
    x = int(rng.integers(0, photo.shape[1] - side + 1))
    y = int(rng.integers(0, photo.shape[0] - side + 1))
    patch = np.rot90(_resize(photo[y : y + side, x : x + side], size), int(rng.integers(4)))
    radius = size * rng.uniform(0.07, 0.16)
    cx, cy = rng.uniform(radius, size - radius, 2)
    xs, ys = _grid(size)
    theta = np.arctan2(ys - cy, xs - cx)
    outline = np.ones_like(theta)
    for k in range(2, 6):
        outline += rng.uniform(0.0, 0.14) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    feather = rng.uniform(1.5, 4.5)
    alpha = _smoothstep(-feather, feather, radius * outline - np.hypot(xs - cx, ys - cy))
    inside = alpha > 0.5
    target, source = image[..., 0][inside], patch[inside]
    contrast = target.std() / max(float(source.std()), 1e-3) * rng.uniform(0.8, 1.25)
    matched = (patch - source.mean()) * contrast + target.mean() + rng.uniform(-10.0, 10.0)
    out = image * (1 - alpha[..., None]) + matched[..., None] * alpha[..., None]
    noun, other_noun = _TEXTURES[category].noun, _TEXTURES[other].noun
    return out, inside, f"a {2 * radius:.0f}-pixel patch of {other_noun} blended into the {noun}"


def _scratch(image: np.ndarray, rng: np.random.Generator, category: str) -> tuple[np.ndarray, np.ndarray, str]:
    """A thin curved line, lighter or darker, with a darker groove edge; it wavers, thins and breaks like a real one.

    Rendered at 4× and area-downsampled, so it is anti-aliased like a photographed line.
    """
    size = image.shape[0]
    up, steps = 4, 128
    length = size * rng.uniform(0.15, 0.45)
    start = rng.uniform(0.1, 0.9, 2) * size
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([-np.sin(angle), np.cos(angle)])
    end = start + length * np.array([np.cos(angle), np.sin(angle)])
    bend = (start + end) / 2 + rng.uniform(-0.3, 0.3) * length * normal
    t = np.linspace(0.0, 1.0, steps)[:, None]
    curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * bend + t**2 * end
    curve += (_smooth_noise(rng, steps, 6.0) * rng.uniform(0.2, 0.8))[:, None] * normal
    width = rng.uniform(1.0, 2.6)
    widths = width * (0.75 + 0.25 * _smooth_noise(rng, steps, 10.0))
    fade = np.sin(np.pi * t[:, 0]) ** 0.35 * (0.7 + 0.3 * _smooth_noise(rng, steps, 8.0))
    fade *= _smoothstep(-1.6, -1.2, _smooth_noise(rng, steps, 4.0))  # a few short breaks
    core_up = np.zeros((size * up, size * up), dtype=np.uint8)
    groove_up = np.zeros_like(core_up)
    pts = np.round(curve * up * 16).astype(np.int32)
    for i in range(steps - 1):
        a, b, level = tuple(pts[i]), tuple(pts[i + 1]), int(255 * np.clip(fade[i], 0, 1))
        cv2.line(core_up, a, b, level, max(1, round(widths[i] * up)), cv2.LINE_AA, shift=4)
        cv2.line(groove_up, a, b, level, round((widths[i] + 2.0) * up), cv2.LINE_AA, shift=4)
    core = cv2.resize(core_up.astype(np.float32) / 255, (size, size), interpolation=cv2.INTER_AREA)
    groove = cv2.resize(groove_up.astype(np.float32) / 255, (size, size), interpolation=cv2.INTER_AREA)
    groove = np.clip(cv2.GaussianBlur(groove, (0, 0), 0.7) - core, 0.0, 1.0)
    strength = rng.uniform(0.35, 0.7)
    bright = rng.random() < 0.5
    out = image.copy()
    if bright:
        out += (255.0 - out) * (strength * core)[..., None]
    else:
        out *= (1.0 - strength * core)[..., None]
    out *= (1.0 - rng.uniform(0.12, 0.3) * groove)[..., None]
    mask = cv2.dilate((core > 0.1).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    tone = "bright" if bright else "dark"
    description = f"a {max(1, round(width))}-pixel {tone} scratch across the {_TEXTURES[category].noun}"
    return out, mask, description


def _smooth_noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Unit-variance 1-D noise correlated over about `sigma` samples."""
    x = cv2.GaussianBlur(rng.standard_normal((1, n + 6 * int(sigma))).astype(np.float32), (0, 0), sigma)[0]
    x = x[3 * int(sigma) : 3 * int(sigma) + n]
    return (x - x.mean()) / max(float(x.std()), 1e-6)


def _hole(image: np.ndarray, rng: np.random.Generator, category: str) -> tuple[np.ndarray, np.ndarray, str]:
    """A dark elliptical cavity lit from one side: the near wall shadows the floor, the far wall and lip catch light."""
    size = image.shape[0]
    a = size * rng.uniform(0.025, 0.065)
    b = a * rng.uniform(0.6, 1.0)
    margin = 1.5 * a
    cx, cy = rng.uniform(margin, size - margin, 2)
    phi = rng.uniform(0, np.pi)
    psi = np.deg2rad(45.0 + rng.normal(0, 20))  # light travels this way, toward the lower right
    light = np.array([np.cos(psi), np.sin(psi)])
    xs, ys = _grid(size)

    def rim_distance(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """≈ pixels outside the ellipse's rim, negative inside."""
        u = (np.cos(phi) * dx + np.sin(phi) * dy) / a
        v = (-np.sin(phi) * dx + np.cos(phi) * dy) / b
        return (np.sqrt(u * u + v * v) - 1.0) * np.sqrt(a * b)

    dx, dy = xs - cx, ys - cy
    edge = rim_distance(dx, dy)
    inside = np.clip(0.5 - edge, 0.0, 1.0)
    reach = rng.uniform(0.35, 0.8) * b  # how far the near wall's shadow reaches across the floor
    lit = np.clip(0.5 - rim_distance(dx - reach * light[0], dy - reach * light[1]), 0.0, 1.0)
    lit = cv2.GaussianBlur(lit, (0, 0), 0.8)
    toward = (dx * light[0] + dy * light[1]) / max(a, b)  # -1 near wall … +1 far wall
    wall = _smoothstep(-0.35 * b, 0.0, edge)
    floor = rng.uniform(0.25, 0.5)
    depth = floor * (0.4 + 0.6 * lit) + wall * np.maximum(0.0, toward) * rng.uniform(0.2, 0.4)
    smooth = cv2.GaussianBlur(image, (0, 0), 2.0)
    cavity = (0.35 * image + 0.65 * smooth) * depth[..., None]
    out = image * (1 - inside[..., None]) + cavity * inside[..., None]
    lip = np.exp(-(((edge + 0.3) / 0.8) ** 2)) * (0.1 + 0.9 * np.maximum(0.0, toward))
    out += (255.0 - out) * (rng.uniform(0.2, 0.45) * lip)[..., None]
    mask = edge < 1.0
    noun = _TEXTURES[category].noun
    return out, mask, f"a dark hole about {2 * a:.0f}×{2 * b:.0f} pixels in the {noun}"


_STAINS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("coffee-brown", (0.72, 0.5, 0.3)),
    ("tea-coloured", (0.85, 0.68, 0.42)),
    ("rust-orange", (0.8, 0.48, 0.28)),
    ("dark oily", (0.55, 0.52, 0.45)),
    ("greenish", (0.62, 0.75, 0.52)),
)


def _stain(image: np.ndarray, rng: np.random.Generator, category: str) -> tuple[np.ndarray, np.ndarray, str]:
    """A dried liquid blob: multiplicative tint, so the texture shows through, with a darker coffee-ring edge."""
    size = image.shape[0]
    radius = size * rng.uniform(0.06, 0.15)
    cx, cy = rng.uniform(0.6 * radius, size - 0.6 * radius, 2)
    xs, ys = _grid(size)
    noise = _smooth_field(rng, size, radius / 3)
    detail = _smooth_field(rng, size, radius / 10)
    field = 1.0 - (np.hypot(xs - cx, ys - cy) / radius) ** 2 + 0.35 * noise + 0.12 * detail
    count, labels = cv2.connectedComponents((field > 0).astype(np.uint8))
    centre = labels[int(np.clip(cy, 0, size - 1)), int(np.clip(cx, 0, size - 1))]
    if centre == 0:
        areas = np.bincount(labels.ravel(), minlength=count)
        areas[0] = 0
        centre = int(areas.argmax())
    shape = (labels == centre).astype(np.uint8)
    inner = cv2.distanceTransform(shape, cv2.DIST_L2, 5)
    outer = cv2.distanceTransform(1 - shape, cv2.DIST_L2, 5)
    feather = rng.uniform(0.6, 1.8)
    alpha = _smoothstep(-feather, feather, inner - outer)
    ring = np.exp(-((inner / rng.uniform(1.5, 4.0)) ** 2)) * shape
    opacity = rng.uniform(0.3, 0.65)
    density = opacity * (0.8 + 0.1 * np.tanh(noise)) * (1.0 + rng.uniform(0.5, 1.2) * ring)
    amount = np.clip(alpha * density, 0.0, 1.0)
    name, transmission = _STAINS[int(rng.integers(len(_STAINS)))]
    out = image * (1.0 - amount[..., None] * (1.0 - np.asarray(transmission, dtype=np.float32)))
    description = f"a translucent {name} stain about {2 * radius:.0f} pixels across on the {_TEXTURES[category].noun}"
    return out, alpha > 0.5, description


def _smooth_field(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """Unit-variance 2-D noise correlated over about `sigma` pixels."""
    noise = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), sigma)
    return noise / max(float(noise.std()), 1e-6)


_DEFECT_RENDERERS: dict[str, Callable[[np.ndarray, np.random.Generator, str], tuple[np.ndarray, np.ndarray, str]]] = {
    "foreign_texture": _foreign_texture,
    "scratch": _scratch,
    "hole": _hole,
    "stain": _stain,
}

"""UniADC's eight anomaly-mask families at three sizes, placed on the object's foreground.

Sizes are area fractions of the foreground (not the image), so a small defect on a small
object stays small relative to the object:

    Small   0.3 % – 1.5 %
    Medium  1.5 % – 5 %
    Large   5 %   – 15 %

Each family draws its regions (one or two; Perlin noise any number) from random
parameters and one length `scale`; the scale is then searched so that the area inside
the foreground lands on a target drawn uniformly from the size's range. Foreground Mask
ignores size: it is the whole object, for global anomalies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from scipy import ndimage

from methods.uniadc.prior import SHAPES, SIZES, UNKNOWN, Category

SIZE_RANGES: dict[str, tuple[float, float]] = {"Small": (0.003, 0.015), "Medium": (0.015, 0.05), "Large": (0.05, 0.15)}
# 'unknown' draws among the local families; a whole-object repaint must be asked for by name.
LOCAL_SHAPES = tuple(s for s in SHAPES if s != "Foreground Mask")
MAX_REGIONS = 2
# Fewest pixels a defect covers, whatever the size says: on a small part (a nut) a 0.3 % hole
# would be under a pixel, invisible and unlearnable.
MIN_DEFECT_PX = 8


@dataclass(frozen=True)
class MaskDraw:
    mask: np.ndarray  # (H, W) bool, inside the foreground
    shape: str
    size: str


def resolve(choice: str, options: tuple[str, ...], rng: np.random.Generator) -> str:
    """A named shape or size as is; 'unknown' drawn uniformly from `options`."""
    return str(options[rng.integers(len(options))]) if choice == UNKNOWN else choice


def _rotated(points: np.ndarray, angle: float, center: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, s], [-s, c]]) + center


def _poly(canvas: np.ndarray, points: np.ndarray) -> None:
    cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], 1)


def _thickness(scale: float, ratio: float) -> int:
    return max(1, int(round(scale * ratio)))


# Each family: region parameters drawn once from rng, then a painter (canvas, params, center, scale).
def _rect_params(rng: np.random.Generator) -> dict:
    return {"aspect": rng.uniform(0.35, 1.0), "angle": rng.uniform(0, np.pi)}


def _rect(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float) -> None:
    w, h = scale / 2, scale * p["aspect"] / 2
    _poly(canvas, _rotated(np.array([[-w, -h], [w, -h], [w, h], [-w, h]]), p["angle"], center))


def _ellipse_params(rng: np.random.Generator) -> dict:
    return {"aspect": rng.uniform(0.4, 1.0), "angle": rng.uniform(0, 180)}


def _ellipse(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float, thickness: int = -1) -> None:
    axes = (max(1, int(round(scale / 2))), max(1, int(round(scale * p["aspect"] / 2))))
    cv2.ellipse(canvas, (int(center[0]), int(center[1])), axes, p["angle"], 0, 360, 1, thickness)


def _hollow(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float) -> None:
    _ellipse(canvas, p, center, scale, _thickness(scale, 0.12))


def _line_params(rng: np.random.Generator) -> dict:
    return {"angle": rng.uniform(0, np.pi), "bend": rng.uniform(-0.15, 0.15)}


def _line(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float) -> None:
    t = np.linspace(-0.5, 0.5, 9)
    points = np.stack([t * scale, -p["bend"] * scale * 4 * t**2], axis=1)  # vertex on the centre
    pts = np.round(_rotated(points, p["angle"], center)).astype(np.int32)
    cv2.polylines(canvas, [pts], False, 1, _thickness(scale, 0.06))


def _polygon_params(rng: np.random.Generator) -> dict:
    n = int(rng.integers(5, 11))
    # Evenly spread angles (jittered) keep the centre inside, so the polygon grows with its scale.
    angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * (np.arange(n) + rng.uniform(-0.35, 0.35, n)) / n
    return {"angles": angles, "radii": rng.uniform(0.45, 1.0, n)}


def _polygon(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float) -> None:
    r = p["radii"] * scale / 2
    _poly(canvas, np.stack([r * np.cos(p["angles"]), r * np.sin(p["angles"])], axis=1) + center)


def _brush_params(rng: np.random.Generator) -> dict:
    n = int(rng.integers(3, 7))
    return {"turns": np.cumsum(rng.uniform(-1.2, 1.2, n)) + rng.uniform(0, 2 * np.pi), "steps": rng.uniform(0.5, 1, n)}


def _brush(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float) -> None:
    step = scale / len(p["turns"])
    deltas = np.stack([np.cos(p["turns"]), np.sin(p["turns"])], axis=1) * (p["steps"] * step)[:, None]
    pts = np.vstack([[0.0, 0.0], np.cumsum(deltas, axis=0)])
    pts = np.round(pts - pts.mean(axis=0) + center).astype(np.int32)
    width = _thickness(scale, 0.14)
    cv2.polylines(canvas, [pts], False, 1, width)
    for x, y in pts:  # round joints, as a brush leaves
        cv2.circle(canvas, (int(x), int(y)), width // 2, 1, -1)


def _crack_params(rng: np.random.Generator) -> dict:
    """Two arms leaving a point in roughly opposite directions, each turning at every step, and a branch."""
    first = rng.uniform(0, 2 * np.pi)
    arms = []
    for heading in (first, first + np.pi + rng.normal(0, 0.6)):
        turns = heading + np.cumsum(rng.normal(0, 0.45, 7))
        arms.append((turns, rng.uniform(0.6, 1.0, 7)))
    side = rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.2)
    branch = arms[0][0][3] + side + np.cumsum(rng.normal(0, 0.45, 4))
    return {"arms": arms, "branch": (branch, rng.uniform(0.6, 1.0, 4))}


def _walk(start: np.ndarray, turns: np.ndarray, steps: np.ndarray, unit: float) -> np.ndarray:
    deltas = np.stack([np.cos(turns), np.sin(turns)], axis=1) * (steps * unit)[:, None]
    return np.vstack([start, start + np.cumsum(deltas, axis=0)])


def _crack(canvas: np.ndarray, p: dict, center: np.ndarray, scale: float) -> None:
    unit = scale / 2 / 7 / 0.8  # each arm about half the scale long
    arms = [_walk(center, turns, steps, unit) for turns, steps in p["arms"]]
    branch = _walk(arms[0][4], p["branch"][0], p["branch"][1], unit)
    width = _thickness(scale, 0.04)
    for path in (*arms, branch):
        cv2.polylines(canvas, [np.round(path).astype(np.int32)], False, 1, width)


# A Line whose description calls it a crack is drawn jagged and branching (see inpaint.JAGGED_WORDS).
JAGGED_LINE = (_crack_params, _crack)

FAMILIES: dict[str, tuple[Callable[[np.random.Generator], dict], Callable[..., None]]] = {
    "Rectangle": (_rect_params, _rect),
    "Line": (_line_params, _line),
    "Polygon": (_polygon_params, _polygon),
    "Ellipse": (_ellipse_params, _ellipse),
    "Hollow Ellipse": (_ellipse_params, _hollow),
    "Random Brush": (_brush_params, _brush),
}


def perlin_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """Gradient (Perlin) noise with `cells` lattice cells along the longer side."""
    h, w = shape
    gy, gx = max(1, round(cells * h / max(h, w))), max(1, round(cells * w / max(h, w)))
    angles = rng.uniform(0, 2 * np.pi, (gy + 1, gx + 1))
    grad = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    y = np.linspace(0, gy, h, endpoint=False)[:, None] * np.ones((1, w))
    x = np.linspace(0, gx, w, endpoint=False)[None, :] * np.ones((h, 1))
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = y - y0, x - x0

    def dot(dy: int, dx: int) -> np.ndarray:
        g = grad[y0 + dy, x0 + dx]
        return g[..., 0] * (fx - dx) + g[..., 1] * (fy - dy)

    def fade(t: np.ndarray) -> np.ndarray:
        return t * t * t * (t * (t * 6 - 15) + 10)

    u, v = fade(fx), fade(fy)
    top = dot(0, 0) * (1 - u) + dot(0, 1) * u
    bottom = dot(1, 0) * (1 - u) + dot(1, 1) * u
    return top * (1 - v) + bottom * v


def _largest_regions(mask: np.ndarray, keep: int) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count <= keep:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return np.isin(labels, 1 + np.argsort(sizes)[::-1][:keep])


def _perlin_mask(foreground: np.ndarray, size: str, target: float, rng: np.random.Generator) -> np.ndarray:
    cells = {"Small": (6, 10), "Medium": (4, 7), "Large": (2, 5)}[size]
    noise = perlin_noise(foreground.shape, int(rng.integers(cells[0], cells[1] + 1)), rng)
    inside = noise[foreground]
    threshold = np.quantile(inside, 1.0 - target / inside.size)
    return foreground & (noise > threshold)


def generate_mask(foreground: np.ndarray, shape: str, size: str, rng: np.random.Generator,
                  at_edge: bool = False, jagged: bool = False) -> np.ndarray:
    """bool (H, W) of family `shape` at `size` (both named), inside `foreground`; centred on its
    outline when `at_edge` (a bite out of the object), well inside it otherwise. `jagged` draws a
    Line as a crack: one jagged figure of two arms and a branch."""
    foreground = np.asarray(foreground, bool)
    if not foreground.any():
        raise ValueError("foreground is empty: there is no object to place a defect on")
    if shape == "Foreground Mask":
        return foreground.copy()
    if shape not in FAMILIES and shape != "Perlin Noise":
        raise ValueError(f"unknown mask shape {shape!r}; allowed: {', '.join(SHAPES)}")
    if size not in SIZE_RANGES:
        raise ValueError(f"unknown mask size {size!r}; allowed: {', '.join(SIZES)}")
    lo, hi = (f * foreground.sum() for f in SIZE_RANGES[size])
    lo, hi = max(lo, min(MIN_DEFECT_PX, foreground.sum())), max(hi, min(2 * MIN_DEFECT_PX, foreground.sum()))
    target = rng.uniform(lo, hi)
    if shape == "Perlin Noise":
        return _perlin_mask(foreground, size, target, rng)

    best = np.zeros_like(foreground)
    crack = jagged and shape == "Line"
    family = JAGGED_LINE if crack else FAMILIES[shape]
    # A region centred near the object's edge may be cut below the range; place it again.
    for _ in range(6):
        mask = _fit_regions(foreground, family, target, rng, at_edge, single=crack)
        if lo <= mask.sum() <= hi:
            return mask
        best = mask if abs(mask.sum() - target) < abs(best.sum() - target) else best
    return best


def _fit_regions(foreground: np.ndarray, family: tuple, target: float, rng: np.random.Generator,
                 at_edge: bool = False, single: bool = False) -> np.ndarray:
    """Regions of one family at random centres, scaled until their area meets `target`."""
    make_params, paint = family
    regions = 1 if at_edge or single else int(rng.integers(1, MAX_REGIONS + 1))
    fg8 = foreground.astype(np.uint8)
    if at_edge:
        outline = foreground & ~cv2.erode(fg8, np.ones((3, 3), np.uint8)).astype(bool)
        ys, xs = np.nonzero(outline if outline.any() else foreground)
    else:
        # Centres on the eroded foreground, so a region is not mostly cut off by the object's edge.
        inner = cv2.erode(fg8, np.ones((5, 5), np.uint8), iterations=2).astype(bool)
        ys, xs = np.nonzero(inner if inner.sum() > 0.2 * foreground.sum() else foreground)
    picks = rng.integers(len(ys), size=regions)
    centers = [np.array([xs[i], ys[i]], float) for i in picks]
    params = [make_params(rng) for _ in range(regions)]
    shares = rng.uniform(0.6, 1.0, regions)

    def draw(scale: float) -> np.ndarray:
        canvas = np.zeros(foreground.shape, np.uint8)
        for c, p, k in zip(centers, params, shares):
            paint(canvas, p, c, scale * k)
        return _largest_regions(canvas.astype(bool) & foreground, MAX_REGIONS)

    # Grow the scale until the area passes the target (rings and lines leave the image when
    # oversized, so the area is only monotone from small scales), then bisect.
    best, best_gap = draw(1.0), np.inf
    low, high, limit = 1.0, 2.0, 4.0 * float(np.hypot(*foreground.shape))
    while high < limit and draw(high).sum() < target:
        low, high = high, high * 1.5
    for _ in range(20):
        mid = 0.5 * (low + high)
        mask = draw(mid)
        area = mask.sum()
        gap = abs(area - target)
        if gap < best_gap:
            best, best_gap = mask, gap
        if best_gap < 0.05 * target:
            break
        low, high = (mid, high) if area < target else (low, mid)
    return best


def sample_mask(foreground: np.ndarray, category: Category, rng: np.random.Generator,
                at_edge: bool = False, jagged: bool = False) -> MaskDraw:
    """A mask for `category`: one of its shapes and sizes, 'unknown' drawn at random."""
    shapes = category.shapes() if category.shape != [UNKNOWN] else list(LOCAL_SHAPES)
    shape = shapes[int(rng.integers(len(shapes)))]
    sizes = category.sizes()
    size = sizes[int(rng.integers(len(sizes)))]
    return MaskDraw(generate_mask(foreground, shape, size, rng, at_edge, jagged), shape,
                    "Foreground" if shape == "Foreground Mask" else size)

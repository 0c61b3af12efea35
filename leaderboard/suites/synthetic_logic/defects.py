"""Structural defects painted into an object's layer: scratch, hole, stain, crack, deformation.

Each defect edits the layer's albedo, height or outline before shading, so it is
lit like the rest of the object, and returns the pixels it changed as its mask.
Sizes follow the object's thickness so a defect stays visible on a thin stick
and does not swallow an orange.
"""
from __future__ import annotations

import cv2
import numpy as np

from .layers import Layer, Patch, mix

# Saturation of each defect for sPRO, in the MVTec LOCO sense: the overlap at which a
# defect counts as fully found. Thin defects use an absolute pixel count (a fraction
# of the image area here, turned into pixels for the written size); compact ones are
# relative to their own area.
STRUCTURAL_SATURATION: dict[str, tuple[float, bool]] = {
    "scratch": (0.0006, False),
    "hole": (1.0, True),
    "stain": (0.8, True),
    "crack": (0.0006, False),
    "deformation": (0.5, True),
}


def _pick(candidates: np.ndarray, fallback: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    ys, xs = np.nonzero(candidates if candidates.any() else fallback)
    i = int(rng.integers(len(ys)))
    return int(ys[i]), int(xs[i])


def _curve(rng: np.random.Generator, start: tuple[int, int], length: float, jag: float, steps: int) -> np.ndarray:
    """A random walk of `steps` segments from start (y, x); jag is the turn per step, radians."""
    heading = rng.uniform(0, 2 * np.pi)
    step = length / steps
    pts = [np.array([start[1], start[0]], np.float64)]
    for _ in range(steps):
        heading += rng.normal(0, jag)
        pts.append(pts[-1] + step * np.array([np.cos(heading), np.sin(heading)]))
    return np.round(np.array(pts)).astype(np.int32)


def _stroke(shape: tuple[int, int], paths: list[np.ndarray], thickness: int) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.polylines(canvas, [p.reshape(-1, 1, 2) for p in paths], False, 255, thickness, cv2.LINE_8)
    return canvas > 0


def apply_defect(layer: Layer, kind: str, patch: Patch, rng: np.random.Generator) -> np.ndarray:
    """Paint one defect of this kind into the layer; returns the defect's pixels in the patch."""
    inside_px = -layer.sdf / patch.px
    solid = inside_px > 0.5
    thick = float(max(inside_px.max(), 1.0))  # inradius in pixels
    scale = max(1.0 / (patch.px * 256.0), 0.5)
    span = float(np.sqrt(solid.sum()))
    core = inside_px > 0.45 * thick
    yy, xx = np.mgrid[0:solid.shape[0], 0:solid.shape[1]].astype(np.float32)
    lw = max(int(round(scale)), 1)

    if kind == "scratch":
        cy, cx = _pick(core, solid, rng)
        half = [_curve(rng, (cy, cx), 0.45 * span, 0.08, 10)]
        half.append(_curve(rng, (cy, cx), 0.35 * span, 0.08, 8))
        mask = _stroke(solid.shape, half, lw) & solid
        light_object = float(layer.albedo[solid].mean()) > 0.45
        mark = np.clip(layer.albedo * 0.3 + (0.0 if light_object else 0.65), 0, 1)
        layer.albedo = layer.albedo * (1 - 0.9 * mask[..., None]) + mark * 0.9 * mask[..., None]
        layer.height = layer.height - 0.8 * patch.px * mask
        return mask

    if kind == "crack":
        cy, cx = _pick(core, solid, rng)
        paths = [_curve(rng, (cy, cx), 0.5 * span, 0.45, 14), _curve(rng, (cy, cx), 0.4 * span, 0.45, 12)]
        branch = paths[0][len(paths[0]) // 2]
        paths.append(_curve(rng, (int(branch[1]), int(branch[0])), 0.2 * span, 0.5, 6))
        line = _stroke(solid.shape, paths, lw) & solid
        layer.albedo = mix(layer.albedo, (0.05, 0.04, 0.04), 0.9 * line)
        layer.height = layer.height - 1.5 * patch.px * cv2.GaussianBlur(line.astype(np.float32), (0, 0), 0.6)
        mask = cv2.dilate(line.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        return mask & solid

    if kind == "hole":
        cy, cx = _pick(core, solid, rng)
        r = float(np.clip(0.5 * thick, 2.2 * scale, 7.0 * scale))
        dist = np.hypot(yy - cy, xx - cx)
        pit = np.clip(r + 0.5 - dist, 0, 1)
        layer.height = layer.height - 0.8 * r * patch.px * np.clip(1 - (dist / r) ** 2, 0, 1)
        layer.albedo = mix(layer.albedo, (0.05, 0.04, 0.035), 0.9 * pit * np.clip(1.2 - 0.5 * dist / r, 0, 1))
        return (dist <= r) & solid

    if kind == "stain":
        cy, cx = _pick(core, solid, rng)
        a = float(np.clip(rng.uniform(0.6, 0.95) * thick, 2.5 * scale, 13.0 * scale))
        b = a * rng.uniform(0.55, 0.9)
        th = rng.uniform(0, np.pi)
        du, dv = xx - cx, yy - cy
        eu = (np.cos(th) * du + np.sin(th) * dv) / a
        ev = (-np.sin(th) * du + np.cos(th) * dv) / b
        wobble = cv2.GaussianBlur(rng.standard_normal(solid.shape).astype(np.float32), (0, 0), max(a / 3, 1.0))
        wobble /= max(float(np.abs(wobble).max()), 1e-6)
        blob = np.hypot(eu, ev) - 1 + 0.35 * wobble
        cover = np.clip(-blob * a, 0, 1) * solid
        dark_object = float(layer.albedo[solid].mean()) < 0.3
        colours = [(0.85, 0.82, 0.72), (0.7, 0.72, 0.62)] if dark_object else [
            (0.30, 0.18, 0.08), (0.10, 0.10, 0.09), (0.50, 0.24, 0.08), (0.18, 0.22, 0.40)]
        colour = colours[int(rng.integers(len(colours)))]
        layer.albedo = mix(layer.albedo, colour, rng.uniform(0.7, 0.85) * cover)
        return (blob < 0) & solid

    if kind == "deformation":
        edge = (np.abs(inside_px) < 1.0) & (inside_px > -0.5)
        cy, cx = _pick(edge, solid, rng)
        r = float(np.clip(0.65 * thick, 3.0 * scale, 12.0 * scale))
        dist = np.hypot(yy - cy, xx - cx)
        before = layer.sdf < 0
        layer.sdf = np.maximum(layer.sdf, (r - dist) * patch.px)
        dent = np.exp(-(((dist - r) / (0.8 * r)) ** 2)) * (dist > r)
        layer.height = layer.height * (1 - 0.55 * dent)
        layer.albedo = layer.albedo * (1 - 0.18 * dent[..., None])
        return before & (dist < 1.8 * r)

    raise ValueError(f"unknown structural defect {kind!r}")

"""Signed distance functions and height profiles for the object shapes.

Shapes are drawn from signed distances (negative inside) evaluated on each pixel's
coordinates in the object's own frame: the same function gives an anti-aliased
silhouette, a bevelled height field for shading and a footprint for the masks.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

Array = np.ndarray


def circle(u: Array, v: Array, r: float) -> Array:
    return np.hypot(u, v) - r


def box(u: Array, v: Array, hx: float, hy: float, r: float = 0.0) -> Array:
    """Rectangle of half sizes (hx, hy) with corners rounded by r."""
    qx = np.abs(u) - hx + r
    qy = np.abs(v) - hy + r
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    return outside + np.minimum(np.maximum(qx, qy), 0.0) - r


def ellipse(u: Array, v: Array, a: float, b: float) -> Array:
    """First-order distance to an ellipse with half axes (a, b); exact enough near the outline."""
    k0 = np.hypot(u / a, v / b)
    k1 = np.hypot(u / (a * a), v / (b * b))
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)


def regular_polygon(u: Array, v: Array, apothem: float, n: int) -> Array:
    """Regular n-gon with a vertex pointing up (−v); apothem is the centre-to-edge distance."""
    an = np.pi / n
    he = apothem * np.tan(an)
    px, py = v, u
    bn = 2.0 * an * np.floor((np.arctan2(py, px) + an) / (2.0 * an))
    c, s = np.cos(bn), np.sin(bn)
    rx = c * px + s * py
    ry = -s * px + c * py
    return np.hypot(rx - apothem, ry - np.clip(ry, -he, he)) * np.sign(rx - apothem)


def star(u: Array, v: Array, r: float, n: int = 5, m: float = 2.6) -> Array:
    """n-pointed star of outer radius r; m in [2, n] sets how deep the points are cut."""
    an = np.pi / n
    en = np.pi / m
    acs = np.array([np.cos(an), np.sin(an)])
    ecs = np.array([np.cos(en), np.sin(en)])
    bn = np.mod(np.arctan2(u, -v), 2.0 * an) - an
    length = np.hypot(u, v)
    px = length * np.cos(bn) - r * acs[0]
    py = length * np.abs(np.sin(bn)) - r * acs[1]
    t = np.clip(-(px * ecs[0] + py * ecs[1]), 0.0, r * acs[1] / ecs[1])
    px = px + ecs[0] * t
    py = py + ecs[1] * t
    return np.hypot(px, py) * np.sign(px)


def segment(u: Array, v: Array, a: tuple[float, float], b: tuple[float, float]) -> tuple[Array, Array]:
    """Distance to the segment a→b and the projection parameter t in [0, 1]."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = np.clip(((u - a[0]) * dx + (v - a[1]) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    return np.hypot(u - a[0] - t * dx, v - a[1] - t * dy), t


def polyline(u: Array, v: Array, points: Sequence[tuple[float, float]]) -> tuple[Array, Array]:
    """Distance to an open polyline and the arc length of the nearest point along it."""
    best = np.full(u.shape, np.inf, dtype=np.float32)
    arc = np.zeros(u.shape, dtype=np.float32)
    start = 0.0
    for a, b in zip(points[:-1], points[1:]):
        d, t = segment(u, v, a, b)
        seg_len = float(np.hypot(b[0] - a[0], b[1] - a[1]))
        closer = d < best
        best = np.where(closer, d, best)
        arc = np.where(closer, start + t * seg_len, arc)
        start += seg_len
    return best, arc


def polyline_length(points: Sequence[tuple[float, float]]) -> float:
    pts = np.asarray(points, dtype=np.float64)
    return float(np.hypot(*np.diff(pts, axis=0).T).sum())


def bevel(inside: Array, radius: float) -> Array:
    """Height of a solid whose edge is rounded with the given radius (a sphere when it is the shape's radius)."""
    x = np.clip(inside / max(radius, 1e-9), 0.0, 1.0)
    return radius * np.sqrt(1.0 - (1.0 - x) ** 2)

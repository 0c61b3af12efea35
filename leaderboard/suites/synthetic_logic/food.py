"""Drawings of fruit and cookies: round bodies with peel dimples, fuzz or crumb."""
from __future__ import annotations

import numpy as np

from . import sdf
from .layers import Layer, Patch, builder, mix, tinted
from .scene import Item


def _ellipsoid(u: np.ndarray, v: np.ndarray, a: float, b: float, depth: float) -> np.ndarray:
    rho2 = (u / a) ** 2 + (v / b) ** 2
    return depth * np.sqrt(np.clip(1.0 - rho2, 0.0, None))


def _calyx(patch: Patch, r: float, albedo: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    """The small dark scar where the stem was, somewhere near the top of the fruit."""
    ang = patch.rng.uniform(0, 2 * np.pi)
    off = patch.rng.uniform(0.0, 0.35) * r
    spot = sdf.star(patch.u - off * np.cos(ang), patch.v - off * np.sin(ang), 0.12 * r, 5, 3.0)
    return mix(albedo, rgb, np.clip(0.5 - spot / patch.px, 0, 1) * 0.85)


def _citrus(p: Item, patch: Patch, gloss: float) -> list[Layer]:
    r = p.length / 2
    d = sdf.circle(patch.u, patch.v, r)
    core = np.clip(-d / (0.15 * r), 0, 1)
    height = sdf.bevel(-d, r) + 0.014 * r * patch.noise(0.004) * core
    albedo = tinted(p.rgb, 1 + 0.05 * patch.noise(0.04, 2) + 0.03 * patch.noise(0.004))
    albedo = _calyx(patch, r, albedo, (0.42, 0.40, 0.18))
    return [Layer(d, height, albedo, gloss=gloss, shininess=24)]


@builder("orange")
def orange(p: Item, patch: Patch) -> list[Layer]:
    return _citrus(p, patch, 0.22)


@builder("lime")
def lime(p: Item, patch: Patch) -> list[Layer]:
    return _citrus(p, patch, 0.32)


@builder("kiwi")
def kiwi(p: Item, patch: Patch) -> list[Layer]:
    a, b = p.length / 2, p.width / 2
    fuzz = patch.noise(0.0) * 0.35 * patch.px
    d = sdf.ellipse(patch.u, patch.v, a, b) + fuzz
    height = _ellipsoid(patch.u, patch.v, a, b, 0.85 * b)
    hair = 1 + 0.16 * patch.noise(0.0) + 0.08 * patch.noise(0.008) + 0.06 * patch.noise(0.05)
    albedo = tinted(p.rgb, hair)
    tip = np.clip(1 - np.hypot(patch.u - 0.93 * a, patch.v) / (0.12 * b), 0, 1)
    albedo = mix(albedo, (0.25, 0.18, 0.1), 0.8 * tip)
    return [Layer(d, height, albedo, gloss=0.02, shininess=4)]


@builder("lemon")
def lemon(p: Item, patch: Patch) -> list[Layer]:
    a, b = p.length / 2, p.width / 2
    u, v = patch.u, patch.v
    body = sdf.ellipse(u, v, 0.88 * a, b)
    nubs = np.minimum(sdf.circle(u - 0.86 * a, v, 0.22 * b), sdf.circle(u + 0.86 * a, v, 0.22 * b))
    d = np.minimum(body, nubs)
    tips = _ellipsoid(np.abs(u) - 0.86 * a, v, 0.25 * b, 0.22 * b, 0.5 * b)
    height = np.maximum(_ellipsoid(u, v, 0.88 * a, b, 0.9 * b), tips)
    height = height + 0.03 * b * patch.noise(0.006) * np.clip(-d / (0.15 * b), 0, 1)
    albedo = tinted(p.rgb, 1 + 0.05 * patch.noise(0.04, 2) + 0.03 * patch.noise(0.004))
    return [Layer(d, height, albedo, gloss=0.3, shininess=26)]


@builder("apple")
def apple(p: Item, patch: Patch) -> list[Layer]:
    r = p.length / 2
    u, v = patch.u, patch.v
    d = sdf.circle(u, v, r)
    dist = np.hypot(u, v)
    height = sdf.bevel(-d, r) - 0.3 * r * np.exp(-(dist / (0.22 * r)) ** 2)
    streak = patch.noise(0.02) * 0.5 + 0.5 * np.sin(np.arctan2(v, u) * 9 + 2 * patch.noise(0.05))
    albedo = mix(tinted(p.rgb, 1 + 0.04 * patch.noise(0.01)), (0.92, 0.72, 0.3), 0.25 * np.clip(streak, 0, 1))
    stem, _ = sdf.segment(u, v, (0.0, 0.0), (0.25 * r, -0.12 * r))
    albedo = mix(albedo, (0.3, 0.2, 0.1), np.clip(0.5 - (stem - 0.035 * r) / patch.px, 0, 1))
    return [Layer(d, height, albedo, gloss=0.5, shininess=40)]


@builder("cookie")
def cookie(p: Item, patch: Patch) -> list[Layer]:
    r = p.length / 2
    wobble = 0.035 * r * patch.noise(0.4 * r)
    d = sdf.circle(patch.u, patch.v, r) + wobble
    inside = -d
    height = 0.42 * sdf.bevel(inside, 0.6 * r) + 0.022 * r * patch.noise(0.012, 2) * np.clip(inside / (0.1 * r), 0, 1)
    dark = p.colour == "black"
    albedo = tinted(p.rgb, 1 + 0.07 * patch.noise(0.015, 2))
    if dark:
        crystals = np.clip(patch.noise(0.0) - 2.0, 0, 1)
        albedo = mix(albedo, (0.55, 0.5, 0.45), crystals)
    else:
        rim = np.clip(1 - inside / (0.22 * r), 0, 1)
        albedo = mix(albedo, (0.7, 0.45, 0.18), 0.55 * rim)
        specks = np.clip(patch.noise(0.0) - 2.2, 0, 1)
        albedo = mix(albedo, (0.55, 0.35, 0.15), specks)
    return [Layer(d, height, albedo, gloss=0.05, shininess=8)]

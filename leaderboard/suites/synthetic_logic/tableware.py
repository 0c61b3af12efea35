"""Drawings of cutlery and ceramics: thin polished steel, glazed plates, dishes and bowls."""
from __future__ import annotations

import numpy as np

from . import sdf
from .layers import Layer, Patch, builder, mix, tinted
from .scene import Item

STAINLESS = (0.62, 0.63, 0.66)


def _steel(patch: Patch) -> np.ndarray:
    return tinted(STAINLESS, 1 + 0.04 * patch.noise(0.002) + 0.05 * patch.noise(0.05))


def _handle(u: np.ndarray, v: np.ndarray, hl: float, w: float, end: float) -> np.ndarray:
    """A handle from the back end to u = end, widening towards the back."""
    t = np.clip((end - u) / max(end + hl, 1e-9), 0, 1)
    half = w * (0.55 + 0.45 * t)
    return np.maximum(np.abs(v) - half, np.maximum(-hl - u, u - end))


def _cutlery_height(d: np.ndarray, u: np.ndarray, hl: float) -> np.ndarray:
    """Thin stamped metal, curving up a little towards both ends."""
    return (0.004 + 0.012 * (u / hl) ** 2) * np.clip(-d / 0.004, 0, 1)


@builder("fork")
def fork(p: Item, patch: Patch) -> list[Layer]:
    hl, w = p.length / 2, p.width
    u, v = patch.u, patch.v
    handle = _handle(u, v, hl, 0.16 * w, 0.15 * hl)
    neck = sdf.box(u - 0.3 * hl, v, 0.17 * hl, 0.28 * w, 0.1 * w)
    base = sdf.box(u - 0.5 * hl, v, 0.06 * hl, 0.42 * w, 0.12 * w)
    tines = np.full(u.shape, np.inf, np.float32)
    for k in range(4):
        off = (k - 1.5) * 0.27 * w
        tines = np.minimum(tines, sdf.box(u - 0.76 * hl, v - off, 0.24 * hl, 0.06 * w, 0.05 * w))
    d = np.minimum.reduce([handle, neck, base, tines])
    return [Layer(d, _cutlery_height(d, u, hl), _steel(patch), gloss=0.85, shininess=48)]


@builder("spoon")
def spoon(p: Item, patch: Patch) -> list[Layer]:
    hl, w = p.length / 2, p.width
    u, v = patch.u, patch.v
    handle = _handle(u, v, hl, 0.16 * w, 0.35 * hl)
    a, b = 0.36 * hl, 0.5 * w
    bowl = sdf.ellipse(u - (hl - a), v, a, b)
    d = np.minimum(handle, bowl)
    rho2 = ((u - (hl - a)) / a) ** 2 + (v / b) ** 2
    concave = 0.004 + 0.022 * np.clip(rho2, 0, 1)
    height = np.where(bowl < 0, concave * np.clip(-bowl / 0.003, 0, 1), _cutlery_height(d, u, hl))
    return [Layer(d, height, _steel(patch), gloss=0.85, shininess=48)]


@builder("knife")
def knife(p: Item, patch: Patch) -> list[Layer]:
    hl, w = p.length / 2, p.width
    u, v = patch.u, patch.v
    handle = _handle(u, v, hl, 0.2 * w, -0.1 * hl)
    blade = sdf.box(u - 0.45 * hl, v + 0.05 * w, 0.55 * hl, 0.3 * w, 0.02 * w)
    tip = sdf.circle(u - (hl - 0.55 * w), v + 0.35 * w, 0.65 * w)
    blade = np.maximum(blade, np.where(u > hl - 0.55 * w, tip, -1.0))
    d = np.minimum(handle, blade)
    albedo = _steel(patch)
    albedo = np.where((handle < 0)[..., None], tinted((0.16, 0.13, 0.12), 1 + 0.05 * patch.noise(0.01)), albedo)
    edge = np.clip(1 - (0.3 * w - (v + 0.05 * w)) / (0.06 * w), 0, 1) * (blade < 0)
    albedo = mix(albedo, (0.85, 0.86, 0.88), 0.6 * edge)
    height = _cutlery_height(d, u, hl) + 0.01 * (handle < 0)
    gloss = np.where(handle < 0, 0.25, 0.85)
    return [Layer(d, height, albedo, gloss=gloss, shininess=48)]


def ceramic(d: np.ndarray, patch: Patch, rgb: tuple[float, float, float], band: tuple[float, float, float],
            rim: float, lip: float) -> Layer:
    """A glazed dish seen from above: a raised rim `rim` wide around a flat well, a coloured band near the edge."""
    inside = -d
    height = 0.004 * np.clip(inside / 0.004, 0, 1) + lip * np.exp(-(((inside - 0.45 * rim) / (0.35 * rim)) ** 2))
    albedo = tinted(rgb, 1 + 0.012 * patch.noise(0.05))
    stripe = np.clip(1 - np.abs(inside - 0.75 * rim) / (0.08 * rim), 0, 1)
    albedo = mix(albedo, band, 0.8 * stripe)
    return Layer(d, height, albedo, gloss=0.45, shininess=44)


@builder("plate")
def plate(p: Item, patch: Patch) -> list[Layer]:
    r = p.length / 2
    d = sdf.circle(patch.u, patch.v, r)
    return [ceramic(d, patch, p.rgb, (0.55, 0.62, 0.72), 0.2 * r, 0.012)]


@builder("bowl")
def bowl(p: Item, patch: Patch) -> list[Layer]:
    r = p.length / 2
    dist = np.hypot(patch.u, patch.v)
    d = dist - r
    rho = dist / r
    wall = 0.9
    depth = 0.22 * r
    height = np.where(rho < wall, depth * (rho / wall) ** 2, depth * np.clip((1 - rho) / (1 - wall), 0, 1))
    albedo = tinted(p.rgb, 1 + 0.015 * patch.noise(0.04))
    albedo = mix(albedo, (0.5, 0.58, 0.7), 0.8 * np.clip(1 - np.abs(rho - 0.95) / 0.03, 0, 1))
    return [Layer(d, height, albedo, gloss=0.5, shininess=44)]

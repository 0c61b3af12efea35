"""The pieces every object drawing shares: its pixel box, its layers and smooth noise.

An object is drawn as a stack of layers (signed distance, height field, albedo)
evaluated on the pixels of its bounding box in its own frame; builders for each
object kind register here so the renderer can find them by `Item.kind`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import cv2
import numpy as np

from .scene import Item


@dataclass
class Patch:
    """Pixel box of one object with each pixel's coordinates in the object's frame (image widths)."""

    x0: int
    y0: int
    x1: int
    y1: int
    u: np.ndarray  # (h, w) along the object's length
    v: np.ndarray  # (h, w) across it
    px: float  # one pixel, in image widths
    rng: np.random.Generator  # texture randomness of this object

    @property
    def shape(self) -> tuple[int, int]:
        return self.u.shape

    def noise(self, cell: float, octaves: int = 1) -> np.ndarray:
        """Smooth noise with features about `cell` image widths across, roughly unit variance."""
        return fractal_noise(self.rng, self.shape, cell / self.px, octaves)


@dataclass
class Layer:
    sdf: np.ndarray  # (h, w) signed distance in image widths, negative inside
    height: np.ndarray  # (h, w) image widths above the table
    albedo: np.ndarray  # (h, w, 3) sRGB reflectance in [0, 1]
    gloss: Union[float, np.ndarray] = 0.08
    shininess: float = 18.0
    opacity: Union[float, np.ndarray] = 1.0
    casts_shadow: bool = True


Builder = Callable[[Item, Patch], list[Layer]]
BUILDERS: dict[str, Builder] = {}


def builder(*kinds: str) -> Callable[[Builder], Builder]:
    """Register the function that draws these object kinds."""

    def register(fn: Builder) -> Builder:
        for kind in kinds:
            if kind in BUILDERS:
                raise ValueError(f"object kind {kind!r} already has a builder")
            BUILDERS[kind] = fn
        return fn

    return register


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> np.ndarray:
    cell_px = max(float(cell_px), 1.0)
    h, w = shape
    gh, gw = int(h / cell_px) + 4, int(w / cell_px) + 4
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    if cell_px <= 1.0:
        return small[:h, :w]
    big = cv2.resize(small, (int(np.ceil(gw * cell_px)), int(np.ceil(gh * cell_px))), interpolation=cv2.INTER_CUBIC)
    return big[:h, :w]


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float, octaves: int = 1) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    amp = 1.0
    for i in range(octaves):
        out += amp * value_noise(rng, shape, cell_px / (2**i))
        amp *= 0.5
    std = float(out.std())
    return out / std if std > 1e-6 else out


def tinted(rgb: tuple[float, float, float], shade: np.ndarray) -> np.ndarray:
    """A flat colour modulated by a texture (1 = unchanged)."""
    return np.clip(np.asarray(rgb, np.float32) * shade[..., None], 0.0, 1.0)


def mix(albedo: np.ndarray, rgb: tuple[float, float, float], weight: np.ndarray) -> np.ndarray:
    w = np.clip(weight, 0.0, 1.0)[..., None]
    return albedo * (1.0 - w) + np.asarray(rgb, np.float32) * w


def slab(inside: np.ndarray, bevel_width: float, height: float) -> np.ndarray:
    """A flat-topped solid whose edges round over `bevel_width` up to `height`."""
    x = np.clip(inside / max(bevel_width, 1e-9), 0.0, 1.0)
    return height * np.sqrt(1.0 - (1.0 - x) ** 2)

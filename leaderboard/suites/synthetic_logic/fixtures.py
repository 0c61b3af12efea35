"""Drawings of the fixtures objects sit in: plastic bins, the 2×2 case and the cookie dishes.

A walled fixture is two layers, floor then walls, so that the walls cast their
shadow into the floor like a real tray under a lamp.
"""
from __future__ import annotations

import numpy as np

from . import sdf
from .layers import Layer, Patch, builder, slab, tinted
from .scene import Item
from .tableware import ceramic

WALL = 0.022  # wall thickness of bins and the case, image widths
WALL_HEIGHT = 0.03


def _walled(p: Item, patch: Patch, walls: np.ndarray, outer: np.ndarray) -> list[Layer]:
    floor_rgb = tuple(c * 0.92 for c in p.rgb)
    floor = Layer(outer, slab(-outer, 0.002, 0.002), tinted(floor_rgb, 1 + 0.025 * patch.noise(0.003)
                                                             + 0.02 * patch.noise(0.1)), gloss=0.06, shininess=10)
    wall = Layer(walls, slab(-walls, 0.45 * WALL, WALL_HEIGHT), tinted(p.rgb, 1 + 0.02 * patch.noise(0.01)),
                 gloss=0.18, shininess=20)
    return [floor, wall]


@builder("bin")
def bin_(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    outer = sdf.box(patch.u, patch.v, hl, hw, 0.02)
    inner = sdf.box(patch.u, patch.v, hl - WALL, hw - WALL, 0.012)
    return _walled(p, patch, np.maximum(outer, -inner), outer)


@builder("case")
def case(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    u, v = patch.u, patch.v
    outer = sdf.box(u, v, hl, hw, 0.02)
    inner = sdf.box(u, v, hl - WALL, hw - WALL, 0.012)
    divider = 0.4 * WALL
    cross = np.minimum(sdf.box(u, v, hl, divider), sdf.box(u, v, divider, hw))
    return _walled(p, patch, np.minimum(np.maximum(outer, -inner), cross), outer)


@builder("square_dish")
def square_dish(p: Item, patch: Patch) -> list[Layer]:
    h = p.length / 2
    d = sdf.box(patch.u, patch.v, h, h, 0.22 * h)
    return [ceramic(d, patch, p.rgb, (0.6, 0.45, 0.35), 0.16 * h, 0.012)]


@builder("round_dish")
def round_dish(p: Item, patch: Patch) -> list[Layer]:
    r = p.length / 2
    d = sdf.circle(patch.u, patch.v, r)
    return [ceramic(d, patch, p.rgb, (0.6, 0.45, 0.35), 0.16 * r, 0.012)]

"""Layout pieces several scenarios share: bins in a row or a column, and their plastic colours."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..scene import Item, contains, pick

# Bin plastics; none of them is close to an object colour that a rule depends on.
DARK_PLASTICS = ((0.30, 0.34, 0.42), (0.24, 0.25, 0.27), (0.36, 0.40, 0.38), (0.42, 0.36, 0.32))
LIGHT_PLASTICS = ((0.80, 0.80, 0.78), (0.72, 0.76, 0.80), (0.84, 0.80, 0.72), (0.70, 0.72, 0.70))
CERAMICS = ((0.95, 0.94, 0.90), (0.93, 0.92, 0.88), (0.96, 0.95, 0.93), (0.92, 0.90, 0.84))


def plastic(rng: np.random.Generator, palette: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    base = pick(rng, palette)
    k = rng.uniform(0.95, 1.05)
    return (base[0] * k, base[1] * k, base[2] * k)


def bins_in_row(
    rng: np.random.Generator, names: Sequence[str], length: float, width: float, spacing: float,
    vertical: bool, palette: Sequence[tuple[float, float, float]], first_uid: int,
) -> list[Item]:
    """Bins side by side (or stacked when vertical), jittered together; `length` runs along x."""
    rgb = plastic(rng, palette)
    jx, jy = rng.uniform(-0.015, 0.015, 2)
    out = []
    n = len(names)
    for k, name in enumerate(names):
        offset = (k - (n - 1) / 2) * spacing
        x, y = (0.5 + jx, 0.5 + offset + jy) if vertical else (0.5 + offset + jx, 0.5 + jy)
        out.append(Item("bin", float(x), float(y), 0.0, length, width, rgb=rgb, slot=name, fixture=True,
                        uid=first_uid + k, seed=int(rng.integers(2**31))))
    return out


def region_of(fixtures: Sequence[Item], item: Item, margin: float = 0.0) -> str:
    """Name of the fixture holding the item's centre, or '' when none does."""
    for f in fixtures:
        if contains(f, item.x, item.y, margin):
            return f.slot
    return ""


def cells(box: tuple[float, float, float, float], n: int, vertical: bool) -> list[tuple[float, float, float, float]]:
    """The box cut into n equal cells along its long side (y when vertical)."""
    x0, y0, x1, y1 = box
    if vertical:
        step = (y1 - y0) / n
        return [(x0, y0 + k * step, x1, y0 + (k + 1) * step) for k in range(n)]
    step = (x1 - x0) / n
    return [(x0 + k * step, y0, x0 + (k + 1) * step, y1) for k in range(n)]


def free_cell(rng: np.random.Generator, options: Sequence[tuple[float, float, float, float]],
              items: Sequence[Item]) -> tuple[float, float, float, float] | None:
    """A random cell holding no object's centre, so a new object always has room; None when all are taken."""
    empty = [c for c in options if not any(c[0] <= it.x <= c[2] and c[1] <= it.y <= c[3]
                                           for it in items if not it.fixture)]
    return pick(rng, empty) if empty else None


def within(rng: np.random.Generator, item: Item, area: tuple[float, float, float, float]) -> Item:
    """The item moved to a random spot where its rotated box stays inside the area (its centre if too big)."""
    c = item.corners()
    hx = (c[:, 0].max() - c[:, 0].min()) / 2
    hy = (c[:, 1].max() - c[:, 1].min()) / 2
    x0, y0, x1, y1 = area
    x = rng.uniform(x0 + hx, x1 - hx) if x1 - x0 > 2 * hx else (x0 + x1) / 2
    y = rng.uniform(y0 + hy, y1 - hy) if y1 - y0 > 2 * hy else (y0 + y1) / 2
    return item.moved(x=float(x), y=float(y))

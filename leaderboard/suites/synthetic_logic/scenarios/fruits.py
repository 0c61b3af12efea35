"""Fruits (quantity + type): three oranges and two kiwifruits, anywhere on the table."""
from __future__ import annotations

import colorsys
from typing import Sequence

import numpy as np

from ..scene import (
    IN_FRAME, Item, Scenario, Violation, article, inside_rect, jitter_colour, next_uid, pick, replaced, scatter,
    without,
)

FOREIGN = ("lemon", "apple", "lime")
NORMAL_COUNTS = {"orange": 3, "kiwi": 2}


def _kiwi_brown(rng: np.random.Generator) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(rng.uniform(24, 36) / 360, rng.uniform(0.45, 0.6), rng.uniform(0.36, 0.48))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def fruit(rng: np.random.Generator, kind: str, x: float, y: float, uid: int) -> Item:
    """A fruit of this kind with its own size, colour, orientation and peel."""
    angle = float(rng.uniform(0, 360))
    seed = int(rng.integers(2**31))
    if kind == "orange":
        d = float(rng.uniform(0.14, 0.16))
        return Item(kind, x, y, angle, d, d, rgb=jitter_colour(rng, "orange"), uid=uid, seed=seed)
    if kind == "kiwi":
        return Item(kind, x, y, angle, float(rng.uniform(0.15, 0.17)), float(rng.uniform(0.108, 0.12)),
                    rgb=_kiwi_brown(rng), uid=uid, seed=seed)
    if kind == "lemon":
        return Item(kind, x, y, angle, float(rng.uniform(0.155, 0.17)), float(rng.uniform(0.11, 0.122)),
                    rgb=jitter_colour(rng, "yellow"), uid=uid, seed=seed)
    if kind == "apple":
        d = float(rng.uniform(0.14, 0.16))
        return Item(kind, x, y, angle, d, d, rgb=jitter_colour(rng, "red"), uid=uid, seed=seed)
    if kind == "lime":
        d = float(rng.uniform(0.115, 0.13))
        return Item(kind, x, y, angle, d, d, rgb=jitter_colour(rng, "green"), uid=uid, seed=seed)
    raise ValueError(f"unknown fruit {kind!r}")


class Fruits(Scenario):
    name = "Fruits"
    aspects = ("quantity", "type")
    rule = "Three oranges and two kiwifruits are present."
    paper_counts = (48, 44, 8)
    logical_defects = ("missing_object", "extra_object", "wrong_type")

    def _place(self, rng: np.random.Generator, kind: str, items: list[Item]) -> Item:
        uid = next_uid(items)
        return scatter(rng, lambda r: fruit(r, kind, float(r.uniform(0.1, 0.9)), float(r.uniform(0.1, 0.9)), uid),
                       lambda it: inside_rect(it, IN_FRAME), items, gap=0.02)

    def normal(self, rng: np.random.Generator) -> list[Item]:
        items: list[Item] = []
        for kind in rng.permutation(["orange"] * 3 + ["kiwi"] * 2):
            items.append(self._place(rng, str(kind), items))
        return items

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        free = [it for it in items if it.uid not in avoid and it.kind in NORMAL_COUNTS]
        if aspect == "quantity":
            if rng.random() < 0.5:
                gone = pick(rng, free)
                what = f"one {'orange' if gone.kind == 'orange' else 'kiwifruit'} is missing"
                return without(items, gone.uid), [Violation("missing_object", aspect, what, (), (gone,))]
            kind = pick(rng, ("orange", "kiwi"))
            extra = self._place(rng, kind, items)
            what = f"an extra {'orange' if kind == 'orange' else 'kiwifruit'} is present"
            return items + [extra], [Violation("extra_object", aspect, what, (extra.uid,))]
        if aspect == "type":
            old = pick(rng, free)
            new = fruit(rng, pick(rng, FOREIGN), old.x, old.y, old.uid)
            what = f"{article(new.kind)} replaces one of the {'oranges' if old.kind == 'orange' else 'kiwifruits'}"
            return replaced(items, new), [Violation("wrong_type", aspect, what, (new.uid,))]
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        kinds = [it.kind for it in items]
        broken = set()
        foreign = [k for k in kinds if k not in NORMAL_COUNTS]
        if foreign:
            broken.add("type")
        if len(kinds) != 5 or (not foreign and any(kinds.count(k) != n for k, n in NORMAL_COUNTS.items())):
            broken.add("quantity")
        return broken

"""Dishes (type + relation): a fork, a plate and a spoon, in this order from left to right."""
from __future__ import annotations

from itertools import permutations
from typing import Sequence

import numpy as np

from ..scene import Item, Scenario, Violation, article, pick, replaced
from .common import CERAMICS, plastic

ORDER = ("fork", "plate", "spoon")
SUBSTITUTE = {"fork": "knife", "spoon": "knife", "plate": "bowl"}
SLOTS = (0.21, 0.5, 0.79)


def piece(rng: np.random.Generator, kind: str, x: float, uid: int, seed: int) -> Item:
    """One piece of tableware at this column; cutlery lies roughly upright."""
    y = float(0.5 + rng.uniform(-0.04, 0.04))
    x = float(x + rng.uniform(-0.02, 0.02))
    if kind in ("plate", "bowl"):
        d = float(rng.uniform(0.28, 0.31) if kind == "plate" else rng.uniform(0.2, 0.23))
        return Item(kind, x, y, float(rng.uniform(0, 360)), d, d, rgb=plastic(rng, CERAMICS), uid=uid, seed=seed)
    widths = {"fork": (0.075, 0.085), "spoon": (0.09, 0.1), "knife": (0.07, 0.08)}[kind]
    return Item(kind, x, y, float(-90 + rng.uniform(-7, 7)), float(rng.uniform(0.5, 0.56)),
                float(rng.uniform(*widths)), uid=uid, seed=seed)


def _in_order(kinds: Sequence[str]) -> bool:
    """Whether the fork, plate and spoon present keep their left-to-right order."""
    known = [k for k in kinds if k in ORDER]
    return known == sorted(known, key=ORDER.index)


class Dishes(Scenario):
    name = "Dishes"
    aspects = ("type", "relation")
    rule = "A fork, a plate, and a spoon are arranged in this left-to-right order."
    paper_counts = (48, 48, 15)
    logical_defects = ("wrong_type", "wrong_relation")

    def normal(self, rng: np.random.Generator) -> list[Item]:
        return [piece(rng, kind, SLOTS[k], k, int(rng.integers(2**31))) for k, kind in enumerate(ORDER)]

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        by_x = sorted(items, key=lambda it: it.x)
        if aspect == "type":
            old = pick(rng, [it for it in by_x if it.kind in ORDER and it.uid not in avoid])
            new = piece(rng, SUBSTITUTE[old.kind], SLOTS[by_x.index(old)], old.uid, old.seed)
            what = f"{article(new.kind)} replaces the {old.kind}"
            return replaced(items, new), [Violation("wrong_type", aspect, what, (new.uid,))]
        if aspect == "relation":
            kinds = [it.kind for it in by_x]
            orders = [p for p in permutations(range(3)) if not _in_order([kinds[i] for i in p])]
            order = pick(rng, orders)
            moved = [by_x[i] for i in order]
            new = [piece(rng, it.kind, SLOTS[k], it.uid, it.seed).moved(rgb=it.rgb, length=it.length, width=it.width)
                   for k, it in enumerate(moved)]
            shifted = tuple(it.uid for k, it in enumerate(moved) if by_x[k].uid != it.uid)
            what = f"the order is {', '.join(it.kind for it in moved)} instead of fork, plate, spoon"
            return new, [Violation("wrong_relation", aspect, what, shifted)]
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        kinds = [it.kind for it in sorted(items, key=lambda it: it.x)]
        broken = set()
        if sorted(kinds) != sorted(ORDER):
            broken.add("type")
        if not _in_order(kinds):
            broken.add("relation")
        return broken

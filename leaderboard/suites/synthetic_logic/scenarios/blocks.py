"""Blocks (type + placement): two circle, two triangle and two square blocks in the Top, Middle and Bottom bins."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fixtures import WALL
from ..objects import natural_wood
from ..scene import (
    Item, Scenario, Violation, article, inside_rect, interior, jitter_colour, next_uid, pick, replaced, scatter,
)
from .common import DARK_PLASTICS, LIGHT_PLASTICS, bins_in_row, cells, free_cell, region_of, within

HOME = {"circle_block": "Top", "triangle_block": "Middle", "square_block": "Bottom"}
FOREIGN = ("star_block", "hexagon_block", "cross_block")
PAINTS = ("red", "blue", "green", "yellow", "wood")
GROWTH = {"triangle_block": 1.2, "star_block": 1.1}  # pointed shapes fill less of their circle


def shape_name(kind: str) -> str:
    return kind.replace("_block", "")


def block(rng: np.random.Generator, kind: str, x: float, y: float, uid: int) -> Item:
    """A block of this shape; its paint is drawn at random, so colour says nothing about shape."""
    paint = pick(rng, PAINTS)
    rgb = natural_wood(rng) if paint == "wood" else jitter_colour(rng, paint)
    s = float(rng.uniform(0.12, 0.135)) * GROWTH.get(kind, 1.0)
    return Item(kind, x, y, float(rng.uniform(0, 360)), s, s, rgb=rgb, slot=HOME.get(kind, ""), uid=uid,
                seed=int(rng.integers(2**31)))


class Blocks(Scenario):
    name = "Blocks"
    aspects = ("type", "placement")
    rule = ("Two circle blocks, two triangle blocks, and two square blocks are placed in the Top/Middle/Bottom bins, "
            "respectively.")
    paper_counts = (52, 50, 8)
    logical_defects = ("wrong_type", "wrong_placement")

    def _put(self, rng: np.random.Generator, kind: str, bin_: Item, items: list[Item], uid: int) -> Item:
        """The block somewhere in an empty third of the bin (anywhere in it once all thirds are taken)."""
        box = interior(bin_, WALL + 0.004)
        cell = free_cell(rng, cells(box, 3, False), items)
        area = cell if cell is not None else box

        def make(r: np.random.Generator) -> Item:
            return within(r, block(r, kind, 0.0, 0.0, uid), area)

        return scatter(rng, make, lambda it: inside_rect(it, box), items, gap=0.015, tries=2000)

    def normal(self, rng: np.random.Generator) -> list[Item]:
        palette = DARK_PLASTICS if rng.random() < 0.5 else LIGHT_PLASTICS
        bins = bins_in_row(rng, ("Top", "Middle", "Bottom"), 0.8, 0.26, 0.29, True, palette, 0)
        items = list(bins)
        for kind, home in HOME.items():
            bin_ = next(b for b in bins if b.slot == home)
            for _ in range(2):
                items.append(self._put(rng, kind, bin_, items, next_uid(items)))
        return items

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        bins = {b.slot: b for b in items if b.kind == "bin"}
        free = [it for it in items if it.kind in HOME and it.uid not in avoid]
        if aspect == "type":
            old = pick(rng, free)
            kind = pick(rng, FOREIGN)
            new = block(rng, kind, old.x, old.y, old.uid)
            where = region_of(list(bins.values()), old)
            what = f"{article(shape_name(kind))} block replaces a {shape_name(old.kind)} block in the {where} bin"
            return replaced(items, new), [Violation("wrong_type", aspect, what, (new.uid,))]
        if aspect == "placement":
            movers = [pick(rng, free)]
            if rng.random() < 0.4:
                movers.append(pick(rng, [it for it in free if it.kind != movers[0].kind]))
            targets = [HOME[movers[1].kind], HOME[movers[0].kind]] if len(movers) == 2 else [
                pick(rng, [n for n in bins if n != HOME[movers[0].kind]])]
            rest = [it for it in items if it.uid not in {m.uid for m in movers}]
            found = []
            for mover, target in zip(movers, targets):
                moved = self._put(rng, mover.kind, bins[target], rest, mover.uid)
                rest.append(moved.moved(rgb=mover.rgb, seed=mover.seed))
                what = f"a {shape_name(mover.kind)} block is in the {target} bin instead of the {HOME[mover.kind]} bin"
                found.append(Violation("wrong_placement", aspect, what, (mover.uid,), (mover,)))
            return rest, found
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        bins = [b for b in items if b.kind == "bin"]
        blocks = [it for it in items if not it.fixture]
        broken = set()
        if any(b.kind not in HOME for b in blocks):
            broken.add("type")
        if any(region_of(bins, b) != HOME[b.kind] for b in blocks if b.kind in HOME):
            broken.add("placement")
        return broken

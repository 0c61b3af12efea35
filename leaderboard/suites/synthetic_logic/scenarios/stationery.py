"""Stationery (length + placement): long black pencil and long blue eraser on the left, short red ones on the right.

Within each bin the eraser lies left of the pencil.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fixtures import WALL
from ..scene import Item, Scenario, Violation, inside_rect, interior, jitter_colour, pick, replaced, scatter
from .common import LIGHT_PLASTICS, bins_in_row, region_of

HOME = {("pencil", "black"): "Left", ("eraser", "blue"): "Left", ("pencil", "red"): "Right", ("eraser", "red"): "Right"}
LONG_ONES = {("pencil", "black"), ("eraser", "blue")}
SIZES = {  # kind: (long range, short range, threshold, width range)
    "pencil": ((0.56, 0.64), (0.28, 0.34), 0.45, (0.036, 0.042)),
    "eraser": ((0.21, 0.25), (0.11, 0.14), 0.175, (0.07, 0.08)),
}
OFFSET = {"eraser": -0.09, "pencil": 0.02}  # x from the bin centre: eraser left of pencil
SPARE = 0.115  # a free column on the right of each bin, where a stray object lands


def _key(it: Item) -> tuple[str, str]:
    return (it.kind, it.colour)


def _name(it: Item) -> str:
    return f"{it.colour} {it.kind}"


class Stationery(Scenario):
    name = "Stationery"
    aspects = ("length", "placement")
    rule = ("Left bin contains a long black pencil and a long blue eraser; right bin contains a short red pencil "
            "and a short red eraser, with the eraser placed left of the pencil within each bin.")
    paper_counts = (50, 50, 10)
    logical_defects = ("wrong_length", "wrong_placement")

    def _put(self, rng: np.random.Generator, proto: Item, bin_: Item, x_offset: float, items: list[Item],
             spread: float = 0.1) -> Item:
        """The object upright (either end up) in the bin's column at x_offset, up to `spread` from the middle."""
        box = interior(bin_, WALL + 0.006)

        def make(r: np.random.Generator) -> Item:
            x = bin_.x + x_offset + float(r.uniform(-0.015, 0.015))
            upright = 90.0 if r.random() < 0.5 else 270.0
            y = bin_.y + float(r.uniform(-spread, spread))
            return proto.moved(x=x, y=y, angle=upright + float(r.uniform(-6, 6)))

        others = [it for it in items if it.uid != proto.uid]
        return scatter(rng, make, lambda it: inside_rect(it, box), others, gap=0.012, tries=800)

    def normal(self, rng: np.random.Generator) -> list[Item]:
        bins = bins_in_row(rng, ("Left", "Right"), 0.4, 0.8, 0.44, False, LIGHT_PLASTICS, 0)
        items = list(bins)
        for uid, (kind, colour) in enumerate(HOME, start=len(bins)):
            long_range, short_range, _, widths = SIZES[kind]
            length = rng.uniform(*(long_range if (kind, colour) in LONG_ONES else short_range))
            proto = Item(kind, 0.0, 0.0, 90.0, float(length), float(rng.uniform(*widths)), colour,
                         jitter_colour(rng, colour), slot=HOME[(kind, colour)], uid=uid, seed=int(rng.integers(2**31)))
            home = next(b for b in bins if b.slot == proto.slot)
            items.append(self._put(rng, proto, home, OFFSET[kind], items))
        return items

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        bins = {b.slot: b for b in items if b.kind == "bin"}
        objs = [it for it in items if not it.fixture]
        free = [it for it in objs if it.uid not in avoid]
        if aspect == "length":
            it = pick(rng, free)
            long_range, short_range, _, _ = SIZES[it.kind]
            was_long = _key(it) in LONG_ONES
            changed = it.moved(length=float(rng.uniform(*(short_range if was_long else long_range))))
            what = f"the {_name(it)} is {'short instead of long' if was_long else 'long instead of short'}"
            rest = replaced(items, changed)
            home = bins[HOME[_key(it)]]
            if not inside_rect(changed, interior(home, WALL)):
                rest = [o for o in rest if o.uid != it.uid] + [self._put(rng, changed, home, OFFSET[it.kind], rest)]
            return rest, [Violation("wrong_length", aspect, what, (it.uid,))]
        if aspect == "placement":
            mode = pick(rng, ("order", "move", "swap"))
            if mode == "order":
                side = pick(rng, sorted({HOME[_key(o)] for o in free}))
                pair = [o for o in objs if HOME[_key(o)] == side]
                eraser = next(o for o in pair if o.kind == "eraser")
                pencil = next(o for o in pair if o.kind == "pencil")
                rest = [o for o in items if o.uid not in (eraser.uid, pencil.uid)]
                new_pencil = self._put(rng, pencil, bins[side], OFFSET["eraser"] + 0.012, rest)
                rest.append(new_pencil)
                rest.append(self._put(rng, eraser, bins[side], OFFSET["pencil"] + 0.015, rest))
                what = f"in the {side} bin the {_name(eraser)} is right of the {_name(pencil)}"
                return rest, [Violation("wrong_placement", aspect, what, (eraser.uid, pencil.uid))]
            if mode == "move":
                it = pick(rng, free)
                target = "Right" if HOME[_key(it)] == "Left" else "Left"
                rest = [o for o in items if o.uid != it.uid]
                rest.append(self._put(rng, it, bins[target], SPARE, rest, spread=0.3))
                what = f"the {_name(it)} is in the {target} bin instead of the {HOME[_key(it)]} bin"
                return rest, [Violation("wrong_placement", aspect, what, (it.uid,), (it,))]
            kind = pick(rng, sorted({o.kind for o in free}))
            pair = [o for o in objs if o.kind == kind]
            rest = [o for o in items if o.uid not in {p.uid for p in pair}]
            found = []
            for it in pair:
                target = "Right" if HOME[_key(it)] == "Left" else "Left"
                rest.append(self._put(rng, it, bins[target], OFFSET[kind], rest))
                what = f"the {_name(it)} is in the {target} bin instead of the {HOME[_key(it)]} bin"
                found.append(Violation("wrong_placement", aspect, what, (it.uid,), (it,)))
            return rest, found
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        bins = [b for b in items if b.kind == "bin"]
        objs = [it for it in items if not it.fixture]
        broken = set()
        for it in objs:
            threshold = SIZES[it.kind][2]
            if (it.length > threshold) != (_key(it) in LONG_ONES):
                broken.add("length")
        where = {it.uid: region_of(bins, it) for it in objs}
        if any(where[it.uid] != HOME.get(_key(it)) for it in objs):
            broken.add("placement")
        for side in ("Left", "Right"):
            inside = [it for it in objs if where[it.uid] == side]
            if any(e.x >= p.x for e in inside if e.kind == "eraser" for p in inside if p.kind == "pencil"):
                broken.add("placement")
        return broken

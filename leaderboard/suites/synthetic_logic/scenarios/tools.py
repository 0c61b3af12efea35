"""Tools (quantity + placement): two bolts, two washers and two nuts in the Left, Middle and Right bins."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fixtures import WALL
from ..scene import Item, Scenario, Violation, inside_rect, interior, next_uid, pick, scatter, without
from .common import DARK_PLASTICS, LIGHT_PLASTICS, bins_in_row, cells, free_cell, region_of, within

HOME = {"bolt": "Left", "washer": "Middle", "nut": "Right"}


def tool(rng: np.random.Generator, kind: str, area: tuple[float, float, float, float], uid: int) -> Item:
    """A tool of this kind centred somewhere in the area; bolts lie across the bin, head left or right."""
    x0, y0, x1, y1 = area
    x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
    angle = float(rng.uniform(0, 360))
    seed = int(rng.integers(2**31))
    if kind == "bolt":
        angle = float(pick(rng, (0.0, 180.0)) + rng.uniform(-20, 20))
        return Item(kind, x, y, angle, float(rng.uniform(0.18, 0.2)), float(rng.uniform(0.068, 0.076)),
                    slot=HOME[kind], uid=uid, seed=seed)
    d = float(rng.uniform(0.095, 0.105))
    return Item(kind, x, y, angle, d, d, slot=HOME[kind], uid=uid, seed=seed)


class Tools(Scenario):
    name = "Tools"
    aspects = ("quantity", "placement")
    rule = "Two bolts, two washers, and two nuts are present and placed in the Left/Middle/Right bins, respectively."
    paper_counts = (52, 50, 8)
    logical_defects = ("missing_object", "extra_object", "wrong_placement")

    def _put(self, rng: np.random.Generator, kind: str, bin_: Item, items: list[Item], uid: int) -> Item:
        """The tool somewhere in an empty quarter of the bin (anywhere in it once all quarters are taken)."""
        box = interior(bin_, WALL + 0.006)
        cell = free_cell(rng, cells(box, 4, True), items)
        area = cell if cell is not None else box
        return scatter(rng, lambda r: within(r, tool(r, kind, area, uid), area), lambda it: inside_rect(it, box), items,
                       gap=0.012, tries=2000)

    def normal(self, rng: np.random.Generator) -> list[Item]:
        palette = DARK_PLASTICS if rng.random() < 0.6 else LIGHT_PLASTICS
        bins = bins_in_row(rng, ("Left", "Middle", "Right"), 0.27, 0.74, 0.3, False, palette, 0)
        items = list(bins)
        for kind, home in HOME.items():
            bin_ = next(b for b in bins if b.slot == home)
            for _ in range(2):
                items.append(self._put(rng, kind, bin_, items, next_uid(items)))
        return items

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        bins = {b.slot: b for b in items if b.kind == "bin"}
        free = [it for it in items if not it.fixture and it.uid not in avoid]
        if aspect == "quantity":
            if rng.random() < 0.5:
                gone = pick(rng, free)
                what = f"one {gone.kind} is missing from the {HOME[gone.kind]} bin"
                return without(items, gone.uid), [Violation("missing_object", aspect, what, (), (gone,))]
            kind = pick(rng, tuple(HOME))
            extra = self._put(rng, kind, bins[HOME[kind]], items, next_uid(items))
            return items + [extra], [Violation("extra_object", aspect, f"an extra {kind} is in the {HOME[kind]} bin",
                                                (extra.uid,))]
        if aspect == "placement":
            movers = [pick(rng, free)]
            if rng.random() < 0.4:
                others = [it for it in free if it.kind != movers[0].kind]
                movers.append(pick(rng, others))
            targets = [movers[1].slot, movers[0].slot] if len(movers) == 2 else [
                pick(rng, [n for n in bins if n != movers[0].slot])]
            rest = [it for it in items if it.uid not in {m.uid for m in movers}]
            found = []
            for mover, target in zip(movers, targets):
                moved = self._put(rng, mover.kind, bins[target], rest, mover.uid)
                rest.append(moved)
                what = f"a {mover.kind} is in the {target} bin instead of the {HOME[mover.kind]} bin"
                found.append(Violation("wrong_placement", aspect, what, (mover.uid,), (mover,)))
            return rest, found
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        bins = [b for b in items if b.kind == "bin"]
        tools = [it for it in items if not it.fixture]
        broken = set()
        if any(sum(t.kind == k for t in tools) != 2 for k in HOME) or any(t.kind not in HOME for t in tools):
            broken.add("quantity")
        if any(region_of(bins, t) != HOME[t.kind] for t in tools if t.kind in HOME):
            broken.add("placement")
        return broken

"""Sticks (quantity + length): two long blue sticks and one short red stick."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..scene import (
    IN_FRAME, Item, Scenario, Violation, inside_rect, jitter_colour, next_uid, pick, replaced, scatter, without,
)

LONG = (0.54, 0.62)
SHORT = (0.26, 0.34)
THRESHOLD = 0.44  # every long stick is longer and every short one shorter: a 1.6× gap at least
LANES = (-0.25, -0.083, 0.083, 0.25)  # offsets across the sticks; a normal scene fills three of four


class Sticks(Scenario):
    name = "Sticks"
    aspects = ("quantity", "length")
    rule = "Two long blue sticks and one short red stick are present."
    paper_counts = (48, 48, 8)
    logical_defects = ("missing_object", "extra_object", "wrong_length")

    def _stick(self, rng: np.random.Generator, base: float, lane: int, colour: str, long: bool, uid: int) -> Item:
        a = np.deg2rad(base)
        along = rng.uniform(-0.04, 0.04)
        off = LANES[lane]
        x = 0.5 + along * np.cos(a) - off * np.sin(a)
        y = 0.5 + along * np.sin(a) + off * np.cos(a)
        length = float(rng.uniform(*(LONG if long else SHORT)))
        return Item(
            "stick", float(x), float(y), float(base + rng.uniform(-4, 4)), length, float(rng.uniform(0.036, 0.044)),
            colour, jitter_colour(rng, colour), slot=f"lane {lane}", uid=uid, seed=int(rng.integers(2**31)),
        )

    def normal(self, rng: np.random.Generator) -> list[Item]:
        base = pick(rng, (0.0, 90.0)) + rng.uniform(-12, 12)
        lanes = rng.permutation(len(LANES))[:3]
        colours = rng.permutation(["blue", "blue", "red"])
        return [self._stick(rng, base, int(lane), str(c), c == "blue", uid)
                for uid, (lane, c) in enumerate(zip(lanes, colours))]

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        sticks = [s for s in items if s.uid not in avoid]
        if aspect == "quantity":
            if rng.random() < 0.5:
                gone = pick(rng, sticks)
                what = "one long blue stick is missing" if gone.colour == "blue" else "the short red stick is missing"
                return without(items, gone.uid), [Violation("missing_object", aspect, what, (), (gone,))]
            base = float(np.mean([s.angle for s in items]))
            free = next(k for k in range(len(LANES)) if f"lane {k}" not in {s.slot for s in items})
            colour = pick(rng, ("blue", "red"))
            extra = scatter(rng, lambda r: self._stick(r, base, free, colour, colour == "blue", next_uid(items)),
                            lambda it: inside_rect(it, IN_FRAME), items)
            what = f"an extra {'long blue' if colour == 'blue' else 'short red'} stick is present"
            return items + [extra], [Violation("extra_object", aspect, what, (extra.uid,))]
        if aspect == "length":
            stick = pick(rng, sticks)
            if stick.colour == "blue":
                changed = stick.moved(length=float(rng.uniform(*SHORT)))
                what = "a blue stick is short instead of long"
            else:
                changed = stick.moved(length=float(rng.uniform(*LONG)))
                what = "the red stick is long instead of short"
            return replaced(items, changed), [Violation("wrong_length", aspect, what, (stick.uid,))]
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        sticks = [s for s in items if s.kind == "stick"]
        broken = set()
        colours = sorted(s.colour for s in sticks)
        if colours != ["blue", "blue", "red"]:
            broken.add("quantity")
        if any((s.colour == "blue") != (s.length > THRESHOLD) for s in sticks):
            broken.add("length")
        return broken

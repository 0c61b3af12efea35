"""Tapes (length + type): a long green tape and a short red tape; long and short are judged against each other."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..scene import IN_FRAME, Item, Scenario, Violation, inside_rect, jitter_colour, overlaps, pick, replaced

LONG = (0.5, 0.62)
SHORT = (0.2, 0.3)
CLEAR_RATIO = 1.4  # normal scenes are at least 1.67× apart, "similar" anomalies at most 1.11×
OTHER_COLOURS = {"green": ("blue", "yellow", "red"), "red": ("blue", "yellow", "green")}


class Tapes(Scenario):
    name = "Tapes"
    aspects = ("length", "type")
    rule = "A long green tape and a short red tape are present (length judged by the relative length of the two tapes)."
    paper_counts = (50, 50, 10)
    logical_defects = ("wrong_length", "wrong_type")

    def _lay(self, rng: np.random.Generator, lengths: tuple[float, float], colours: tuple[str, str],
             rgbs: tuple[tuple[float, float, float], ...] | None, seeds: tuple[int, int]) -> list[Item]:
        for _ in range(400):
            base = rng.uniform(0, 180)
            a = np.deg2rad(base)
            offsets = rng.permutation([-0.12, 0.12]) + rng.uniform(-0.02, 0.02, 2)
            tapes = []
            for k in range(2):
                along = rng.uniform(-0.06, 0.06)
                x = 0.5 + along * np.cos(a) - offsets[k] * np.sin(a)
                y = 0.5 + along * np.sin(a) + offsets[k] * np.cos(a)
                rgb = rgbs[k] if rgbs else jitter_colour(rng, colours[k])
                tapes.append(Item("tape", float(x), float(y), float(base + rng.uniform(-10, 10)), lengths[k],
                                  float(rng.uniform(0.055, 0.065)), colours[k], rgb, uid=k, seed=seeds[k]))
            if all(inside_rect(t, IN_FRAME) for t in tapes) and not overlaps(tapes[0], tapes[1], 0.015):
                return tapes
        raise RuntimeError("could not lay out the two tapes")

    def normal(self, rng: np.random.Generator) -> list[Item]:
        lengths = (float(rng.uniform(*LONG)), float(rng.uniform(*SHORT)))
        seeds = (int(rng.integers(2**31)), int(rng.integers(2**31)))
        return self._lay(rng, lengths, ("green", "red"), None, seeds)

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        if aspect == "length":
            common = rng.uniform(0.3, 0.52)
            lengths = (float(common * rng.uniform(0.95, 1.05)), float(common * rng.uniform(0.95, 1.05)))
            tapes = self._lay(rng, lengths, (items[0].colour, items[1].colour), tuple(t.rgb for t in items),
                              (items[0].seed, items[1].seed))
            what = "the two tapes have similar lengths (there is no long and short tape)"
            return tapes, [Violation("wrong_length", aspect, what, tuple(t.uid for t in tapes))]
        if aspect == "type":
            old = pick(rng, items)
            colour = pick(rng, OTHER_COLOURS[old.colour])
            new = old.moved(colour=colour, rgb=jitter_colour(rng, colour))
            what = f"a {colour} tape replaces the {old.colour} tape"
            return replaced(items, new), [Violation("wrong_type", aspect, what, (new.uid,))]
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        tapes = [it for it in items if it.kind == "tape"]
        broken = set()
        colours = sorted(t.colour for t in tapes)
        if colours != ["green", "red"]:
            broken.add("type")
        lengths = sorted(t.length for t in tapes)
        if len(tapes) != 2 or lengths[1] < CLEAR_RATIO * lengths[0]:
            broken.add("length")
        elif colours == ["green", "red"]:
            green = next(t for t in tapes if t.colour == "green")
            if green.length != lengths[1]:
                broken.add("length")
        return broken

"""Ropes (length + relation): the rope is about as long as the reference stick and has the colour its label names."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..objects import natural_wood, paper
from ..scene import IN_FRAME, Item, Scenario, Violation, inside_rect, jitter_colour, pick, replaced, scatter

COLOURS = ("red", "blue", "green", "yellow")
SIMILAR = (0.85, 1.18)  # rope / stick arc-length ratio a normal rope stays within (drawn from 0.93–1.07)
TOO_SHORT = (0.58, 0.72)
TOO_LONG = (1.3, 1.42)


def rope_path(rng: np.random.Generator, arc: float, points: int = 25) -> tuple[tuple[float, float], ...]:
    """A gently wavy centre line of exactly this arc length, centred on its bounding box."""
    s = np.linspace(0.0, 1.0, points)
    wave = rng.uniform(0.12, 0.3) * np.sin(2 * np.pi * rng.uniform(1.0, 2.2) * s + rng.uniform(0, 2 * np.pi))
    heading = wave + rng.uniform(-0.12, 0.12) * (s - 0.5)
    step = arc / (points - 1)
    xy = np.concatenate([[[0.0, 0.0]], np.cumsum(step * np.stack([np.cos(heading[1:]), np.sin(heading[1:])], 1), 0)])
    xy -= (xy.min(0) + xy.max(0)) / 2
    return tuple((float(x), float(y)) for x, y in xy)


class Ropes(Scenario):
    name = "Ropes"
    aspects = ("length", "relation")
    rule = "The rope length is similar to the reference stick, and the rope color matches the text label."
    paper_counts = (48, 50, 12)
    logical_defects = ("wrong_length", "wrong_relation")

    def _rope(self, rng: np.random.Generator, proto: Item, arc: float, stick: Item) -> Item:
        path = rope_path(rng, arc)

        def make(r: np.random.Generator) -> Item:
            return proto.moved(x=float(0.5 + r.uniform(-0.03, 0.03)), y=float(stick.y + 0.27 + r.uniform(-0.03, 0.03)),
                               angle=float(stick.angle + r.uniform(-5, 5)), path=path, length=arc)

        return scatter(rng, make, lambda it: inside_rect(it, IN_FRAME), [])

    def normal(self, rng: np.random.Generator) -> list[Item]:
        stick = Item("stick", float(0.5 + rng.uniform(-0.03, 0.03)), float(0.22 + rng.uniform(-0.03, 0.03)),
                     float(rng.uniform(-6, 6)), float(rng.uniform(0.5, 0.6)), float(rng.uniform(0.028, 0.034)),
                     rgb=natural_wood(rng), slot="reference", uid=0, seed=int(rng.integers(2**31)))
        colour = pick(rng, COLOURS)
        proto = Item("rope", 0.5, 0.5, 0.0, 0.0, float(rng.uniform(0.036, 0.044)), colour, jitter_colour(rng, colour),
                     uid=1, seed=int(rng.integers(2**31)))
        rope = self._rope(rng, proto, stick.length * float(rng.uniform(0.93, 1.07)), stick)
        label = Item("label", float(0.5 + rng.uniform(-0.18, 0.18)), float(0.8 + rng.uniform(-0.03, 0.03)),
                     float(rng.uniform(-8, 8)), float(rng.uniform(0.25, 0.29)), float(rng.uniform(0.1, 0.115)),
                     rgb=paper(rng), text=colour.upper(), uid=2, seed=int(rng.integers(2**31)))
        return [stick, rope, label]

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        stick, rope, label = (next(it for it in items if it.kind == k) for k in ("stick", "rope", "label"))
        if aspect == "length":
            short = rng.random() < 0.5
            arc = stick.length * float(rng.uniform(*(TOO_SHORT if short else TOO_LONG)))
            new = self._rope(rng, rope, arc, stick)
            what = f"the rope is much {'shorter' if short else 'longer'} than the reference stick"
            return replaced(items, new), [Violation("wrong_length", aspect, what, (rope.uid,))]
        if aspect == "relation":
            colour = pick(rng, [c for c in COLOURS if c != label.text.lower()])
            new = rope.moved(colour=colour, rgb=jitter_colour(rng, colour))
            what = f"the rope is {colour} but the label says {label.text}"
            return replaced(items, new), [Violation("wrong_relation", aspect, what, (rope.uid, label.uid))]
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        stick = next(it for it in items if it.kind == "stick")
        rope = next(it for it in items if it.kind == "rope")
        label = next(it for it in items if it.kind == "label")
        broken = set()
        ratio = rope.arc_length() / stick.length
        if not SIMILAR[0] <= ratio <= SIMILAR[1]:
            broken.add("length")
        if rope.colour != label.text.lower():
            broken.add("relation")
        return broken

"""Balls (placement + relation): orange balls in the top and white balls in the bottom compartments of a 2×2 case."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fixtures import WALL
from ..scene import (
    IN_FRAME, Item, Scenario, Violation, inside_rect, jitter_colour, overlaps, pick, replaced, scatter,
)
from .common import DARK_PLASTICS, LIGHT_PLASTICS, plastic

CASE = 0.5
DIVIDER = 0.4 * WALL
CELL = (CASE / 2 - WALL + DIVIDER) / 2  # centre of a compartment from the case centre, per axis
CELL_HALF = (CASE / 2 - WALL - DIVIDER) / 2
COMPARTMENTS = {"top-left": (-1, -1), "top-right": (1, -1), "bottom-left": (-1, 1), "bottom-right": (1, 1)}


def colour_for(compartment: str) -> str:
    return "orange" if compartment.startswith("top") else "white"


def compartment_of(case: Item, ball: Item) -> str:
    """The compartment that holds the ball's centre well away from its walls, or ''."""
    u, v = case.to_local(ball.x, ball.y)
    r = ball.length / 2
    for name, (sx, sy) in COMPARTMENTS.items():
        if abs(u - sx * CELL) <= CELL_HALF - 0.6 * r and abs(v - sy * CELL) <= CELL_HALF - 0.6 * r:
            return name
    return ""


def _at(case: Item, u: float, v: float) -> tuple[float, float]:
    a = np.deg2rad(case.angle)
    return float(case.x + np.cos(a) * u - np.sin(a) * v), float(case.y + np.sin(a) * u + np.cos(a) * v)


class Balls(Scenario):
    name = "Balls"
    aspects = ("placement", "relation")
    rule = "Orange balls are in the top compartments and white balls are in the bottom compartments of the 2x2 case."
    paper_counts = (48, 48, 12)
    logical_defects = ("wrong_placement", "wrong_relation")

    def _ball(self, rng: np.random.Generator, case: Item, compartment: str, colour: str, uid: int,
              size: float | None = None) -> Item:
        d = float(size if size is not None else rng.uniform(0.13, 0.145))
        sx, sy = COMPARTMENTS[compartment]
        room = CELL_HALF - d / 2 - 0.006
        x, y = _at(case, sx * CELL + rng.uniform(-room, room), sy * CELL + rng.uniform(-room, room))
        return Item("ball", x, y, float(rng.uniform(0, 360)), d, d, colour, jitter_colour(rng, colour),
                    slot=compartment, uid=uid, seed=int(rng.integers(2**31)))

    def normal(self, rng: np.random.Generator) -> list[Item]:
        palette = DARK_PLASTICS if rng.random() < 0.5 else LIGHT_PLASTICS
        case = Item("case", float(0.5 + rng.uniform(-0.015, 0.015)), float(0.5 + rng.uniform(-0.015, 0.015)),
                    float(rng.uniform(-4, 4)), CASE, CASE, rgb=plastic(rng, palette), slot="case", fixture=True, uid=0,
                    seed=int(rng.integers(2**31)))
        return [case] + [self._ball(rng, case, name, colour_for(name), k + 1) for k, name in enumerate(COMPARTMENTS)]

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        case = next(it for it in items if it.kind == "case")
        balls = [it for it in items if it.kind == "ball"]
        free = [b for b in balls if b.uid not in avoid]
        if aspect == "placement":
            ball = pick(rng, free)
            rest = [it for it in items if it.uid != ball.uid]
            if rng.random() < 0.6:
                def make(r: np.random.Generator) -> Item:
                    return ball.moved(x=float(r.uniform(0.1, 0.9)), y=float(r.uniform(0.1, 0.9)))

                moved = scatter(rng, make, lambda it: inside_rect(it, IN_FRAME) and not overlaps(it, case, 0.012), rest)
                what = f"{'an orange' if ball.colour == 'orange' else 'a white'} ball is outside the case"
            else:
                sx, sy = COMPARTMENTS[ball.slot]
                u, v = (0.0, sy * CELL) if rng.random() < 0.5 else (sx * CELL, 0.0)
                x, y = _at(case, u + rng.uniform(-0.01, 0.01), v + rng.uniform(-0.01, 0.01))
                moved = ball.moved(x=x, y=y)
                what = f"{'an orange' if ball.colour == 'orange' else 'a white'} ball sits on a divider of the case"
            what += f" instead of in the {ball.slot} compartment"
            return rest + [moved], [Violation("wrong_placement", aspect, what, (ball.uid,), (ball,))]
        if aspect == "relation":
            seated = [b for b in free if compartment_of(case, b)]
            oranges = [b for b in seated if b.colour == "orange"]
            whites = [b for b in seated if b.colour == "white"]
            if oranges and whites and rng.random() < 0.5:
                a, b = pick(rng, oranges), pick(rng, whites)
                swapped = {a.uid: b.moved(uid=a.uid, colour=a.colour, rgb=a.rgb, seed=a.seed),
                           b.uid: a.moved(uid=b.uid, colour=b.colour, rgb=b.rgb, seed=b.seed)}
                found = [Violation("wrong_relation", aspect,
                                   f"{'an orange' if it.colour == 'orange' else 'a white'} ball is in the "
                                   f"{compartment_of(case, swapped[it.uid])} compartment", (it.uid,))
                         for it in (a, b)]
                return [swapped.get(it.uid, it) for it in items], found
            ball = pick(rng, seated)
            colour = "white" if ball.colour == "orange" else "orange"
            new = ball.moved(colour=colour, rgb=jitter_colour(rng, colour))
            what = f"the ball in the {compartment_of(case, ball)} compartment is {colour} instead of {ball.colour}"
            return replaced(items, new), [Violation("wrong_relation", aspect, what, (ball.uid,))]
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        case = next(it for it in items if it.kind == "case")
        balls = [it for it in items if it.kind == "ball"]
        where = [compartment_of(case, b) for b in balls]
        broken = set()
        if "" in where or sorted(where) != sorted(COMPARTMENTS):
            broken.add("placement")
        if any(w and b.colour != colour_for(w) for b, w in zip(balls, where)):
            broken.add("relation")
        return broken

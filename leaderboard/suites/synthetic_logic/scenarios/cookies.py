"""Cookies (quantity + relation): two yellow cookies on the square dish, one black cookie on the round dish."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..scene import Item, Scenario, Violation, fits_in, jitter_colour, next_uid, pick, scatter, without
from .common import CERAMICS, plastic, region_of

DISH_OF = {"yellow": "square", "black": "round"}
RIM = 0.03


class Cookies(Scenario):
    name = "Cookies"
    aspects = ("quantity", "relation")
    rule = "Two yellow cookies are on the square dish and one black cookie is on the round dish."
    paper_counts = (50, 50, 6)
    logical_defects = ("missing_object", "extra_object", "wrong_relation")

    def _cookie(self, rng: np.random.Generator, colour: str, dish: Item, items: list[Item], uid: int) -> Item:
        """A cookie in a free seat of the dish: four on the square one, three on the round one."""
        if dish.kind == "square_dish":
            seats, jitter = [(sx * 0.08, sy * 0.08) for sx in (-1, 1) for sy in (-1, 1)], 0.02
        else:
            seats, jitter = [(0.085 * np.cos(a), 0.085 * np.sin(a)) for a in np.deg2rad([-90, 30, 150])], 0.008
        a = np.deg2rad(dish.angle)
        points = [(dish.x + np.cos(a) * u - np.sin(a) * v, dish.y + np.sin(a) * u + np.cos(a) * v) for u, v in seats]
        cookies = [it for it in items if it.kind == "cookie"]
        empty = [p for p in points if all(np.hypot(p[0] - c.x, p[1] - c.y) > 0.05 for c in cookies)]
        x0, y0 = pick(rng, empty)

        def make(r: np.random.Generator) -> Item:
            d = float(r.uniform(0.105, 0.12))
            x, y = float(x0 + r.uniform(-jitter, jitter)), float(y0 + r.uniform(-jitter, jitter))
            return Item("cookie", x, y, float(r.uniform(0, 360)), d, d, colour, jitter_colour(r, colour),
                        slot=DISH_OF[colour], uid=uid, seed=int(r.integers(2**31)))

        return scatter(rng, make, lambda it: fits_in(dish, it, RIM), items, gap=0.008, tries=800)

    def normal(self, rng: np.random.Generator) -> list[Item]:
        xs = rng.permutation([0.29, 0.71])
        rgb = plastic(rng, CERAMICS)
        square = Item("square_dish", float(xs[0] + rng.uniform(-0.02, 0.02)), float(0.5 + rng.uniform(-0.05, 0.05)),
                      float(rng.uniform(-8, 8)), 0.38, 0.38, rgb=rgb, slot="square", fixture=True, uid=0,
                      seed=int(rng.integers(2**31)))
        d = 0.4
        round_ = Item("round_dish", float(xs[1] + rng.uniform(-0.02, 0.02)), float(0.5 + rng.uniform(-0.05, 0.05)),
                      0.0, d, d, rgb=rgb, slot="round", fixture=True, uid=1, seed=int(rng.integers(2**31)))
        items = [square, round_]
        for colour in ("yellow", "yellow", "black"):
            dish = square if colour == "yellow" else round_
            items.append(self._cookie(rng, colour, dish, items, next_uid(items)))
        return items

    def violate(self, items: list[Item], aspect: str, rng: np.random.Generator,
                avoid: frozenset[int] = frozenset()) -> tuple[list[Item], list[Violation]]:
        dishes = {it.slot: it for it in items if it.fixture}
        free = [it for it in items if it.kind == "cookie" and it.uid not in avoid]
        if aspect == "quantity":
            if rng.random() < 0.5:
                gone = pick(rng, free)
                what = "one yellow cookie is missing" if gone.colour == "yellow" else "the black cookie is missing"
                return without(items, gone.uid), [Violation("missing_object", aspect, what, (), (gone,))]
            colour = pick(rng, ("yellow", "black"))
            extra = self._cookie(rng, colour, dishes[DISH_OF[colour]], items, next_uid(items))
            what = f"an extra {colour} cookie is on the {DISH_OF[colour]} dish"
            return items + [extra], [Violation("extra_object", aspect, what, (extra.uid,))]
        if aspect == "relation":
            yellows = [c for c in free if c.colour == "yellow"]
            blacks = [c for c in free if c.colour == "black"]
            options = [m for m, ok in (("swap", yellows and blacks), ("black", blacks), ("yellow", yellows)) if ok]
            mode = pick(rng, options)
            movers = {"swap": lambda: [pick(rng, yellows), blacks[0]], "black": lambda: [blacks[0]],
                      "yellow": lambda: [pick(rng, yellows)]}[mode]()
            rest = [it for it in items if it.uid not in {m.uid for m in movers}]
            found = []
            for mover in movers:
                wrong = "round" if mover.colour == "yellow" else "square"
                moved = self._cookie(rng, mover.colour, dishes[wrong], rest, mover.uid)
                rest.append(moved.moved(slot=mover.slot))
                what = f"a {mover.colour} cookie is on the {wrong} dish instead of the {DISH_OF[mover.colour]} dish"
                found.append(Violation("wrong_relation", aspect, what, (mover.uid,), (mover,)))
            return rest, found
        raise ValueError(f"{self.name} has no aspect {aspect!r}")

    def check(self, items: Sequence[Item]) -> set[str]:
        dishes = [it for it in items if it.fixture]
        cookies = [it for it in items if it.kind == "cookie"]
        broken = set()
        if sorted(c.colour for c in cookies) != ["black", "yellow", "yellow"]:
            broken.add("quantity")
        if any(region_of(dishes, c) != DISH_OF.get(c.colour) for c in cookies):
            broken.add("relation")
        return broken

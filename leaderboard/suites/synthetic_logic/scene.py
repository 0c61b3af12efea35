"""What a generated image shows, as data: objects, capture conditions and rule violations.

Scenarios build scenes in a canonical frame (the unit square, x right, y down) and
check their rules on that description; the renderer only turns it into pixels. The
camera pose is a nuisance applied at render time, so it can never change a verdict.
"""
from __future__ import annotations

import colorsys
import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable, Sequence

import numpy as np

from .sdf import polyline_length

ASPECTS = ("quantity", "length", "type", "placement", "relation")
STRUCTURAL_DEFECTS = ("scratch", "hole", "stain", "crack", "deformation")

# Hue (degrees), saturation and value ranges of each colour name. The hue bands do not
# overlap, so colour jitter can never turn one named colour into another.
PALETTE: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "red": ((-8.0, 6.0), (0.72, 0.86), (0.62, 0.80)),
    "orange": ((19.0, 30.0), (0.80, 0.93), (0.85, 0.96)),
    "yellow": ((43.0, 53.0), (0.68, 0.85), (0.86, 0.96)),
    "green": ((112.0, 140.0), (0.55, 0.72), (0.45, 0.62)),
    "blue": ((208.0, 224.0), (0.62, 0.80), (0.52, 0.70)),
    "black": ((0.0, 360.0), (0.00, 0.12), (0.08, 0.16)),
    "white": ((0.0, 360.0), (0.00, 0.06), (0.88, 0.96)),
}


def jitter_colour(rng: np.random.Generator, name: str) -> tuple[float, float, float]:
    """An RGB albedo drawn inside the named colour's band."""
    (h0, h1), (s0, s1), (v0, v1) = PALETTE[name]
    h = (rng.uniform(h0, h1) % 360.0) / 360.0
    rgb = colorsys.hsv_to_rgb(h, rng.uniform(s0, s1), rng.uniform(v0, v1))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def colour_name(rgb: Sequence[float]) -> str:
    """The palette name whose band holds this albedo, or '' when none does."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    hue = h * 360.0
    for name, ((h0, h1), (s0, s1), (v0, v1)) in PALETTE.items():
        in_hue = h0 - 1e-6 <= hue <= h1 + 1e-6 or h0 - 1e-6 <= hue - 360.0 <= h1 + 1e-6
        if in_hue and s0 - 1e-6 <= s <= s1 + 1e-6 and v0 - 1e-6 <= v <= v1 + 1e-6:
            return name
    return ""


ROUND_KINDS = frozenset({"orange", "apple", "lime", "cookie", "ball", "washer", "circle_block", "plate", "bowl"})


@dataclass(frozen=True)
class Item:
    """One object or fixture. Lengths are in image widths; `length` runs along the local u axis."""

    kind: str
    x: float
    y: float
    angle: float = 0.0  # degrees, clockwise on screen
    length: float = 0.1
    width: float = 0.1
    colour: str = ""  # logical colour name; "" where colour is no part of the rule
    rgb: tuple[float, float, float] = (0.5, 0.5, 0.5)
    slot: str = ""  # the bin, dish or compartment the generator meant it for, or a fixture's name
    text: str = ""  # printed word (label cards)
    path: tuple[tuple[float, float], ...] = ()  # centre line in the local frame (ropes)
    fixture: bool = False
    defect: str = ""  # structural defect drawn on it
    uid: int = 0
    seed: int = 0  # texture seed, so an object looks the same whatever else changes

    def half_extent(self) -> tuple[float, float]:
        """Half sizes of the local bounding box, paths included."""
        if self.path:
            pts = np.abs(np.asarray(self.path))
            return float(pts[:, 0].max() + self.width / 2), float(pts[:, 1].max() + self.width / 2)
        return self.length / 2, self.width / 2

    def corners(self, gap: float = 0.0) -> np.ndarray:
        hx, hy = self.half_extent()
        hx, hy = hx + gap / 2, hy + gap / 2
        a = np.deg2rad(self.angle)
        c, s = np.cos(a), np.sin(a)
        local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
        return np.stack([self.x + c * local[:, 0] - s * local[:, 1], self.y + s * local[:, 0] + c * local[:, 1]], 1)

    @property
    def is_disc(self) -> bool:
        return self.kind in ROUND_KINDS and abs(self.length - self.width) < 1e-9 and not self.path

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        a = np.deg2rad(self.angle)
        dx, dy = x - self.x, y - self.y
        return float(np.cos(a) * dx + np.sin(a) * dy), float(-np.sin(a) * dx + np.cos(a) * dy)

    def arc_length(self) -> float:
        return polyline_length(self.path) if self.path else self.length

    def moved(self, **changes: object) -> "Item":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Violation:
    """One defect instance: what it is, why it breaks the rule and where it shows."""

    defect: str  # a logical defect name or one of STRUCTURAL_DEFECTS
    aspect: str  # one of ASPECTS, or "structure"
    description: str
    uids: tuple[int, ...] = ()  # objects that show it
    ghosts: tuple[Item, ...] = ()  # where missing or misplaced objects should be


@dataclass(frozen=True)
class Environment:
    """Capture nuisances of one photograph; none of them touches the logical state."""

    camera_angle: float
    camera_scale: float
    camera_shift: tuple[float, float]
    light_azimuth: float  # radians, where the light comes from in the image plane
    light_elevation: float  # radians above the table
    light_intensity: float
    ambient: float
    tint: tuple[float, float, float]
    surface: str
    surface_rgb: tuple[float, float, float]
    falloff: float
    vignette: float
    noise: float  # sensor noise, in 8-bit levels
    blur: float  # optical blur, in pixels at 256²
    seed: int

    def place(self, item: Item) -> Item:
        """The item as the camera sees it (rotated, scaled and shifted about the image centre)."""
        a = np.deg2rad(self.camera_angle)
        dx, dy = item.x - 0.5, item.y - 0.5
        s = self.camera_scale
        x = 0.5 + s * (np.cos(a) * dx - np.sin(a) * dy) + self.camera_shift[0]
        y = 0.5 + s * (np.sin(a) * dx + np.cos(a) * dy) + self.camera_shift[1]
        path = tuple((px * s, py * s) for px, py in item.path)
        return item.moved(
            x=float(x), y=float(y), angle=item.angle + self.camera_angle,
            length=item.length * s, width=item.width * s, path=path,
        )


SURFACES = ("paper", "linen", "wood", "plastic")


def sample_environment(rng: np.random.Generator) -> Environment:
    grey = rng.uniform(0.68, 0.9)
    warm = rng.uniform(-0.05, 0.05)
    surface_rgb = (grey * (1 + warm), grey * (1 + 0.3 * warm), grey * (1 - warm))
    tint_shift = rng.uniform(-0.06, 0.06)
    return Environment(
        camera_angle=float(rng.uniform(-3.0, 3.0)),
        camera_scale=float(rng.uniform(0.96, 1.04)),
        camera_shift=(float(rng.uniform(-0.02, 0.02)), float(rng.uniform(-0.02, 0.02))),
        light_azimuth=float(rng.uniform(0, 2 * np.pi)),
        light_elevation=float(np.deg2rad(rng.uniform(38, 68))),
        light_intensity=float(rng.uniform(0.8, 1.15)),
        ambient=float(rng.uniform(0.28, 0.42)),
        tint=(1.0 + tint_shift, 1.0, 1.0 - tint_shift),
        surface=SURFACES[int(rng.integers(len(SURFACES)))],
        surface_rgb=tuple(float(c) for c in surface_rgb),
        falloff=float(rng.uniform(0.05, 0.22)),
        vignette=float(rng.uniform(0.12, 0.35)),
        noise=float(rng.uniform(1.2, 3.2)),
        blur=float(rng.uniform(0.35, 0.8)),
        seed=int(rng.integers(2**31)),
    )


@dataclass
class Scene:
    scenario: str
    kind: str  # "good" | "logical" | "structural"
    items: list[Item]  # canonical frame, drawing order (fixtures first)
    env: Environment
    violations: list[Violation] = field(default_factory=list)

    @property
    def aspects_violated(self) -> list[str]:
        return sorted({v.aspect for v in self.violations}, key=lambda a: (ASPECTS + ("structure",)).index(a))

    @property
    def description(self) -> str:
        return "; ".join(v.description for v in self.violations)

    def facts(self) -> list[dict[str, object]]:
        """The objects as plain data, for the manifest and for text-based methods."""
        out = []
        for it in self.items:
            fact: dict[str, object] = {"kind": it.kind, "x": round(it.x, 4), "y": round(it.y, 4)}
            if it.colour:
                fact["colour"] = it.colour
            if it.slot:
                fact["slot"] = it.slot
            if it.text:
                fact["text"] = it.text
            if not it.fixture:
                fact["length"] = round(it.arc_length(), 4)
            if it.defect:
                fact["defect"] = it.defect
            out.append(fact)
        return out


IN_FRAME = (0.05, 0.05, 0.95, 0.95)  # canonical region objects stay in, leaving room for the camera jitter


def overlaps(a: Item, b: Item, gap: float = 0.0) -> bool:
    """Whether two objects come closer than gap: discs by distance, others by separating axes of their boxes."""
    if a.is_disc and b.is_disc:
        return bool(np.hypot(a.x - b.x, a.y - b.y) < (a.length + b.length) / 2 + gap)
    pa, pb = a.corners(gap), b.corners(0.0)
    for poly in (pa, pb):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            ra, rb = pa @ axis, pb @ axis
            if ra.max() < rb.min() or rb.max() < ra.min():
                return False
    return True


def inside_rect(item: Item, rect: tuple[float, float, float, float]) -> bool:
    c = item.corners()
    return bool((c[:, 0] >= rect[0]).all() and (c[:, 0] <= rect[2]).all()
                and (c[:, 1] >= rect[1]).all() and (c[:, 1] <= rect[3]).all())


def interior(fixture: Item, margin: float) -> tuple[float, float, float, float]:
    """Axis-aligned inner rectangle of an unrotated box fixture, shrunk by margin."""
    hx, hy = fixture.length / 2 - margin, fixture.width / 2 - margin
    return (fixture.x - hx, fixture.y - hy, fixture.x + hx, fixture.y + hy)


def contains(fixture: Item, x: float, y: float, margin: float = 0.0) -> bool:
    """Whether a point lies in a fixture's footprint (box or disc), shrunk by margin."""
    u, v = fixture.to_local(x, y)
    if fixture.kind in ("round_dish", "plate"):
        return np.hypot(u, v) <= fixture.length / 2 - margin
    return abs(u) <= fixture.length / 2 - margin and abs(v) <= fixture.width / 2 - margin


def fits_in(fixture: Item, item: Item, margin: float) -> bool:
    """Whether the whole object lies in the fixture's footprint shrunk by margin (discs by their radius)."""
    if item.is_disc:
        return contains(fixture, item.x, item.y, margin + item.length / 2)
    return all(contains(fixture, float(cx), float(cy), margin) for cx, cy in item.corners())


def scatter(
    rng: np.random.Generator,
    make: Callable[[np.random.Generator], Item],
    fits: Callable[[Item], bool],
    others: Iterable[Item],
    gap: float = 0.012,
    tries: int = 400,
) -> Item:
    """Draw candidates until one fits its region without touching the others (rejection sampling)."""
    others = [o for o in others if not o.fixture]
    for _ in range(tries):
        cand = make(rng)
        if fits(cand) and not any(overlaps(cand, o, gap) for o in others):
            return cand
    raise RuntimeError(f"could not place a {cand.kind} after {tries} tries")


def next_uid(items: Sequence[Item]) -> int:
    return max((it.uid for it in items), default=-1) + 1


def without(items: Sequence[Item], uid: int) -> list[Item]:
    return [it for it in items if it.uid != uid]


def replaced(items: Sequence[Item], new: Item) -> list[Item]:
    return [new if it.uid == new.uid else it for it in items]


def pick(rng: np.random.Generator, seq: Sequence):
    return seq[int(rng.integers(len(seq)))]


class Scenario(ABC):
    """A VID-AD scenario: two logical aspects, a one-line rule, and ways to break each aspect."""

    name: ClassVar[str]
    aspects: ClassVar[tuple[str, str]]
    rule: ClassVar[str]
    paper_counts: ClassVar[tuple[int, int, int]]  # VID-AD Table 3: single-A, single-B, dual
    logical_defects: ClassVar[tuple[str, ...]]

    @abstractmethod
    def normal(self, rng: np.random.Generator) -> list[Item]:
        """A scene that satisfies the rule, with every nuisance (position, angle, size, colour) drawn anew."""

    @abstractmethod
    def violate(
        self, items: list[Item], aspect: str, rng: np.random.Generator, avoid: frozenset[int] = frozenset()
    ) -> tuple[list[Item], list[Violation]]:
        """Break exactly this aspect without repairing earlier violations.

        `avoid` names the objects earlier violations changed; they are left alone
        wherever the scene has other objects to use.
        """

    @abstractmethod
    def check(self, items: Sequence[Item]) -> set[str]:
        """The aspects this scene breaks, judged from its geometry and attributes alone."""

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "aspects": list(self.aspects), "rule": self.rule}


def compose(
    scenario: Scenario, rng: np.random.Generator, kind: str, aspects: Sequence[str] = (), defect: str = ""
) -> Scene:
    """One scene of the given kind: normal, logical (breaking `aspects`) or structural (`defect`)."""
    env = sample_environment(rng)
    items = scenario.normal(rng)
    violations: list[Violation] = []
    if kind == "logical":
        touched: frozenset[int] = frozenset()
        for aspect in aspects:
            items, found = scenario.violate(items, aspect, rng, touched)
            violations += found
            touched = touched | {u for v in found for u in v.uids} | {g.uid for v in found for g in v.ghosts}
    elif kind == "structural":
        candidates = [it for it in items if not it.fixture and it.kind != "label"]
        target = pick(rng, candidates)
        items = replaced(items, target.moved(defect=defect))
        violations.append(Violation(defect, "structure", structural_description(defect, noun(target)), (target.uid,)))
    elif kind != "good":
        raise ValueError(f"unknown sample kind {kind!r}; expected good, logical or structural")
    return Scene(scenario.name, kind, items, env, violations)


_NOUNS = {"kiwi": "kiwifruit", "label": "label card"}


def noun(item: Item) -> str:
    """How a description names an object: 'blue stick', 'kiwifruit', 'circle block'."""
    base = _NOUNS.get(item.kind, item.kind.replace("_", " "))
    if item.colour:
        return f"{item.colour} {base}"
    return base


def article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def structural_description(defect: str, what: str) -> str:
    phrases = {
        "scratch": f"a scratch on the {what}",
        "hole": f"a hole in the {what}",
        "stain": f"a stain on the {what}",
        "crack": f"a crack in the {what}",
        "deformation": f"the {what} is dented (deformed)",
    }
    return phrases[defect]

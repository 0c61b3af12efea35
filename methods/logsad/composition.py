"""Composition matching: the rule checks and the histogram of component assignments.

Each rule gives a value, whether it holds, how far outside its range the value is, and
the components to blame, so the anomaly map and the explanation can point at them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from methods.logsad.mining import measure
from methods.logsad.rules import (
    UNKNOWN, CountRule, LabelRule, OrderRule, PairingRule, RatioRule, RegionRule, RuleFile, SizeRule,
)
from methods.logsad.segmentation import Component


@dataclass
class RuleResult:
    index: int
    kind: str
    holds: bool
    excess: float  # 0 when it holds; how far outside, in the rule's own units (counts, relative size, ...)
    text: str  # "count(orange disc) = 4, normal 3"
    offenders: list[int] = field(default_factory=list)  # indices of the components to blame

    @property
    def score(self) -> float:
        """Eq. 4: 1 when broken, 0 when it holds; calibrated scores stay below 1, so a broken rule decides."""
        return 0.0 if self.holds else 1.0


def _members(comps: list[Component], names: list[str], name: str) -> list[int]:
    if name == UNKNOWN:
        return [i for i, c in enumerate(comps) if c.interest < 0]
    j = names.index(name)
    return [i for i, c in enumerate(comps) if c.interest == j]


def _fmt_range(lo: float, hi: float, digits: int = 3) -> str:
    if lo == hi:
        return f"{lo:g}"
    return f"{round(lo, digits):g}–{round(hi, digits):g}"


def _outside(v: float, lo: float, hi: float, relative: bool) -> float:
    if lo <= v <= hi:
        return 0.0
    if relative:
        return (v / hi - 1.0) if v > hi else (lo / max(v, 1e-9) - 1.0)
    return (v - hi) if v > hi else (lo - v)


def lab_distance(a: Any, b: Any) -> float:
    """Colour distance as the component descriptor weighs it: lightness a quarter (shading varies it)."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.sqrt((d[0] / 4.0) ** 2 + d[1] ** 2 + d[2] ** 2))


def check_rule(index: int, rule: Any, comps: list[Component], names: list[str],
               words: list[str] | None = None) -> RuleResult:
    """One rule on one image's components; `words`: the names of the prints read on its labels."""
    if isinstance(rule, CountRule):
        idx = _members(comps, names, rule.interest)
        ex = _outside(len(idx), *rule.range, relative=False)
        return RuleResult(index, rule.kind, ex == 0, ex, f"count({rule.interest}) = {len(idx)}, normal "
                          f"{_fmt_range(*rule.range)}", idx if len(idx) > rule.range[1] else [])
    if isinstance(rule, SizeRule):
        idx = _members(comps, names, rule.interest)
        worst, bad = 0.0, []
        worst_v = None
        for i in idx:
            ex = _outside(measure(comps[i], rule.measure), *rule.range, relative=True)
            if ex > 0:
                bad.append(i)
            if ex >= worst:
                worst, worst_v = ex, measure(comps[i], rule.measure)
        shown = f"{worst_v:.4g}" if worst_v is not None else "–"
        return RuleResult(index, rule.kind, not bad, worst, f"{rule.measure}({rule.interest}) = {shown}, normal "
                          f"{_fmt_range(*rule.range, 4)}", bad)
    if isinstance(rule, RatioRule):
        a = _members(comps, names, rule.numerator)
        b = _members(comps, names, rule.denominator)
        num = sum(measure(comps[i], rule.measure) for i in a)
        den = sum(measure(comps[i], rule.measure) for i in b)
        if not a or not b:  # a missing side is the count rules' business
            return RuleResult(index, rule.kind, True, 0.0, f"{rule.measure} ratio {rule.numerator}/{rule.denominator}: "
                              "one side absent")
        v = num / den
        ex = _outside(v, *rule.range, relative=True)
        return RuleResult(index, rule.kind, ex == 0, ex, f"{rule.measure}({rule.numerator}) / {rule.measure}"
                          f"({rule.denominator}) = {v:.3g}, normal {_fmt_range(*rule.range)}", a + b if ex else [])
    if isinstance(rule, PairingRule):
        a = _members(comps, names, rule.if_present)
        b = _members(comps, names, rule.then)
        if rule.property == "present":
            ok = not a or bool(b)
            text = f"{rule.if_present} present but {rule.then} {'present' if b else 'absent'}"
            return RuleResult(index, rule.kind, ok, 0.0 if ok else 1.0, text, [] if ok else a)
        bad = [i for i in a if not any(_inside(comps[i], comps[j]) for j in b)]
        return RuleResult(index, rule.kind, not bad, float(len(bad)),
                          f"{len(bad)} {rule.if_present} not inside a {rule.then}, normal 0", bad)
    if isinstance(rule, OrderRule):
        key = (lambda c: c.cx) if rule.axis == "x" else (lambda c: c.cy)
        groups = [_members(comps, names, name) for name in rule.sequence]
        inversions, bad = 0, []
        for g1, g2 in zip(groups, groups[1:]):
            for i in g1:
                for j in g2:
                    if key(comps[i]) >= key(comps[j]):
                        inversions += 1
                        bad += [i, j]
        word = "left-to-right" if rule.axis == "x" else "top-to-bottom"
        text = f"{word} order {' < '.join(rule.sequence)}: {inversions} inversions, normal 0"
        return RuleResult(index, rule.kind, inversions == 0, float(inversions), text, sorted(set(bad)))
    if isinstance(rule, RegionRule):
        x0, y0, x1, y1 = rule.box
        idx = _members(comps, names, rule.interest)
        bad, worst = [], 0.0
        for i in idx:
            c = comps[i]
            d = max(x0 - c.cx, c.cx - x1, y0 - c.cy, c.cy - y1, 0.0)
            if d > 0:
                bad.append(i)
                worst = max(worst, d / 0.05)
        return RuleResult(index, rule.kind, not bad, worst, f"{len(bad)} {rule.interest} outside region "
                          f"[{x0:g}, {y0:g}, {x1:g}, {y1:g}], normal 0", bad)
    if isinstance(rule, LabelRule):
        return _check_label(index, rule, comps, names, words or [])
    raise TypeError(f"unknown rule {rule!r}")


def _check_label(index: int, rule: LabelRule, comps: list[Component], names: list[str],
                 words: list[str]) -> RuleResult:
    """Each component of the interest must be nearest in colour to the pair of the print its label reads.

    Abstains (holds) when no label, or labels of different words, were read: an unread label
    under blur or a cable is not evidence of a wrong pairing.
    """
    known = {p.print: p for p in rule.pairs}
    read = sorted({w for w in words if w in known})
    idx = _members(comps, names, rule.interest)
    if len(read) != 1 or not idx:
        why = "no label read" if not read else f"labels read {', '.join(read)}" if len(read) > 1 else \
            f"no {rule.interest}"
        return RuleResult(index, rule.kind, True, 0.0, f"label of {rule.interest}: {why}")
    want = known[read[0]]
    bad, seen = [], want.colour
    for i in idx:
        nearest = min(rule.pairs, key=lambda p: lab_distance(comps[i].colour, p.colour_lab))
        if nearest.print != want.print:
            bad.append(i)
            seen = nearest.colour
    text = (f"colour({rule.interest}) = {seen}, label reads {want.print}, normal {want.colour}" if bad else
            f"colour({rule.interest}) = {want.colour} as label {want.print} says")
    return RuleResult(index, rule.kind, not bad, float(bool(bad)), text, bad)


def _inside(c: Component, holder: Component) -> bool:
    h, w = holder.mask.shape
    y, x = min(h - 1, int(c.cy * h)), min(w - 1, int(c.cx * w))
    return bool(holder.mask[y, x])


def check_all(rules: RuleFile, comps: list[Component], prints: list[np.ndarray] | None = None) -> list[RuleResult]:
    """Every rule on one image: its components and the templates of the prints on its labels (`prints.find_prints`)."""
    from methods.logsad.prints import read

    names = rules.interest_names()
    words = read(prints or [], rules.prints)
    return [check_rule(i, r, comps, names, words) for i, r in enumerate(rules.rules)]


def histogram(comps: list[Component], n_interests: int) -> np.ndarray:
    """(n_interests + 1,) counts per interest, the last bin for unknown components."""
    h = np.zeros(n_interests + 1, np.float32)
    for c in comps:
        h[c.interest if c.interest >= 0 else n_interests] += 1
    return h


def histogram_distance(h: np.ndarray, normals: np.ndarray) -> float:
    """L1 distance to the nearest normal histogram: 0 when some normal has exactly this composition."""
    if len(normals) == 0:
        return float(h.sum())
    return float(np.abs(normals - h[None]).sum(1).min())

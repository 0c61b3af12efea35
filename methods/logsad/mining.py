"""Interests and rules mined from normal images: what GPT-4V proposes in the paper, from statistics here.

Components of all normals are clustered into interests (colour, size, shape); every rule
kind is then proposed where the normals agree on it, with the range they show, so a
person reviewing the file sees only rules that held on the normals.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from methods.logsad.rules import (
    UNKNOWN, CountRule, Interest, LabelPair, LabelRule, OrderRule, PairingRule, Print, RatioRule, RegionRule, RuleFile,
    SizeRule,
)
from methods.logsad.segmentation import Component


@dataclass
class MiningConfig:
    cluster_distance: float = 14.0  # descriptor distance (about ΔE units) that splits two interests
    min_support: float = 0.15  # an interest must appear in this share of normal images
    agreement: float = 0.97  # a relation must hold on this share of the normals that show it
    range_quantile: float = 0.03  # ranges drop this share of normals at each end (none when few)
    max_ratio_rules: int = 6
    max_pairing_rules: int = 6
    # Below this many normals positions cannot be estimated (a few random layouts look ordered):
    # no region or order rules, interest radii ×1.5 and size/ratio ranges widened by 30 % instead of 10 %.
    few_shot_below: int = 10


# --- interests -------------------------------------------------------------------------------


def prototype_vector(interest: Interest) -> np.ndarray:
    c = Component(mask=np.zeros((1, 1), bool), colour=np.asarray(interest.colour_lab, np.float32), area=interest.area,
                  length=interest.elongation, width=1.0, solidity=interest.solidity, extent=interest.extent,
                  holes=0, cx=0.0, cy=0.0)
    return c.descriptor()


def descriptor_distances(interests: list[Interest], desc: np.ndarray) -> np.ndarray:
    """(n, D) component descriptors → (n, k) distances to each interest; colour counts only where it defines one."""
    protos = np.stack([prototype_vector(i) for i in interests])  # (k, D)
    diff = desc[:, None, :] - protos[None]
    free = np.array([i.any_colour for i in interests])
    diff[:, free, :3] = 0.0
    return np.linalg.norm(diff, axis=2)


def assign(components: list[Component], interests: list[Interest]) -> None:
    """Label each component with its nearest interest, or -1 (unknown) beyond that interest's radius."""
    if not interests:
        for c in components:
            c.interest, c.match_distance = -1, math.inf
        return
    if not components:
        return
    radii = np.array([i.radius for i in interests])
    dists = descriptor_distances(interests, np.stack([c.descriptor() for c in components]))
    for c, d in zip(components, dists):
        k = int(d.argmin())
        c.interest, c.match_distance = (k if d[k] <= radii[k] else -1), float(d[k])


def cluster_interests(per_image: list[list[Component]], cfg: MiningConfig) -> list[Interest]:
    comps = [c for comps in per_image for c in comps]
    if not comps:
        return []
    desc = np.stack([c.descriptor() for c in comps])
    owner = np.concatenate([[i] * len(cs) for i, cs in enumerate(per_image)]).astype(int)
    if len(comps) == 1:
        labels = np.zeros(1, int)
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        labels = fcluster(linkage(desc, method="average"), t=cfg.cluster_distance, criterion="distance") - 1
    labels, colourless = merge_colour_variants(comps, labels, owner, n_images=len(per_image))
    interests: list[tuple[float, Interest]] = []
    used: Counter[str] = Counter()
    n_images = len(per_image)
    for k in np.unique(labels):
        members = np.nonzero(labels == k)[0]
        support = len(set(owner[members])) / n_images
        if support < cfg.min_support and n_images > 2:
            continue
        group = [comps[i] for i in members]
        colour = np.mean([c.colour for c in group], axis=0)
        area = float(np.median([c.area for c in group]))
        elong = float(np.median([c.length / max(c.width, 1e-3) for c in group]))
        extent = float(np.median([c.extent for c in group]))
        solidity = float(np.median([c.solidity for c in group]))
        draft = Interest(name="x", colour_lab=tuple(round(float(v), 2) for v in colour), area=round(area, 5),
                         elongation=round(max(elong, 1.0), 3), extent=round(min(extent, 1.0), 3),
                         solidity=round(min(solidity, 1.0), 3), radius=1.0, any_colour=bool(k in colourless))
        spread = descriptor_distances([draft], desc[members])[:, 0]
        radius = max(8.0, 1.5 * float(np.percentile(spread, 95)))
        if n_images < cfg.few_shot_below:
            radius *= 1.5
        base = name_for(draft)
        used[base] += 1
        name = base if used[base] == 1 else f"{base} {used[base]}"
        article = "an" if base[0] in "aeiou" else "a"
        interests.append((-area, draft.model_copy(update={"name": name, "radius": round(radius, 2),
                                                          "description": f"{article} {base}"})))
    interests.sort(key=lambda t: t[0])
    return [i for _, i in interests]


def _shape_vector(c: Component) -> list[float]:
    """Size and shape scaled so that 1 is a small difference (blocks of one kind differ by less)."""
    return [math.log(max(c.area, 1e-5)) / 0.4, math.log(max(c.length / max(c.width, 1e-3), 1.0)) / 0.15,
            c.extent / 0.04, c.solidity / 0.05]


def _count_mode_share(counts: np.ndarray) -> float:
    return float(np.bincount(counts).max() / len(counts))


def merge_colour_variants(comps: list[Component], labels: np.ndarray, owner: np.ndarray,
                          n_images: int, shape_distance: float = 2.5) -> tuple[np.ndarray, set[int]]:
    """Components of one shape whose colour varies at random from image to image become one interest.

    Blocks of random colours split by colour into clusters none of which every image shows,
    while the shape alone is always there in the same number: then the shape is the interest
    (matched without its colour). At least three named colours are asked for; colours that
    are always there (three oranges and two kiwis) keep their own clusters. Returns the new
    labels and the labels to match without colour.
    """
    labels = labels.copy()
    if len(comps) < 2 or n_images < 2:
        return labels, set()
    from scipy.cluster.hierarchy import fcluster, linkage

    shapes = fcluster(linkage(np.array([_shape_vector(c) for c in comps]), method="average"),
                      t=shape_distance, criterion="distance")
    colourless: set[int] = set()
    next_label = int(labels.max()) + 1

    def try_merge(idx: np.ndarray) -> None:
        nonlocal next_label
        variants = np.unique(labels[idx])
        hues = {colour_name(tuple(np.mean([comps[i].colour for i in idx[labels[idx] == k]], axis=0)))
                for k in variants}
        if len(hues) < 3:  # two colours are more often one split by shading, or a fixed pair
            return
        total = np.bincount(owner[idx], minlength=n_images)
        always = [float((np.bincount(owner[idx[labels[idx] == k]], minlength=n_images) > 0).mean()) >= 0.9
                  for k in variants]
        if (total > 0).mean() >= 0.9 and _count_mode_share(total) >= 0.7 and not any(always):
            labels[idx] = next_label
            colourless.add(next_label)
            next_label += 1

    for g in np.unique(shapes):
        try_merge(np.nonzero(shapes == g)[0])
    # Parts whose outline wanders (a wavy rope) scatter over several shape groups one by one;
    # the colour clusters' median shapes still agree, so the same test runs on those medians.
    rest = [k for k in np.unique(labels) if k not in colourless and (labels == k).sum() >= 2]
    if len(rest) >= 3:
        medians = np.array([np.median([_shape_vector(comps[i]) for i in np.nonzero(labels == k)[0]], axis=0)
                            for k in rest])
        groups = fcluster(linkage(medians, method="average"), t=shape_distance, criterion="distance")
        for g in np.unique(groups):
            members = [k for k, gg in zip(rest, groups) if gg == g]
            if len(members) >= 3:
                try_merge(np.nonzero(np.isin(labels, members))[0])
    return labels, colourless


def colour_name(lab: tuple[float, float, float]) -> str:
    L, a, b = lab
    chroma = math.hypot(a, b)
    if L < 28 and chroma < 25:
        return "black"
    if chroma < 12:
        return "white" if L > 78 else "grey"
    hue = math.degrees(math.atan2(b, a)) % 360
    if hue < 40 or hue >= 345:
        name = "red"
    elif hue < 72:
        name = "orange"
    elif hue < 105:
        name = "yellow"
    elif hue < 190:
        name = "green"
    elif hue < 300:
        name = "blue"
    else:
        name = "purple"
    if name in ("orange", "red", "yellow") and L < 50 and chroma < 45:
        return "brown"
    return name


def shape_name(elongation: float, extent: float, solidity: float) -> str:
    if elongation >= 3.0:
        return "stick"
    if elongation >= 1.8:
        return "bar"
    if solidity < 0.8:
        return "irregular part"
    if extent > 0.88:
        return "square"
    if extent > 0.7:
        return "disc" if elongation < 1.2 else "oval"
    if extent > 0.42 and solidity > 0.9:
        return "triangle"
    return "part"


def name_for(i: Interest) -> str:
    size = "large " if i.area > 0.06 else ("small " if i.area < 0.002 else "")
    colour = "any-colour" if i.any_colour else colour_name(i.colour_lab)
    return f"{size}{colour} {shape_name(i.elongation, i.extent, i.solidity)}"


# --- rules -----------------------------------------------------------------------------------


def measure(c: Component, kind: str) -> float:
    return c.length if kind == "length" else c.area


def measure_for(interest: Interest) -> str:
    return "length" if interest.elongation >= 1.8 else "area"


def robust_range(values: list[float], q: float) -> tuple[float, float]:
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) < 10:
        return float(v[0]), float(v[-1])
    return float(np.quantile(v, q, method="lower")), float(np.quantile(v, 1 - q, method="higher"))


def _widen(lo: float, hi: float, rel: float = 0.1) -> tuple[float, float]:
    return round(lo * (1 - rel), 4), round(hi * (1 + rel), 4)


def mine_rules(per_image: list[list[Component]], interests: list[Interest], cfg: MiningConfig,
               category: str = "") -> RuleFile:
    """Propose every rule kind the normals support. Components must already be `assign`ed."""
    names = [i.name for i in interests]
    n = len(per_image)
    k = len(interests)
    counts = np.array([[sum(c.interest == j for c in comps) for j in range(k)] for comps in per_image]).reshape(n, k)
    unknown = [sum(c.interest < 0 for c in comps) for comps in per_image]
    present = counts > 0
    few = n < cfg.few_shot_below
    rel = 0.3 if few else 0.1
    rules: list = []

    # counts, the unknown pseudo-interest included
    for j, name in enumerate(names):
        lo, hi = robust_range(counts[:, j].tolist(), cfg.range_quantile)
        rules.append(CountRule(interest=name, range=(int(lo), int(hi))))
    lo, hi = robust_range(unknown, cfg.range_quantile)
    rules.append(CountRule(interest=UNKNOWN, range=(int(lo), int(hi)),
                           note="components that match no interest (a foreign object)"))

    # sizes: each component keeps its length (elongated interests) or area
    for j, interest in enumerate(interests):
        m = measure_for(interest)
        vals = [measure(c, m) for comps in per_image for c in comps if c.interest == j]
        if len(vals) >= 2:
            rules.append(SizeRule(interest=interest.name, measure=m,
                                  range=_widen(*robust_range(vals, cfg.range_quantile), rel)))

    # ratios between interests present in (nearly) every normal, the steadiest first
    steady = [j for j in range(k) if present[:, j].mean() >= 0.9]
    ratios = []
    for a in steady:
        for b in steady:
            if a >= b:
                continue
            m = "length" if "length" in (measure_for(interests[a]), measure_for(interests[b])) else "area"
            vals = []
            for comps in per_image:
                num = sum(measure(c, m) for c in comps if c.interest == a)
                den = sum(measure(c, m) for c in comps if c.interest == b)
                if num > 0 and den > 0:
                    vals.append(num / den)
            if len(vals) >= max(2, 0.8 * n):
                cv = float(np.std(vals) / max(np.mean(vals), 1e-9))
                if cv < 0.35:
                    ratios.append((cv, RatioRule(numerator=names[a], denominator=names[b], measure=m,
                                                 range=_widen(*robust_range(vals, cfg.range_quantile), rel))))
    rules.extend(r for _, r in sorted(ratios, key=lambda t: t[0])[: cfg.max_ratio_rules])

    # pairing: co-occurrence of interests that come and go, and containment
    pairings = []
    for a in range(k):
        for b in range(k):
            if a == b:
                continue
            with_a = present[:, a]
            if 0.1 <= with_a.mean() <= 0.9 and 0.1 <= present[:, b].mean() <= 0.9 and with_a.sum() >= 2:
                if present[with_a, b].mean() >= cfg.agreement:
                    pairings.append(PairingRule(if_present=names[a], then=names[b], property="present"))
            if interests[b].area > 2 * interests[a].area and (present[:, a] & present[:, b]).mean() >= 0.5:
                # judged on every image that shows the first, as the check is: a holder that is
                # missing (or was taken for another interest) breaks it
                holds = [all(any(_inside(c, h) for h in comps if h.interest == b) for c in comps if c.interest == a)
                         for comps, p in zip(per_image, present[:, a]) if p]
                if holds and np.mean(holds) >= cfg.agreement:
                    pairings.append(PairingRule(if_present=names[a], then=names[b], property="inside"))
    rules.extend(pairings[: cfg.max_pairing_rules])

    # order along x and y of interests present in nearly every normal
    always = [] if few else [j for j in range(k) if present[:, j].mean() >= 0.95]
    for axis in ("x", "y"):
        coord = (lambda c: c.cx) if axis == "x" else (lambda c: c.cy)
        means = {j: np.mean([coord(c) for comps in per_image for c in comps if c.interest == j]) for j in always}
        seq = sorted(always, key=lambda j: means[j])
        chains: list[list[int]] = [[seq[0]]] if seq else []
        for prev, nxt in zip(seq, seq[1:]):
            ok = [max(coord(c) for c in comps if c.interest == prev) < min(coord(c) for c in comps if c.interest == nxt)
                  for comps, p in zip(per_image, present[:, prev] & present[:, nxt]) if p]
            if ok and np.mean(ok) >= cfg.agreement:
                chains[-1].append(nxt)
            else:
                chains.append([nxt])
        for chain in chains:
            if len(chain) >= 2:
                rules.append(OrderRule(axis=axis, sequence=[names[j] for j in chain]))

    # regions: where an interest's centres fall, when that is a small part of the image
    for j, name in enumerate(names):
        xs = [c.cx for comps in per_image for c in comps if c.interest == j]
        ys = [c.cy for comps in per_image for c in comps if c.interest == j]
        if few or len(xs) < 2 or present[:, j].mean() < 0.5:
            continue
        x0, x1 = robust_range(xs, cfg.range_quantile)
        y0, y1 = robust_range(ys, cfg.range_quantile)
        box = (max(0.0, x0 - 0.04), max(0.0, y0 - 0.04), min(1.0, x1 + 0.04), min(1.0, y1 + 0.04))
        if (box[2] - box[0]) * (box[3] - box[1]) < 0.35:
            rules.append(RegionRule(interest=name, box=tuple(round(v, 3) for v in box)))
    return RuleFile(category=category, interests=interests, rules=rules)


def _inside(c: Component, holder: Component) -> bool:
    h, w = holder.mask.shape
    y, x = min(h - 1, int(c.cy * h)), min(w - 1, int(c.cx * w))
    return bool(holder.mask[y, x])


def mine_labels(per_image: list[list[Component]], interests: list[Interest], prints: list[list[np.ndarray]],
                cfg: MiningConfig, min_colour_gap: float = 10.0) -> tuple[list[Print], list[LabelRule]]:
    """Label rules: an interest whose colour the word on the image's label decides (rope and card).

    The words are the clusters of the normals' prints. An interest shown once per image qualifies
    when its colours differ from word to word and, on `cfg.agreement` of the normals with one word
    read, its colour is nearest to its own word's mean colour. Each word then needs two normals.
    """
    from methods.logsad.composition import lab_distance
    from methods.logsad.prints import read, to_glyph, word_templates

    n = len(per_image)
    if n < cfg.few_shot_below or not any(prints):
        return [], []
    words = [Print(name=f"print {k + 1}", glyph=to_glyph(t)) for k, t in enumerate(word_templates(prints))]
    reads = [sorted(set(read(ts, words))) for ts in prints]
    rules, used = [], set()
    for j, interest in enumerate(interests):
        once = [[i for i, c in enumerate(comps) if c.interest == j] for comps in per_image]
        if np.mean([len(o) == 1 for o in once]) < 0.9:
            continue
        samples = [(r[0], per_image[k][o[0]].colour) for k, (r, o) in enumerate(zip(reads, once))
                   if len(r) == 1 and len(o) == 1]
        by_word: dict[str, list[np.ndarray]] = {}
        for w, colour in samples:
            by_word.setdefault(w, []).append(colour)
        by_word = {w: cs for w, cs in by_word.items() if len(cs) >= 2}
        if len(by_word) < 2:
            continue
        means = {w: np.mean(cs, axis=0) for w, cs in by_word.items()}
        gaps = [lab_distance(means[a], means[b]) for a in means for b in means if a < b]
        if min(gaps) < min_colour_gap:
            continue
        kept = [(w, c) for w, c in samples if w in means]
        agree = np.mean([min(means, key=lambda v: lab_distance(c, means[v])) == w for w, c in kept])
        if agree < cfg.agreement:
            continue
        pairs = [LabelPair(print=w, colour=colour_name(tuple(means[w])),
                           colour_lab=tuple(round(float(v), 2) for v in means[w])) for w in sorted(means)]
        rules.append(LabelRule(interest=interest.name, pairs=pairs))
        used.update(means)
    return [p for p in words if p.name in used], rules


def mine(per_image: list[list[Component]], cfg: MiningConfig | None = None, category: str = "",
         prints: list[list[np.ndarray]] | None = None) -> RuleFile:
    """Cluster interests, assign every component and propose rules: the whole miner.

    `prints`: per image, the templates of the prints on its labels (`prints.find_prints`), for label rules.
    """
    cfg = cfg or MiningConfig()
    interests = cluster_interests(per_image, cfg)
    for comps in per_image:
        assign(comps, interests)
    rf = mine_rules(per_image, interests, cfg, category)
    if prints is None:
        return rf
    words, label_rules = mine_labels(per_image, interests, prints, cfg)
    if not label_rules:
        return rf
    return RuleFile(category=rf.category, interests=rf.interests, prints=words, rules=list(rf.rules) + label_rules)

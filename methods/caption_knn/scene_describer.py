"""The embedded captioner: segment the scene, measure each object, write a structured caption.

Every object is named by colour, shape (a cluster of contour descriptors learned from the
normal images, named by its geometry), relative length and region; regions are the
position clusters of the normals' objects along x and y (bins, compartments, slots), and
positions outside every cluster read "outside". The caption is a set of views (count,
regions, lengths, left-to-right order, labels); `fit` keeps the views that are stable
across the normals, so that a scene whose arrangement is random is not described by it.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import cv2
import numpy as np

from methods.caption_knn.colour_names import name_colour, to_lab, white_balance
from methods.caption_knn.segmentation import Segment, SegmentationConfig, colour_sample, segment

NO_OBJECTS = "no objects found."
VIEWS = ("count", "regions", "lengths", "order", "labels")
ELONGATED = 2.2  # long side / short side above which an object has a length
SHAPE_FEATURES = ("log_elongation", "solidity", "circularity", "holes", "log_size", "corners")
SHAPE_UNITS = (0.15, 0.04, 0.06, 0.5, 0.5, 0.12)  # a difference of one unit in a feature is a small change of form
TRIM_FRACS = (0.012, 0.018, 0.026)  # opening radii (fraction of the image side) that cut cables off objects


@dataclass
class ObjectInfo:
    colour: str
    shape: str
    x: float  # centroid, fraction of the width
    y: float
    length: float  # long side, fraction of the image side
    elongation: float
    features: list[float]
    mask: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]
    text: str = ""  # the print a label carries, named by the normals' prints ("1", "2" ...); "" when none
    print_template: np.ndarray | None = field(repr=False, default=None)  # see `print_template`
    region: str = ""
    rel_length: str = ""
    shades: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]  # a few pixels' Lab

    @property
    def noun(self) -> str:
        return f"{self.colour} {self.shape}" if self.colour else self.shape


def _core_colour(rgb: np.ndarray, mask: np.ndarray) -> str:
    """Colour word of the object's core (far from its outline, where blur has not mixed in the table)."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    core = dist >= 0.5 * dist.max()
    # Mean in linear light, where sensor noise averages out; a median of noisy Lab drifts in low light.
    lin = np.where(rgb[core] <= 0.04045, rgb[core] / 12.92, ((rgb[core] + 0.055) / 1.055) ** 2.4).mean(0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return name_colour(to_lab(srgb.astype(np.float32)))


PRINT_SIZE = (40, 10)  # a print resampled along and across its line of text
PRINT_SAME = 0.5  # cosine similarity above which two prints are the same word (dev Ropes: same word 0.83, others 0.22)


def print_template(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The dark print on a label, deskewed and resampled to `PRINT_SIZE`: zero mean, unit norm; None if none.

    Two cases: a paper card with its word inside (the ink is what is 25 L darker than the card),
    or, where the card is as light as the table and only its print was segmented, the print
    itself: a dark block with light gaps between and inside its letters, on a light surround.
    Words differ in letters and in their aspect, so the template tells RED from YELLOW where
    the ink's width alone does not.
    """
    light = to_lab(rgb)[..., 0].astype(np.float32)
    m8 = mask.astype(np.uint8)
    ring = (cv2.dilate(m8, np.ones((9, 9), np.uint8)) > 0) & ~mask
    if not ring.any() or mask.sum() < 30:
        return None
    surround = float(np.percentile(light[ring], 75))
    if float(np.median(light[mask])) >= surround - 10:  # a card as light as the table or lighter
        zone = cv2.erode(m8, np.ones((5, 5), np.uint8)) > 0
        if zone.sum() < 50:
            return None
        paper = float(np.median(light[zone]))
        ink = zone & (light < paper - 25)
        if not 0.03 <= ink.sum() / zone.sum() <= 0.45:
            return None
    else:
        paper = surround
        ink = mask & (light < paper - 25)
        # Print is mostly ink with light gaps between and inside its letters; a solid dark part has none.
        if not 0.35 <= ink.sum() / mask.sum() <= 0.8:
            return None
        zone = cv2.dilate(m8, np.ones((3, 3), np.uint8)) > 0
    ys, xs = np.nonzero(ink)
    pts = np.stack([xs, ys], 1).astype(np.float64)
    centre = pts.mean(0)
    axis = np.linalg.eigh(np.cov((pts - centre).T))[1][:, -1]
    angle = float(np.degrees(np.arctan2(axis[1], axis[0])))
    angle = (angle + 90.0) % 180.0 - 90.0  # a line of text, never upside down: the long axis within ±90°
    rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    size = (rgb.shape[1], rgb.shape[0])
    dark = np.clip((paper - light) / 40.0, 0.0, 1.0) * zone
    dark = cv2.warpAffine(dark.astype(np.float32), rot, size, flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(cv2.warpAffine(ink.astype(np.uint8), rot, size, flags=cv2.INTER_NEAREST))
    if len(xs) < 20 or np.ptp(xs) < 1.5 * max(np.ptp(ys), 1):  # not a line of text
        return None
    t = cv2.resize(dark[ys.min():ys.max() + 1, xs.min():xs.max() + 1], PRINT_SIZE, interpolation=cv2.INTER_AREA)
    t = t.ravel() - t.mean()
    norm = float(np.linalg.norm(t))
    return t / norm if norm > 1e-6 else None


def print_clusters(templates: list[np.ndarray]) -> list[np.ndarray]:
    """The words the normals' prints spell: average-linkage clusters (cosine ≥ `PRINT_SAME`), strays left out."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if not templates:
        return []
    if len(templates) == 1:
        return [templates[0]]
    arr = np.stack(templates)
    labels = fcluster(linkage(arr, "average", metric="cosine"), 1.0 - PRINT_SAME, "distance")
    keep = [k for k, n in Counter(labels).items() if n >= max(2, 0.05 * len(arr))] or list(set(labels))
    centres = []
    for k in keep:
        c = arr[labels == k].mean(0)
        centres.append(c / max(float(np.linalg.norm(c)), 1e-6))
    # Named in a fixed order (the print's dark mass along the line), not in the clustering's order.
    return sorted(centres, key=lambda c: tuple(np.round(c.reshape(PRINT_SIZE[::-1]).sum(0)[:8], 3)))


def measure(rgb: np.ndarray, seg: Segment) -> ObjectInfo | None:
    mask = seg.mask.astype(np.uint8)
    h, w = mask.shape
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    outer = max(range(len(contours)), key=lambda i: cv2.contourArea(contours[i]))
    cnt = contours[outer]
    area = float(mask.sum())
    (cx, cy), (rw, rh), _ = cv2.minAreaRect(cnt)
    long_side, short_side = max(rw, rh, 1.0), max(min(rw, rh), 1.0)
    hull = cv2.convexHull(cnt)
    solidity = area / max(cv2.contourArea(hull), 1.0)
    perimeter = cv2.arcLength(cnt, True)
    circularity = 4 * np.pi * area / max(perimeter * perimeter, 1.0)
    holes = sum(1 for i, c in enumerate(contours) if hierarchy[0][i][3] == outer and cv2.contourArea(c) > 0.03 * area)
    # Corners tell a triangle from a square, even blurred; on a bar they count pixel steps of its ends.
    compact = long_side < ELONGATED * short_side
    corners = len(cv2.approxPolyDP(hull, 0.06 * cv2.arcLength(hull, True), True)) if compact else 4
    side = float(min(h, w))
    elongation = long_side / short_side
    m = cv2.moments(mask, binaryImage=True)
    feats = [float(np.log(elongation)), float(solidity), float(circularity), float(min(holes, 2)),
             float(np.log(np.sqrt(area) / side)), float(min(corners, 8)) / 8.0]
    colour = _core_colour(rgb, seg.mask)
    # A label is a paper card (not the dimples of a peel nor the shading of a ball), or its dark print alone.
    printed = colour in ("white", "grey", "black") and area >= 0.7 * rw * rh and solidity > 0.85
    template = print_template(rgb, seg.mask) if printed and 1.5 <= elongation <= 10 else None
    return ObjectInfo(colour, "", m["m10"] / max(m["m00"], 1) / w, m["m01"] / max(m["m00"], 1) / h,
                      long_side / side, elongation, feats, mask=seg.mask, print_template=template)


def geometry_word(f: np.ndarray) -> str:
    """A shape word for a descriptor vector (the centre of a learned shape cluster)."""
    log_e, solidity, circularity, holes, _, corners = f
    e = float(np.exp(log_e))
    if holes >= 0.5:
        return "ring" if corners * 8 >= 6.5 else "holed-polygon"
    if e >= ELONGATED:
        return "bar" if solidity > 0.8 else "strand"
    if e >= 1.35:
        return "oval" if circularity > 0.7 else "oblong"
    if circularity > 0.84:
        return "round"
    if solidity < 0.8:
        return "star"
    return {3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon"}.get(int(round(corners * 8)), "polygon")


def relative_length(ratio: float) -> str:
    """As long (1.0), about half (0.6) or much shorter (0.3): tenths would split normals at every rounding edge."""
    return "1.0" if ratio >= 0.8 else "0.6" if ratio >= 0.45 else "0.3"


@dataclass
class ShapeModel:
    """k-means clusters of the normals' shape descriptors, each named by its geometry."""

    mean: list[float]
    std: list[float]
    centres: list[list[float]]
    names: list[str]
    radius: list[float]  # 95th-percentile distance of members, for "unfamiliar"

    @classmethod
    def fit(cls, feats: np.ndarray, seed: int = 0) -> "ShapeModel":
        # Fixed units, not the spread of the normals: a few missegmented pieces would inflate a
        # spread and merge circles, triangles and squares. Size counts least (long and short sticks share a shape).
        mean, std = np.median(feats, 0), np.array(SHAPE_UNITS)
        z = ((feats - mean) / std).astype(np.float32)
        best = None
        for k in range(1, min(8, len(z)) + 1):
            cv2.setRNGSeed(seed)
            crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-3)
            _, labels, centres = cv2.kmeans(z, k, None, crit, 3, cv2.KMEANS_PP_CENTERS)
            common = centres[np.bincount(labels.ravel(), minlength=k) >= 0.08 * len(z)]
            gaps = np.linalg.norm(common[:, None] - common[None], axis=-1)[np.triu_indices(len(common), 1)]
            if k == 1 or gaps.size == 0 or gaps.min() >= 2.0:  # common forms all distinct: a split is not noise
                best = (labels.ravel(), centres)
        labels, centres = best
        # A rare cluster next to a common one is the common form cut by noise: fold it back.
        big = np.bincount(labels, minlength=len(centres)) >= 0.08 * len(z)
        near = np.linalg.norm(centres[:, None] - centres[big][None], axis=-1).min(1) < 2.0 if big.any() else ~big
        centres = centres[big | ~near]
        labels = np.linalg.norm(z[:, None] - centres[None], axis=-1).argmin(1)
        raw = centres * std + mean
        words = [geometry_word(c) for c in raw]
        counts = Counter(words)
        order = np.argsort(raw[:, 4])  # by size, to tell same-word clusters apart
        names, seen = [""] * len(words), Counter()
        for i in order:
            if counts[words[i]] > 1:
                seen[words[i]] += 1
                names[i] = f"{('small', 'large', 'larger', 'largest')[min(seen[words[i]] - 1, 3)]}-{words[i]}"
            else:
                names[i] = words[i]
        radius = []
        for i in range(len(centres)):
            d = np.linalg.norm(z[labels == i] - centres[i], axis=1)
            radius.append(float(max(np.percentile(d, 95) * 2.0, 3.0)) if len(d) else 3.0)  # blur and noise move forms
        return cls(mean.tolist(), std.tolist(), centres.tolist(), names, radius)

    def name(self, f: list[float]) -> str:
        z = (np.asarray(f) - np.asarray(self.mean)) / np.asarray(self.std)
        d = np.linalg.norm(np.asarray(self.centres) - z, axis=1)
        i = int(np.argmin(d))
        if d[i] > self.radius[i]:
            return "unfamiliar-" + geometry_word(np.asarray(f))
        return self.names[i]


def axis_clusters(values: np.ndarray, gap: float = 0.04, min_share: float = 0.1) -> list[tuple[float, float]]:
    """Ranges of 1-D position clusters separated by empty gaps; one range means no layout on this axis."""
    v = np.sort(values)
    if len(v) == 0:
        return []
    groups, start = [], 0
    for i in range(1, len(v)):
        if v[i] - v[i - 1] > gap:
            groups.append(v[start:i])
            start = i
    groups.append(v[start:])
    big = [g for g in groups if len(g) >= min_share * len(v)]
    if sum(len(g) for g in big) < 0.9 * len(v):  # many strays: no clean layout
        return [(float(v[0]), float(v[-1]))]
    return [(float(g[0]), float(g[-1])) for g in big]  # a few strays (missegmented pieces) read "outside"


X_NAMES = {1: [""], 2: ["left", "right"], 3: ["left", "middle", "right"], 4: ["far-left", "left", "right", "far-right"]}
Y_NAMES = {1: [""], 2: ["top", "bottom"], 3: ["top", "middle", "bottom"], 4: ["top", "upper", "lower", "bottom"]}


@dataclass
class Layout:
    xs: list[tuple[float, float]]
    ys: list[tuple[float, float]]
    margin: float = 0.03

    def region(self, x: float, y: float) -> str:
        def name(v: float, ranges: list[tuple[float, float]], names: dict[int, list[str]]) -> str | None:
            if len(ranges) <= 1 or len(ranges) > 4:
                return ""
            for (lo, hi), n in zip(ranges, names[len(ranges)]):
                if lo - self.margin <= v <= hi + self.margin:
                    return n
            return None

        nx, ny = name(x, self.xs, X_NAMES), name(y, self.ys, Y_NAMES)
        if nx is None or ny is None:
            return "outside"
        return "-".join(p for p in (ny, nx) if p) or "table"


@dataclass
class DescriberState:
    shapes: dict[str, Any]
    layout: dict[str, Any]
    views: list[str]
    colourless: list[str]
    object_colours: list[list[float]] = field(default_factory=list)
    prints: list[list[float]] = field(default_factory=list)


def stability_key(view: str) -> Callable[[str], Any]:
    """What must repeat across the normals for `fit` to keep a view.

    Lengths by themselves: a rope of one of four colours as long as the stick reads `1.0, 1.0`
    whatever its colour, so its lengths are kept although the named lines take many values.
    Labels by how many there are: which word each one carries is what the view reports.
    Regions and order: the whole text.
    """
    if view == "lengths":
        return lambda text: tuple(sorted(re.findall(r"\d+(?:\.\d+)?", text)))
    if view == "labels":
        return lambda text: text.count(" text ")
    return lambda text: text


class SceneDescriber:
    """`fit(normal_images)` learns shapes, layout and stable views; `describe(image, prompt)` writes the caption."""

    def __init__(self, seg_config: SegmentationConfig | None = None, seed: int = 0):
        self.seg_config = seg_config or SegmentationConfig()
        self.seed = seed
        self.shapes: ShapeModel | None = None
        self.layout = Layout([], [])
        self.views: list[str] = list(VIEWS)
        self.colourless: list[str] = []
        self.object_colours: np.ndarray | None = None  # (n, 3) Lab of pixels of the normals' objects, set by fit
        self.prints: list[np.ndarray] = []  # the words printed on the normals' labels (`print_clusters`), set by fit

    # --- learning from normals -------------------------------------------------------------
    def objects(self, image: np.ndarray, trim: bool = False) -> list[ObjectInfo]:
        """The measured objects; with `trim` (after fit), unfamiliar ones lose thin attachments (see `_trim`)."""
        rgb = white_balance(image)
        out = []
        for s in segment(rgb, self.seg_config, self.object_colours):
            if s.fixture:
                continue
            info = measure(rgb, s)
            if info is None:
                continue
            info.shades = s.shades
            if trim and self.shapes is not None:
                info = self._trim(rgb, s, info)
            if info is not None:
                out.append(info)
        return out

    def _trim(self, rgb: np.ndarray, seg: Segment, info: ObjectInfo) -> ObjectInfo | None:
        """A familiar object with a cable stuck to it, or a piece of cable: cut thin parts off an unfamiliar one.

        Cables run under objects and touch them, so an object and the cable merge into one
        unfamiliar form; an opening wider than a cable (up to `TRIM_FRACS` of the image side)
        cuts the cable off, and the largest piece left is kept when it has a familiar form. An
        unfamiliar piece outside the layout of which the widest opening leaves less than half
        is mostly thin: a cable (or cables crossing), not an object.
        """
        if not self.shapes.name(info.features).startswith("unfamiliar-"):
            return info
        side = min(seg.mask.shape)
        left = 0.0  # the share of the object the widest opening leaves
        for frac in TRIM_FRACS:
            r = max(1, round(frac * side))
            disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
            opened = cv2.morphologyEx(seg.mask.astype(np.uint8), cv2.MORPH_OPEN, disk)
            n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
            if n <= 1:
                left = 0.0
                break
            biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            left = stats[biggest, cv2.CC_STAT_AREA] / max(seg.mask.sum(), 1)
            if stats[biggest, cv2.CC_STAT_AREA] < self.seg_config.min_area_frac * seg.mask.size:
                break
            piece = measure(rgb, Segment(labels == biggest, holder=seg.holder, lab=seg.lab))
            if piece is not None and not self.shapes.name(piece.features).startswith("unfamiliar-"):
                return piece
        if left < 0.5 and self.layout.region(info.x, info.y) == "outside":
            return None
        return info

    def fit(self, images: list[np.ndarray], prompt_views: list[str] | None = None) -> list[str]:
        self.object_colours = None
        scenes = [self.objects(img) for img in images]
        self.object_colours = colour_sample([o.shades for s in scenes for o in s])
        # Described again with the colours, as test images will be: cable colours come out of the normals too.
        scenes = [self.objects(img) for img in images]
        # Labels are read where the normals carry them: prints found in a few normals are pieces of other things.
        printed = [[o.print_template for o in s if o.print_template is not None] for s in scenes]
        self.prints = (print_clusters([t for ts in printed for t in ts])
                       if sum(map(bool, printed)) >= 0.5 * len(scenes) else [])
        feats = np.array([o.features for s in scenes for o in s], dtype=np.float64)
        if len(feats) == 0:
            self.shapes = None
        else:
            self.shapes = ShapeModel.fit(feats, self.seed)
        xs = np.array([o.x for s in scenes for o in s])
        ys = np.array([o.y for s in scenes for o in s])
        # A shape is named without its colour when its colours in an image take many combinations across
        # the normals (six blocks painted at random); two orange and two white balls, or a rope in one of
        # four colours that its label names, keep their colour.
        by_shape: dict[str, Counter] = {}
        for s in scenes:
            per = Counter((self.shapes.name(o.features), o.colour) for o in s)
            for shape in {k for k, _ in per}:
                mix = tuple(sorted((c, n) for (k, c), n in per.items() if k == shape))
                by_shape.setdefault(shape, Counter())[mix] += 1
        self.colourless = sorted(k for k, c in by_shape.items()
                                 if sum(n for _, n in c.most_common(4)) < 0.5 * sum(c.values()))
        self.layout = self._stable_layout(scenes, Layout(axis_clusters(xs), axis_clusters(ys)))
        if self.shapes is not None:  # normals are trimmed as test images are
            scenes = [self.objects(img, trim=True)
                      if any(self.shapes.name(o.features).startswith("unfamiliar-") for o in s) else s
                      for img, s in zip(images, scenes)]
        self.views = list(VIEWS)
        captions = {v: [self._view(v, self._annotate(s)) for s in scenes] for v in VIEWS}
        if prompt_views:
            self.views = [v for v in VIEWS if v in prompt_views]
        else:  # keep views that take at most three values in most normals (a stable arrangement)
            n = len(scenes)
            self.views = ["count"] + [v for v in VIEWS[1:]
                                      if sum(k for _, k in Counter(map(stability_key(v), captions[v])).most_common(3))
                                      >= 0.7 * n]
        return [self.caption(self._annotate(s)) for s in scenes]

    def _stable_layout(self, scenes: list[list[ObjectInfo]], full: Layout) -> Layout:
        """The layout (both axes, x alone or y alone) whose regions the normals repeat most often.

        Blocks lie in any third of their bin: the bins are rows, and the thirds they also form
        along x would make every normal caption different.
        """
        options = [full, Layout(full.xs, []), Layout([], full.ys)]
        best, best_share = full, -1.0
        for layout in options:
            self.layout = layout
            counts = Counter(self._view("regions", self._annotate(s)) for s in scenes)
            share = counts.most_common(1)[0][1] / max(len(scenes), 1)
            if share > best_share + 0.05:
                best, best_share = layout, share
        return best

    # --- writing ------------------------------------------------------------------------------
    def _annotate(self, objs: list[ObjectInfo]) -> list[ObjectInfo]:
        labels = [o.print_template is not None and bool(self.prints) for o in objs]
        longest = max([o.length for o, lab in zip(objs, labels) if o.elongation >= ELONGATED and not lab], default=0.0)
        for o, lab in zip(objs, labels):
            o.shape = self.shapes.name(o.features) if self.shapes else "object"
            if o.shape in self.colourless:
                o.colour = ""
            o.region = self.layout.region(o.x, o.y)
            o.rel_length = relative_length(o.length / longest) if o.elongation >= ELONGATED and longest else ""
            if lab:  # a card, or its print where the card went unseen: named by its word, not its outline
                o.shape, o.colour, o.rel_length = "label", "", ""
                o.text = str(1 + int(np.argmax(np.stack(self.prints) @ o.print_template)))
        return objs

    @staticmethod
    def _view(view: str, objs: list[ObjectInfo]) -> str:
        if view == "count":
            counts = Counter(o.noun for o in objs)
            return f"{len(objs)} objects: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + "."
        if view == "regions":
            by = {}
            for o in objs:
                by.setdefault(o.region, Counter())[o.noun] += 1
            return " ".join(f"{r}: " + ", ".join(f"{n} {k}" for k, n in sorted(c.items())) + "."
                            for r, c in sorted(by.items()))
        if view == "lengths":
            longs = sorted((o for o in objs if o.rel_length), key=lambda o: (-float(o.rel_length), o.noun))
            return "lengths: " + (", ".join(f"{o.noun} {o.rel_length}" for o in longs) or "none") + "."
        if view == "order":
            return "left to right: " + ", ".join(o.noun for o in sorted(objs, key=lambda o: o.x)) + "."
        if view == "labels":
            labels = sorted(o for o in (f"{o.noun} text {o.text}" for o in objs if o.text))
            return "labels: " + (", ".join(labels) or "none") + "."
        raise ValueError(f"unknown caption view {view!r}; views: {', '.join(VIEWS)}")

    def caption(self, objs: list[ObjectInfo]) -> str:
        if not objs:
            return NO_OBJECTS
        return "\n".join(self._view(v, objs) for v in self.views)

    def describe(self, image: np.ndarray, prompt: str = "") -> str:
        return self.caption(self._annotate(self.objects(image, trim=True)))

    def describe_objects(self, image: np.ndarray) -> tuple[str, list[ObjectInfo]]:
        objs = self._annotate(self.objects(image, trim=True))
        return self.caption(objs), objs

    # --- persistence ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        shapes = asdict(self.shapes) if self.shapes else {}
        colours = [] if self.object_colours is None else self.object_colours.tolist()
        return asdict(DescriberState(shapes, asdict(self.layout), self.views, self.colourless, colours,
                                     [p.tolist() for p in self.prints]))

    def set_state(self, state: dict[str, Any]) -> None:
        self.shapes = ShapeModel(**state["shapes"]) if state["shapes"] else None
        lay = state["layout"]
        self.layout = Layout([tuple(r) for r in lay["xs"]], [tuple(r) for r in lay["ys"]], lay["margin"])
        self.views = list(state["views"])
        self.colourless = list(state.get("colourless", []))
        colours = state.get("object_colours", [])
        self.object_colours = np.asarray(colours, np.float32) if colours else None
        self.prints = [np.asarray(p, np.float64) for p in state.get("prints", [])]

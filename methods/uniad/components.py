"""Component composition from a colour segmentation: which components, how many, where, how large.

The logical teacher's hand-made half. The parts come from logsad's embedded segmentation
(methods/logsad/segmentation.py): the background is the colours of the image's border band, so a
cable or a mesh behind the scene stays background, and a holder (a bin, a case, a dish) is split
from the differently coloured parts that lie in it and left out. Each part gets a type from its
mean colour (k-means on the normals' parts), or "unfamiliar colour" when it is far from every
type. Per type: area, count, centroid, spread, largest and smallest part. A missing or extra
part changes a count; a scratch barely changes anything.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from methods.logsad import segmentation as seg

# Per-cluster descriptor: area fraction, blob count, centroid x, centroid y, spread, largest blob, smallest blob.
FEATURES = ("area", "count", "cx", "cy", "spread", "max_blob", "min_blob")
N_FEATURES = len(FEATURES)


def segmenter_to_array(cfg: seg.SegmenterConfig) -> np.ndarray:
    """The learned segmenter settings as one float vector (for the safetensors state)."""
    colours = cfg.object_colours if cfg.object_colours is not None else np.zeros((0, 3), np.float32)
    head = [cfg.background_threshold, cfg.min_area, cfg.container_area, cfg.content_threshold,
            float(cfg.drop_border), float(cfg.open_radius)]
    return np.concatenate([np.asarray(head, np.float32), np.asarray(colours, np.float32).ravel()])


def segmenter_from_array(a: np.ndarray) -> seg.SegmenterConfig:
    colours = np.asarray(a[6:], np.float32).reshape(-1, 3)
    return seg.SegmenterConfig(
        background_threshold=float(a[0]), min_area=float(a[1]), container_area=float(a[2]),
        content_threshold=float(a[3]), drop_border=bool(a[4] > 0.5), open_radius=int(a[5]),
        object_colours=colours if len(colours) else None)


def fit_segmenter(images: list[np.ndarray]) -> seg.SegmenterConfig:
    """The border-band background model and the holder split, with thresholds learned on normals."""
    return seg.learn_segmenter(images)


# Shape coordinates of a part, scaled so that a circle, a triangle and a square (extent 0.79, 0.5, 1.0)
# or a bolt and a nut (elongation 3 and 1) lie as far apart as clearly different colours do.
SHAPE_SCALE = np.array([40.0, 40.0, 40.0, 20.0], np.float32)  # extent, solidity, roundness, log elongation
# Which coordinates a palette's types are told apart by: colour, colour and shape, or shape alone.
TYPE_SPACES = {"colour": (1.0, 0.0), "colour+shape": (1.0, 1.0), "shape": (0.0, 1.0)}


def shape_coordinates(mask: np.ndarray) -> np.ndarray:
    """Extent, solidity, roundness and log elongation of a part's outline, in palette units (SHAPE_SCALE).

    All come from the outline polygon, not from pixel counts: a part a dozen pixels across has
    as many pixels on its edge as inside, which pushes a triangle's pixel-count extent from 0.5
    to 0.8, where a disc's is. Extent (area over the smallest rectangle: square 1, disc 0.79,
    triangle 0.5) and roundness (area over the disc spanned by the longest chord: disc 1, square
    0.64, triangle 0.55) together keep the three apart when corners are rounded.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outer = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outer)
    area = max(cv2.contourArea(outer), 1.0)
    (_, _), (rw, rh), _ = cv2.minAreaRect(outer)
    length, width = max(rw, rh, 1.0), max(min(rw, rh), 1.0)
    extent, solidity = min(1.0, area / (length * width)), min(1.0, area / max(cv2.contourArea(hull), 1.0))
    pts = hull.reshape(-1, 2).astype(np.float32)
    chord = float(np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1).max())) if len(pts) > 1 else 1.0
    roundness = min(1.0, area / (np.pi / 4 * max(chord, 1.0) ** 2))
    return np.array([extent, solidity, roundness, np.log(length / width)], np.float32) * SHAPE_SCALE


def type_points(colours: np.ndarray, shapes: np.ndarray | None, weights: tuple[float, float]) -> np.ndarray:
    """Parts (or type centres) as points of a type space: weighted colour, then weighted shape."""
    wc, ws = weights
    if ws == 0 or shapes is None:
        return colours * wc
    return np.concatenate([colours * wc, shapes * ws], 1)


def palette_colour(lab: np.ndarray) -> np.ndarray:
    """Normalised Lab (table ≈ L 92) → the palette's colour space, where lightness counts 0.3 / 1.7.

    Colour separates part types more than shading does; `cluster_names` undoes the scale.
    """
    return np.array([lab[0] * 0.3 / 1.7, lab[1], lab[2]], np.float32)


@dataclass
class Palette:
    """Component types: centres of the normals' parts in colour and shape, and how much each counts."""

    centres: np.ndarray  # (K, 3) palette colour of a part's mean colour
    unknown_threshold: float  # distance to the nearest centre beyond which a part is an unseen type
    shapes: np.ndarray | None = None  # (K, 4) shape coordinates (SHAPE_SCALE units); None: colour only
    weights: tuple[float, float] = (1.0, 0.0)  # colour, shape (one of TYPE_SPACES)

    @property
    def n_labels(self) -> int:
        """Component types 0..K-1, then 'unfamiliar colour' (K); background is -1."""
        return len(self.centres) + 1

    @property
    def space(self) -> str:
        return next((k for k, w in TYPE_SPACES.items() if w == tuple(self.weights)), "colour")

    def to_array(self) -> np.ndarray:
        return np.concatenate([self.centres.ravel(), [self.unknown_threshold]]).astype(np.float32)

    def shape_array(self) -> np.ndarray:
        """Shape centres and weights as one vector (empty for a colour-only palette)."""
        if self.shapes is None:
            return np.zeros(0, np.float32)
        return np.concatenate([np.asarray(self.weights, np.float32), self.shapes.ravel()]).astype(np.float32)

    @classmethod
    def from_array(cls, a: np.ndarray, shape: np.ndarray | None = None) -> "Palette":
        centres = a[:-1].reshape(-1, 3).astype(np.float32)
        if shape is None or len(shape) == 0:
            return cls(centres, float(a[-1]))
        return cls(centres, float(a[-1]), np.asarray(shape[2:], np.float32).reshape(len(centres), -1),
                   (float(shape[0]), float(shape[1])))

    def classify(self, colours: np.ndarray, shapes: np.ndarray | None = None) -> np.ndarray:
        """(n, 3) blob colours (and (n, 4) shape coordinates) → (n,) type index, K for a part far from every centre."""
        if len(colours) == 0:
            return np.zeros(0, np.int64)
        pts = type_points(colours, shapes, self.weights)
        ref = type_points(self.centres, self.shapes, self.weights)
        d = np.sqrt(((pts[:, None] - ref[None]) ** 2).sum(-1))  # (n, K)
        types = d.argmin(1)
        types[d.min(1) > self.unknown_threshold] = len(self.centres)
        return types


@dataclass
class Blobs:
    """The parts of one image (holders apart), at the segmentation grid."""

    ids: np.ndarray  # (size, size) int32 part index per pixel, -1 = background, holder or too small
    areas: np.ndarray  # (n,) pixels
    centres: np.ndarray  # (n, 2) x, y in [0, 1]
    colours: np.ndarray  # (n, 3) palette colour
    shapes: np.ndarray  # (n, 4) shape coordinates


def find_parts(image: np.ndarray, size: int, cfg: seg.SegmenterConfig) -> list[seg.Component]:
    """The parts of one image at a size × size grid, by logsad's colour segmentation.

    The background is the colours of the image's border band (a table, and a cable or a mesh
    when there is one); a large foreground part is split into its body and the differently
    coloured parts inside it. A body that holds such parts is a holder (a bin, a case, a dish)
    and is left out: what counts is what lies in it. A large part with nothing in it (a long
    stick, a plate on its own) stays a part. The grid is smaller than logsad's
    own (256) so that the segmentation costs a few milliseconds.
    """
    small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    lab = seg.to_lab(seg.denoise(seg.normalise_illumination(small)))
    radius = max(1, round(cfg.open_radius * size / seg.WORK_SIZE))
    fg = seg.foreground_mask(lab, cfg.background_threshold, cfg.object_colours, radius)
    if cfg.drop_border:
        fg = seg.detach_from_cables(fg, lab, cfg.object_colours, radius)
    min_px = cfg.min_area * size * size
    n, cc, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    parts: list[seg.Component] = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_px:
            continue
        piece = cc == i
        if stats[i, cv2.CC_STAT_AREA] >= cfg.container_area * size * size:
            pieces = seg.split_container(piece, lab, cfg, min_px, others=fg & ~piece)
            parts.extend(pieces[1:] if len(pieces) > 1 else pieces)  # a body with contents is a holder
        else:
            part = seg.describe(piece, lab)
            if part is not None:
                parts.append(part)
    return [p for p in parts if not (cfg.drop_border and p.touches_border)]


def find_blobs(image: np.ndarray, size: int, cfg: seg.SegmenterConfig, min_blob: int) -> Blobs:
    parts = [p for p in find_parts(image, size, cfg) if p.mask.sum() >= min_blob]
    ids = np.full((size, size), -1, np.int32)
    for k, p in enumerate(parts):
        ids[p.mask] = k
    areas = np.array([p.mask.sum() for p in parts], np.float32)
    centres = np.array([(p.cx, p.cy) for p in parts], np.float32).reshape(-1, 2)
    colours = np.array([palette_colour(p.colour) for p in parts], np.float32).reshape(-1, 3)
    shapes = np.array([shape_coordinates(p.mask) for p in parts], np.float32).reshape(-1, len(SHAPE_SCALE))
    return Blobs(ids, areas, centres, colours, shapes)


def _kmeans_palette(colours: np.ndarray, shapes: np.ndarray, k: int, seed: int,
                    space: str = "colour") -> Palette | None:
    from sklearn.cluster import KMeans

    weights = TYPE_SPACES[space]
    pts = type_points(colours, shapes, weights)
    assign = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(pts).labels_
    if len(np.unique(assign)) < k:  # fewer distinct parts than types
        return None
    centres = np.stack([colours[assign == j].mean(0) for j in range(k)]).astype(np.float32)
    shape_centres = np.stack([shapes[assign == j].mean(0) for j in range(k)]).astype(np.float32)
    palette = Palette(centres, 0.0, None if weights[1] == 0 else shape_centres, weights)
    ref = type_points(palette.centres, palette.shapes, weights)
    nearest = np.sqrt(((pts[:, None] - ref[None]) ** 2).sum(-1).min(1))
    palette.unknown_threshold = float(max(np.quantile(nearest, 0.99) * 1.5, 4.0))
    return palette


def stable_counts(palette: Palette, per_image: list[Blobs], min_freq: float = 0.9) -> int:
    """How many types have the same non-zero count on ≥ min_freq of the images."""
    counts = np.stack([np.bincount(palette.classify(b.colours, b.shapes), minlength=palette.n_labels)[:-1]
                       for b in per_image])
    stable = 0
    for col in counts.T:
        values, freq = np.unique(col, return_counts=True)
        stable += int(values[freq.argmax()] > 0 and freq.max() / len(col) >= min_freq)
    return stable


def fit_palette(images: list[np.ndarray], segmenter: seg.SegmenterConfig, max_k: int, size: int, seed: int,
                min_blob: int, spaces: tuple[str, ...] = tuple(TYPE_SPACES)) -> Palette:
    """Component types from the normals' parts (k-means), space and K chosen by count stability.

    For each type space (colour, colour and shape, shape alone) and K = 1..max_k, the palette
    whose types have the most stable non-zero counts over the normals wins; ties go to colour
    first, then to the smaller K. Too few types merge different parts, too many split one
    part's variation into types whose counts flicker; shape decides where the parts' colours
    say nothing (blocks of random colours that must be two circles, two triangles, two squares;
    bolts, washers and nuts of one metal). Uses normals only.
    """
    per_image = [find_blobs(img, size, segmenter, min_blob) for img in images]
    colours = np.concatenate([b.colours for b in per_image]) if per_image else np.zeros((0, 3), np.float32)
    if len(colours) == 0:  # nothing stands out from the background: one type far from everything
        return Palette(np.full((1, 3), 1e3, np.float32), 1e9)
    shapes = np.concatenate([b.shapes for b in per_image])
    best, best_score = None, -1
    for space in spaces:
        wc, ws = TYPE_SPACES[space]
        distinct = len(np.unique(np.concatenate([colours * wc, shapes * ws], 1).round(2), axis=0))
        for k in range(1, min(max_k, distinct) + 1):
            palette = _kmeans_palette(colours, shapes, k, seed, space)
            if palette is None:
                continue
            score = stable_counts(palette, per_image)
            if score > best_score:
                best, best_score = palette, score
    assert best is not None
    return best


def segment(image: np.ndarray, palette: Palette, segmenter: seg.SegmenterConfig, size: int,
            min_blob: int) -> np.ndarray:
    """(size, size) int32 type map: -1 background or holder, 0..K-1 a known type, K an unfamiliar colour."""
    b = find_blobs(image, size, segmenter, min_blob)
    types = np.append(palette.classify(b.colours, b.shapes), -1).astype(np.int32)  # index -1 → background
    return types[b.ids]


def describe(labels: np.ndarray, n_labels: int, min_blob: int) -> np.ndarray:
    """(n_labels, N_FEATURES) composition descriptor of one type map."""
    size = labels.shape[0]
    total = float(size * size)
    out = np.zeros((n_labels, N_FEATURES), np.float32)
    for k in range(n_labels):
        mask = (labels == k).astype(np.uint8)
        n, _, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n <= 1:
            out[k] = (0, 0, 0.5, 0.5, 0, 0, 0)
            continue
        areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float32)
        c = cents[1:].astype(np.float32) / size
        w = areas / areas.sum()
        cx, cy = float((c[:, 0] * w).sum()), float((c[:, 1] * w).sum())
        spread = float(np.sqrt((((c - [cx, cy]) ** 2).sum(1) * w).sum()))
        out[k] = (areas.sum() / total, int((areas >= min_blob).sum()), cx, cy, spread,
                  areas.max() / total, areas.min() / total)
    return out


# --- naming, for the text check and the explanations ------------------------------------

_COLOURS = {
    "red": (200, 30, 30), "orange": (240, 130, 30), "yellow": (230, 210, 40), "green": (50, 160, 60),
    "blue": (40, 80, 200), "purple": (120, 50, 160), "pink": (240, 150, 180), "brown": (110, 70, 40),
    "black": (20, 20, 20), "white": (245, 245, 245), "grey": (128, 128, 128), "beige": (220, 200, 160),
}


def cluster_names(palette: Palette) -> list[str]:
    """A colour name per type from its centre (palette colour space, read as if on a light-grey table),
    with a shape word when the palette tells types apart by shape.

    Repeated names get 'dark'/'light' (or 'mid-n') by lightness.

    The last label is always 'unfamiliar-coloured'.
    """
    lab = palette.centres.astype(np.float64).copy()
    lab[:, 0] = np.clip(lab[:, 0] / 0.3 * 1.7, 0, 100)  # undo the L weight; the balanced table (50) was about 85
    names = [_lab_name(x) for x in lab]
    if palette.shapes is not None:  # types told apart by shape: "round", or "red round" when colour counts too
        words = [_shape_name(s) for s in palette.shapes]
        if palette.space != "shape" or len(set(words)) < len(words):
            words = [f"{c} {w}" for c, w in zip(names, words)]
        names = words
    out = list(names)
    for name in set(names):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) > 1:
            idx.sort(key=lambda i: lab[i, 0])
            for rank, i in enumerate(idx):
                out[i] = f"{'dark' if rank == 0 else 'light' if rank == len(idx) - 1 else f'mid-{rank}'} {name}"
    return out + ["unfamiliar-coloured"]


def _shape_name(coords: np.ndarray) -> str:
    extent, solidity, roundness, log_elongation = np.asarray(coords, np.float64) / SHAPE_SCALE
    if log_elongation > np.log(1.8):
        return "long"
    if solidity < 0.8:
        return "star-shaped"
    if roundness > 0.8:
        return "round"
    return "square" if extent > 0.8 else "triangular"


def _lab_name(lab: np.ndarray) -> str:
    names = list(_COLOURS)
    ref = np.array([_COLOURS[n] for n in names], np.float32)[None] / 255.0
    lab_ref = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB)[0]
    return names[int(((lab_ref - lab.astype(np.float32)) ** 2).sum(1).argmin())]

"""Component composition from a colour segmentation: which components, how many, where, how large.

The logical teacher's hand-made half. Pixels far from the image's own dominant colour (in a
per-image white-balanced Lab space, so a beige table and a grey table look alike and low light
shifts little) are foreground; its connected blobs are the parts. Each part gets a type from its
mean colour (k-means on the normals' parts), or "unfamiliar colour" when it is far from every
type. Per type: area, count, centroid, spread, largest and smallest part. A missing or extra
part changes a count; a scratch barely changes anything.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Per-cluster descriptor: area fraction, blob count, centroid x, centroid y, spread, largest blob, smallest blob.
FEATURES = ("area", "count", "cx", "cy", "spread", "max_blob", "min_blob")
N_FEATURES = len(FEATURES)


def lab_pixels(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB → (size, size, 3) float32 Lab, balanced on the image's median colour.

    L is divided by its median (×50), a and b have their medians subtracted, and L is weighted
    by 0.3: the dominant surface becomes (15, 0, 0) whatever its tint or brightness, and colour
    separates parts more than shading does.
    """
    small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)  # L in [0, 100], a and b in about [-127, 127]
    med = np.median(lab.reshape(-1, 3), axis=0)
    lab[..., 0] *= 50.0 / max(float(med[0]), 1.0)
    lab[..., 1:] -= med[1:]
    lab[..., 0] *= 0.3
    return lab


BACKGROUND = np.array([15.0, 0.0, 0.0], np.float32)  # the balanced dominant surface


def foreground(lab: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels whose balanced colour is far from the dominant surface's."""
    return np.sqrt(((lab - BACKGROUND) ** 2).sum(-1)) > threshold


@dataclass
class Palette:
    """Component types: colour centres of the normals' foreground blobs."""

    centres: np.ndarray  # (K, 3) balanced Lab of a blob's mean colour
    fg_threshold: float  # distance from the background colour for a pixel to be foreground
    unknown_threshold: float  # distance to the nearest centre beyond which a blob is an unseen type

    @property
    def n_labels(self) -> int:
        """Component types 0..K-1, then 'unfamiliar colour' (K); background is -1."""
        return len(self.centres) + 1

    def to_array(self) -> np.ndarray:
        return np.concatenate([self.centres.ravel(), [self.fg_threshold, self.unknown_threshold]]).astype(np.float32)

    @classmethod
    def from_array(cls, a: np.ndarray) -> "Palette":
        return cls(a[:-2].reshape(-1, 3).astype(np.float32), float(a[-2]), float(a[-1]))

    def classify(self, colours: np.ndarray) -> np.ndarray:
        """(n, 3) blob colours → (n,) type index, K for a colour far from every centre."""
        if len(colours) == 0:
            return np.zeros(0, np.int64)
        d = np.sqrt(((colours[:, None] - self.centres[None]) ** 2).sum(-1))  # (n, K)
        types = d.argmin(1)
        types[d.min(1) > self.unknown_threshold] = len(self.centres)
        return types


@dataclass
class Blobs:
    """The foreground's connected parts of one image, at the segmentation grid."""

    ids: np.ndarray  # (size, size) int32 blob index per pixel, -1 = background or too small
    areas: np.ndarray  # (n,) pixels
    centres: np.ndarray  # (n, 2) x, y in [0, 1]
    colours: np.ndarray  # (n, 3) mean balanced Lab


def find_blobs(image: np.ndarray, size: int, fg_threshold: float, min_blob: int) -> Blobs:
    lab = lab_pixels(image, size)
    mask = cv2.morphologyEx(foreground(lab, fg_threshold).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, cc, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_blob]
    remap = np.full(n, -1, np.int32)
    remap[keep] = np.arange(len(keep), dtype=np.int32)
    ids = remap[cc]
    flat = ids.ravel()
    sel = flat >= 0
    sums = np.zeros((len(keep), 3), np.float64)
    np.add.at(sums, flat[sel], lab.reshape(-1, 3)[sel])
    areas = stats[keep, cv2.CC_STAT_AREA].astype(np.float32)
    colours = (sums / np.maximum(areas, 1)[:, None]).astype(np.float32)
    return Blobs(ids, areas, cents[keep].astype(np.float32).reshape(-1, 2) / size, colours.reshape(-1, 3))


def _kmeans_palette(colours: np.ndarray, k: int, seed: int, fg_threshold: float) -> Palette:
    from sklearn.cluster import KMeans

    centres = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(colours).cluster_centers_.astype(np.float32)
    nearest = np.sqrt(((colours[:, None] - centres[None]) ** 2).sum(-1).min(1))
    return Palette(centres, fg_threshold, float(max(np.quantile(nearest, 0.99) * 1.5, 4.0)))


def stable_counts(palette: Palette, per_image: list[Blobs], min_freq: float = 0.9) -> int:
    """How many types have the same non-zero count on ≥ min_freq of the images."""
    counts = np.stack([np.bincount(palette.classify(b.colours), minlength=palette.n_labels)[:-1] for b in per_image])
    stable = 0
    for col in counts.T:
        values, freq = np.unique(col, return_counts=True)
        stable += int(values[freq.argmax()] > 0 and freq.max() / len(col) >= min_freq)
    return stable


def fit_palette(images: list[np.ndarray], max_k: int, size: int, seed: int, min_blob: int,
                fg_threshold: float = 8.0) -> Palette:
    """Component types from the normals' blob colours (k-means), K chosen by count stability.

    For K = 1..max_k the K whose types have the most stable non-zero counts over the normals
    wins (ties go to the smaller K): too few types merge different parts, too many split one
    part's colour variation into types whose counts flicker. Uses normals only.
    """
    per_image = [find_blobs(img, size, fg_threshold, min_blob) for img in images]
    colours = np.concatenate([b.colours for b in per_image]) if per_image else np.zeros((0, 3), np.float32)
    if len(colours) == 0:  # nothing stands out from the background: one type far from everything
        return Palette(np.full((1, 3), 1e3, np.float32), fg_threshold, 1e9)
    distinct = len(np.unique(colours.round(2), axis=0))
    best, best_score = None, -1
    for k in range(1, min(max_k, distinct) + 1):
        palette = _kmeans_palette(colours, k, seed, fg_threshold)
        score = stable_counts(palette, per_image)
        if score > best_score:
            best, best_score = palette, score
    assert best is not None
    return best


def segment(image: np.ndarray, palette: Palette, size: int, min_blob: int) -> np.ndarray:
    """(size, size) int32 type map: -1 background, 0..K-1 a known type, K an unfamiliar colour."""
    b = find_blobs(image, size, palette.fg_threshold, min_blob)
    types = np.append(palette.classify(b.colours), -1).astype(np.int32)  # index -1 → background
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
    """A colour name per type from its centre (balanced Lab, read as if on a light-grey table).

    Repeated names get 'dark'/'light' (or 'mid-n') by lightness.

    The last label is always 'unfamiliar-coloured'.
    """
    lab = palette.centres.astype(np.float64).copy()
    lab[:, 0] = np.clip(lab[:, 0] / 0.3 * 1.7, 0, 100)  # undo the L weight; the balanced table (50) was about 85
    names = [_lab_name(x) for x in lab]
    out = list(names)
    for name in set(names):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) > 1:
            idx.sort(key=lambda i: lab[i, 0])
            for rank, i in enumerate(idx):
                out[i] = f"{'dark' if rank == 0 else 'light' if rank == len(idx) - 1 else f'mid-{rank}'} {name}"
    return out + ["unfamiliar-coloured"]


def _lab_name(lab: np.ndarray) -> str:
    names = list(_COLOURS)
    ref = np.array([_COLOURS[n] for n in names], np.float32)[None] / 255.0
    lab_ref = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB)[0]
    return names[int(((lab_ref - lab.astype(np.float32)) ** 2).sum(1).argmin())]

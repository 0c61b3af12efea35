"""Per-region overlap curves: AUPRO (MVTec AD) and AU-sPRO (MVTec LOCO AD), computed exactly.

Both curves plot the mean overlap of the ground-truth regions against the false positive
rate (FPR) over all normal pixels while the threshold sweeps every distinct score; a pixel
is positive when its score is >= the threshold, so pixels with equal scores enter
together. The official evaluations sample thresholds (LOCO refines a grid, MVTec AD keeps
one point per distinct score); we compute the same polyline without sampling.

Between two consecutive distinct scores that occur inside regions only normal pixels can
enter, so the curve runs flat there and the points in between lie on that flat segment.
We therefore keep two corners per distinct region score: just before it enters and just
after. The curve is exact (same trapezoid area and same interpolation at the limit as the
full per-threshold curve), its length grows with the region pixels, not with all pixels,
and normal pixels are binned one image at a time, never concatenated.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from leaderboard.metrics._inputs import anomaly_maps, as_mask, masks_for_maps
from leaderboard.metrics._registry import METRICS

if TYPE_CHECKING:
    from leaderboard.datasets.base import DefectSpec

# The FPR limits the official MVTec LOCO evaluation reports AU-sPRO at.
OFFICIAL_SPRO_LIMITS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.3, 1.0)

# MVTec AD splits masks into 8-connected components (a full 3×3 structuring element).
_EIGHT_CONNECTED = np.ones((3, 3), dtype=int)

Region = tuple[np.ndarray, float]  # (bool mask (H, W), saturation area in pixels)


def _overlap_curve(
    maps: list[np.ndarray], normals: list[np.ndarray], regions: list[tuple[np.ndarray, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, mean saturated overlap) corners of the curve, from (0, 0) to FPR 1.

    `normals[i]` marks the negative pixels of maps[i]; `regions` holds (scores of the
    region's pixels, saturation area) for every region of every image, already checked.
    """
    if not regions:
        raise ValueError("no ground-truth region in any image: the overlap curve needs at least one anomalous pixel")
    common = np.result_type(*(m.dtype for m in maps))  # compare scores exactly, never in a narrower type
    region_scores, region_gains = [], []
    for scores, saturation in regions:
        region_scores.append(np.sort(scores)[::-1])  # best first; the order within ties does not matter
        covered = np.minimum(np.arange(1, scores.size + 1) / saturation, 1.0)
        region_gains.append(np.diff(covered, prepend=0.0))  # what the k-th entering pixel adds
    all_scores = np.concatenate(region_scores).astype(common, copy=False)
    levels = np.unique(all_scores)  # (M,) ascending distinct scores inside regions
    n_levels = levels.size
    gains = np.concatenate(region_gains)
    gain_at = np.bincount(np.searchsorted(levels, all_scores), weights=gains, minlength=n_levels)
    overlap = np.minimum(np.cumsum(gain_at[::-1]) / len(regions), 1.0)  # (M,) once each level has entered, top down

    # Bin each normal pixel by how many levels lie strictly below it (below_lt) or at/below it (below_le).
    below_lt = np.zeros(n_levels + 1, dtype=np.int64)
    below_le = np.zeros(n_levels + 1, dtype=np.int64)
    for m, normal in zip(maps, normals):
        scores = np.sort(m[normal].astype(common, copy=False))  # sorted needles make searchsorted ~4x faster
        below_lt += np.bincount(np.searchsorted(levels, scores, side="left"), minlength=n_levels + 1)
        below_le += np.bincount(np.searchsorted(levels, scores, side="right"), minlength=n_levels + 1)
    n_normal = int(below_lt.sum())
    if n_normal == 0:
        raise ValueError("every pixel lies in a ground-truth region: the FPR needs at least one normal pixel")
    # Normal pixels with score > level (resp. >= level), from the highest level down.
    fp_gt = np.cumsum(below_lt[::-1])[:-1]
    fp_ge = np.cumsum(below_le[::-1])[:-1]

    fpr = np.empty(2 * n_levels + 2)
    pro = np.empty(2 * n_levels + 2)
    fpr[0], pro[0] = 0.0, 0.0
    fpr[1:-1:2], pro[1:-1:2] = fp_gt, np.concatenate(([0.0], overlap[:-1]))  # just before each level enters
    fpr[2:-1:2], pro[2:-1:2] = fp_ge, overlap  # just after
    fpr[-1], pro[-1] = n_normal, overlap[-1]  # every pixel positive
    fpr /= n_normal
    moved = np.concatenate(([True], (np.diff(fpr) != 0) | (np.diff(pro) != 0)))
    return fpr[moved], pro[moved]


def _normalised_area(fprs: np.ndarray, ys: np.ndarray, limit: float) -> float:
    """Trapezoid area from FPR 0 to `limit`, y interpolated linearly at the limit, divided by `limit`."""
    if not 0.0 < limit <= 1.0:
        raise ValueError(f"the FPR limit must be in (0, 1], got {limit}")
    end = int(np.searchsorted(fprs, limit, side="right"))  # points with FPR <= limit
    x, y = fprs[:end], ys[:end]
    if x[-1] < limit:  # then end < len(fprs) because the curve ends at FPR 1
        x0, x1, y0, y1 = fprs[end - 1], fprs[end], ys[end - 1], ys[end]
        x = np.append(x, limit)
        y = np.append(y, y0 + (y1 - y0) * (limit - x0) / (x1 - x0))
    return float(np.trapezoid(y, x) / limit)


def _component_regions(m: np.ndarray, mask: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Scores of each 8-connected component of `mask`, with its area as saturation (plain PRO)."""
    labelled, n = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    labels = labelled[mask]
    scores = m[mask][np.argsort(labels, kind="stable")]
    sizes = np.bincount(labels, minlength=n + 1)[1:]
    return [(s, float(s.size)) for s in np.split(scores, np.cumsum(sizes)[:-1])] if n else []


def pro_curve(masks: Sequence[ArrayLike], maps: Sequence[ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
    """MVTec AD PRO curve (FPR, mean per-region overlap) over 8-connected mask components.

    Negatives are all pixels outside every mask, in all images including normal ones.
    """
    maps_ = anomaly_maps(maps)
    masks_ = masks_for_maps(masks, maps_)
    regions = [r for m, k in zip(maps_, masks_) for r in _component_regions(m, k)]
    return _overlap_curve(maps_, [~k for k in masks_], regions)


@METRICS.register("aupro")
def aupro(masks: Sequence[ArrayLike], maps: Sequence[ArrayLike], fpr_limit: float = 0.3) -> float:
    """Area under the PRO curve up to `fpr_limit`, divided by it so that a perfect map scores 1."""
    fprs, pros = pro_curve(masks, maps)
    return _normalised_area(fprs, pros, fpr_limit)


def _checked_regions(maps: list[np.ndarray], gt_regions: Sequence[Sequence[Region]]) -> list[list[Region]]:
    if len(gt_regions) != len(maps):
        raise ValueError(f"{len(gt_regions)} gt_regions entries but {len(maps)} maps; need one list per map")
    checked = []
    for i, (m, image_regions) in enumerate(zip(maps, gt_regions)):
        out = []
        for j, region in enumerate(image_regions):
            if len(region) != 2:
                raise ValueError(f"gt_regions[{i}][{j}] must be a (mask, saturation_area) pair")
            mask = as_mask(region[0], m.shape, f"gt_regions[{i}][{j}] mask", f"maps[{i}]")
            saturation = float(region[1])
            if not mask.any():
                raise ValueError(f"gt_regions[{i}][{j}] mask is empty; a region needs at least one pixel")
            if not (np.isfinite(saturation) and saturation > 0):
                raise ValueError(f"gt_regions[{i}][{j}] saturation area must be a positive number, got {saturation}")
            out.append((mask, saturation))
        checked.append(out)
    return checked


def spro_curve(maps: Sequence[ArrayLike], gt_regions: Sequence[Sequence[Region]]) -> tuple[np.ndarray, np.ndarray]:
    """MVTec LOCO sPRO curve: (FPR, mean over regions of min(overlap / saturation area, 1)).

    `gt_regions[i]` lists (mask, saturation area) per defect of image i, empty for good images.
    A region is one mask file, not split into components. Negatives are the pixels of good
    images and the pixels of anomalous images outside every region (the official code ORs
    the channels), so a logical region marking where something should be is never a negative.
    """
    maps_ = anomaly_maps(maps)
    checked = _checked_regions(maps_, gt_regions)
    normals = []
    for m, image_regions in zip(maps_, checked):
        normal = np.ones(m.shape, dtype=bool)
        for mask, _ in image_regions:
            normal &= ~mask
        normals.append(normal)
    regions = [(m[mask], saturation) for m, image_regions in zip(maps_, checked) for mask, saturation in image_regions]
    return _overlap_curve(maps_, normals, regions)


def au_spro_at(
    maps: Sequence[ArrayLike], gt_regions: Sequence[Sequence[Region]], limits: Sequence[float] = OFFICIAL_SPRO_LIMITS
) -> dict[float, float]:
    """Normalised AU-sPRO at several FPR limits from a single curve computation."""
    fprs, spros = spro_curve(maps, gt_regions)
    return {float(limit): _normalised_area(fprs, spros, limit) for limit in limits}


@METRICS.register("spro")
def au_spro(maps: Sequence[ArrayLike], gt_regions: Sequence[Sequence[Region]], fpr_limit: float = 0.05) -> float:
    """Area under the sPRO curve up to `fpr_limit`, divided by it so that a perfect map scores 1."""
    return au_spro_at(maps, gt_regions, (fpr_limit,))[float(fpr_limit)]


def loco_regions(raw_masks: Sequence[ArrayLike], defects: Mapping[int, DefectSpec]) -> list[Region]:
    """Regions of one LOCO image: one per mask file, its defect looked up by the stored pixel value.

    Saturation areas follow the official `get_saturation_area`: relative thresholds give
    int(threshold × area) (at least one pixel here, where the official code would divide by
    zero), absolute ones min(threshold, area).
    """
    regions = []
    for i, raw in enumerate(raw_masks):
        raw = np.asarray(raw)
        if raw.ndim != 2 or not np.issubdtype(raw.dtype, np.integer):
            raise ValueError(f"raw mask {i} must be a 2-D integer array, got shape {raw.shape} dtype {raw.dtype}")
        values = np.unique(raw[raw != 0]).tolist()
        if not values:
            raise ValueError(f"raw mask {i} is empty (all zero); every LOCO mask file marks one defect")
        if len(values) > 1:
            raise ValueError(f"raw mask {i} holds several defect values {values}; a LOCO mask file holds exactly one")
        value = values[0]
        if value not in defects:
            raise ValueError(f"raw mask {i} has pixel value {value}, which no defect uses; known: {sorted(defects)}")
        spec = defects[value]
        mask = raw == value
        area = int(np.count_nonzero(mask))
        threshold = float(spec.saturation_threshold)
        if spec.relative_saturation:
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"defect with pixel value {value}: a relative saturation threshold must be in (0, 1]")
            saturation = float(max(int(threshold * area), 1))
        else:
            if not threshold > 0:
                raise ValueError(f"defect with pixel value {value}: the saturation threshold must be positive")
            saturation = min(threshold, float(area))
        regions.append((mask, saturation))
    return regions

"""Defect-type metrics: which defect an image shows, and which pixels belong to which defect."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from leaderboard.metrics._registry import METRICS


@METRICS.register("classification_accuracy")
def classification_accuracy(true_names: Sequence[str], pred_names: Sequence[str]) -> float:
    """Fraction of images whose predicted defect name equals the true one."""
    if len(true_names) != len(pred_names):
        raise ValueError(f"{len(true_names)} true names but {len(pred_names)} predicted names")
    if len(true_names) == 0:
        raise ValueError("classification_accuracy needs at least one image")
    return float(np.mean([t == p for t, p in zip(true_names, pred_names)]))


def _class_map(a: ArrayLike, num_classes: int, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what} must be a 2-D integer class map, got shape {a.shape} dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        bad = a.min() if a.min() < 0 else a.max()
        raise ValueError(f"{what} holds class {bad}, outside 0..{num_classes - 1}")
    return a.astype(np.int64, copy=False)


@METRICS.register("miou")
def miou(
    gt_class_maps: Sequence[ArrayLike],
    pred_class_maps: Sequence[ArrayLike],
    num_classes: int,
    ignore_normal: bool = False,
) -> float:
    """Mean IoU over the classes that occur in the ground truth or the prediction.

    Class 0 is normal. Intersections and unions are summed over all images before dividing
    (dataset-level IoU, so small images do not weigh more), and a class absent from both
    everywhere is left out rather than counted as 0 or 1. `ignore_normal` drops class 0
    from the mean; its pixels still count as misses or false alarms of the other classes.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if len(gt_class_maps) != len(pred_class_maps):
        raise ValueError(f"{len(gt_class_maps)} ground-truth maps but {len(pred_class_maps)} predicted maps")
    if len(gt_class_maps) == 0:
        raise ValueError("miou needs at least one image")
    confusion = np.zeros(num_classes * num_classes, dtype=np.int64)  # (gt, pred) flattened
    for i, (g, p) in enumerate(zip(gt_class_maps, pred_class_maps)):
        g = _class_map(g, num_classes, f"gt_class_maps[{i}]")
        p = _class_map(p, num_classes, f"pred_class_maps[{i}]")
        if g.shape != p.shape:
            raise ValueError(f"gt_class_maps[{i}] has shape {g.shape} but pred_class_maps[{i}] has shape {p.shape}")
        confusion += np.bincount((g * num_classes + p).ravel(), minlength=num_classes * num_classes)
    confusion = confusion.reshape(num_classes, num_classes)
    intersection = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - intersection
    counted = union > 0
    if ignore_normal:
        counted[0] = False
    if not counted.any():
        raise ValueError("no class to average: every counted class is absent from ground truth and prediction")
    return float(np.mean(intersection[counted] / union[counted]))

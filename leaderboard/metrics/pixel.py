"""Pixel-level AUROC over all pixels of all test images pooled together."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from leaderboard.metrics._inputs import anomaly_maps, masks_for_maps
from leaderboard.metrics._registry import METRICS


@METRICS.register("pixel_auroc")
def pixel_auroc(masks: Sequence[ArrayLike], maps: Sequence[ArrayLike]) -> float:
    """ROC AUC of every pixel; scores are pooled as float32 so 100 maps of 1024² fit in memory."""
    maps_ = anomaly_maps(maps)
    masks_ = masks_for_maps(masks, maps_)
    total = sum(m.size for m in maps_)
    scores = np.empty(total, dtype=np.float32)
    labels = np.empty(total, dtype=bool)
    start = 0
    for m, k in zip(maps_, masks_):
        scores[start : start + m.size] = m.ravel()
        labels[start : start + m.size] = k.ravel()
        start += m.size
    n_anomalous = int(np.count_nonzero(labels))
    if n_anomalous in (0, total):
        only = "anomalous (every mask is full)" if n_anomalous else "normal (every mask is empty)"
        raise ValueError(f"pixel_auroc needs normal and anomalous pixels, but all {total} pixels are {only}")
    return float(roc_auc_score(labels, scores))

"""Image-level detection metrics: one label and one score per image."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import precision_recall_curve, roc_auc_score

from leaderboard.metrics._inputs import binary_problem
from leaderboard.metrics._registry import METRICS


@METRICS.register("image_auroc")
def image_auroc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve of image scores; ties count half, as in sklearn."""
    y, s = binary_problem(labels, scores, "image_auroc")
    return float(roc_auc_score(y, s))


@METRICS.register("f1_max")
def f1_max(labels: ArrayLike, scores: ArrayLike) -> float:
    """Best F1 over every threshold, so methods are compared without choosing one for them."""
    y, s = binary_problem(labels, scores, "f1_max")
    precision, recall, _ = precision_recall_curve(y, s)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    return float(f1.max())

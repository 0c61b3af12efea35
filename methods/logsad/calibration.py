"""Calibration and fusion (Eq. 5): z-score against held-out normals, sigmoid, maximum."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    # |x| ≤ 30 keeps the result below 1 in float64, so a broken rule (score 1) still decides.
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


@dataclass
class Calibrator:
    """g((s − μ) / σ) with μ, σ the unbiased mean and std of a detector's scores on normal images."""

    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, scores: list[float] | np.ndarray, floor: float = 1e-6, few: int = 5) -> "Calibrator":
        s = np.asarray(scores, dtype=np.float64)
        if s.size == 0:
            raise ValueError("calibration needs at least one normal score")
        mean = float(s.mean())
        std = float(s.std(ddof=1)) if s.size > 1 else 0.0
        # A handful of normals understates the spread: then σ is at least a tenth of μ. With more,
        # the measured σ stands (the floor would flatten the patch detector against the others).
        if s.size < few:
            std = max(std, 0.1 * abs(mean))
        std = max(std, floor)
        return cls(mean, std)

    def z(self, s: np.ndarray | float) -> np.ndarray | float:
        return (np.asarray(s, dtype=np.float64) - self.mean) / self.std

    def __call__(self, s: np.ndarray | float) -> np.ndarray | float:
        return sigmoid(self.z(s))


def fuse(scores: dict[str, float]) -> tuple[float, str]:
    """Image score = the maximum calibrated score; also which detector gave it (the first on a tie)."""
    if not scores:
        raise ValueError("nothing to fuse")
    name = max(scores, key=lambda k: scores[k])
    return float(scores[name]), name

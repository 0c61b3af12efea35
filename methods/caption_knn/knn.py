"""k-NN normality over the normal captions' embeddings (VID-AD §4.4): S = 1 / (1 + mean distance)."""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist


def nearest(queries: np.ndarray, bank: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q, D), (N, D) → Euclidean distances to the min(k, N) nearest bank rows, ascending, and their
    row indices (ties: the first row), both (Q, min(k, N))."""
    if bank.ndim != 2 or len(bank) == 0:
        raise ValueError("the k-NN bank is empty: fit on at least one normal caption")
    # Differences, not the |a|² + |b|² − 2ab expansion: that cancels to ~5e-4 for identical float32 unit vectors.
    d = cdist(np.asarray(queries, np.float64), np.asarray(bank, np.float64))
    rows = np.argsort(d, axis=1, kind="stable")[:, :min(k, len(bank))]
    return np.take_along_axis(d, rows, axis=1), rows


def knn_distances(queries: np.ndarray, bank: np.ndarray, k: int) -> np.ndarray:
    """(Q, D), (N, D) → (Q, min(k, N)) Euclidean distances to the nearest bank rows, ascending."""
    return nearest(queries, bank, k)[0]


def normality(queries: np.ndarray, bank: np.ndarray, k: int = 5) -> np.ndarray:
    """(Q,) normality in (0, 1]: 1 for a caption whose k nearest normal captions coincide with it."""
    return 1.0 / (1.0 + knn_distances(queries, bank, k).mean(1))


def anomaly_score(queries: np.ndarray, bank: np.ndarray, k: int = 5) -> np.ndarray:
    return 1.0 - normality(queries, bank, k)

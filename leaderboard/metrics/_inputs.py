"""Input checks shared by the metrics: refuse bad input with a message that names the culprit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike


def _real(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"{what} must hold real numbers, got dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    return a


def binary_problem(labels: ArrayLike, scores: ArrayLike, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels as 0/1 ints and scores as finite reals of the same length, with both classes present."""
    y = np.asarray(labels)
    s = _real(np.asarray(scores), "scores")
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"{metric}: labels and scores must be 1-D, got shapes {y.shape} and {s.shape}")
    if y.size != s.size:
        raise ValueError(f"{metric}: {y.size} labels but {s.size} scores")
    if y.dtype != bool and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{metric}: labels must be 0 (normal) or 1 (anomalous), got dtype {y.dtype}")
    bad = np.setdiff1d(y.astype(np.int64), [0, 1])
    if bad.size:
        raise ValueError(f"{metric}: labels must be 0 (normal) or 1 (anomalous), got {bad[:5].tolist()}")
    y = y.astype(np.int64)
    n_anomalous = int(y.sum())
    if n_anomalous in (0, y.size):
        only = "anomalous (1)" if n_anomalous else "normal (0)"
        raise ValueError(
            f"{metric} needs both normal (0) and anomalous (1) labels, but all {y.size} labels are {only}"
        )
    return y, s


def anomaly_maps(maps: Sequence[ArrayLike]) -> list[np.ndarray]:
    """2-D real, finite maps; any scale or offset is fine."""
    if len(maps) == 0:
        raise ValueError("no anomaly maps given")
    out = []
    for i, m in enumerate(maps):
        m = np.asarray(m)
        if m.ndim != 2:
            raise ValueError(f"maps[{i}] must be 2-D (H, W), got shape {m.shape}")
        out.append(_real(m, f"maps[{i}]"))
    return out


def as_mask(mask: ArrayLike, shape: tuple[int, ...], what: str, map_what: str) -> np.ndarray:
    """A bool mask of the map's shape; integer masks count non-zero pixels as anomalous."""
    m = np.asarray(mask)
    if m.dtype != bool and not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"{what} must be bool or integer, got dtype {m.dtype}")
    if m.shape != shape:
        raise ValueError(f"{what} has shape {m.shape} but {map_what} has shape {shape}")
    return m != 0 if m.dtype != bool else m


def masks_for_maps(masks: Sequence[ArrayLike], maps: list[np.ndarray]) -> list[np.ndarray]:
    if len(masks) != len(maps):
        raise ValueError(f"{len(masks)} masks but {len(maps)} maps; need one mask per map")
    return [as_mask(k, m.shape, f"masks[{i}]", f"maps[{i}]") for i, (k, m) in enumerate(zip(masks, maps))]

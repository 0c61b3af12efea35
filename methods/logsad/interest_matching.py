"""Interest matching (Eq. 2–3): the test image's components against each normal's, by the Hungarian algorithm."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def cosine_cost(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(i, d), (j, d) → (i, j) of 1 − cosine similarity."""
    pn = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-8)
    qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-8)
    return 1.0 - pn @ qn.T


def set_cost(p: np.ndarray, q: np.ndarray, unmatched: float = 1.0) -> tuple[float, np.ndarray]:
    """Minimal mean matching cost between two feature sets, and each row of p's own cost.

    The paper averages over the min(i, j) matched pairs; a component left without a
    partner here costs `unmatched` as well, so a missing or extra part is not free.
    """
    i, j = len(p), len(q)
    if i == 0 and j == 0:
        return 0.0, np.zeros(0, np.float32)
    if i == 0 or j == 0:
        return unmatched, np.full(i, unmatched, np.float32)
    cost = cosine_cost(p, q)
    rows, cols = linear_sum_assignment(cost)
    per_row = np.full(i, unmatched, np.float32)
    per_row[rows] = cost[rows, cols]
    total = cost[rows, cols].sum() + unmatched * (max(i, j) - len(rows))
    return float(total / max(i, j)), per_row


def match_score(p: np.ndarray, references: list[np.ndarray], unmatched: float = 1.0) -> tuple[float, np.ndarray]:
    """Cost against the best-matching normal set, and the per-component costs of that match."""
    best, best_rows = np.inf, np.full(len(p), unmatched, np.float32)
    for q in references:
        s, rows = set_cost(p, q, unmatched)
        if s < best:
            best, best_rows = s, rows
    if not references:
        return unmatched, best_rows
    return best, best_rows

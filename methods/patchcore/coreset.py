"""Greedy k-center coreset selection (PatchCore, Roth et al. 2022) with bounded memory.

Only one (N,) vector of distances to the selected set is kept, updated in place; the
selected features are gathered once at the end. Memory is O(N·d + N), whatever the
coreset size, unlike implementations that stack a growing distance matrix.
"""
from __future__ import annotations

from typing import Callable

import torch


def greedy_coreset(
    features: torch.Tensor,
    size: int,
    *,
    projection_dim: int = 128,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> torch.Tensor:
    """Indices (size,) of a k-center coreset of `features` (N, d).

    Distances are computed on a Johnson–Lindenstrauss random projection to
    `projection_dim` when d is larger, as the paper does, to cut the cost per step.
    """
    n, d = features.shape
    if size >= n:
        return torch.arange(n, device=features.device)
    if size < 1:
        raise ValueError(f"coreset size must be ≥ 1, got {size}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = features
    if d > projection_dim:
        proj = torch.randn(d, projection_dim, generator=gen) / projection_dim**0.5
        x = features @ proj.to(features.device, features.dtype)
    x = x.contiguous()
    sq = (x * x).sum(1)  # (N,)
    selected = torch.empty(size, dtype=torch.long, device=x.device)
    start = int(torch.randint(n, (1,), generator=gen))
    selected[0] = start
    min_dist = (sq - 2 * x @ x[start] + sq[start]).clamp_min_(0)  # (N,)
    step = max(size // 20, 1)
    for i in range(1, size):
        idx = int(torch.argmax(min_dist))
        selected[i] = idx
        dist = (sq - 2 * x @ x[idx] + sq[idx]).clamp_min_(0)
        torch.minimum(min_dist, dist, out=min_dist)
        if progress is not None and i % step == 0:
            progress(i / size, "coreset")
    return selected

"""Exact nearest-neighbour distances from query patches to a memory bank, in chunks."""
from __future__ import annotations

import torch


def nearest_distances(queries: torch.Tensor, bank: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """(Q, d), (M, d) → (Q,) Euclidean distance of each query to its nearest bank row.

    Chunked over queries so the (chunk, M) distance block bounds memory.
    """
    bank_sq = (bank * bank).sum(1)  # (M,)
    out = torch.empty(queries.shape[0], dtype=queries.dtype, device=queries.device)
    for i in range(0, queries.shape[0], chunk):
        q = queries[i : i + chunk]
        d2 = (q * q).sum(1, keepdim=True) - 2 * q @ bank.T + bank_sq  # (chunk, M)
        out[i : i + chunk] = d2.min(1).values.clamp_min_(0).sqrt_()
    return out

"""Fine-tune a sentence encoder with NT-Xent on normal captions against their contradictions (VID-AD §4.3).

The encoder stays in training mode while embedding, so two passes of the same caption
differ by dropout: they are the anchor and its positive; every synthesized negative in
the batch is a negative for every anchor. Unlike the released code, the optimizer steps
after every batch. With `keys`, a caption is represented by its structured line embedding
(`caption_lines.structured_embedding`) in training and in `encode` alike, so the loss
trains the same distance the k-NN scores with.
"""
from __future__ import annotations

import copy
import time
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from methods.caption_knn.caption_lines import structured_embedding


def nt_xent(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over i of −log(e^{s(a_i,p_i)/τ} / (e^{s(a_i,p_i)/τ} + Σ_j e^{s(a_i,n_j)/τ})), s = cosine."""
    a = F.normalize(anchor, dim=-1)  # (B, D)
    p = F.normalize(positive, dim=-1)  # (B, D)
    n = F.normalize(negatives, dim=-1)  # (M, D)
    pos = (a * p).sum(-1, keepdim=True) / temperature  # (B, 1)
    neg = a @ n.T / temperature  # (B, M)
    logits = torch.cat([pos, neg], dim=1)
    return -F.log_softmax(logits, dim=1)[:, 0].mean()


def embed(model, texts: Sequence[str]) -> torch.Tensor:
    """(B, D) sentence embeddings with gradients (SentenceTransformer forward)."""
    prepare = getattr(model, "preprocess", None) or model.tokenize
    features = prepare(list(texts))
    features = {k: (v.to(model.device) if torch.is_tensor(v) else v) for k, v in features.items()}
    return model(features)["sentence_embedding"]


def fine_tune(
    base_model,
    positives: Sequence[str],
    negatives: Sequence[str],
    *,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 3e-5,
    weight_decay: float = 1e-5,
    temperature: float = 0.5,
    seed: int = 0,
    keys: Sequence[str] | None = None,
    progress: Callable[[float, str], None] | None = None,
):
    """A fine-tuned copy of `base_model` (the shared hub instance is left untouched) and its loss per step.

    `keys`: the line slots of structured caption embeddings; None embeds each caption whole.
    """
    if len(positives) != len(negatives):
        raise ValueError(f"{len(positives)} positives but {len(negatives)} negatives")
    torch.manual_seed(seed)
    model = copy.deepcopy(base_model)
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    start = time.perf_counter()

    def represent(texts: list[str]) -> torch.Tensor:
        if keys:
            return structured_embedding(lambda lines: embed(model, lines), texts, keys)
        return embed(model, texts)

    for epoch in range(epochs):
        order = rng.permutation(len(positives))
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            pos = [positives[i] for i in idx]
            neg = [negatives[i] for i in idx]
            loss = nt_xent(represent(pos), represent(pos), represent(neg), temperature)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()  # every batch
            losses.append(float(loss.detach()))
        if progress:
            progress((epoch + 1) / max(epochs, 1), f"fine-tune epoch {epoch + 1}/{epochs}, loss {losses[-1]:.3f}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    model.fine_tune_seconds = time.perf_counter() - start
    return model, losses


@torch.inference_mode()
def encode(model, texts: Sequence[str], batch_size: int = 64, keys: Sequence[str] | None = None) -> np.ndarray:
    """(N, D) L2-normalised float32 caption embeddings in eval mode (no dropout); with `keys`,
    (N, len(keys) · D) structured line embeddings."""
    model.eval()

    def unit(lines: Sequence[str]) -> np.ndarray:
        return model.encode(list(lines), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                            show_progress_bar=False).astype(np.float32)

    if keys:
        return structured_embedding(lambda lines: torch.from_numpy(unit(lines)), texts, keys).numpy()
    return unit(texts)

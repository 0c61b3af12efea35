"""UniADC's multi-task discriminator: pixel features aligned with the categories' text embeddings.

A light head fuses frozen multi-layer backbone features (plus, optionally, each pixel's distance
to the nearest normal patch) into one embedding per pixel; the logit of class k is the cosine
similarity between that embedding and the text embedding of class k (0 = normal, 1..K the
anomaly categories) times a learned temperature. Pure torch, no I/O: the Method wraps it.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class FusionHead(nn.Module):
    """(B, C_i, h_i, w_i) maps (+ (B, E, h0, w0) extra channels) and (K+1, T) text → (B, K+1, h0, w0) logits.

    The text embeddings are projected into the pixel space (a learned linear map, as CLIP
    projects both towers into one space) rather than every pixel into the text space: the
    cost per pixel stays at `width` channels, which keeps CPU training short.
    """

    def __init__(self, in_channels: Sequence[int], extra_channels: int, width: int, text_dim: int,
                 context: int = 1):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in in_channels)
        self.extra_channels = extra_channels
        self.context = context
        # `context` > 1: the second fusion layer sees a context × context neighbourhood, so a
        # pixel's class can depend on the shape around it (a line, a round pit, a blob).
        self.fuse = nn.Sequential(
            nn.Conv2d(width * len(in_channels) + extra_channels, width, 1), nn.GELU(),
            nn.Conv2d(width, width, context, padding=context // 2, padding_mode="replicate"),
        )
        self.text_proj = nn.Linear(text_dim, width, bias=False)
        # CLIP's initial temperature: logits = cos · exp(logit_scale), learned.
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def embed(self, maps: Sequence[torch.Tensor], extra: torch.Tensor | None) -> torch.Tensor:
        """(B, width, h0, w0) unit-norm pixel embeddings on the finest map's grid."""
        h, w = maps[0].shape[-2:]
        parts = []
        for conv, fmap in zip(self.lateral, maps):
            x = conv(fmap.float())
            if x.shape[-2:] != (h, w):
                x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
            parts.append(x)
        if self.extra_channels:
            assert extra is not None
            parts.append(extra.float())
        return F.normalize(self.fuse(torch.cat(parts, 1)), dim=1)

    def forward(self, maps: Sequence[torch.Tensor], extra: torch.Tensor | None, text: torch.Tensor) -> torch.Tensor:
        emb = self.embed(maps, extra)  # (B, W, h, w)
        anchors = F.normalize(self.text_proj(text.float()), dim=1)  # (K+1, W)
        scale = self.logit_scale.exp().clamp(max=100.0)
        return torch.einsum("bdhw,kd->bkhw", emb, anchors) * scale  # (B, K+1, h, w)


# --- labels and losses --------------------------------------------------------------------


def label_grid(mask: np.ndarray, label: int, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(anomaly target, class) per cell of `grid` from a (H, W) bool mask.

    A cell is anomalous (target 1, class `label`) when any of its pixels is. Small objects'
    defects are a few pixels wide; had a cell to be half covered, most of them would label
    no cell at all and never reach the category loss.
    """
    covered = cv2.resize(mask.astype(np.float32), (grid[1], grid[0]), interpolation=cv2.INTER_AREA) > 0
    return covered.astype(np.float32), np.where(covered, label, 0).astype(np.int64)


def upsample_logits(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, K+1, h, w) → (B, K+1, *size), bilinear: the loss is taken on the finer label grid."""
    if tuple(logits.shape[-2:]) == tuple(size):
        return logits
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)


def anomaly_probability(logits: torch.Tensor) -> torch.Tensor:
    """(B, K+1, h, w) → (B, h, w): 1 − p(normal)."""
    return 1.0 - logits.softmax(1)[:, 0]


def focal_loss(prob: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, eps: float = 1e-6) -> torch.Tensor:
    """Binary focal loss (Lin et al.) on anomaly probabilities; soft targets allowed."""
    p = prob.clamp(eps, 1 - eps)
    loss = -(target * (1 - p) ** gamma * torch.log(p) + (1 - target) * p ** gamma * torch.log(1 - p))
    return loss.mean()


def dice_loss(prob: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 − Dice over the whole batch, so all-normal images add false positives but no 0/0."""
    inter = (prob * target).sum()
    return 1.0 - (2 * inter + eps) / (prob.sum() + target.sum() + eps)


def category_ce(logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Cross-entropy among the anomaly categories on anomalous pixels only (the paper ignores normal ones).

    classes: (B, h, w) int64, 0 on normal pixels, k ≥ 1 on category k.
    """
    anomalous = classes > 0
    if not anomalous.any():
        return logits.sum() * 0.0
    per_pixel = logits[:, 1:].permute(0, 2, 3, 1)[anomalous]  # (P, K)
    return F.cross_entropy(per_pixel, classes[anomalous] - 1)


def total_loss(logits: torch.Tensor, target: torch.Tensor, classes: torch.Tensor,
               ce_weight: float = 0.5) -> dict[str, torch.Tensor]:
    """Focal + Dice for detection, `ce_weight` × CE for classification (the paper's weight 0.5)."""
    prob = anomaly_probability(logits)
    parts = {"focal": focal_loss(prob, target), "dice": dice_loss(prob, target), "ce": category_ce(logits, classes)}
    parts["total"] = parts["focal"] + parts["dice"] + ce_weight * parts["ce"]
    return parts


# --- image-level decisions ----------------------------------------------------------------


def image_class(prob_map: np.ndarray, class_probs: np.ndarray, threshold: float) -> tuple[int, float]:
    """(category index ≥ 1, confidence) of one image from its maps.

    prob_map: (H, W) anomaly probability; class_probs: (K, H, W) p(category | anomalous).
    The majority category over pixels above `threshold`; if none is above, over the pixels at
    least half the image's peak, so an anomalous image the detector scores low is still named.
    Confidence: the mean p(category | anomalous) of the winner over those pixels.
    """
    region = prob_map > threshold
    if not region.any():
        region = prob_map >= 0.5 * float(prob_map.max())
    votes = class_probs[:, region].argmax(0)  # (P,)
    best = int(np.bincount(votes, minlength=class_probs.shape[0]).argmax())
    return best + 1, float(class_probs[best][region].mean())


def open_set_threshold(confidences: Sequence[float], correct: Sequence[bool], quantile: float) -> float:
    """Confidence below which an image is called "Other": the `quantile` of the correctly named
    held-out synthetic anomalies' confidences, so about that fraction of known defects is lost."""
    conf = np.asarray(confidences, np.float64)
    ok = np.asarray(correct, bool)
    if conf.shape != ok.shape:
        raise ValueError(f"{conf.size} confidences but {ok.size} correctness flags")
    if not 0.0 <= quantile < 1.0:
        raise ValueError(f"open-set quantile must be in [0, 1), got {quantile}")
    if quantile == 0.0 or not ok.any():
        return 0.0
    return float(np.quantile(conf[ok], quantile))

"""The pure torch core: frozen teachers, the two-branch student, and score normalisation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from methods.backbone import FeatureExtractor


@dataclass
class TeacherOutput:
    stem: torch.Tensor  # (B, 24, S/4, S/4) the student's frozen input (EfficientNet-Lite0 stages 0–1)
    structural: list[torch.Tensor]  # multi-scale local maps (B, C_i, h_i, w_i)
    deep: torch.Tensor  # (B, C_d, h_d, w_d) the logical teacher's whole-image deep features


class Teachers:
    """Both frozen teachers plus the student's frozen stem, in as few backbone passes as the tier allows.

    Embedded: one EfficientNet-Lite0 pass gives the stem (stage 1), the structural maps (stages 2
    and 4) and the deep map (stage 6). Full: a Lite0 pass for the stem, one DINOv2 pass for the
    structural blocks and the last block.
    """

    def __init__(self, tier: str, device: str, image_size: int, layers: tuple[int, ...], vit_layers: tuple[int, ...],
                 deep_layer: int, vit_deep_layer: int):
        self.tier = tier
        if tier == "embedded":
            self.n_struct = len(layers)
            self.lite = FeatureExtractor("embedded", device, image_size, (1, *layers, deep_layer))
            self.vit = None
        else:
            self.n_struct = len(vit_layers)
            self.lite = FeatureExtractor("embedded", device, image_size, (1,))
            self.vit = FeatureExtractor(tier, device, image_size, (*vit_layers, vit_deep_layer))
        chans = self.lite.channels[1:] if self.vit is None else self.vit.channels
        self.struct_channels = list(chans[: self.n_struct])
        self.deep_channels = chans[self.n_struct]

    @torch.inference_mode()
    def __call__(self, images: list[np.ndarray]) -> TeacherOutput:
        maps = self.lite(images)
        if self.vit is None:
            return TeacherOutput(maps[0], list(maps[1 : 1 + self.n_struct]), maps[-1])
        vit = self.vit(images)
        return TeacherOutput(maps[0], list(vit[: self.n_struct]), vit[-1])


class Student(nn.Module):
    """One shared trunk on the frozen stem, two branches.

    Structural branch: 1×1 heads on the stride-8 and stride-16 trunk maps regress the structural
    teacher's scales. Logical branch: the stride-32 map squeezed through a `bottleneck`-wide vector
    (so it cannot copy the input) decodes the deep map and the composition descriptor.
    """

    def __init__(self, struct_channels: list[int], deep_channels: int, desc_dim: int, width: int = 64,
                 bottleneck: int = 32, deep_grid: int = 8):
        super().__init__()
        w = width
        self.block8 = nn.Sequential(
            nn.Conv2d(24, w, 3, 2, 1), nn.ReLU(inplace=True), nn.Conv2d(w, w, 3, 1, 1), nn.ReLU(inplace=True)
        )
        self.block16 = nn.Sequential(
            nn.Conv2d(w, 2 * w, 3, 2, 1), nn.ReLU(inplace=True), nn.Conv2d(2 * w, 2 * w, 3, 1, 1), nn.ReLU(inplace=True)
        )
        self.heads = nn.ModuleList(
            nn.Conv2d(w if i == 0 else 2 * w, c, 1) for i, c in enumerate(struct_channels)
        )
        self.squeeze = nn.Sequential(nn.Conv2d(2 * w, 2 * w, 3, 2, 1), nn.ReLU(inplace=True), nn.Conv2d(2 * w, 16, 1))
        self.deep_grid, self.deep_channels = deep_grid, deep_channels
        self.encode = nn.Linear(16 * deep_grid * deep_grid, bottleneck)
        self.decode_deep = nn.Linear(bottleneck, deep_channels * deep_grid * deep_grid)
        self.decode_desc = nn.Linear(bottleneck, desc_dim)

    def forward(self, stem: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        f8 = self.block8(stem)  # (B, w, S/8, S/8)
        f16 = self.block16(f8)  # (B, 2w, S/16, S/16)
        structural = [head(f8 if i == 0 else f16) for i, head in enumerate(self.heads)]
        g = F.adaptive_avg_pool2d(self.squeeze(f16), self.deep_grid)  # (B, 16, g, g)
        z = F.relu(self.encode(g.flatten(1)))  # (B, bottleneck)
        deep = self.decode_deep(z).view(-1, self.deep_channels, self.deep_grid, self.deep_grid)
        return structural, deep, self.decode_desc(z)


def channel_stats(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of (N, C, h, w) maps, as (1, C, 1, 1) tensors."""
    mean = maps.mean(dim=(0, 2, 3), keepdim=True)
    std = maps.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-4)
    return mean, std


def discrepancy_maps(
    student: tuple[list[torch.Tensor], torch.Tensor, torch.Tensor], struct_t: list[torch.Tensor],
    deep_t: torch.Tensor, desc_t: torch.Tensor, grid: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Squared teacher–student errors, targets already standardised.

    Returns the structural map (B, grid, grid) summed over scales (each averaged over channels), the
    logical deep map (B, grid, grid) and the descriptor error (B,).
    """
    s_struct, s_deep, s_desc = student
    struct = 0
    for s, t in zip(s_struct, struct_t):
        if s.shape[-2:] != t.shape[-2:]:
            s = F.interpolate(s, size=t.shape[-2:], mode="bilinear", align_corners=False)
        err = ((s - t) ** 2).mean(1, keepdim=True)
        struct = struct + F.interpolate(err, size=(grid, grid), mode="bilinear", align_corners=False)
    if s_deep.shape[-2:] != deep_t.shape[-2:]:
        s_deep = F.interpolate(s_deep, size=deep_t.shape[-2:], mode="bilinear", align_corners=False)
    deep = F.interpolate(((s_deep - deep_t) ** 2).mean(1, keepdim=True), size=(grid, grid), mode="bilinear",
                         align_corners=False)
    desc = ((s_desc - desc_t) ** 2).mean(1)
    return struct[:, 0], deep[:, 0], desc


def nearest_cell_distances(deep: torch.Tensor, bank: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """(B, C, h, w) standardised deep maps, (M, C) normal cells → (B, h, w) distance to the nearest normal cell.

    The logical teacher's own novelty: a whole-image cell (stride 32, so it sees a part together
    with its neighbours and its holder) that no normal image contains is far from every bank cell,
    whether or not the student happened to reproduce it.
    """
    b, c, h, w = deep.shape
    cells = deep.permute(0, 2, 3, 1).reshape(-1, c)
    best = torch.full((cells.shape[0],), float("inf"), dtype=cells.dtype, device=cells.device)
    for i in range(0, bank.shape[0], chunk):
        best = torch.minimum(best, torch.cdist(cells, bank[i : i + chunk]).min(1).values)
    return best.view(b, h, w)


def nearest_normal_distances(desc: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """(B, D) standardised composition descriptors, (N, D) the fit normals' → (B,) distance to the nearest.

    The student's regression error says how far a composition is from what the student learned
    to reproduce; this says whether any normal image had it. A normal with an unusual but seen
    layout (two parts touching, a rarer pose) stays close to its twin among the fit normals.
    """
    return torch.cdist(desc, bank).min(1).values


@dataclass
class MapNorm:
    """Maps a raw discrepancy map to units where normal pixels sit below 0 and their 99.5th percentile at 1."""

    low: float
    high: float

    @classmethod
    def fit(cls, maps: np.ndarray, q_low: float = 0.5, q_high: float = 0.995) -> "MapNorm":
        low, high = np.quantile(maps, [q_low, q_high])
        return cls(float(low), float(max(high, low + 1e-6)))

    def __call__(self, x):
        return (x - self.low) / (self.high - self.low)


@dataclass
class ScoreNorm:
    """z-score of an image score against the held-out normals; std floored so a constant branch cannot explode."""

    mean: float
    std: float

    @classmethod
    def fit(cls, scores: np.ndarray, floor: float) -> "ScoreNorm":
        scores = np.asarray(scores, np.float64)
        return cls(float(scores.mean()), float(max(scores.std(), floor)))

    def __call__(self, x: float) -> float:
        return (x - self.mean) / self.std

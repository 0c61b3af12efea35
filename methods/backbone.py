"""Multi-scale patch features from the tier's vision backbone, shared by the methods.

Embedded: EfficientNet-Lite0 stages (stride 8: 40 ch, stride 16: 112 ch). Full: DINOv2
(a timm ViT) intermediate blocks (stride 14). Images are resized to a square `image_size`, the
convention of MVTec-style pipelines; maps go back to each input's own size.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import hub

# EfficientNet-Lite0 blocks index → (channels, stride).
LITE0_STAGES = {0: (16, 2), 1: (24, 4), 2: (40, 8), 3: (80, 16), 4: (112, 16), 5: (192, 32), 6: (320, 32)}


def to_tensor(images: list[np.ndarray], size: int, mean, std, device: str) -> torch.Tensor:
    """uint8 (H, W, 3) arrays → normalised float batch (B, 3, size, size)."""
    batch = []
    for img in images:
        t = torch.from_numpy(np.array(img, dtype=np.float32)).permute(2, 0, 1).div_(255.0)
        if t.shape[1:] != (size, size):
            t = F.interpolate(t[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
        batch.append(t)
    x = torch.stack(batch).to(device)
    mean_t = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=device).view(1, 3, 1, 1)
    return (x - mean_t) / std_t


class FeatureExtractor:
    """images → list of feature maps (B, C_i, h_i, w_i), one per requested layer."""

    def __init__(self, tier: str, device: str = "cpu", image_size: int = 256, layers: tuple[int, ...] = (2, 4)):
        self.tier, self.device, self.image_size, self.layers = tier, device, image_size, tuple(layers)
        self.model = hub.load("backbone", tier=tier, device=device)
        if tier == "embedded":
            bad = [i for i in self.layers if i not in LITE0_STAGES]
            if bad:
                raise ValueError(f"EfficientNet-Lite0 has stages 0–6; got {bad}")
            cfg = self.model.pretrained_cfg
            self.mean, self.std = cfg["mean"], cfg["std"]
            self.channels = [LITE0_STAGES[i][0] for i in self.layers]
        else:
            cfg = self.model.pretrained_cfg
            self.mean, self.std = cfg["mean"], cfg["std"]
            patch = self.model.patch_embed.patch_size[0]
            self.image_size = max(patch, image_size // patch * patch)
            self.channels = [self.model.embed_dim for _ in self.layers]

    @torch.inference_mode()
    def __call__(self, images: list[np.ndarray]) -> list[torch.Tensor]:
        x = to_tensor(images, self.image_size, self.mean, self.std, self.device)
        if self.tier == "embedded":
            return self._lite0(x)
        return self._vit(x)

    def _lite0(self, x: torch.Tensor) -> list[torch.Tensor]:
        m = self.model
        x = m.bn1(m.conv_stem(x))
        out = []
        for i, block in enumerate(m.blocks[: max(self.layers) + 1]):
            x = block(x)
            if i in self.layers:
                out.append(x)
        return out

    def _vit(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Patch tokens of the chosen transformer blocks as (B, C, H/14, W/14) maps."""
        return self.model.forward_intermediates(x, indices=list(self.layers), output_fmt="NCHW", intermediates_only=True)


def patch_features(maps: list[torch.Tensor], neighbourhood: int = 3) -> torch.Tensor:
    """Aggregate each layer over a local neighbourhood, upsample to the finest grid, concatenate.

    (B, C_i, h_i, w_i) list → (B, sum C_i, h_0, w_0). The neighbourhood average is
    PatchCore's locally aware patch feature: it widens the receptive field cheaply.
    """
    h, w = maps[0].shape[-2:]
    out = []
    for fmap in maps:
        if neighbourhood > 1:
            fmap = F.avg_pool2d(fmap, neighbourhood, stride=1, padding=neighbourhood // 2, count_include_pad=False)
        if fmap.shape[-2:] != (h, w):
            fmap = F.interpolate(fmap, size=(h, w), mode="bilinear", align_corners=False)
        out.append(fmap)
    return torch.cat(out, dim=1)


def upsample_map(patch_map: np.ndarray | torch.Tensor, size: tuple[int, int], sigma: float = 4.0) -> np.ndarray:
    """(h, w) patch scores → (H, W) float32 at the image's resolution, Gaussian-smoothed.

    sigma is in pixels of a 256-px image and scales with the output size, so the same
    config smooths alike at any resolution.
    """
    import cv2

    t = torch.as_tensor(patch_map, dtype=torch.float32).cpu()
    full = F.interpolate(t[None, None], size=size, mode="bilinear", align_corners=False)[0, 0].numpy()
    if sigma > 0:
        s = sigma * max(size) / 256.0
        full = cv2.GaussianBlur(full, (0, 0), sigmaX=s, sigmaY=s, borderType=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(full, dtype=np.float32)

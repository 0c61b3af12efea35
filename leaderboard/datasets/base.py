"""What every dataset reader returns: sorted normal images and labelled test samples."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from hub.images import load_image, load_mask


class DatasetError(ValueError):
    """A folder that is not a usable dataset; the message names the path and what is wrong."""


@dataclass(frozen=True)
class DefectSpec:
    """One defect type of a MVTec LOCO `defects_config.json` (used by sPRO)."""

    name: str
    pixel_value: int
    saturation_threshold: float
    relative_saturation: bool


@dataclass
class Sample:
    path: Path
    label: int  # 0 normal, 1 anomalous
    defect_type: str  # folder name under test/: "good", "logical_anomalies", "scratch", ...
    kind: Optional[str] = None  # "logical" | "structural" where the layout says so, else None
    mask_paths: list[Path] = field(default_factory=list)  # LOCO may hold several per image

    @property
    def image_id(self) -> str:
        return self.path.stem

    def image(self) -> np.ndarray:
        return load_image(self.path)

    def masks(self) -> list[np.ndarray]:
        """Raw masks with stored values kept (LOCO's pixel_value), one per mask file."""
        return [load_mask(p) for p in self.mask_paths]

    def mask(self, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Union of all masks as bool (H, W); all-False for normals or anomalies without masks."""
        masks = self.masks()
        if not masks:
            if shape is None:
                shape = self.image().shape[:2]
            return np.zeros(shape, dtype=bool)
        out = np.zeros(masks[0].shape, dtype=bool)
        for m in masks:
            if m.shape != out.shape:
                raise DatasetError(f"{self.path}: its mask files have different sizes")
            out |= m > 0
        return out


@dataclass
class Dataset:
    root: Path
    category: str
    layout: str  # "mvtec_ad" | "mvtec_loco" | "visa" | "vid_ad" | "folder"
    train: list[Path]  # normal training images, sorted
    validation: list[Path]  # normal validation images, sorted (may be empty)
    test: list[Sample]
    defects: dict[int, DefectSpec] = field(default_factory=dict)  # LOCO: pixel_value → spec

    @property
    def has_kinds(self) -> bool:
        return any(s.kind is not None for s in self.test)

    @property
    def has_masks(self) -> bool:
        """False for image-level datasets (VID-AD, class folders): pixel metrics do not apply."""
        return any(s.mask_paths for s in self.test if s.label == 1)

    def summary(self) -> str:
        n_anom = sum(s.label for s in self.test)
        return (
            f"{self.layout} {self.category}: {len(self.train)} train, {len(self.validation)} validation, "
            f"{len(self.test)} test ({len(self.test) - n_anom} good, {n_anom} anomalous)"
        )

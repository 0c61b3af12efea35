"""MVTec AD and MVTec LOCO AD: the same tree, with ground truth stored differently.

MVTec AD: one binary mask per anomalous image, `ground_truth/<defect>/<stem>_mask.png`
(`<stem>.png` is accepted too, as in BTAD and anomalib's VisA conversion).
MVTec LOCO: a folder per anomalous image, `ground_truth/<type>/<stem>/000.png, 001.png…`,
one file per defect instance whose foreground value is that defect's `pixel_value` in
`defects_config.json`. A `ground_truth/good/` folder, present in some releases, is not read:
normal images have no defect regions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from leaderboard.datasets._files import finish, list_images, normal_images, scan, test_folders
from leaderboard.datasets._registry import register_category_layout
from leaderboard.datasets.base import Dataset, DatasetError, DefectSpec, Sample

LOCO_TYPES = {"logical_anomalies": "logical", "structural_anomalies": "structural"}
_CONFIG_KEYS = ("defect_name", "pixel_value", "saturation_threshold", "relative_saturation")


def _looks_like_ad(folder: Path) -> bool:
    return (folder / "test").is_dir() and ((folder / "train" / "good").is_dir() or (folder / "ground_truth").is_dir())


def _looks_like_loco(folder: Path) -> bool:
    test = folder / "test"
    has_loco_extras = (folder / "validation").is_dir() or (folder / "ground_truth").is_dir()
    return (
        (folder / "defects_config.json").is_file()
        or (test / "structural_anomalies").is_dir()
        or ((test / "logical_anomalies").is_dir() and has_loco_extras)
    )


@register_category_layout(
    "mvtec_ad",
    needs="train/good/, test/good/, test/<defect>/ and masks ground_truth/<defect>/<stem>_mask.png",
    priority=40,
    looks_like=_looks_like_ad,
)
def read_mvtec_ad(cat_dir: Path, validate: bool) -> Dataset:
    train = normal_images(cat_dir, "train", "MVTec AD", required=True)
    validation = normal_images(cat_dir, "validation", "MVTec AD", required=False)
    test: list[Sample] = []
    for folder in test_folders(cat_dir, "MVTec AD"):
        images = list_images(folder)
        if folder.name == "good":
            test += [Sample(p, 0, "good") for p in images]
            continue
        gt_dir = cat_dir / "ground_truth" / folder.name
        masks = {p.stem: p for p in scan(gt_dir)[0]} if gt_dir.is_dir() else {}
        for path in images:
            mask = masks.get(f"{path.stem}_mask") or masks.get(path.stem)
            if mask is None:
                raise DatasetError(
                    f"{path}: anomalous but its mask {gt_dir / (path.stem + '_mask.png')} is missing "
                    "(for image-level labels without masks, open the folder with layout='folder')"
                )
            test.append(Sample(path, 1, folder.name, mask_paths=[mask]))
    return finish(Dataset(cat_dir, cat_dir.name, "mvtec_ad", train, validation, test), validate)


@dataclass
class LocoSample(Sample):
    """A LOCO test image whose masks are checked against `defects_config.json` when loaded."""

    defects: dict[int, DefectSpec] = field(default_factory=dict, repr=False)
    config_path: Optional[Path] = None

    def masks(self) -> list[np.ndarray]:
        masks = super().masks()
        for path, mask in zip(self.mask_paths, masks):
            unknown = sorted(set(np.unique(mask).tolist()) - {0} - set(self.defects))
            if unknown:
                listed = ", ".join(str(v) for v in sorted(self.defects)) or "none"
                raise DatasetError(
                    f"{path}: pixel value {unknown[0]} is not listed in {self.config_path} (listed: {listed})"
                )
        return masks


def _bad_config(path: Path, problem: str) -> DatasetError:
    return DatasetError(
        f"{path}: {problem}; expected a JSON list of objects with keys {', '.join(_CONFIG_KEYS)}"
    )


def read_defects_config(path: Path) -> dict[int, DefectSpec]:
    """MVTec LOCO's `defects_config.json` as pixel_value → DefectSpec, refusing anything sPRO could misread."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing; MVTec LOCO needs it to map mask pixel values to defect types")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad_config(path, f"not valid JSON ({exc})") from None
    if not isinstance(entries, list) or not entries:
        raise _bad_config(path, "not a non-empty list")
    defects: dict[int, DefectSpec] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _bad_config(path, f"entry {i} is not an object")
        missing = [k for k in _CONFIG_KEYS if k not in entry]
        if missing:
            raise _bad_config(path, f"entry {i} lacks {', '.join(missing)}")
        name, value = entry["defect_name"], entry["pixel_value"]
        threshold, relative = entry["saturation_threshold"], entry["relative_saturation"]
        if not isinstance(name, str) or not name:
            raise _bad_config(path, f"entry {i}: defect_name must be a non-empty string")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 255:
            raise _bad_config(path, f"entry {i} ({name}): pixel_value must be an integer from 1 to 255, got {value!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
            raise _bad_config(path, f"entry {i} ({name}): saturation_threshold must be a positive number")
        if not isinstance(relative, bool):
            raise _bad_config(path, f"entry {i} ({name}): relative_saturation must be true or false")
        if value in defects:
            raise _bad_config(path, f"pixel_value {value} is used by both {defects[value].name} and {name}")
        defects[value] = DefectSpec(name, value, float(threshold), relative)
    return defects


@register_category_layout(
    "mvtec_loco",
    needs="defects_config.json, train/good/, test/good|logical_anomalies|structural_anomalies/ "
    "and mask folders ground_truth/<type>/<stem>/000.png",
    priority=20,
    looks_like=_looks_like_loco,
)
def read_mvtec_loco(cat_dir: Path, validate: bool) -> Dataset:
    config = cat_dir / "defects_config.json"
    defects = read_defects_config(config)
    train = normal_images(cat_dir, "train", "MVTec LOCO", required=True)
    validation = normal_images(cat_dir, "validation", "MVTec LOCO", required=False)
    test: list[Sample] = []
    for folder in test_folders(cat_dir, "MVTec LOCO"):
        if folder.name != "good" and folder.name not in LOCO_TYPES:
            raise DatasetError(f"{folder}: unexpected test folder; MVTec LOCO has good, {', '.join(LOCO_TYPES)}")
        for path in list_images(folder):
            if folder.name == "good":
                test.append(LocoSample(path, 0, "good", defects=defects, config_path=config))
                continue
            mask_dir = cat_dir / "ground_truth" / folder.name / path.stem
            if not mask_dir.is_dir():
                raise DatasetError(f"{path}: anomalous but its mask folder {mask_dir} is missing")
            test.append(
                LocoSample(path, 1, folder.name, LOCO_TYPES[folder.name], list_images(mask_dir), defects, config)
            )
    return finish(Dataset(cat_dir, cat_dir.name, "mvtec_loco", train, validation, test, defects), validate)

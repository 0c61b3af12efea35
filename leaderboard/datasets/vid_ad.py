"""VID-AD: image-level logical anomalies under five capture conditions, one folder per (scenario, condition).

`<Scenario>[_Cable_BG|_Mesh_BG|_Blurry_CD|_Low-light_CD]/train/good/`, `test/good/` and
`test/logical_anomalies/`, the latter with one subfolder per violation (`Single-Aspect-A/`,
`Dual-Aspects/`…) or images directly. There are no masks: `Dataset.has_masks` is False.
A sample's `defect_type` is its path under `test/`, e.g. "logical_anomalies/Dual-Aspects",
so that (defect_type, image_id) stays unique when subfolders reuse file names.
"""
from __future__ import annotations

from pathlib import Path

from leaderboard.datasets._files import finish, list_images, normal_images, scan, test_folders
from leaderboard.datasets._registry import register_category_layout
from leaderboard.datasets.base import Dataset, DatasetError, Sample

VID_AD_CONDITIONS = ("white_bg", "cable_bg", "mesh_bg", "blurry", "low_light")
_SUFFIXES = {"_cable_bg": "cable_bg", "_mesh_bg": "mesh_bg", "_blurry_cd": "blurry", "_low-light_cd": "low_light"}


def vid_ad_condition(category: str) -> tuple[str, str]:
    """("Fruits", "cable_bg") for "Fruits_Cable_BG"; a folder without a condition suffix is the white background."""
    lowered = category.lower()
    for suffix, condition in _SUFFIXES.items():
        if lowered.endswith(suffix) and len(category) > len(suffix):
            return category[: -len(suffix)], condition
    return category, "white_bg"


def _looks_like_vid_ad(folder: Path) -> bool:
    test = folder / "test"
    return (
        (test / "logical_anomalies").is_dir()
        and not (test / "structural_anomalies").is_dir()
        and not (folder / "defects_config.json").exists()
    )


@register_category_layout(
    "vid_ad",
    needs="train/good/, test/good/ and test/logical_anomalies/[<violation>/] (no structural_anomalies/)",
    priority=30,
    looks_like=_looks_like_vid_ad,
)
def read_vid_ad(cat_dir: Path, validate: bool) -> Dataset:
    train = normal_images(cat_dir, "train", "VID-AD", required=True)
    validation = normal_images(cat_dir, "validation", "VID-AD", required=False)
    test: list[Sample] = []
    for folder in test_folders(cat_dir, "VID-AD"):
        if folder.name == "good":
            test += [Sample(p, 0, "good") for p in list_images(folder)]
        elif folder.name == "logical_anomalies":
            images, violations = scan(folder)
            if not images and not violations:
                raise DatasetError(f"{folder}: holds no images")
            test += [Sample(p, 1, folder.name, "logical") for p in images]
            for sub in violations:
                test += [Sample(p, 1, f"{folder.name}/{sub.name}", "logical") for p in list_images(sub)]
        else:
            raise DatasetError(f"{folder}: unexpected test folder; VID-AD has good and logical_anomalies")
    return finish(Dataset(cat_dir, cat_dir.name, "vid_ad", train, validation, test), validate)

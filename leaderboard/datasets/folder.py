"""A plain folder of your own images, tried last. Three shapes, chosen by what the folder holds:

- flat (images only): all are normal training images, for fitting; no test set.
- class folders (`good/`, `scratch/`…, no train/ or test/): a test set, `good/` normal and every
  other folder anomalous under its own name; no training images.
- splits (`train/`, `validation/`, `test/`, any of them): `train/` and `validation/` hold normal
  images directly or in `good/`; `test/` holds class folders as above.

Labels are image-level only (no masks). Images directly beside class or split folders are an
error, because their label would be a guess. Auto-detection reads `train/good/` + `test/` as
MVTec AD, which demands masks; pass layout="folder" for such a tree without them.
"""
from __future__ import annotations

from pathlib import Path

from leaderboard.datasets._files import finish, has_images, list_images, scan
from leaderboard.datasets._registry import register_category_layout
from leaderboard.datasets.base import Dataset, DatasetError, Sample

_SPLITS = ("train", "validation", "test")


def _looks_like_folder(folder: Path) -> bool:
    return has_images(folder) or (folder / "good").is_dir() or any((folder / s).is_dir() for s in _SPLITS)


def _normals(folder: Path) -> list[Path]:
    """`folder/*` or `folder/good/*`, not both."""
    images, folders = scan(folder)
    if images and folders:
        raise DatasetError(f"{folder}: holds both images and folders; keep normal images directly in it or in good/")
    if folders:
        if [f.name for f in folders] != ["good"]:
            odd = next(f for f in folders if f.name != "good")
            raise DatasetError(f"{odd}: unexpected folder; {folder.name}/ holds normal images directly or in good/")
        return list_images(folders[0])
    if not images:
        raise DatasetError(f"{folder}: holds no images")
    return images


def _classes(folders: list[Path]) -> list[Sample]:
    samples: list[Sample] = []
    for folder in folders:
        label = 0 if folder.name == "good" else 1
        samples += [Sample(p, label, folder.name) for p in list_images(folder)]
    return samples


@register_category_layout(
    "folder",
    needs="images (all normal), class folders good/ + <defect>/, or train/ [validation/] [test/<class>/]",
    priority=100,
    looks_like=_looks_like_folder,
)
def read_folder(root: Path, validate: bool) -> Dataset:
    images, folders = scan(root, strict=False)
    names = [f.name for f in folders]
    train: list[Path] = []
    validation: list[Path] = []
    test: list[Sample] = []
    if any(s in names for s in _SPLITS):
        if images:
            raise DatasetError(f"{images[0]}: image beside the split folders in {root}; move it into train/ or test/")
        odd = [f for f in folders if f.name not in _SPLITS]
        if odd:
            raise DatasetError(f"{odd[0]}: unexpected folder; the folder layout reads only train/, validation/, test/")
        if "train" in names:
            train = _normals(root / "train")
        if "validation" in names:
            validation = _normals(root / "validation")
        if "test" in names:
            test_images, classes = scan(root / "test")
            if test_images:
                raise DatasetError(
                    f"{test_images[0]}: test images need a class folder (test/good/ or test/<defect>/) for their label"
                )
            if not classes:
                raise DatasetError(f"{root / 'test'}: holds no class folders")
            test = _classes(classes)
    elif folders:
        if images:
            raise DatasetError(
                f"{root}: holds both images and class folders; put the loose images in good/ or a defect folder"
            )
        if "good" not in names:
            raise DatasetError(f"{root / 'good'}: missing; class folders need good/ for the normal images")
        test = _classes(folders)
    elif images:
        train = list_images(root)
    else:
        raise DatasetError(f"{root}: holds no images")
    return finish(Dataset(root, root.name, "folder", train, validation, test), validate)

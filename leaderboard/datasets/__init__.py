"""Dataset readers behind one call: `open_dataset(root, category)` recognises the layout and reads it.

Each layout family is one module that registers itself in `LAYOUTS`; this file imports each
explicitly so the registry is complete after `import leaderboard.datasets`. `root` may be the
dataset root (pass `category`) or one category folder. A folder that is not a usable dataset
raises one `DatasetError` naming the path and what is wrong.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from hub.registry import UnknownNameError
from leaderboard.datasets._files import IMAGE_EXTENSIONS
from leaderboard.datasets._registry import (
    LAYOUTS, Layout, by_priority, category_dir, missing_category, several_categories,
)
from leaderboard.datasets.base import Dataset, DatasetError, DefectSpec, Sample

PathLike = Union[str, os.PathLike]


def _existing_folder(root: PathLike) -> Path:
    path = Path(root).expanduser()
    if not path.exists():
        raise DatasetError(f"{path}: no such folder")
    if not path.is_dir():
        raise DatasetError(f"{path}: is a file, not a dataset folder")
    return path


def _categories(root: Path) -> list[str]:
    return sorted({c for layout in by_priority() for c in layout.categories(root)})


def detect_layout(root: PathLike, category: Optional[str] = None) -> str:
    """The first registered layout, by priority, that recognises `root` (and `category`)."""
    path = _existing_folder(root)
    for layout in by_priority():
        if layout.detect(path, category):
            return layout.name
    if category is not None and category_dir(path, category) is None:
        raise missing_category(path, category, _categories(path))
    if category is None and _categories(path):
        raise several_categories(path, _categories(path))
    where = category_dir(path, category) or path
    tried = "\n".join(f"  {layout.name}: needs {layout.needs}" for layout in by_priority())
    raise DatasetError(f"{where}: layout not recognised. Tried:\n{tried}")


def open_dataset(
    root: PathLike, category: Optional[str] = None, layout: str = "auto", *, validate: bool = True
) -> Dataset:
    """Read one category; `validate` opens every image and mask header now so a broken file fails here."""
    path = _existing_folder(root)
    try:
        name = detect_layout(path, category) if layout == "auto" else layout
        reader = LAYOUTS.get(name)
        return reader.read(path, category, validate)
    except UnknownNameError as exc:
        raise DatasetError(f"{exc} (or 'auto')") from None
    except PermissionError as exc:
        raise DatasetError(f"{exc.filename}: permission denied") from None


from leaderboard.datasets import folder, mvtec, vid_ad, visa  # noqa: E402,F401  (registration side effects)
from leaderboard.datasets.mvtec import LocoSample, read_defects_config  # noqa: E402
from leaderboard.datasets.vid_ad import VID_AD_CONDITIONS, vid_ad_condition  # noqa: E402

__all__ = [
    "Dataset", "DatasetError", "DefectSpec", "IMAGE_EXTENSIONS", "LAYOUTS", "Layout", "LocoSample", "Sample",
    "VID_AD_CONDITIONS", "detect_layout", "open_dataset", "read_defects_config", "vid_ad_condition",
]

"""Listing and checking image files, so that no image is skipped silently and a broken one is named.

Files are sorted by plain name order (`sorted` on the file name, so `10.png` comes before
`2.png`): the datasets we read use zero-padded names, and `--shots N` takes the first N
training images in this order. Hidden files (`.DS_Store`, `._x.png`), `Thumbs.db` and
`desktop.ini` are ignored; any other non-image file inside an image folder is an error.
"""
from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import Iterable

from PIL import Image

from hub.images import MAX_PIXELS
from leaderboard.datasets.base import Dataset, DatasetError

IMAGE_EXTENSIONS = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
_JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini"})


def is_junk(path: Path) -> bool:
    return path.name.startswith(".") or path.name.lower() in _JUNK_NAMES


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def subfolders(path: Path) -> list[Path]:
    """Non-hidden subfolders sorted by name; [] when `path` is not a folder."""
    if not path.is_dir():
        return []
    return sorted((p for p in path.iterdir() if p.is_dir() and not is_junk(p)), key=lambda p: p.name)


def has_images(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() and is_image(p) and not is_junk(p) for p in folder.iterdir())


def scan(folder: Path, *, strict: bool = True) -> tuple[list[Path], list[Path]]:
    """Images and subfolders of `folder`, sorted by name; other files raise when `strict`, else are ignored."""
    images: list[Path] = []
    folders: list[Path] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if is_junk(path):
            continue
        if path.is_dir():
            folders.append(path)
        elif is_image(path):
            images.append(path)
        elif strict:
            raise DatasetError(
                f"{path}: not an image file (accepted: {', '.join(IMAGE_EXTENSIONS)}, any case); "
                f"move it out of {folder} or convert it, files are never skipped silently"
            )
    seen: dict[str, Path] = {}
    for path in images:
        if path.stem in seen:
            raise DatasetError(
                f"{folder}: two images share the name {path.stem!r} ({seen[path.stem].name}, {path.name}); "
                "rename one, masks and results are matched by name"
            )
        seen[path.stem] = path
    return images, folders


def list_images(folder: Path) -> list[Path]:
    """The images of a folder that must hold images and nothing else."""
    images, folders = scan(folder)
    if folders:
        raise DatasetError(f"{folders[0]}: unexpected folder inside {folder}, which should hold only images")
    if not images:
        raise DatasetError(f"{folder}: holds no images")
    return images


def normal_images(cat_dir: Path, split: str, layout: str, *, required: bool) -> list[Path]:
    """`<split>/good` of an MVTec-style category; missing is an error only when `required`, empty always is."""
    folder = cat_dir / split / "good"
    if not folder.is_dir():
        if required:
            raise DatasetError(f"{folder}: missing; {layout} keeps its normal {split} images in {split}/good/")
        return []
    return list_images(folder)


def test_folders(cat_dir: Path, layout: str) -> list[Path]:
    """The class folders under `test/`: `good/` and at least one anomalous one, else the tree is truncated."""
    test_dir = cat_dir / "test"
    if not test_dir.is_dir():
        raise DatasetError(f"{test_dir}: missing; {layout} keeps its test images in test/good/ and test/<defect>/")
    images, folders = scan(test_dir)
    if images:
        raise DatasetError(
            f"{images[0]}: image directly in {test_dir}; {layout} labels test images by their folder, "
            "test/good/ or test/<defect>/"
        )
    names = [f.name for f in folders]
    if "good" not in names:
        raise DatasetError(f"{test_dir / 'good'}: missing; {layout} keeps its normal test images there")
    if names == ["good"]:
        raise DatasetError(f"{test_dir}: holds only good/, no folder of anomalous test images")
    return folders


def check_readable(paths: Iterable[Path]) -> None:
    """Read each header and verify the file where PIL can (PNG), so a broken file is named at open, not mid-run."""
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as img:
                    width, height = img.size
                    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
                        raise DatasetError(
                            f"{path}: image is {width}×{height} pixels, outside 1 to {MAX_PIXELS:,} pixels"
                        )
                    img.verify()
        except DatasetError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, struct.error,
                Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DatasetError(f"{path}: unreadable image ({exc})") from None


def finish(dataset: Dataset, validate: bool) -> Dataset:
    """Return `dataset`, after checking every image and mask file it names when `validate`."""
    if validate:
        check_readable(dataset.train)
        check_readable(dataset.validation)
        check_readable(s.path for s in dataset.test)
        check_readable(p for s in dataset.test for p in s.mask_paths)
    return dataset

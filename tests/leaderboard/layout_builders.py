"""Tiny dataset trees in the real layouts, for tests of the readers and of anything that reads datasets.

Import from tests in this folder with `from layout_builders import make_mvtec_ad` (pytest puts
the test file's folder on sys.path). Synthetic images are 8×8 by default: normals are a
grey gradient that varies with the index, anomalies add a bright square where the mask is.
Every builder returns the category folder (VisA: the VisA root).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np
from PIL import Image

# (defect_name, pixel_value, saturation_threshold, relative_saturation), as in a real defects_config.json
DEFAULT_LOCO_DEFECTS = (("missing_part", 37, 1.0, True), ("scratch", 91, 20, False))
VID_AD_SUFFIXES = {"white_bg": "", "cable_bg": "_Cable_BG", "mesh_bg": "_Mesh_BG",
                   "blurry": "_Blurry_CD", "low_light": "_Low-light_CD"}

# (folder key, index) → (H, W, 3) uint8; keys are "train", "validation", "good" and the anomaly folder names
ImageSource = Union[Mapping[str, Sequence[np.ndarray]], Callable[[str, int], np.ndarray]]
# (anomaly folder, index, (H, W)) → one (region, pixel_value) per defect instance
MaskSource = Callable[[str, int, tuple[int, int]], list[tuple[np.ndarray, int]]]


def save_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array)).save(path)
    return path


def save_image_as(path: Path, array: np.ndarray, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


def normal_image(index: int, size: tuple[int, int] = (8, 8)) -> np.ndarray:
    h, w = size
    ramp = np.linspace(40, 120, w, dtype=np.float32)[None, :].repeat(h, axis=0)
    grey = (ramp + 3 * (index % 10)).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def square(index: int, size: tuple[int, int] = (8, 8)) -> np.ndarray:
    """A bool region of about a quarter of the image, moved by `index` so instances do not coincide."""
    h, w = size
    out = np.zeros(size, dtype=bool)
    sh, sw = max(1, h // 4), max(1, w // 4)
    top, left = (index * sh) % (h - sh + 1), (index * 2 * sw) % (w - sw + 1)
    out[top: top + sh, left: left + sw] = True
    return out


def with_defect(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[region] = 250
    return out


def _source(images: Optional[ImageSource], key: str, index: int, size: tuple[int, int]) -> np.ndarray:
    if images is None:
        return normal_image(index, size)
    if callable(images):
        return images(key, index)
    return images[key][index]


def _count(images: Optional[ImageSource], key: str, default: int) -> int:
    if images is not None and not callable(images) and key in images:
        return len(images[key])
    return default


def make_mvtec_ad(
    root: Path,
    category: str = "widget",
    *,
    n_train: int = 3,
    n_good: int = 2,
    defects: Optional[Mapping[str, int]] = None,
    size: tuple[int, int] = (8, 8),
    ext: str = ".png",
) -> Path:
    """`<category>/train/good`, `test/good|<defect>`, `ground_truth/<defect>/<stem>_mask.png` (0/255).

    `defects` maps defect folder → image count, {"crack": 2, "scratch": 1} by default.
    """
    cat = Path(root) / category
    defects = {"crack": 2, "scratch": 1} if defects is None else defects
    for i in range(n_train):
        save_png(cat / "train" / "good" / f"{i:03d}{ext}", normal_image(i, size))
    for i in range(n_good):
        save_png(cat / "test" / "good" / f"{i:03d}{ext}", normal_image(i + 50, size))
    for defect, n in defects.items():
        for i in range(n):
            region = square(i, size)
            save_png(cat / "test" / defect / f"{i:03d}{ext}", with_defect(normal_image(i, size), region))
            save_png(cat / "ground_truth" / defect / f"{i:03d}_mask.png", region.astype(np.uint8) * 255)
    return cat


def make_mvtec_loco(
    root: Path,
    category: str = "box",
    *,
    n_train: int = 3,
    n_validation: int = 1,
    n_good: int = 2,
    n_logical: int = 2,
    n_structural: int = 1,
    instances: int = 1,
    defects: Sequence[tuple[str, int, float, bool]] = DEFAULT_LOCO_DEFECTS,
    images: Optional[ImageSource] = None,
    masks: Optional[MaskSource] = None,
    size: tuple[int, int] = (8, 8),
) -> Path:
    """A MVTec LOCO category; real photographs can be passed as `images` (a mapping of lists or a callable).

    With a mapping, each key present sets that folder's count. Default masks: `instances`
    squares per anomalous image, valued with the first defect's pixel_value for logical and
    the last one's for structural anomalies.
    """
    cat = Path(root) / category
    counts = {"train": n_train, "validation": n_validation, "good": n_good,
              "logical_anomalies": n_logical, "structural_anomalies": n_structural}
    counts = {key: _count(images, key, n) for key, n in counts.items()}
    folders = {"train": cat / "train" / "good", "validation": cat / "validation" / "good",
               "good": cat / "test" / "good", "logical_anomalies": cat / "test" / "logical_anomalies",
               "structural_anomalies": cat / "test" / "structural_anomalies"}
    values = {"logical_anomalies": defects[0][1], "structural_anomalies": defects[-1][1]}
    for key, n in counts.items():
        for i in range(n):
            image = _source(images, key, i, size)
            if key in values:
                shape = image.shape[:2]
                if masks is None:
                    regions = [(square(i + j, shape), values[key]) for j in range(instances)]
                else:
                    regions = masks(key, i, shape)
                for j, (region, value) in enumerate(regions):
                    save_png(cat / "ground_truth" / key / f"{i:03d}" / f"{j:03d}.png", region.astype(np.uint8) * value)
                    if images is None:
                        image = with_defect(image, region)
            save_png(folders[key] / f"{i:03d}.png", image)
    config = [{"defect_name": n, "pixel_value": v, "saturation_threshold": t, "relative_saturation": r}
              for n, v, t, r in defects]
    (cat / "defects_config.json").write_text(json.dumps(config, indent=2))
    return cat


def make_visa(
    root: Path,
    categories: Sequence[str] = ("candle",),
    *,
    n_train: int = 3,
    n_good: int = 2,
    n_anomaly: int = 2,
    size: tuple[int, int] = (8, 8),
) -> Path:
    """`<object>/Data/Images/{Normal,Anomaly}/*.JPG`, `<object>/Data/Masks/Anomaly/*.png`, split_csv/1cls.csv."""
    root = Path(root)
    rows = []
    for obj in categories:
        for i in range(n_train + n_good):
            rel = f"{obj}/Data/Images/Normal/{i:04d}.JPG"
            save_image_as(root / rel, normal_image(i, size), "JPEG")
            rows.append([obj, "train" if i < n_train else "test", "normal", rel, ""])
        for i in range(n_anomaly):
            rel, mask_rel = f"{obj}/Data/Images/Anomaly/{i:03d}.JPG", f"{obj}/Data/Masks/Anomaly/{i:03d}.png"
            region = square(i, size)
            save_image_as(root / rel, with_defect(normal_image(i, size), region), "JPEG")
            save_png(root / mask_rel, region.astype(np.uint8))  # VisA masks hold instance ids, not 255
            rows.append([obj, "test", "anomaly", rel, mask_rel])
    (root / "split_csv").mkdir(parents=True, exist_ok=True)
    with (root / "split_csv" / "1cls.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["object", "split", "label", "image", "mask"])
        writer.writerows(rows)
    return root


def make_vid_ad(
    root: Path,
    scenario: str = "Fruits",
    condition: str = "white_bg",
    *,
    n_train: int = 3,
    n_good: int = 2,
    violations: Optional[Mapping[str, int]] = None,
    size: tuple[int, int] = (8, 8),
) -> Path:
    """`<Scenario><suffix>/train/good`, `test/good`, `test/logical_anomalies/<violation>/` and no masks.

    `violations` maps subfolder → count, {"Single-Aspect-A": 1, "Dual-Aspects": 2} by default;
    the key "" puts those images directly in logical_anomalies/.
    """
    violations = {"Single-Aspect-A": 1, "Dual-Aspects": 2} if violations is None else violations
    cat = Path(root) / f"{scenario}{VID_AD_SUFFIXES[condition]}"
    for i in range(n_train):
        save_png(cat / "train" / "good" / f"{i:03d}.png", normal_image(i, size))
    for i in range(n_good):
        save_png(cat / "test" / "good" / f"{i:03d}.png", normal_image(i + 50, size))
    for violation, n in violations.items():
        folder = cat / "test" / "logical_anomalies" / violation if violation else cat / "test" / "logical_anomalies"
        for i in range(n):
            save_png(folder / f"{i:03d}.png", with_defect(normal_image(i, size), square(i, size)))
    return cat


def make_image_folder(
    root: Path,
    name: str = "mine",
    *,
    train: int = 0,
    classes: Optional[Mapping[str, int]] = None,
    size: tuple[int, int] = (8, 8),
) -> Path:
    """A plain folder: `train` images flat in it when `classes` is empty, else in train/ beside test/<class>/."""
    folder = Path(root) / name
    classes = classes or {}
    flat = not classes
    for i in range(train):
        save_png((folder if flat else folder / "train") / f"{i:03d}.png", normal_image(i, size))
    for cls, n in classes.items():
        for i in range(n):
            image = normal_image(i, size) if cls == "good" else with_defect(normal_image(i, size), square(i, size))
            save_png(folder / "test" / cls / f"{i:03d}.png", image)
    return folder

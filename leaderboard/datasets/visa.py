"""VisA, read through its official split file `split_csv/1cls.csv` (columns object,split,label,image,mask).

Image and mask paths in the CSV are relative to the VisA root. `root` may be that root
(with `category` = the object, e.g. "candle") or the object folder itself. Anomalies have
`defect_type` "anomaly" (the CSV does not name defect types); VisA masks store small
instance values (1, 2…), which `Sample.mask()` reads as foreground.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

from leaderboard.datasets._files import IMAGE_EXTENSIONS, finish, is_image
from leaderboard.datasets._registry import Layout, missing_category, register_layout, several_categories
from leaderboard.datasets.base import Dataset, DatasetError, Sample

SPLIT_CSV = Path("split_csv") / "1cls.csv"
_COLUMNS = ("object", "split", "label", "image", "mask")
_LABELS = {"normal": 0, "anomaly": 1}


def _locate(root: Path, category: Optional[str]) -> Optional[tuple[Path, Optional[str]]]:
    """(VisA root, category) for a VisA root or an object folder inside one; None when neither."""
    if (root / SPLIT_CSV).is_file():
        return root, category
    if (root.parent / SPLIT_CSV).is_file() and category in (None, root.name):
        return root.parent, root.name
    return None


def _rows(csv_path: Path) -> list[dict[str, str]]:
    try:
        with csv_path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DatasetError(
                    f"{csv_path}: lacks column(s) {', '.join(missing)}; VisA's split file has {','.join(_COLUMNS)}"
                )
            return [{k: (row.get(k) or "").strip() for k in _COLUMNS} for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{csv_path}: not a readable CSV file ({exc})") from None


def _categories(root: Path) -> list[str]:
    if not (root / SPLIT_CSV).is_file():
        return []
    return sorted({row["object"] for row in _rows(root / SPLIT_CSV)})


def _detect(root: Path, category: Optional[str]) -> bool:
    return _locate(root, category) is not None


def _image(visa_root: Path, csv_path: Path, line: int, relative: str, column: str) -> Path:
    if not relative:
        raise DatasetError(f"{csv_path}, line {line}: empty {column} path")
    path = visa_root / relative
    if not path.is_file():
        raise DatasetError(f"{path}: missing (listed in {csv_path}, line {line})")
    if not is_image(path):
        raise DatasetError(f"{path}: not an image file (accepted: {', '.join(IMAGE_EXTENSIONS)}, any case)")
    return path


def read_visa(root: Path, category: Optional[str], validate: bool) -> Dataset:
    found = _locate(root, category)
    if found is None:
        raise DatasetError(f"{root}: no {SPLIT_CSV} here or in the parent folder; VisA is read through it")
    visa_root, category = found
    csv_path = visa_root / SPLIT_CSV
    rows = _rows(csv_path)
    objects = sorted({row["object"] for row in rows})
    if category is None:
        raise several_categories(visa_root, objects)
    if category not in objects:
        raise missing_category(visa_root, category, objects)
    train: list[Path] = []
    validation: list[Path] = []
    test: list[Sample] = []
    for line, row in enumerate(rows, start=2):
        if row["object"] != category:
            continue
        label = _LABELS.get(row["label"])
        if label is None:
            raise DatasetError(f"{csv_path}, line {line}: label {row['label']!r} is neither normal nor anomaly")
        path = _image(visa_root, csv_path, line, row["image"], "image")
        if row["split"] in ("train", "val", "validation"):
            if label:
                raise DatasetError(f"{csv_path}, line {line}: an anomaly in the {row['split']} split")
            (train if row["split"] == "train" else validation).append(path)
        elif row["split"] == "test":
            if label:
                mask = _image(visa_root, csv_path, line, row["mask"], "mask")
                test.append(Sample(path, 1, "anomaly", mask_paths=[mask]))
            else:
                test.append(Sample(path, 0, "good"))
        else:
            raise DatasetError(f"{csv_path}, line {line}: split {row['split']!r} is not train, val or test")
    if not train:
        raise DatasetError(f"{csv_path}: no train rows for {category!r}")
    if not test:
        raise DatasetError(f"{csv_path}: no test rows for {category!r}")
    train.sort(key=lambda p: p.name)
    validation.sort(key=lambda p: p.name)
    test.sort(key=lambda s: (s.defect_type, s.path.name))
    folder = visa_root / category if (visa_root / category).is_dir() else visa_root
    return finish(Dataset(folder, category, "visa", train, validation, test), validate)


register_layout(
    Layout(
        "visa",
        needs=f"{SPLIT_CSV} (columns {','.join(_COLUMNS)}) in the root or its parent",
        priority=10,
        detect=_detect,
        read=read_visa,
        categories=_categories,
    )
)

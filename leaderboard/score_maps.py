"""Score anomaly maps written by any tool: the `evaluate` JSON, computed from TIFFs in the official layout.

Maps live at `<maps>/<category>/test/<defect_type>/<image_id>.tiff` (`.tif` too, any case), the
layout the official MVTec evaluations read and `evaluate --save-maps` writes: one 2-D float map
per test image at that image's own size. `<maps>` may also be the category folder itself.

An image's score is its map's maximum, as in the official evaluations, unless the category
folder of the maps holds `scores.csv`: a header `path,score`, then one row per test image, where
`path` is `<defect_type>/<image_id>` (`structural_anomalies/004`, `logical_anomalies/Dual/003`)
or the image's path relative to the dataset category as in the JSON's `per_image` rows
(`test/structural_anomalies/004.png`). Other columns are ignored.

Every test image needs exactly one map (and one row, with a scores.csv); a missing, extra,
misshapen, non-float or non-finite map is an error naming the file, never skipped.

The JSON is `evaluate`'s, with the same metrics computed the same way: `method` "maps", `tier`,
`n_train` and `train_condition` null, no `timing`, plus `maps_dir` and `scores_file` (null when
the scores are the maps' maxima). `evaluate --save-maps` writes scores.csv with its own scores.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from PIL import Image

from leaderboard.datasets import VID_AD_CONDITIONS, open_dataset
from leaderboard.datasets._files import is_junk
from leaderboard.datasets.base import Dataset, Sample

SCORES_FILE = "scores.csv"
MAP_EXTENSIONS = (".tif", ".tiff")


class MapsError(ValueError):
    """Maps that do not match the test set; the message names every file at fault."""


def map_key(sample: Sample) -> str:
    """`<defect_type>/<image_id>`: where a sample's map lives under `test/`, and its scores.csv path."""
    return f"{sample.defect_type}/{sample.image_id}"


def write_scores(folder: Path, samples: Sequence[Sample], scores: Sequence[float]) -> Path:
    """Write `folder/scores.csv`; repr() keeps every float exact through the round trip."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SCORES_FILE
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "score"])
        writer.writerows([map_key(s), repr(float(score))] for s, score in zip(samples, scores))
    return path


def maps_category_dir(maps: Path, category: str) -> Path:
    """`<maps>/<category>`, or `<maps>` itself when it is that category's folder."""
    if (maps / category / "test").is_dir():
        return maps / category
    if maps.name == category and (maps / "test").is_dir():
        return maps
    if not maps.is_dir():
        raise MapsError(f"{maps}: no such folder of anomaly maps")
    raise MapsError(
        f"{maps / category / 'test'}: missing; maps are read from <maps>/<category>/test/<defect_type>/<image_id>.tiff"
    )


def _unique_keys(ds: Dataset) -> dict[str, Sample]:
    by_key: dict[str, Sample] = {}
    for sample in ds.test:
        key = map_key(sample)
        if key in by_key:
            raise MapsError(
                f"{by_key[key].path} and {sample.path} would share the map {key}.tiff; rename one of the images"
            )
        by_key[key] = sample
    return by_key


def find_maps(test_dir: Path, ds: Dataset) -> list[Path]:
    """One map file per test sample, in `ds.test` order; all missing, duplicated and extra files in one error."""
    by_key = _unique_keys(ds)
    found: dict[str, list[Path]] = {}
    extra: list[Path] = []
    for path in sorted(p for p in test_dir.rglob("*") if p.is_file()):
        if any(is_junk(Path(part)) for part in path.relative_to(test_dir).parts):
            continue
        key = path.relative_to(test_dir).with_suffix("").as_posix()
        if path.suffix.lower() in MAP_EXTENSIONS and key in by_key:
            found.setdefault(key, []).append(path)
        else:
            extra.append(path)
    problems = []
    missing = [f"{key}.tiff" for key in by_key if key not in found]
    if missing:
        listed = ", ".join(missing)
        problems.append(f"{len(missing)} of {len(by_key)} test images have no map under {test_dir}: {listed}")
    doubled = [paths for paths in found.values() if len(paths) > 1]
    if doubled:
        problems.append("several maps for one image: " + "; ".join(", ".join(p.name for p in d) for d in doubled))
    if extra:
        listed = ", ".join(p.relative_to(test_dir).as_posix() for p in extra)
        problems.append(f"{len(extra)} file(s) under {test_dir} match no test image of {ds.category}: {listed}")
    if problems:
        raise MapsError("\n".join(problems))
    return [found[key][0] for key in by_key]


def read_map(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A 2-D finite float map of `shape` (H, W), in its stored float precision."""
    import tifffile

    try:
        arr = tifffile.imread(path)
    except Exception as exc:  # tifffile raises several unrelated types for a broken or non-TIFF file
        raise MapsError(f"{path}: not a readable TIFF ({exc})") from None
    if arr.ndim != 2:
        raise MapsError(f"{path}: an anomaly map must be 2-D (H, W), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise MapsError(
            f"{path}: holds {arr.dtype} values; anomaly maps must be float TIFFs (float32 or float64) of raw scores"
        )
    if arr.shape != shape:
        raise MapsError(
            f"{path}: is {arr.shape[1]}×{arr.shape[0]} but its image is {shape[1]}×{shape[0]}; "
            "maps must be at the image's original resolution"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        n_nan = int(np.isnan(arr).sum())
        raise MapsError(f"{path}: holds {n_nan} NaN and {int(bad.sum()) - n_nan} infinite value(s)")
    return arr.astype(np.float32) if arr.dtype == np.float16 else arr


def read_scores(path: Path, ds: Dataset) -> list[float]:
    """Image scores from a scores.csv, in `ds.test` order; every test image exactly once."""
    index: dict[str, int] = {}
    for i, sample in enumerate(ds.test):
        index[map_key(sample)] = i
        index[sample.path.relative_to(ds.root).as_posix()] = i
    scores: list[Optional[float]] = [None] * len(ds.test)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing_columns = [c for c in ("path", "score") if c not in (reader.fieldnames or [])]
            if missing_columns:
                raise MapsError(f"{path}: lacks column(s) {', '.join(missing_columns)}; expected a header path,score")
            for line, row in enumerate(reader, start=2):
                key = (row["path"] or "").strip().replace("\\", "/")
                if key not in index:
                    raise MapsError(f"{path}, line {line}: {key!r} is no test image of {ds.category}")
                i = index[key]
                if scores[i] is not None:
                    raise MapsError(f"{path}, line {line}: a second score for {map_key(ds.test[i])}")
                try:
                    score = float(row["score"])
                except (TypeError, ValueError):
                    raise MapsError(f"{path}, line {line}: score {row['score']!r} is not a number") from None
                if not math.isfinite(score):
                    raise MapsError(f"{path}, line {line}: score {row['score']!r} is not finite")
                scores[i] = score
    except (UnicodeDecodeError, csv.Error) as exc:
        raise MapsError(f"{path}: not a readable CSV file ({exc})") from None
    absent = [map_key(s) for s, score in zip(ds.test, scores) if score is None]
    if absent:
        raise MapsError(f"{path}: no score for {len(absent)} test image(s): {', '.join(absent)}")
    return [float(s) for s in scores]


def _image_shape(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.height, img.width


def score_maps(
    maps: str | Path, data: str | Path, category: str | None = None, condition: str | None = None
) -> dict[str, Any]:
    """The `evaluate` JSON for maps another tool wrote: method "maps", no tier, no timing, plus `maps_dir`."""
    # Imported here: evaluate loads every method (and torch), which the CLI's --help should not wait for.
    from leaderboard.evaluate import RunInfo, metric_map, per_image_row, result_json

    if condition is not None and condition not in VID_AD_CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose one of {', '.join(VID_AD_CONDITIONS)}")
    ds = open_dataset(data, category)
    folder = maps_category_dir(Path(maps).expanduser(), ds.category)
    paths = find_maps(folder / "test", ds)
    max_scores: list[float] = []
    metric_maps: list[np.ndarray] = []
    problems: list[str] = []
    for sample, path in zip(ds.test, paths):
        try:
            arr = read_map(path, _image_shape(sample.path))
        except MapsError as exc:
            problems.append(str(exc))
            continue
        max_scores.append(float(arr.max()))
        metric_maps.append(metric_map(arr))
    if problems:
        raise MapsError("\n".join(problems))
    scores_file = folder / SCORES_FILE
    scores = read_scores(scores_file, ds) if scores_file.is_file() else max_scores
    run = RunInfo("maps", {}, None, None, [], condition or "white_bg", None, None)
    rows = [per_image_row(ds, s, score) for s, score in zip(ds.test, scores)]
    result = result_json(ds, run, scores, metric_maps, rows, timing=None)
    result["maps_dir"] = str(folder)
    result["scores_file"] = str(scores_file) if scores_file.is_file() else None
    return result

"""Fit a method on a dataset's normals, predict its test set, and compute every metric that applies.

The returned dict is the `evaluate` JSON schema that suites, the results store and
the app all read; its keys are documented in the README.
"""
from __future__ import annotations

import dataclasses
import hashlib
import resource
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from tqdm.auto import tqdm

import methods
from hub import describe_tier, load_image, loaded_cards
from leaderboard import metrics
from leaderboard.datasets import open_dataset
from leaderboard.datasets.base import Dataset, Sample

# Pixel metrics are computed with the long side at most this many pixels; masks are
# downscaled so that no region vanishes, maps bilinearly. Recorded in the JSON.
PIXEL_METRIC_MAX_SIDE = 512


def _stable_seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:4], "little")


def foreground_path(ds: Dataset, image: Path) -> Path:
    """Generated suites store the exact foreground at <category>/foreground/<same relative path>."""
    return ds.root / "foreground" / image.relative_to(ds.root)


def load_for_eval(ds: Dataset, path: Path, condition: str | None) -> np.ndarray:
    img = load_image(path)
    if condition in (None, "white_bg"):
        return img
    from hub.images import load_mask
    from leaderboard.suites.conditions import apply_condition

    fg_file = foreground_path(ds, path)
    fg = load_mask(fg_file) > 0 if fg_file.is_file() else None
    return apply_condition(img, condition, seed=_stable_seed(str(path.relative_to(ds.root)), condition), foreground=fg)


def _metric_size(shape: tuple[int, int]) -> tuple[int, int]:
    h, w = shape
    scale = min(1.0, PIXEL_METRIC_MAX_SIDE / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def _resize_map(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if arr.shape[:2] == size:
        return arr
    return cv2.resize(arr, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


def _resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale a raw mask keeping its value; a pixel is set if any source pixel was, so no region vanishes."""
    import cv2

    if mask.shape[:2] == size:
        return mask
    covered = cv2.resize((mask > 0).astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA) > 0
    return np.where(covered, mask.max(), 0).astype(mask.dtype)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _auroc_or_none(labels: list[int], scores: list[float]) -> float | None:
    if len(set(labels)) < 2:
        return None
    return float(metrics.image_auroc(np.asarray(labels), np.asarray(scores)))


def compute_metrics(ds: Dataset, samples: list[Sample], scores: list[float], maps: list[np.ndarray]) -> dict[str, Any]:
    """Image metrics over the whole test set and per kind; pixel metrics where masks exist."""
    labels = [s.label for s in samples]
    out: dict[str, Any] = {
        "image_auroc": _auroc_or_none(labels, scores),
        "image_auroc_logical": None,
        "image_auroc_structural": None,
        "pixel_auroc": None,
        "aupro": None,
        "spro": None,
        "f1_max": float(metrics.f1_max(np.asarray(labels), np.asarray(scores))) if len(set(labels)) == 2 else None,
    }
    for kind in ("logical", "structural"):
        idx = [i for i, s in enumerate(samples) if s.label == 0 or s.kind == kind]
        if any(samples[i].kind == kind for i in idx):
            out[f"image_auroc_{kind}"] = _auroc_or_none([labels[i] for i in idx], [scores[i] for i in idx])
    with_masks = [i for i, s in enumerate(samples) if s.label == 0 or s.mask_paths]
    if any(samples[i].mask_paths for i in with_masks):
        gts, pix_maps, regions = [], [], []
        for i in with_masks:
            size = maps[i].shape
            raw = [_resize_mask(m, size) for m in samples[i].masks()]
            gts.append(np.any([m > 0 for m in raw], axis=0) if raw else np.zeros(size, bool))
            pix_maps.append(maps[i])
            if ds.defects:
                regions.append(metrics.loco_regions(raw, ds.defects) if raw else [])
        out["pixel_auroc"] = float(metrics.pixel_auroc(gts, pix_maps))
        out["aupro"] = float(metrics.aupro(gts, pix_maps, fpr_limit=0.3))
        if ds.defects:
            # As the official LOCO evaluation: each kind against the good images, and the
            # headline `spro` is their mean (pooled over all images when only one kind exists).
            per_kind = []
            for kind in ("logical", "structural"):
                pick = [j for j, i in enumerate(with_masks) if samples[i].label == 0 or samples[i].kind == kind]
                if any(samples[with_masks[j]].kind == kind for j in pick):
                    out[f"spro_{kind}"] = float(
                        metrics.au_spro([pix_maps[j] for j in pick], [regions[j] for j in pick], fpr_limit=0.05)
                    )
                    per_kind.append(out[f"spro_{kind}"])
            out["spro"] = (float(np.mean(per_kind)) if len(per_kind) == 2
                           else float(metrics.au_spro(pix_maps, regions, fpr_limit=0.05)))
    return out


def true_defect_type(ds: Dataset, sample: Sample) -> str | None:
    """The defect an anomalous image shows: its folder name, or on LOCO layouts (one folder for many
    defects) the `defects_config.json` name of the largest region in its masks. None for normals."""
    if sample.label == 0:
        return None
    if ds.defects and sample.mask_paths:
        area: Counter[str] = Counter()
        for m in sample.masks():
            values, counts = np.unique(m[m > 0], return_counts=True)
            for v, n in zip(values.tolist(), counts.tolist()):
                if v in ds.defects:
                    area[ds.defects[v].name] += n
        if area:
            return area.most_common(1)[0][0]
    return sample.defect_type


def _class_of_pixels(ds: Dataset, sample: Sample, size: tuple[int, int], names: list[str]) -> np.ndarray | None:
    """(H, W) int ground-truth class map in the method's class order; None when a region's type is unknown to it."""
    out = np.zeros(size, np.int64)
    for m in sample.masks():
        m = _resize_mask(m, size)
        if ds.defects:
            for v in np.unique(m[m > 0]).tolist():
                kind = ds.defects[v].name if v in ds.defects else sample.defect_type
                if kind not in names:
                    return None
                out[m == v] = names.index(kind)
        else:
            if sample.defect_type not in names:
                return None
            out[m > 0] = names.index(sample.defect_type)
    return out


def classification_metrics(ds: Dataset, samples: list[Sample], class_names: list[str], pred_names: list[str | None],
                           class_maps: list[np.ndarray | None]) -> tuple[dict[str, float | None], dict[str, Any]]:
    """Image accuracy over anomalous images of the method's categories ("Other" is wrong) and pixel mIoU
    over those categories (normal pixels count as misses and false alarms but not in the mean).

    Anomalous images whose defect type the method has no class for cannot be scored and are listed.
    """
    true_names, guessed, gts, preds, excluded = [], [], [], [], set()
    for sample, name, cmap in zip(samples, pred_names, class_maps):
        kind = true_defect_type(ds, sample)
        if kind is not None and kind not in class_names:
            excluded.add(kind)
            continue
        if kind is not None:
            true_names.append(kind)
            guessed.append(name)
        if cmap is not None and (sample.label == 0 or sample.mask_paths):
            gt = _class_of_pixels(ds, sample, cmap.shape, class_names)
            if gt is not None:
                gts.append(gt)
                preds.append(cmap)
    out: dict[str, float | None] = {"classification_accuracy": None, "miou": None}
    if true_names:
        out["classification_accuracy"] = float(metrics.classification_accuracy(true_names, guessed))
    if any(g.any() or p.any() for g, p in zip(gts, preds)):
        out["miou"] = float(metrics.miou(gts, preds, num_classes=len(class_names), ignore_normal=True))
    info = {"class_names": class_names, "n_images": len(true_names), "excluded_types": sorted(excluded)}
    return out, info


def metric_map(anomaly_map: np.ndarray) -> np.ndarray:
    """The map as the pixel metrics see it, so `evaluate` and `score-maps` hold the same arrays."""
    return _resize_map(anomaly_map, _metric_size(anomaly_map.shape))


def per_image_row(ds: Dataset, sample: Sample, score: float) -> dict[str, Any]:
    return {"path": str(sample.path.relative_to(ds.root)), "label": sample.label, "type": sample.defect_type,
            "score": score}


@dataclass
class RunInfo:
    """What produced the scores and maps: the header fields of the `evaluate` JSON."""

    method: str
    config: dict[str, Any]
    tier: str | None
    tier_reason: str | None
    models: list[dict[str, Any]]
    condition: str
    train_condition: str | None
    n_train: int | None


def result_json(
    ds: Dataset,
    run: RunInfo,
    scores: list[float],
    maps: list[np.ndarray],
    per_image: list[dict[str, Any]],
    timing: dict[str, float] | None,
    extra_metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `evaluate` JSON for `ds.test` (one score and one metric-size map per sample); no `timing` key when None.

    `extra_metrics` (the classification metrics of methods that classify) join `metrics`.
    """
    out: dict[str, Any] = {
        "method": run.method,
        "config": run.config,
        "category": ds.category,
        "layout": ds.layout,
        "tier": run.tier,
        "tier_reason": run.tier_reason,
        "models": run.models,
        "condition": run.condition,
        "train_condition": run.train_condition,
        "n_train": run.n_train,
        "n_test": len(ds.test),
        "metrics": dict(compute_metrics(ds, ds.test, scores, maps), **(extra_metrics or {})),
        "pixel_metric_max_side": PIXEL_METRIC_MAX_SIDE,
    }
    if timing is not None:
        out["timing"] = timing
    out["per_image"] = per_image
    return out


@dataclass
class FitResult:
    model: methods.Method
    fit_s: float
    n_train: int
    anomaly_shots: int | None = None
    held_out: list[Path] = field(default_factory=list)  # anomalous test images given to fit, left out of the test
    normals: list[Path] = field(default_factory=list)  # the normal images it was fitted on


def pick_shots(train: list[Path], shots: int | None, seed: int | None = None) -> list[Path]:
    """The normals a few-shot fit sees: the first `shots` sorted ones, or `shots` drawn with `seed`.

    Few-shot results vary with the draw; several seeds and their mean say more than one draw.
    Asking for more shots than there are normals is an error, not a silent full-set fit.
    """
    if shots is None:
        if seed is not None:
            raise ValueError("--shot-seed draws --shots images: give --shots too")
        return list(train)
    if shots < 1:
        raise ValueError(f"--shots must be ≥ 1, got {shots}")
    if shots > len(train):
        raise ValueError(f"--shots {shots}: only {len(train)} normal training images")
    if seed is None:
        return list(train[:shots])
    picked = np.random.default_rng(seed).choice(len(train), size=shots, replace=False)
    return [train[i] for i in sorted(picked)]


# Evaluation options a config YAML may carry beside the method's keys; evaluate pops them.
EVAL_OPTIONS = ("anomaly_shots", "split")
SPLITS = ("logical", "structural")


def evaluation_options(config: dict[str, Any] | None, anomaly_shots: int | None = None,
                       split: str | None = None) -> tuple[dict[str, Any], int | None, str | None]:
    """(method config, anomaly_shots, split): the options taken out of `config`, which must agree with the arguments.

    anomaly_shots: the first N sorted anomalous test images of each defect type go to fit and
    leave the test set (few-shot). split: test on the normals and one kind of a LOCO-style
    dataset only (e.g. the structural split of synthetic-logic).
    """
    config = dict(config or {})
    given = {"anomaly_shots": anomaly_shots, "split": split}
    for key in EVAL_OPTIONS:
        if key in config:
            value = config.pop(key)
            if given[key] is not None and given[key] != value:
                raise ValueError(f"{key} is {given[key]!r} as an argument but {value!r} in the config")
            given[key] = value
    shots, kind = given["anomaly_shots"], given["split"]
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise ValueError(f"anomaly_shots must be an integer ≥ 1, got {shots!r}")
    if kind is not None and kind not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {kind!r}")
    return config, shots, kind


def restrict_split(ds: Dataset, split: str | None) -> Dataset:
    """The dataset with its test set cut to the normals and the anomalies of kind `split`."""
    if split is None:
        return ds
    if not ds.has_kinds:
        raise ValueError(f"split={split!r}: {ds.category} ({ds.layout}) has no logical/structural kinds")
    return dataclasses.replace(ds, test=[s for s in ds.test if s.label == 0 or s.kind == split])


def anomaly_holdout(ds: Dataset, shots: int) -> list[Sample]:
    """The first `shots` sorted anomalous test images of each defect type, for a few-shot fit."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in ds.test:
        if sample.label == 1:
            groups[str(true_defect_type(ds, sample))].append(sample)
    if not groups:
        raise ValueError(f"anomaly_shots={shots}: {ds.category} has no anomalous test images")
    picked = []
    for kind in sorted(groups):
        members = sorted(groups[kind], key=lambda s: s.path)
        if len(members) <= shots:
            raise ValueError(f"anomaly_shots={shots}: defect type {kind!r} of {ds.category} has {len(members)} "
                             "test images; at least one must stay in the test set")
        for sample in members[:shots]:
            if not sample.mask_paths:
                raise ValueError(f"anomaly_shots: {sample.path} has no ground-truth mask to train on")
        picked += members[:shots]
    return picked


def fit(
    method: str,
    ds: Dataset,
    *,
    config: dict[str, Any] | None = None,
    shots: int | None = None,
    tier: str | None = None,
    train_condition: str | None = None,
    progress: bool = True,
    device: str | None = None,
    anomaly_shots: int | None = None,
    split: str | None = None,
    shot_seed: int | None = None,
) -> FitResult:
    """Fit `method` on `shots` normal training images (all by default; see `pick_shots`), and with
    `anomaly_shots` on that many anomalies per defect type taken from the test set."""
    config, anomaly_shots, split = evaluation_options(config, anomaly_shots, split)
    ds = restrict_split(ds, split)
    train_paths = pick_shots(ds.train, shots, shot_seed)
    held = anomaly_holdout(ds, anomaly_shots) if anomaly_shots else []
    model = methods.create(method, tier=tier, device=device, **config)
    bar = tqdm(total=100, desc=f"fit {method} on {ds.category}", unit="%", disable=not progress, leave=False)

    def on_progress(fraction: float, desc: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_postfix_str(desc, refresh=True)

    t0 = time.perf_counter()
    train_images = [load_for_eval(ds, p, train_condition) for p in train_paths]
    anomalies = [methods.AnomalySample(load_for_eval(ds, s.path, train_condition), s.mask(),
                                       str(true_defect_type(ds, s))) for s in held]
    model.fit(train_images, anomalies=anomalies, progress=on_progress)
    bar.close()
    return FitResult(model, time.perf_counter() - t0, len(train_paths), anomaly_shots, [s.path for s in held],
                     list(train_paths))


def evaluate(
    method: str,
    *,
    data: str | Path,
    category: str | None = None,
    config: dict[str, Any] | None = None,
    shots: int | None = None,
    tier: str | None = None,
    condition: str | None = None,
    train_condition: str | None = None,
    save_maps: str | Path | None = None,
    progress: bool = True,
    fitted: FitResult | None = None,
    anomaly_shots: int | None = None,
    split: str | None = None,
    shot_seed: int | None = None,
) -> dict[str, Any]:
    """The `evaluate` JSON for one dataset category. Pass `fitted` to reuse a model fitted
    on the same normals (suites evaluate one fit under several test conditions).

    `anomaly_shots` and `split` (see `evaluation_options`) may also come as keys of `config`.
    """
    methods.get(method)  # an unknown name fails before any data is read
    ds = open_dataset(data, category)
    tier_name, tier_reason = describe_tier(tier)
    method_config, anomaly_shots, split = evaluation_options(config, anomaly_shots, split)
    if fitted is None:
        fitted = fit(method, ds, config=method_config, shots=shots, tier=tier_name, train_condition=train_condition,
                     progress=progress, anomaly_shots=anomaly_shots, split=split, shot_seed=shot_seed)
    elif fitted.anomaly_shots != anomaly_shots:
        raise ValueError(f"the fitted model used anomaly_shots={fitted.anomaly_shots}, this evaluation {anomaly_shots}")
    model = fitted.model
    held = set(fitted.held_out)
    ds = restrict_split(ds, split)
    ds = dataclasses.replace(ds, test=[s for s in ds.test if s.path not in held])

    scores: list[float] = []
    maps: list[np.ndarray] = []
    per_image: list[dict[str, Any]] = []
    pred_names: list[str | None] = []
    class_maps: list[np.ndarray | None] = []
    class_names: list[str] | None = None
    predict_s = 0.0
    for sample in tqdm(ds.test, desc=f"predict {ds.category}", disable=not progress, leave=False):
        img = load_for_eval(ds, sample.path, condition)
        t = time.perf_counter()
        pred = model.predict([img])[0]
        predict_s += time.perf_counter() - t
        if save_maps is not None:
            _save_map(Path(save_maps), ds, sample, pred.anomaly_map)
        scores.append(pred.score)
        maps.append(metric_map(pred.anomaly_map))
        row = per_image_row(ds, sample, pred.score)
        if pred.class_name is not None:
            row["class_name"] = pred.class_name
            if ds.defects and sample.label == 1:
                row["defect"] = true_defect_type(ds, sample)
        per_image.append(row)
        class_names = class_names or pred.details.get("class_names")
        pred_names.append(pred.class_name)
        class_maps.append(None if pred.class_map is None else _resize_class_map(pred.class_map, maps[-1].shape))
    if save_maps is not None:
        from leaderboard.score_maps import write_scores

        write_scores(Path(save_maps) / ds.category, ds.test, scores)

    run = RunInfo(method, model.config_dict(), tier_name, tier_reason, loaded_cards(), condition or "white_bg",
                  train_condition or "white_bg", fitted.n_train)
    timing = {
        "fit_s": round(fitted.fit_s, 3),
        "predict_ms_per_image": round(1000 * predict_s / max(len(ds.test), 1), 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    extra, info = None, None
    if class_names and any(n is not None for n in pred_names):
        extra, info = classification_metrics(ds, ds.test, list(class_names), pred_names, class_maps)
    out = result_json(ds, run, scores, maps, per_image, timing, extra)
    if info is not None:
        out["classification"] = info
    if split is not None:
        out["split"] = split
    if shots is not None and fitted.normals:
        out["shot_seed"] = shot_seed
        out["train_normals"] = [str(p.relative_to(ds.root)) for p in fitted.normals]
    if anomaly_shots is not None:
        out["anomaly_shots"] = anomaly_shots
        out["held_out_for_training"] = [str(p.relative_to(ds.root)) for p in fitted.held_out]
    return out


def _resize_class_map(class_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if class_map.shape[:2] == size:
        return class_map.astype(np.int64)
    return cv2.resize(class_map.astype(np.int32), (size[1], size[0]), interpolation=cv2.INTER_NEAREST).astype(np.int64)


def _save_map(root: Path, ds: Dataset, sample: Sample, anomaly_map: np.ndarray) -> None:
    """Official layout: <root>/<category>/test/<defect_type>/<image_id>.tiff, float32, original size.

    The method's own image scores go beside them in scores.csv (see `score_maps`), because the
    official tools score an image by its map's maximum, which is not every method's score.
    """
    import tifffile

    out = root / ds.category / "test" / sample.defect_type / f"{sample.image_id}.tiff"
    out.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(out, np.ascontiguousarray(anomaly_map, dtype=np.float32))


def summarise(results: Iterable[dict[str, Any]]) -> str:
    """A one-line-per-result text summary for the terminal."""
    lines = []
    for r in results:
        m = r["metrics"]
        parts = [f"{k}={v:.3f}" for k, v in m.items() if v is not None]
        lines.append(f"{r['method']} {r['category']} [{r['condition']}, {r['tier']}]: " + " ".join(parts))
    return "\n".join(lines)

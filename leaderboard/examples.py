"""Bundled example categories and their fitted models, made on first use and cached on disk.

The app and the benchmarks need a category that works on a fresh, offline machine:
the `real-textures` generator writes one from photographs that ship with scikit-image.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import methods
from hub import resolve_tier
from methods.base import Method


def cache_dir() -> Path:
    root = Path(os.environ.get("ANOMALY_HUB_CACHE", Path.home() / ".cache" / "anomaly-hub"))
    root.mkdir(parents=True, exist_ok=True)
    return root


# The generated suites whose categories the app offers, in the order it lists them.
EXAMPLE_SUITES = ("real-textures", "synthetic-logic")


def bundled_categories() -> list[str]:
    from leaderboard import suites

    return [t.category for name in EXAMPLE_SUITES for t in suites.get(name).tasks if t.condition == "white_bg"]


def example_suite(category: str) -> str:
    """The name of the generated suite that holds a bundled category."""
    from leaderboard import suites

    for name in EXAMPLE_SUITES:
        if any(t.category == category for t in suites.get(name).tasks):
            return name
    raise ValueError(f"unknown example category {category!r}; bundled: {', '.join(bundled_categories())}")


def example_dataset(category: str) -> Path:
    """The category folder of a generated suite (MVTec AD or LOCO layout), generated once."""
    from leaderboard import suites

    return suites.materialise(suites.get(example_suite(category)), categories=[category]) / category


def example_images(category: str, limit: int = 6) -> list[Path]:
    """A few test images of the category (good first, then one per defect) for click-to-try."""
    test = example_dataset(category) / "test"
    picks = sorted((test / "good").glob("*.png"))[:2]
    for defect in sorted(p for p in test.iterdir() if p.is_dir() and p.name != "good"):
        picks += sorted(defect.glob("*.png"))[:1]
    return picks[:limit]


# Normal images held out of fitting to calibrate the threshold and the heat-map range.
HELD_OUT_NORMALS = 10


@dataclass
class FittedModel:
    model: Method
    normal_scores: list[float]  # scores of held-out normal images
    map_range: tuple[float, float]  # (median, 99.9th percentile) of held-out normal map values

    @property
    def threshold(self) -> float:
        """Default decision threshold: just above the highest held-out normal score."""
        return float(max(self.normal_scores))


PRIORS = Path(__file__).resolve().parent.parent / "examples" / "priors"


def example_config(method: str, category: str) -> dict:
    """The method config for a bundled category: the category's example anomaly prior for methods that take one
    (`examples/priors/<suite>-<category>.yaml`, else `<suite>.yaml`); the defaults otherwise."""
    import dataclasses

    config_cls = getattr(methods.get(method), "Config", None)
    if config_cls is None or "prior" not in {f.name for f in dataclasses.fields(config_cls)}:
        return {}
    suite = example_suite(category)
    for path in (PRIORS / f"{suite}-{category.lower()}.yaml", PRIORS / f"{suite}.yaml"):
        if path.exists():
            return {"prior": str(path)}
    return {}


def _code_files(method: str) -> list[Path]:
    """The source a fitted model depends on: the method's package (or module) and the shared feature code."""
    import importlib
    import sys

    name = methods.get(method).__module__
    parts = name.split(".")
    top = importlib.import_module(".".join(parts[:2])) if parts[0] == "methods" and len(parts) > 1 else sys.modules[name]
    source = Path(top.__file__)
    own = sorted(source.parent.rglob("*.py")) if source.name == "__init__.py" else [source]
    from methods import backbone, base

    return own + [Path(base.__file__), Path(backbone.__file__)]


def _cache_tag(method: str, config: dict) -> str:
    """A digest of the method's code, its config and the files the config names: a saved model is reused only
    when all three are unchanged, so an edited prior or an updated method refits instead of failing to load."""
    import hashlib

    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for value in config.values():
        if isinstance(value, str) and Path(value).is_file():
            digest.update(Path(value).read_bytes())
    for path in _code_files(method):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return "-" + digest.hexdigest()[:10]


_models: dict[tuple[str, str, str], FittedModel] = {}
_fit_lock = threading.Lock()


def fitted_model(method: str, category: str, tier: str | None = None, progress=None) -> FittedModel:
    """A method fitted on the example category's normals: from memory, from disk, or fitted now."""
    tier = resolve_tier(tier)
    key = (method, category, tier)
    with _fit_lock:  # one fit at a time: two visitors must not fit and write the same folder
        if key not in _models:
            _models[key] = _load_or_fit(method, category, tier, progress)
        return _models[key]


def fit_calibrated(method: str, normals: list, tier: str | None = None, progress=None,
                   held_out: int = HELD_OUT_NORMALS, config: dict | None = None) -> FittedModel:
    """Fit on all but the last `held_out` normals; those set the threshold and the heat-map range."""
    if len(normals) < 2:
        raise ValueError(f"need at least 2 normal images (one to fit, one to calibrate), got {len(normals)}")
    held_out = min(held_out, max(1, len(normals) // 5))
    fit_on, calibrate_on = normals[:-held_out], normals[-held_out:]
    model = methods.create(method, tier=tier, **(config or {})).fit(fit_on, progress=progress)
    preds = model.predict(calibrate_on)
    values = np.concatenate([p.anomaly_map.ravel() for p in preds])
    return FittedModel(model, [p.score for p in preds],
                       (float(np.median(values)), float(np.percentile(values, 99.9))))


def _load_or_fit(method: str, category: str, tier: str, progress) -> FittedModel:
    data = example_dataset(category)
    config = example_config(method, category)
    saved = cache_dir() / "models" / data.parent.name / f"{method}-{category}-{tier}{_cache_tag(method, config)}"
    calibration = saved / "calibration.json"
    if calibration.exists() and (saved / "method.json").exists():
        cal = json.loads(calibration.read_text())
        return FittedModel(Method.load(saved), cal["normal_scores"], tuple(cal["map_range"]))
    fitted = fit_calibrated(method, sorted((data / "train" / "good").glob("*.png")), tier, progress, config=config)
    fitted.model.save(saved)
    calibration.write_text(json.dumps({"normal_scores": fitted.normal_scores, "map_range": list(fitted.map_range)},
                                      indent=2))
    return fitted

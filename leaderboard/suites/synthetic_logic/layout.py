"""Write the scenarios as MVTec LOCO folders, with foreground masks and a manifest per scenario.

Layout of one scenario (MVTec LOCO plus two additions, `foreground/` and `MANIFEST.json`):

    <Scenario>/train/good/000.png
    <Scenario>/validation/good/000.png
    <Scenario>/test/{good,logical_anomalies,structural_anomalies}/000.png
    <Scenario>/ground_truth/{logical_anomalies,structural_anomalies}/<stem>/000.png   one file per defect
    <Scenario>/foreground/<split>/<defect>/<stem>.png                                objects and fixtures = 255
    <Scenario>/defects_config.json
    <Scenario>/MANIFEST.json      every image: label, kind, aspects violated, description, masks, scene facts;
                                  "complete" turns true once the last file is written

The manifest lives with its scenario so a scenario folder can be copied or transformed
alone; `<out>/MANIFEST.json` indexes whichever scenario folders the output holds.
Every image draws from its own generator seeded by (seed, scenario, split, index), so
any file can be regenerated alone and the same seed gives the same bytes.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np
from PIL import Image

from hub.registry import suggest

from .defects import STRUCTURAL_SATURATION
from .render import Rendered, footprint, render_scene
from .scenarios import SCENARIOS
from .scene import STRUCTURAL_DEFECTS, Scenario, Scene, compose

GENERATOR = "synthetic_logic"
VERSION = 1
SPLITS = ("train/good", "validation/good", "test/good", "test/logical_anomalies", "test/structural_anomalies")
DEFAULT_COUNTS: dict[str, int] = {
    "train/good": 60,
    "validation/good": 20,
    "test/good": 40,
    "test/logical_anomalies": 40,
    "test/structural_anomalies": 40,
}
# One mask value per defect type, the same in every scenario.
PIXEL_VALUES: dict[str, int] = {
    "missing_object": 255,
    "extra_object": 254,
    "wrong_length": 253,
    "wrong_type": 252,
    "wrong_placement": 251,
    "wrong_relation": 250,
    "scratch": 249,
    "hole": 248,
    "stain": 247,
    "crack": 246,
    "deformation": 245,
}
# sPRO saturation of the logical defects, relative to the mask area. A missing, extra or
# substituted object is marked exactly and must be covered whole; a wrong length, a
# misplacement (object plus the place it belongs) or a broken relation (all objects
# involved) is found once about half of its mask is.
LOGICAL_SATURATION: dict[str, tuple[float, bool]] = {
    "missing_object": (1.0, True),
    "extra_object": (1.0, True),
    "wrong_length": (0.5, True),
    "wrong_type": (1.0, True),
    "wrong_placement": (0.5, True),
    "wrong_relation": (0.5, True),
}

Progress = Callable[[float, str], None]


def defects_config(scenario: Scenario, size: int) -> list[dict[str, object]]:
    """The scenario's `defects_config.json` in MVTec LOCO's format; absolute thresholds are pixels at this size."""
    out = []
    for name in scenario.logical_defects + STRUCTURAL_DEFECTS:
        threshold, relative = LOGICAL_SATURATION.get(name) or STRUCTURAL_SATURATION[name]
        out.append({
            "defect_name": name,
            "pixel_value": PIXEL_VALUES[name],
            "saturation_threshold": threshold if relative else int(round(threshold * size * size)),
            "relative_saturation": relative,
        })
    return out


def logical_plan(scenario: Scenario, n: int) -> list[tuple[str, ...]]:
    """Aspects broken by each logical anomaly, in VID-AD Table 3's single-A / single-B / dual proportions."""
    a, b, dual = scenario.paper_counts
    n_dual = min(int(round(n * dual / (a + b + dual))), n)
    n_a = int(round((n - n_dual) * a / (a + b)))
    first, second = scenario.aspects
    return [(first,)] * n_a + [(second,)] * (n - n_dual - n_a) + [(first, second)] * n_dual


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def _dump(data: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=1)


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG", compress_level=6)


def _check_counts(counts: Optional[Mapping[str, int]]) -> dict[str, int]:
    merged = dict(DEFAULT_COUNTS)
    for key, value in (counts or {}).items():
        if key not in DEFAULT_COUNTS:
            hint = suggest(key, list(DEFAULT_COUNTS))
            raise ValueError(f"unknown count key {key!r}.{hint} Keys: {', '.join(SPLITS)}")
        if int(value) < 0:
            raise ValueError(f"count for {key} must be ≥ 0, got {value}")
        merged[key] = int(value)
    return merged


def _select(scenarios: Optional[Iterable[str]]) -> list[str]:
    if scenarios is None:
        return list(SCENARIOS)
    names = list(scenarios)
    for name in names:
        if name not in SCENARIOS:
            hint = suggest(name, list(SCENARIOS))
            raise ValueError(f"unknown scenario {name!r}.{hint} Scenarios: {', '.join(SCENARIOS)}")
    return [n for n in SCENARIOS if n in names]


def _masks(scene: Scene, rendered: Rendered, size: int) -> list[tuple[str, np.ndarray]]:
    """(defect name, bool mask) per defect instance of the scene."""
    out = []
    for v in scene.violations:
        if v.aspect == "structure":
            mask = rendered.defects[v.uids[0]].copy()
        else:
            mask = np.zeros((size, size), bool)
            for uid in v.uids:
                mask |= rendered.footprints[uid]
            for ghost in v.ghosts:
                mask |= footprint(scene.env.place(ghost), size)
        if not mask.any():
            raise RuntimeError(f"{scene.scenario}: the mask of '{v.description}' is empty")
        out.append((v.defect, mask))
    return out


def scenes(name: str, *, seed: int = 0, counts: Optional[Mapping[str, int]] = None) -> Iterator[tuple[str, int, Scene]]:
    """(split key, index, scene) of every image `generate` writes for this scenario, in writing order."""
    scenario = SCENARIOS[_select([name])[0]]
    index = list(SCENARIOS).index(scenario.name)
    counts = _check_counts(counts)
    plans: dict[str, list[tuple[str, ...]]] = {
        "test/logical_anomalies": logical_plan(scenario, counts["test/logical_anomalies"]),
        "test/structural_anomalies": [
            (STRUCTURAL_DEFECTS[k % len(STRUCTURAL_DEFECTS)],) for k in range(counts["test/structural_anomalies"])],
    }
    for k, key in enumerate(plans):
        order = _rng(seed, index, 100 + k).permutation(len(plans[key]))
        plans[key] = [plans[key][i] for i in order]
    for split_index, key in enumerate(SPLITS):
        for i in range(counts[key]):
            rng = _rng(seed, index, split_index, i)
            if key == "test/logical_anomalies":
                yield key, i, compose(scenario, rng, "logical", aspects=plans[key][i])
            elif key == "test/structural_anomalies":
                yield key, i, compose(scenario, rng, "structural", defect=plans[key][i][0])
            else:
                yield key, i, compose(scenario, rng, "good")


def _clear(folder: Path) -> None:
    """Remove an earlier run of this generator so no stale image survives; refuse to touch anything else."""
    if not folder.exists():
        return
    manifest = folder / "MANIFEST.json"
    if manifest.exists():
        with open(manifest) as f:
            ours = json.load(f).get("generator") == GENERATOR
        if ours:
            shutil.rmtree(folder)
            return
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and was not written by {GENERATOR}; choose another out_dir")


def _write_scenario(root: Path, scenario: Scenario, seed: int, size: int, counts: dict[str, int],
                    step: Callable[[str], None]) -> Path:
    folder = root / scenario.name
    _clear(folder)
    manifest: dict[str, object] = {
        "generator": GENERATOR, "version": VERSION, "complete": False, "seed": seed, "size": size,
        "scenario": scenario.name, "aspects": list(scenario.aspects), "rule": scenario.rule,
        "counts": counts, "images": [],
    }
    _dump(manifest, folder / "MANIFEST.json")  # claims the folder, so a crashed run is cleared next time
    images = []
    for key, i, scene in scenes(scenario.name, seed=seed, counts=counts):
        split, defect_dir = key.split("/")
        rendered = render_scene(scene, size)
        stem = f"{i:03d}"
        rel = f"{key}/{stem}.png"
        _save(rendered.image, folder / rel)
        fg_rel = f"foreground/{key}/{stem}.png"
        _save(rendered.foreground.astype(np.uint8) * 255, folder / fg_rel)
        mask_rels = []
        for m, (defect, mask) in enumerate(_masks(scene, rendered, size)):
            mask_rel = f"ground_truth/{defect_dir}/{stem}/{m:03d}.png"
            _save(mask.astype(np.uint8) * PIXEL_VALUES[defect], folder / mask_rel)
            mask_rels.append(mask_rel)
        entry: dict[str, object] = {
            "path": rel, "split": split, "label": int(scene.kind != "good"), "kind": scene.kind,
            "aspects_violated": scene.aspects_violated if scene.kind == "logical" else [],
            "defect_types": [v.defect for v in scene.violations],
            "description": scene.description,
            "masks": mask_rels, "foreground": fg_rel, "scene": scene.facts(),
        }
        if scene.kind == "logical":
            broken = scene.aspects_violated
            entry["violation"] = "dual" if len(broken) == 2 else (
                "single_a" if broken == [scenario.aspects[0]] else "single_b")
        images.append(entry)
        step(scenario.name)
    _dump(defects_config(scenario, size), folder / "defects_config.json")
    _dump({**manifest, "complete": True, "images": images}, folder / "MANIFEST.json")
    return folder


def write_index(root: Path) -> Path:
    """`<root>/MANIFEST.json`: the scenario folders under root that this generator wrote."""
    entries = []
    for name, scenario in SCENARIOS.items():
        path = root / name / "MANIFEST.json"
        if not path.exists():
            continue
        with open(path) as f:
            m = json.load(f)
        if m.get("generator") != GENERATOR or not m.get("complete"):
            continue
        entries.append({**scenario.summary(), "manifest": f"{name}/MANIFEST.json", "seed": m["seed"],
                        "size": m["size"], "counts": m["counts"]})
    index = root / "MANIFEST.json"
    _dump({"generator": GENERATOR, "version": VERSION, "scenarios": entries}, index)
    return index


def generate(
    out_dir: str | Path,
    *,
    seed: int = 0,
    size: int = 256,
    scenarios: Optional[Sequence[str]] = None,
    counts: Optional[Mapping[str, int]] = None,
    progress: Optional[Progress] = None,
) -> list[Path]:
    """Write the chosen scenarios (all ten by default) under out_dir; returns their folders.

    counts overrides DEFAULT_COUNTS per split key ("train/good", "test/logical_anomalies", ...).
    progress(fraction, description) is called after every image.
    """
    if size < 64:
        raise ValueError(f"size must be at least 64 pixels, got {size}")
    root = Path(out_dir)
    names = _select(scenarios)
    merged = _check_counts(counts)
    total = max(len(names) * sum(merged.values()), 1)
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / total, f"{name}: {done}/{total} images")

    folders = [_write_scenario(root, SCENARIOS[name], seed, size, merged, step) for name in names]
    write_index(root)
    return folders

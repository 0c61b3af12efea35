"""Run a method over every task of a suite, one JSON line per task, resumable.

Each finished task is appended and fsync'd before the next starts, so a killed run
loses at most the task in flight and a rerun skips what is done. One fit serves all
test conditions that share the same normals.

`save_maps` writes the maps of the tasks this call runs (not of those it skips) under
`<save_maps>/<condition>[/<N>-shot]/<category>/test/<defect_type>/<image_id>.tiff`, the
layout of a map submission, so the folder's contents zip straight into one.
`write_test_images` writes the test images those maps belong to, as evaluation sees them
(capture condition applied), in the same layout, for tools that run elsewhere.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Optional

from tqdm.auto import tqdm

from hub import describe_tier
from leaderboard import suites
from leaderboard.datasets import open_dataset
from leaderboard.evaluate import evaluate, fit, load_for_eval
from leaderboard.suites.conditions import CONDITIONS
from leaderboard.suites.spec import Suite, Task


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def task_id(suite: Suite, task: Task, method: str, config: dict[str, Any], tier: str) -> str:
    return f"{suite.name}@v{suite.version}:{task.key}:{method}:{config_hash(config)}:{tier}"


def read_done(out: Path) -> set[str]:
    """Task ids already in the results file; a torn last line (a killed write) is ignored."""
    done: set[str] = set()
    if not out.exists():
        return done
    for line in out.read_text().splitlines():
        try:
            done.add(json.loads(line)["task_id"])
        except (json.JSONDecodeError, KeyError):
            continue
    return done


def append_line(out: Path, row: dict[str, Any]) -> None:
    with out.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def select_tasks(suite: Suite, categories: Optional[Iterable[str]], conditions: Optional[Iterable[str]]) -> list[Task]:
    tasks = suite.tasks
    if categories:
        wanted = set(categories)
        unknown = wanted - {t.category for t in tasks}
        if unknown:
            known = ", ".join(sorted({t.category for t in tasks}))
            raise ValueError(f"suite {suite.name!r} has no categories {sorted(unknown)}; it has: {known}")
        tasks = [t for t in tasks if t.category in wanted]
    if conditions:
        wanted = set(conditions)
        tasks = [t for t in tasks if t.reported_condition in wanted]
    if not tasks:
        raise ValueError(f"suite {suite.name!r}: no task matches the given categories and conditions")
    return tasks


def run_suite(
    name: str,
    method: str,
    *,
    out: str | Path,
    config: Optional[dict[str, Any]] = None,
    data_root: Optional[str | Path] = None,
    tier: Optional[str] = None,
    categories: Optional[list[str]] = None,
    conditions: Optional[list[str]] = None,
    save_maps: Optional[str | Path] = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Evaluate `method` on the suite's tasks; returns every row in `out`, old and new."""
    suite = suites.get(name)
    tasks = select_tasks(suite, categories, conditions)
    config = dict(config or {})
    tier_name, _ = describe_tier(tier)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = read_done(out)
    todo = [t for t in tasks if task_id(suite, t, method, config, tier_name) not in done]
    root = suites.materialise(suite, data_root=data_root, categories=sorted({t.category for t in todo}) or None)

    groups: dict[tuple, list[Task]] = defaultdict(list)
    for t in todo:
        groups[(t.category, t.train_condition, t.shots)].append(t)
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"{name} × {method}", unit="task",
               disable=not progress)
    for (category, train_condition, shots), group in groups.items():
        ds = open_dataset(root, category)
        fitted = fit(method, ds, config=config, shots=shots, tier=tier_name, train_condition=train_condition,
                     progress=progress)
        for task in group:
            result = evaluate(method, data=root, category=category, config=config, tier=tier_name,
                              condition=task.condition, train_condition=train_condition, progress=progress,
                              fitted=fitted, save_maps=Path(save_maps) / task.maps_root if save_maps else None)
            result.update(
                suite=suite.name,
                suite_version=suite.version,
                condition=task.reported_condition,
                task=task.key,
                task_id=task_id(suite, task, method, config, tier_name),
                seed=suite.seed if suite.source == "generated" else None,
            )
            append_line(out, result)
            bar.update(1)
        del fitted
    bar.close()
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def main_metric(row: dict[str, Any]) -> Optional[float]:
    m = row["metrics"]
    return m.get("image_auroc_logical") if m.get("image_auroc_logical") is not None else m.get("image_auroc")


def summary_table(rows: list[dict[str, Any]], metric: Optional[str] = None) -> str:
    """Category × condition table of one metric, the per-condition mean and the worst-minus-best gap."""
    pick = (lambda r: r["metrics"].get(metric)) if metric else main_metric
    label = metric or "image_auroc_logical (else image_auroc)"
    cats = sorted({r["category"] for r in rows})
    conds = [c for c in CONDITIONS if any(r["condition"] == c for r in rows)]
    cell = {(r["category"], r["condition"]): pick(r) for r in rows}
    width = max([len(c) for c in cats] + [8])

    def fmt(v: Optional[float]) -> str:
        return f"{v:>10.3f}" if v is not None else f"{'–':>10}"

    lines = [f"{label}", f"{'':<{width}}" + "".join(f"{c:>10}" for c in conds) + f"{'mean':>10}"]
    for c in cats:
        vals = [cell.get((c, k)) for k in conds]
        present = [v for v in vals if v is not None]
        lines.append(f"{c:<{width}}" + "".join(fmt(v) for v in vals) + fmt(sum(present) / len(present) if present else None))
    means = []
    for k in conds:
        present = [cell[(c, k)] for c in cats if cell.get((c, k)) is not None]
        means.append(sum(present) / len(present) if present else None)
    present = [m for m in means if m is not None]
    lines.append(f"{'mean':<{width}}" + "".join(fmt(m) for m in means) + fmt(sum(present) / len(present) if present else None))
    if len(present) > 1:
        lines.append(f"worst-minus-best condition gap: {max(present) - min(present):.3f}")
    return "\n".join(lines)


def write_test_images(
    name: str,
    out: str | Path,
    *,
    data_root: Optional[str | Path] = None,
    categories: Optional[list[str]] = None,
    conditions: Optional[list[str]] = None,
    progress: bool = True,
) -> int:
    """Each task's test images as evaluation sees them, as PNG under
    `<out>/<condition>[/<N>-shot]/<category>/test/<defect_type>/<image_id>.png`; returns how many.

    A method run elsewhere predicts these files and writes `<image_id>.tiff` beside each
    image's place in a maps folder: that folder is then a map submission.
    """
    from PIL import Image

    from leaderboard.score_maps import map_key

    suite = suites.get(name)
    tasks = select_tasks(suite, categories, conditions)
    root = suites.materialise(suite, data_root=data_root, categories=sorted({t.category for t in tasks}))
    datasets = {c: open_dataset(root, c) for c in sorted({t.category for t in tasks})}
    total = sum(len(datasets[t.category].test) for t in tasks)
    written = 0
    with tqdm(total=total, desc=f"{name} test images", unit="img", disable=not progress) as bar:
        for task in tasks:
            ds = datasets[task.category]
            for sample in ds.test:
                target = Path(out) / task.maps_root / task.category / "test" / f"{map_key(sample)}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(load_for_eval(ds, sample.path, task.condition)).save(target)
                written += 1
                bar.update(1)
    return written

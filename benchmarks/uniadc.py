"""UniADC zero-shot and 1-shot: detection against PatchCore, classification accuracy, training cost.

    python -m benchmarks.uniadc                                  # every task, zero-shot and 1-shot
    python -m benchmarks.uniadc --tasks real-textures/brick,synthetic-logic/Balls --settings 0
    python -m benchmarks.uniadc --summarise-only                 # the JSON from the rows run so far

Tasks: the `synthetic-logic` scenarios on their structural split (captured as white_bg; the
scenario's example prior names the five structural defects) and the `real-textures`
categories (the real-textures prior). Settings: 0 (zero-shot: prior-guided synthesis only) and
1 (1-shot: the first test image of each defect type is given to fit and left out of the test).
Per-task rows go to benchmarks/results/runs/uniadc.jsonl (resumable: finished rows are
skipped); the summary to benchmarks/results/uniadc.json. PatchCore's numbers are the
committed baseline rows of the same tasks (image AUROC of the structural kind on
synthetic-logic, image AUROC on real-textures, white_bg).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any, Optional

from benchmarks.common import RESULTS, machine, patchcore_rows, print_table, write_results

PRIORS = Path(__file__).resolve().parents[1] / "examples" / "priors"
SUITES = ("real-textures", "synthetic-logic")
RUNS = RESULTS / "runs" / "uniadc.jsonl"
TARGETS = {"zero_shot_accuracy": 0.70, "one_shot_accuracy": 0.85, "fit_s_per_category": 600.0,
           "synthesis_s_per_image": 1.0}


def prior_for(suite: str, category: str) -> Path:
    return PRIORS / (f"synthetic-logic-{category.lower()}.yaml" if suite == "synthetic-logic" else "real-textures.yaml")


def all_tasks() -> list[tuple[str, str]]:
    from leaderboard import suites

    return [(s, c) for s in SUITES for c in suites.get(s).categories]


def run_task(suite_name: str, category: str, shots: int) -> dict[str, Any]:
    """One fit and one evaluation; the row keeps the metrics, timings and the model's own fit record."""
    from leaderboard import suites
    from leaderboard.datasets import open_dataset
    from leaderboard.evaluate import evaluate, fit

    root = suites.materialise(suites.get(suite_name), categories=[category])
    config: dict[str, Any] = {"prior": str(prior_for(suite_name, category))}
    if suite_name == "synthetic-logic":
        config["split"] = "structural"
    if shots:
        config["anomaly_shots"] = shots
    ds = open_dataset(root, category)
    fitted = fit("uniadc", ds, config=config, tier="embedded", progress=False)
    result = evaluate("uniadc", data=root, category=category, config=config, tier="embedded", progress=False,
                      fitted=fitted)
    meta = fitted.model.meta
    return {
        "suite": suite_name, "category": category, "anomaly_shots": shots, "n_test": result["n_test"],
        "metrics": result["metrics"], "classification": result.get("classification"),
        "held_out_for_training": result.get("held_out_for_training", []),
        "fit_s": round(fitted.fit_s, 1), "model_timing": meta["timing"], "best_step": meta["best_step"],
        "held_out_synthetic_accuracy": meta["held_out_accuracy"], "other_threshold": meta["other_threshold"],
        "predict_ms_per_image": result["timing"]["predict_ms_per_image"],
    }


def _mean(values: list[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def baseline() -> dict[tuple[str, str], Optional[float]]:
    """PatchCore image AUROC per task: structural kind on synthetic-logic, all defects on real-textures."""
    out = {}
    for suite_name in SUITES:
        rows, _ = patchcore_rows(suite_name, None, ["white_bg"])
        metric = "image_auroc_structural" if suite_name == "synthetic-logic" else "image_auroc"
        for r in rows:
            if r["condition"] == "white_bg":
                out[(suite_name, r["category"])] = r["metrics"].get(metric)
    return out


def summarise(rows: list[dict[str, Any]], base: dict[tuple[str, str], Optional[float]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for shots in sorted({r["anomaly_shots"] for r in rows}):
        for suite_name in SUITES:
            mine = [r for r in rows if r["anomaly_shots"] == shots and r["suite"] == suite_name]
            if not mine:
                continue
            summary[f"{suite_name}/{shots}-shot"] = {
                "tasks": len(mine),
                "image_auroc_uniadc": _mean([r["metrics"]["image_auroc"] for r in mine]),
                "image_auroc_patchcore": _mean([base.get((suite_name, r["category"])) for r in mine]),
                "pixel_auroc": _mean([r["metrics"]["pixel_auroc"] for r in mine]),
                "aupro": _mean([r["metrics"]["aupro"] for r in mine]),
                "classification_accuracy": _mean([r["metrics"]["classification_accuracy"] for r in mine]),
                "miou": _mean([r["metrics"]["miou"] for r in mine]),
                "fit_s_max": max(r["fit_s"] for r in mine),
                "synthesis_s_per_image": _mean([r["model_timing"]["synthesis_s_per_image"] for r in mine]),
            }
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", help="comma-separated suite/category (default: all of both suites)")
    ap.add_argument("--settings", default="0,1", help="comma-separated anomaly shots, 0 = zero-shot")
    ap.add_argument("--summarise-only", action="store_true",
                    help="run nothing; summarise the rows already in runs/uniadc.jsonl for these tasks and settings")
    args = ap.parse_args()
    tasks = [tuple(t.split("/", 1)) for t in args.tasks.split(",")] if args.tasks else all_tasks()
    settings = [int(s) for s in args.settings.split(",")]

    t0 = time.perf_counter()
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    done = [json.loads(line) for line in RUNS.read_text().splitlines() if line.strip()] if RUNS.is_file() else []
    have = {(r["suite"], r["category"], r["anomaly_shots"]) for r in done}
    for shots in settings:
        for suite_name, category in tasks:
            if (suite_name, category, shots) in have or args.summarise_only:
                continue
            row = run_task(suite_name, category, shots)
            with RUNS.open("a") as f:
                f.write(json.dumps(row) + "\n")
            done.append(row)
            print(f"{suite_name}/{category} {shots}-shot: I-AUROC {row['metrics']['image_auroc']:.3f} "
                  f"acc {row['metrics']['classification_accuracy']:.3f} fit {row['fit_s']} s", flush=True)
    rows = [r for r in done if (r["suite"], r["category"]) in set(tasks) and r["anomaly_shots"] in settings]
    if not rows:
        raise SystemExit("no finished task to summarise")
    base = baseline()
    summary = summarise(rows, base)
    zero = [r for r in rows if r["anomaly_shots"] == 0]
    one = [r for r in rows if r["anomaly_shots"] == 1]
    acc0 = _mean([r["metrics"]["classification_accuracy"] for r in zero])
    acc1 = _mean([r["metrics"]["classification_accuracy"] for r in one])
    fit_max = max((r["fit_s"] for r in rows), default=None)
    synth = _mean([r["model_timing"]["synthesis_s_per_image"] for r in rows])
    auroc_ok = {s: (v["image_auroc_uniadc"] >= v["image_auroc_patchcore"]) for s, v in summary.items()
                if s.endswith("/0-shot") and v["image_auroc_patchcore"] is not None}
    payload = {
        "method": "uniadc", "tier": "embedded", "condition": "white_bg",
        "tasks_run": sorted({f"{r['suite']}/{r['category']}" for r in rows}),
        "settings_run": sorted({r["anomaly_shots"] for r in rows}),
        "patchcore_source": "benchmarks/results/suites-patchcore.json (white_bg rows)",
        "summary": summary,
        "zero_shot_accuracy": acc0, "one_shot_accuracy": acc1, "fit_s_max": fit_max, "synthesis_s_per_image": synth,
        "targets": {
            "zero_shot_image_auroc_at_least_patchcore": auroc_ok,
            "zero_shot_accuracy_at_least_0.70": None if acc0 is None else acc0 >= TARGETS["zero_shot_accuracy"],
            "one_shot_accuracy_at_least_0.85": None if acc1 is None else acc1 >= TARGETS["one_shot_accuracy"],
            "fit_at_most_600_s": None if fit_max is None else fit_max <= TARGETS["fit_s_per_category"],
            "synthesis_at_most_1_s_per_image": None if synth is None else synth <= TARGETS["synthesis_s_per_image"],
        },
        "per_task": [{k: r[k] for k in ("suite", "category", "anomaly_shots", "n_test", "fit_s", "best_step",
                                        "held_out_synthetic_accuracy", "predict_ms_per_image")}
                     | {"metrics": {k: r["metrics"].get(k) for k in ("image_auroc", "pixel_auroc", "aupro",
                                                                     "classification_accuracy", "miou")},
                        "patchcore_image_auroc": base.get((r["suite"], r["category"])),
                        "synthesis_s_per_image": r["model_timing"]["synthesis_s_per_image"]}
                     for r in rows],
        "machine": machine(), "wall_s_this_invocation": round(time.perf_counter() - t0, 1),
    }
    out = write_results("uniadc", payload)
    table = [(k, f"I-AUROC {v['image_auroc_uniadc']} (PatchCore {v['image_auroc_patchcore']}), "
                 f"acc {v['classification_accuracy']}, mIoU {v['miou']}, fit ≤ {v['fit_s_max']} s")
             for k, v in summary.items()]
    print_table(table + [("written", str(out))])


if __name__ == "__main__":
    main()

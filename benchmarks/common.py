"""Shared helpers for benchmark scripts: timing, machine description, JSON output."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
import glob
from typing import Any, Callable, Optional

RESULTS = Path(__file__).parent / "results"


def timed(fn: Callable[[], Any], repeats: int = 5, warmup: int = 2) -> float:
    """Median wall seconds of fn() over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine() -> dict[str, Any]:
    import torch

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "git_commit": commit,
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return out


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def patchcore_rows(suite: str, categories: Optional[list[str]], conditions: Optional[list[str]]) -> tuple[list[dict], str]:
    """The PatchCore baseline rows for `suite`: the committed summary, else local run files, else a run now."""
    rows: list[dict[str, Any]] = []
    summary = RESULTS / "suites-patchcore.json"
    if summary.is_file():
        data = json.loads(summary.read_text())
        rows = [dict(t, method="patchcore") for t in data.get("suites", {}).get(suite, {}).get("tasks", [])]
        source = str(summary.relative_to(RESULTS.parent.parent))
    if not rows:
        for path in sorted(glob.glob(str(RESULTS / "runs" / f"{suite}-patchcore*.jsonl"))):
            rows += [json.loads(line) for line in open(path) if line.strip()]
        source = f"benchmarks/results/runs/{suite}-patchcore*.jsonl"
    if not rows:
        out = RESULTS / "runs" / f"{suite}-patchcore.jsonl"
        from leaderboard.run_suite import run_suite

        rows = run_suite(suite, "patchcore", out=out, tier="embedded", categories=categories, conditions=conditions)
        source = f"run here: {out.relative_to(RESULTS.parent.parent)}"
    return rows, source


def subset_from_args(description: str) -> tuple[Optional[list[str]], Optional[list[str]]]:
    """(categories, conditions) from `--categories` / `--conditions`; None means all."""
    import argparse

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--categories", help="comma-separated subset of scenarios")
    ap.add_argument("--conditions", help="comma-separated subset of conditions")
    args = ap.parse_args()
    return (args.categories.split(",") if args.categories else None,
            args.conditions.split(",") if args.conditions else None)


def run_subset(suite: str, method: str, categories: Optional[list[str]], conditions: Optional[list[str]]) -> list[dict]:
    """The method's rows for the subset, resuming from benchmarks/results/runs/<suite>-<method>.jsonl."""
    from leaderboard.run_suite import run_suite

    rows = run_suite(suite, method, out=RESULTS / "runs" / f"{suite}-{method}.jsonl", tier="embedded",
                     categories=categories, conditions=conditions)
    return [r for r in rows if (not categories or r["category"] in categories)
            and (not conditions or r["condition"] in conditions)]

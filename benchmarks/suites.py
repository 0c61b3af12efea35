"""Run a method over the offline suites and write benchmarks/results/suites-<method>.json.

    python -m benchmarks.suites --method patchcore             # synthetic-logic (10 × 5) and real-textures
    python -m benchmarks.suites --method pixel_zscore --conditions white_bg

The per-task JSON lines are kept next to the summary (resumable), so a rerun only
does what is missing. This is the baseline row of the leaderboard.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Optional

from benchmarks.common import RESULTS, machine, write_results
from leaderboard.run_suite import run_suite, summary_table

SUITES = ("synthetic-logic", "real-textures")


def _mean(values: list[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    metrics = sorted({k for r in rows for k, v in r["metrics"].items() if v is not None})
    by_condition = {}
    for cond in sorted({r["condition"] for r in rows}):
        sub = [r for r in rows if r["condition"] == cond]
        by_condition[cond] = {m: _mean([r["metrics"].get(m) for r in sub]) for m in metrics}
    overall = {m: _mean([r["metrics"].get(m) for r in rows]) for m in metrics}
    gaps = {}
    for m in ("image_auroc_logical", "image_auroc_structural", "image_auroc"):
        vals = [c[m] for c in by_condition.values() if c.get(m) is not None]
        if len(vals) > 1:
            gaps[m] = round(max(vals) - min(vals), 4)
    return {"mean": overall, "by_condition": by_condition, "worst_minus_best_condition_gap": gaps,
            "tasks": [{"category": r["category"], "condition": r["condition"], "metrics": r["metrics"],
                       "timing": r["timing"]} for r in rows]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--method", default="patchcore")
    ap.add_argument("--suites", default=",".join(SUITES))
    ap.add_argument("--conditions", help="comma-separated subset, e.g. white_bg")
    args = ap.parse_args()
    conditions = args.conditions.split(",") if args.conditions else None
    tag = args.method + (f"-{'-'.join(conditions)}" if conditions else "")
    payload: dict[str, Any] = {"method": args.method, "tier": "embedded", "suites": {}}
    t0 = time.perf_counter()
    for suite in args.suites.split(","):
        jsonl = RESULTS / "runs" / f"{suite}-{tag}.jsonl"
        rows = run_suite(suite, args.method, out=jsonl, tier="embedded", conditions=conditions)
        rows = [r for r in rows if r["method"] == args.method and (not conditions or r["condition"] in conditions)]
        print(f"\n{suite}\n{summary_table(rows)}")
        if any(r["metrics"].get("image_auroc_structural") is not None for r in rows):
            print(summary_table(rows, "image_auroc_structural"))
        payload["suites"][suite] = summarise(rows)
        payload["suites"][suite]["command"] = (
            f"python -m leaderboard run-suite {suite} --method {args.method} --tier embedded"
            + (f" --conditions {args.conditions}" if conditions else "") + f" --out {jsonl.relative_to(RESULTS.parent.parent)}"
        )
    payload["wall_s"] = round(time.perf_counter() - t0, 1)
    payload["machine"] = machine()
    print(f"wrote {write_results(f'suites-{tag}', payload)}")


if __name__ == "__main__":
    main()

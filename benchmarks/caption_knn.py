"""caption_knn on synthetic-logic (10 scenarios × 5 conditions), its predict cost and its fine-tuning time.

    python -m benchmarks.caption_knn                              # all 50 tasks (resumable)
    python -m benchmarks.caption_knn --categories Sticks --conditions white_bg,cable_bg

Writes benchmarks/results/caption_knn.json: mean logical AUROC, the worst-minus-best condition
gap, the PatchCore comparison on the tasks both have (PatchCore rows from
benchmarks/results/runs/synthetic-logic-patchcore*.jsonl; not run here), predict ms per image
(also on Tools under cables, the slowest condition) and fine-tune seconds on 60 captions, each
measured alone in this process. Per-task lines
live in benchmarks/results/runs/synthetic-logic-caption_knn.jsonl.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Optional

from benchmarks.common import machine, patchcore_rows, print_table, run_subset, subset_from_args, write_results

SUITE = "synthetic-logic"
METRIC = "image_auroc_logical"


def _mean(values: list[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def condition_means(rows: list[dict[str, Any]]) -> dict[str, Optional[float]]:
    return {c: _mean([r["metrics"].get(METRIC) for r in rows if r["condition"] == c])
            for c in sorted({r["condition"] for r in rows})}


def _scenario(category: str):
    """The suite's dataset for one scenario and its first 60 normal images."""
    from hub.images import load_image
    from leaderboard import suites
    from leaderboard.datasets import open_dataset

    ds = open_dataset(suites.materialise(suites.get(SUITE), categories=[category]), category)
    return ds, [load_image(p) for p in ds.train[:60]]


def _predict_ms(model: Any, warm_up: list, timed: list) -> float:
    model.predict(warm_up)
    t = time.perf_counter()
    model.predict(timed)
    return 1000 * (time.perf_counter() - t) / len(timed)


def cable_predict_ms(category: str = "Tools", n_predict: int = 20) -> float:
    """Predict ms per image under cables, the describer's slowest condition (cable colours are taken out)."""
    import methods
    from leaderboard.evaluate import load_for_eval

    ds, train = _scenario(category)
    model = methods.create("caption_knn", tier="embedded", epochs=1).fit(train)
    test = [load_for_eval(ds, s.path, "cable_bg") for s in ds.test[:n_predict + 2]]
    return round(_predict_ms(model, test[:2], test[2:]), 1)


def costs(category: str = "Fruits", n_predict: int = 20) -> dict[str, float]:
    """Fine-tune seconds on the 60 normal captions of one scenario and predict ms per image, one process."""
    import methods
    from hub.images import load_image

    ds, train = _scenario(category)
    test = [load_image(s.path) for s in ds.test[:n_predict]]
    t = time.perf_counter()
    model = methods.create("caption_knn", tier="embedded").fit(train)
    fit_s = time.perf_counter() - t
    predict_ms = _predict_ms(model, test[:2], test)
    return {"category": category, "n_captions": len(train), "fine_tune_s": round(model.encoder.fine_tune_seconds, 1),
            "fit_s": round(fit_s, 1), "predict_ms_per_image": round(predict_ms, 1),
            "cable_bg_predict_ms_per_image_tools": cable_predict_ms()}


def main() -> None:
    cats, conds = subset_from_args(__doc__.split("\n")[0])
    t0 = time.perf_counter()
    ours = run_subset(SUITE, "caption_knn", cats, conds)
    by_cond = condition_means(ours)
    present = [v for v in by_cond.values() if v is not None]
    mean = _mean([r["metrics"].get(METRIC) for r in ours])
    gap = round(max(present) - min(present), 4) if len(present) > 1 else None

    base = {(r["category"], r["condition"]): r for r in patchcore_rows(SUITE, cats, conds)[0]}
    mine = {(r["category"], r["condition"]): r for r in ours}
    common = sorted(set(base) & set(mine))
    ours_common = _mean([mine[k]["metrics"].get(METRIC) for k in common])
    patchcore_common = _mean([base[k]["metrics"].get(METRIC) for k in common])
    cost = costs()
    per_scenario = {c: _mean([r["metrics"].get(METRIC) for r in ours if r["category"] == c])
                    for c in sorted({r["category"] for r in ours})}
    payload = {
        "method": "caption_knn", "suite": SUITE, "tier": "embedded", "metric": METRIC,
        "tasks": len(ours), "mean_logical_auroc": mean, "by_condition": by_cond, "by_scenario": per_scenario,
        "worst_minus_best_condition_gap": gap,
        "patchcore": {"tasks_compared": len(common), "caption_knn": ours_common, "patchcore": patchcore_common,
                      "difference": round(ours_common - patchcore_common, 4) if common else None},
        "costs": cost,
        "targets": {"mean_at_least_0.90": mean is not None and mean >= 0.90,
                    "gap_at_most_0.04": gap is not None and gap <= 0.04,
                    "patchcore_plus_0.2": bool(common) and ours_common - patchcore_common >= 0.2,
                    "predict_at_most_300_ms": max(cost["predict_ms_per_image"],
                                                  cost["cable_bg_predict_ms_per_image_tools"]) <= 300,
                    "fine_tune_60_captions_at_most_120_s": cost["fine_tune_s"] <= 120},
        "per_task": [{"category": r["category"], "condition": r["condition"], METRIC: r["metrics"].get(METRIC),
                      "fit_s": r["timing"]["fit_s"], "predict_ms_per_image": r["timing"]["predict_ms_per_image"]}
                     for r in ours],
        "machine": machine(), "wall_s": round(time.perf_counter() - t0, 1),
    }
    out = write_results("caption_knn", payload)
    print_table([
        ("tasks", str(len(ours))),
        ("mean logical AUROC", str(mean)),
        ("by condition", ", ".join(f"{k} {v}" for k, v in by_cond.items())),
        ("worst-minus-best gap", str(gap)),
        ("vs PatchCore (common tasks)", f"{ours_common} / {patchcore_common} on {len(common)} tasks"),
        ("fine-tune s (60 captions)", str(cost["fine_tune_s"])),
        ("predict ms / image", str(cost["predict_ms_per_image"])),
        ("predict ms / image, Tools cable_bg", str(cost["cable_bg_predict_ms_per_image_tools"])),
        ("written", str(out)),
    ])


if __name__ == "__main__":
    main()

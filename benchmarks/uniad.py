"""UniAD against PatchCore on synthetic-logic, and its predict cost against one backbone forward.

    python -m benchmarks.uniad                                   # all 10 scenarios × 5 conditions
    python -m benchmarks.uniad --categories Fruits,Sticks --conditions white_bg

Writes benchmarks/results/uniad.json. The per-task lines live in
benchmarks/results/runs/synthetic-logic-uniad.jsonl (resumable). PatchCore's rows come from
benchmarks/results/suites-patchcore.json or runs/synthetic-logic-patchcore*.jsonl when the
baseline has been run; otherwise PatchCore is run here on the same tasks. Only tasks both
methods have are compared.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Optional

from benchmarks.common import (
    machine, patchcore_rows, print_table, run_subset, subset_from_args, timed, write_results,
)

SUITE = "synthetic-logic"


def _mean(values: list[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def _by_task(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["category"], r["condition"]): r for r in rows}


def predict_cost(category: str = "Fruits", n: int = 16) -> dict[str, float]:
    """ms per image of UniAD predict and of the backbone forward PatchCore uses, same images, same process."""
    import methods
    from leaderboard import suites
    from leaderboard.datasets import open_dataset
    from hub.images import load_image
    from methods.backbone import FeatureExtractor

    root = suites.materialise(suites.get(SUITE), categories=[category])
    ds = open_dataset(root, category)
    train = [load_image(p) for p in ds.train[:20]]
    test = [load_image(s.path) for s in ds.test[:n]]
    model = methods.create("uniad", tier="embedded", steps=20).fit(train)  # predict cost does not depend on steps
    backbone = FeatureExtractor("embedded", "cpu", 256, (2, 4))
    t_backbone = timed(lambda: [backbone(test[i : i + 8]) for i in range(0, n, 8)], repeats=3, warmup=1) / n
    t_predict = timed(lambda: model.predict(test), repeats=3, warmup=1) / n
    return {"backbone_forward_ms": round(1000 * t_backbone, 1), "predict_ms": round(1000 * t_predict, 1),
            "ratio": round(t_predict / t_backbone, 2)}


def main() -> None:
    cats, conds = subset_from_args(__doc__.split("\n")[0])
    t0 = time.perf_counter()
    ours = run_subset(SUITE, "uniad", cats, conds)
    base, base_source = patchcore_rows(SUITE, cats, conds)
    a, b = _by_task(ours), _by_task(base)
    common = sorted(set(a) & set(b))
    if not common:
        raise SystemExit("no task that both UniAD and PatchCore have")

    def mean_of(table, metric, keys):
        return _mean([table[k]["metrics"].get(metric) for k in keys])

    summary: dict[str, Any] = {}
    groups = [("all", common)] + [(c, [k for k in common if k[1] == c]) for c in sorted({k[1] for k in common})]
    for label, keys in groups:
        summary[label] = {
            f"{m}_{who}": mean_of(t, f"image_auroc_{m}", keys)
            for m in ("logical", "structural") for who, t in (("uniad", a), ("patchcore", b))
        }
    s = summary["all"]
    d_log = round(s["logical_uniad"] - s["logical_patchcore"], 4)
    d_struct = round(s["structural_uniad"] - s["structural_patchcore"], 4)
    fit_s = {c: a[(c, "white_bg")]["timing"]["fit_s"] for c, cond in common if cond == "white_bg"}
    cost = predict_cost()
    payload = {
        "method": "uniad", "suite": SUITE, "tier": "embedded", "patchcore_source": base_source,
        "tasks_compared": len(common), "categories": sorted({c for c, _ in common}),
        "conditions": sorted({k for _, k in common}),
        "mean": s, "by_condition": {k: v for k, v in summary.items() if k != "all"},
        "logical_minus_patchcore": d_log, "structural_minus_patchcore": d_struct,
        "targets": {"logical_at_least_patchcore_plus_0.15": d_log >= 0.15,
                    "structural_within_0.02_or_better": d_struct >= -0.02,
                    "predict_at_most_3x_backbone": cost["ratio"] <= 3.0},
        "fit_s_per_category": fit_s, "fit_s_max": max(fit_s.values()) if fit_s else None,
        "predict_cost": cost,
        "per_task": [{"category": c, "condition": k,
                      "uniad": {m: a[(c, k)]["metrics"].get(f"image_auroc_{m}") for m in ("logical", "structural")},
                      "patchcore": {m: b[(c, k)]["metrics"].get(f"image_auroc_{m}") for m in ("logical", "structural")}}
                     for c, k in common],
        "machine": machine(), "wall_s": round(time.perf_counter() - t0, 1),
    }
    out = write_results("uniad", payload)
    print_table([
        ("tasks", str(len(common))),
        ("logical AUROC uniad / patchcore", f"{s['logical_uniad']} / {s['logical_patchcore']} ({d_log:+.3f})"),
        ("structural AUROC uniad / patchcore",
         f"{s['structural_uniad']} / {s['structural_patchcore']} ({d_struct:+.3f})"),
        ("predict / backbone ms", f"{cost['predict_ms']} / {cost['backbone_forward_ms']} ({cost['ratio']}×)"),
        ("fit s per category (max)", str(payload["fit_s_max"])),
        ("written", str(out)),
    ])


if __name__ == "__main__":
    main()

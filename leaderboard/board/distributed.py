"""One evaluation split across processes: `accelerate launch -m leaderboard.worker ...`.

Every process fits the same (deterministic) model on the normals, predicts its share of
the test images (`split_between_processes`), and the predictions are gathered
(`gather_for_metrics`) so the metrics are computed once, on the main process, over
exactly the set a single process would have seen, in the same order.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

import numpy as np


def evaluate_sharded(method: str, *, data: str | Path, category: Optional[str] = None,
                     config: Optional[dict[str, Any]] = None, condition: Optional[str] = None,
                     tier: Optional[str] = None) -> Optional[dict[str, Any]]:
    """The `evaluate` metrics from all processes together; None on every process but the main one."""
    from accelerate import Accelerator

    from hub import describe_tier
    from leaderboard.datasets import open_dataset
    from leaderboard.evaluate import _metric_size, _resize_map, compute_metrics, fit, load_for_eval

    import torch

    acc = Accelerator(cpu=not torch.cuda.is_available())  # each process on its own GPU when there are GPUs
    ds = open_dataset(data, category)
    tier_name, _ = describe_tier(tier)
    fitted = fit(method, ds, config=config, tier=tier_name, progress=False, device=str(acc.device))
    mine: list[tuple[int, float, np.ndarray]] = []
    with acc.split_between_processes(list(range(len(ds.test)))) as share:
        for i in share:
            pred = fitted.model.predict([load_for_eval(ds, ds.test[i].path, condition)])[0]
            mine.append((i, pred.score, _resize_map(pred.anomaly_map, _metric_size(pred.anomaly_map.shape))))
    gathered = acc.gather_for_metrics(mine, use_gather_object=True)
    if not acc.is_main_process:
        return None
    gathered = sorted(gathered, key=lambda t: t[0])
    if [t[0] for t in gathered] != list(range(len(ds.test))):
        raise RuntimeError(f"gathered {len(gathered)} predictions for {len(ds.test)} test images")
    return {
        "method": method, "category": ds.category, "tier": tier_name, "condition": condition or "white_bg",
        "n_test": len(ds.test), "n_processes": acc.num_processes,
        "metrics": compute_metrics(ds, ds.test, [t[1] for t in gathered], [t[2] for t in gathered]),
        "scores": [t[1] for t in gathered],
    }


def run_suite_sharded(suite_name: str, method: str, *, config: Optional[dict[str, Any]] = None,
                      data_root: Optional[str] = None, categories: Optional[list[str]] = None,
                      conditions: Optional[list[str]] = None) -> list[dict[str, Any]]:
    """Every task of a suite, each task's test images split across the processes (main process: the rows)."""
    from leaderboard import suites
    from leaderboard.run_suite import select_tasks

    import torch
    from accelerate import Accelerator

    suite = suites.get(suite_name)
    tasks = select_tasks(suite, categories, conditions)
    acc = Accelerator(cpu=not torch.cuda.is_available())
    with acc.main_process_first():  # one process generates a suite's data; the others then read it
        root = suites.materialise(suite, data_root=data_root, categories=sorted({t.category for t in tasks}))
    rows = []
    for task in tasks:
        result = evaluate_sharded(method, data=root, category=task.category, config=config, condition=task.condition)
        if result is not None:
            rows.append(dict(result, suite=suite.name, suite_version=suite.version, task=task.key,
                             condition=task.reported_condition))
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="accelerate launch -m leaderboard.worker", description=__doc__)
    p.add_argument("--method", required=True)
    p.add_argument("--data", help="a dataset folder (one evaluation)")
    p.add_argument("--category")
    p.add_argument("--suite", help="a registered suite: every task, each split across the processes")
    p.add_argument("--data-root", help="with --suite: the data root of a real-dataset suite")
    p.add_argument("--categories", help="with --suite: comma-separated subset")
    p.add_argument("--conditions", help="with --suite: comma-separated subset")
    p.add_argument("--config", help="JSON object of method config keys")
    p.add_argument("--condition")
    p.add_argument("--out", required=True, help="JSON file (one evaluation) or JSON-lines file (--suite)")
    args = p.parse_args(argv)
    config = json.loads(args.config) if args.config else None
    if args.suite:
        split = (lambda v: v.split(",") if v else None)
        rows = run_suite_sharded(args.suite, args.method, config=config, data_root=args.data_root,
                                 categories=split(args.categories), conditions=split(args.conditions))
        if rows:
            Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
        return 0
    if not args.data:
        p.error("give --data DIR (one evaluation) or --suite NAME")
    result = evaluate_sharded(args.method, data=args.data, category=args.category, config=config,
                              condition=args.condition)
    if result is not None:
        Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

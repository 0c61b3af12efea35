"""The results store as tables: a leaderboard summary, Parquet, a `datasets.Dataset`, a Hub dataset repo.

Only FINISHED submissions are exported, so a half-run job never shows up as a row
with missing tasks. The full `evaluate` JSON travels as a string column, so nothing
the app or a paper needs is lost in the flattening.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from leaderboard.board import store
from leaderboard.board.queue import Queue

METRICS = ["image_auroc", "image_auroc_logical", "image_auroc_structural", "pixel_auroc", "aupro", "spro", "f1_max"]
PARQUET_NAME = "data/results.parquet"
SUMMARY_COLUMNS = ["rank", "display_name", "method", "suite", "setting", "tier", "source", "score", "pixel_auroc",
                   "n_tasks", "submission_id", "submitter"]
STANDARD = "standard"


def setting(result: dict[str, Any]) -> str:
    """What was measured, when it is not the suite's standard protocol: few-shot anomalies, one test kind.

    Runs in different settings see different test sets, so they are ranked apart.
    """
    parts = []
    if result.get("anomaly_shots"):
        parts.append(f"{result['anomaly_shots']}-shot anomalies")
    if result.get("split"):
        parts.append(f"{result['split']} split")
    return ", ".join(parts) or STANDARD


def to_frame(queue: Queue) -> pd.DataFrame:
    """One row per stored task result: identifying columns, one column per metric, the full JSON."""
    rows = []
    for r in store.results(queue):
        rows.append({
            "submission_id": r["submission_id"], "display_name": r["display_name"], "submitter": r["submitter"],
            "method": r["method"], "suite": r["suite"], "suite_version": r["suite_version"], "task": r["task"],
            "category": r["category"], "condition": r["condition"], "tier": r["tier"],
            "source": r["result"].get("source", store.RUN_HERE), "setting": setting(r["result"]),
            "config_hash": r["config_hash"], "git_commit": r["git_commit"],
            "seed_suite": r["seeds"].get("suite"), "seed_method": r["seeds"].get("method"),
            "fit_s": r["timing"].get("fit_s"), "predict_ms_per_image": r["timing"].get("predict_ms_per_image"),
            **{m: r["metrics"].get(m) for m in METRICS},
            "result_json": json.dumps(r["result"], sort_keys=True),
        })
    frame = pd.DataFrame(rows, columns=None if rows else ["submission_id", "suite", "task", *METRICS])
    for m in METRICS:
        frame[m] = frame[m].astype("float64")
    return frame


def to_parquet(queue: Queue, path: str | os.PathLike) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    to_frame(queue).to_parquet(out, index=False)
    return out


def to_dataset(queue: Queue) -> Any:
    import datasets

    return datasets.Dataset.from_pandas(to_frame(queue), preserve_index=False)


def summary(queue: Queue, suite: Optional[str] = None) -> pd.DataFrame:
    """One leaderboard row per (submission, suite): the mean main metric over its tasks, best first,
    ranked among the rows of the same suite and setting."""
    frame = to_frame(queue)
    if suite:
        frame = frame[frame["suite"] == suite]
    if frame.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    frame = frame.assign(score=frame["image_auroc_logical"].fillna(frame["image_auroc"]))
    table = (frame.groupby(["submission_id", "display_name", "submitter", "method", "suite", "setting", "tier",
                            "source"], as_index=False)
             .agg(score=("score", "mean"), n_tasks=("task", "count"), pixel_auroc=("pixel_auroc", "mean")))
    table["standard_first"] = table["setting"] != STANDARD
    table = table.sort_values(["suite", "standard_first", "setting", "score"], ascending=[True, True, True, False],
                              na_position="last")
    table.insert(0, "rank", table.groupby(["suite", "setting"]).cumcount() + 1)
    return table[SUMMARY_COLUMNS].reset_index(drop=True)


def render(table: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "json":
        return table.to_json(orient="records", indent=2)
    if fmt == "md":
        return _markdown(table)
    raise ValueError(f"unknown table format {fmt!r}; use md, csv or json")


def _markdown(table: pd.DataFrame) -> str:
    """A GitHub table without the optional `tabulate` dependency."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "–" if v != v else f"{v:.3f}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def _card(frame: pd.DataFrame) -> str:
    return (
        "---\nconfigs:\n- config_name: default\n  data_files: " + PARQUET_NAME + "\n---\n"
        "# Anomaly hub leaderboard results\n\n"
        f"{len(frame)} task results from {frame['submission_id'].nunique() if len(frame) else 0} submissions. "
        "One row per (submission, suite, task, condition, tier); `result_json` holds the full `evaluate` output, "
        "`git_commit` the project commit that produced it.\n"
    )


def write_export(queue: Queue, folder: str | os.PathLike) -> list[Path]:
    """The files a Hub push uploads, written under `folder`."""
    folder = Path(folder)
    frame = to_frame(queue)
    parquet = folder / PARQUET_NAME
    parquet.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(parquet, index=False)
    readme = folder / "README.md"
    readme.write_text(_card(frame))
    return [readme, parquet]


def push_to_hub(queue: Queue, repo_id: str, token: Optional[str] = None, *,
                dry_run_dir: Optional[str | os.PathLike] = None) -> list[Path] | str:
    """Upload the results as a Hub dataset repo; with `dry_run_dir`, write the files there instead."""
    from leaderboard.board.submission import _REPO_ID

    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise ValueError(f"{repo_id!r} is not a Hub repo id of the form owner/name")
    if dry_run_dir is not None:
        return write_export(queue, dry_run_dir)
    token = token or os.environ.get("HF_TOKEN")
    if not token:
        raise ValueError("push_to_hub needs a token (argument or $HF_TOKEN), or dry_run_dir to write the files locally")
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        write_export(queue, tmp)
        info = api.upload_folder(folder_path=tmp, repo_id=repo_id, repo_type="dataset",
                                 commit_message=f"leaderboard export at {store.project_commit()}")
    return str(info)


__all__ = ["push_to_hub", "render", "summary", "to_dataset", "to_frame", "to_parquet", "write_export"]

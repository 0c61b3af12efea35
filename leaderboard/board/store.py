"""Results, one row per (submission, suite, task, condition, tier), each holding the full `evaluate` JSON.

A row is written in its own transaction, and only by the worker that holds the job's
lease, so a crash loses at most the task in flight and a taken-over job is never
written twice. Each row records what is needed to reproduce it: the project's git
commit, the suite version, the seeds and the timings.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Optional

from leaderboard.board import db
from leaderboard.board.queue import Job, Queue

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Where a row's numbers come from, read from its `evaluate` JSON's `source` (absent: run here).
RUN_HERE, MAPS_SUBMITTED = "run here", "maps submitted"


@functools.lru_cache(maxsize=1)
def project_commit() -> str:
    """The project's git commit ('+dirty' if tracked files changed); $ANOMALY_HUB_GIT_COMMIT where there is no .git."""
    if os.environ.get("ANOMALY_HUB_GIT_COMMIT"):
        return os.environ["ANOMALY_HUB_GIT_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=PROJECT_ROOT, capture_output=True,
                               timeout=10).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def done_task_ids(queue: Queue, submission_id: str) -> set[str]:
    rows = queue.conn.execute("SELECT task_id FROM results WHERE submission_id = ?", (submission_id,))
    return {r[0] for r in rows}


def insert(c: sqlite3.Connection, submission_id: str, worker: str, row: dict[str, Any], *, config_hash: str) -> bool:
    """Inside the caller's transaction: one task's result row; False if it was already stored."""
    timing = dict(row.get("timing") or {})
    seeds = {"suite": row.get("seed"), "method": (row.get("config") or {}).get("seed")}
    cur = c.execute(
        "INSERT OR IGNORE INTO results (submission_id, task_id, suite, suite_version, task, category, condition, "
        "tier, method, config_hash, git_commit, seeds_json, timing_json, metrics_json, result_json, worker, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, row["task_id"], row["suite"], row["suite_version"], row["task"], row["category"],
         row["condition"], row["tier"], row["method"], config_hash, project_commit(), json.dumps(seeds),
         json.dumps(timing), json.dumps(row["metrics"]), json.dumps(row), worker, time.time()),
    )
    return cur.rowcount == 1


def record(queue: Queue, job: Job, row: dict[str, Any], *, config_hash: str) -> bool:
    """Store one task's result in one transaction; False if it was already stored."""
    with db.transaction(queue.conn) as c:
        queue.assert_owner(c, job)
        return insert(c, job.id, job.worker, row, config_hash=config_hash)


def results(queue: Queue, submission_id: Optional[str] = None, *, finished_only: bool = True) -> list[dict[str, Any]]:
    """Result rows joined with their submission, as plain dicts with the JSON columns parsed."""
    sql = ("SELECT r.*, s.display_name, s.submitter, s.state FROM results r JOIN submissions s "
           "ON s.id = r.submission_id")
    where, args = [], []
    if submission_id:
        where.append("r.submission_id = ?")
        args.append(submission_id)
    if finished_only:
        where.append("s.state = 'FINISHED'")
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = []
    for r in queue.conn.execute(sql + " ORDER BY r.submission_id, r.suite, r.task", args):
        d = dict(r)
        for key in ("seeds", "timing", "metrics", "result"):
            d[key] = json.loads(d.pop(f"{key}_json"))
        out.append(d)
    return out

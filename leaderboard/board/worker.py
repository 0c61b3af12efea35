"""Take jobs off the queue and run them, one transaction per finished task.

`python -m leaderboard worker [--once]`. The fitting and evaluation are the suite
runner's (`leaderboard.evaluate.fit` once per group of tasks that share their normals,
`evaluate(..., fitted=...)` per condition); what this adds is the lease, the heartbeat,
the per-task commit, and skipping the tasks a dead worker already stored.
"""
from __future__ import annotations

import logging
import math
import threading
import time
import traceback
from collections import defaultdict, deque
from typing import Any, Iterable, Iterator, Optional

from leaderboard.board import store
from leaderboard.board.queue import FAILED, FINISHED, Job, LeaseLostError, Queue
from leaderboard.board.submission import Submission

log = logging.getLogger(__name__)
LOG_TAIL_LINES = 40


class _Tail(logging.Handler):
    """The last lines a job logged, kept for its FINISHED/FAILED row."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


class Heartbeat(threading.Thread):
    """Extends the job's lease every third of its length until stopped or the lease is lost."""

    def __init__(self, queue: Queue, job: Job, lease_s: float):
        super().__init__(daemon=True, name=f"heartbeat-{job.id}")
        self.queue, self.job, self.lease_s = queue, job, lease_s
        self.stop = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(self.lease_s / 3):
                try:
                    self.queue.heartbeat(self.job, lease_s=self.lease_s)
                except LeaseLostError:
                    self.lost.set()
                    return
        finally:
            self.queue.close()


def plan(sub: Submission) -> list[tuple[Any, Any]]:
    """Every (suite, task) the submission asks for, in a stable order."""
    from leaderboard import suites
    from leaderboard.run_suite import select_tasks

    out = []
    for sel in sub.suites:
        suite = suites.get(sel.name)
        out += [(suite, t) for t in select_tasks(suite, sel.categories, sel.conditions)]
    return out


def run_tasks(sub: Submission, *, tier: Optional[str] = None, data_roots: Optional[dict[str, str]] = None,
              skip: Iterable[str] = (), progress: bool = False) -> Iterator[dict[str, Any]]:
    """Yield one `evaluate` row per task not in `skip`, fitting once per (suite, category, normals, shots)."""
    from hub import describe_tier
    from leaderboard import suites
    from leaderboard.datasets import open_dataset
    from leaderboard.evaluate import evaluate, fit
    from leaderboard.run_suite import task_id

    tier_name, _ = describe_tier(tier)
    skip = set(skip)
    groups: dict[tuple, list] = defaultdict(list)
    wanted: dict[str, set[str]] = defaultdict(set)  # suite → categories still to run
    for suite, task in plan(sub):
        if task_id(suite, task, sub.method, sub.config, tier_name) not in skip:
            groups[(suite.name, task.category, task.train_condition, task.shots)].append((suite, task))
            wanted[suite.name].add(task.category)
    roots: dict[str, Any] = {}
    for (suite_name, category, train_condition, shots), group in groups.items():
        suite = group[0][0]
        if suite_name not in roots:
            roots[suite_name] = suites.materialise(suite, data_root=(data_roots or {}).get(suite_name),
                                                   categories=sorted(wanted[suite_name]))
        root = roots[suite_name]
        fitted = fit(sub.method, open_dataset(root, category), config=sub.config, shots=shots, tier=tier_name,
                     train_condition=train_condition, progress=progress)
        for _, task in group:
            t0 = time.perf_counter()
            row = evaluate(sub.method, data=root, category=category, config=sub.config, tier=tier_name,
                           condition=task.condition, train_condition=train_condition, progress=progress,
                           fitted=fitted)
            row["timing"]["task_wall_s"] = round(time.perf_counter() - t0, 3)
            row.update(suite=suite.name, suite_version=suite.version, condition=task.reported_condition,
                       task=task.key, task_id=task_id(suite, task, sub.method, sub.config, tier_name),
                       seed=suite.seed if suite.source == "generated" else None)
            yield row
        del fitted


def process(queue: Queue, job: Job, *, lease_s: float, data_roots: Optional[dict[str, str]] = None) -> str:
    """Run a claimed job to FINISHED or FAILED; a lost lease leaves it to the worker that took it over."""
    from leaderboard.run_suite import config_hash, main_metric

    tail = _Tail()
    logging.getLogger().addHandler(tail)
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(min(root_level, logging.INFO))
    beat = Heartbeat(queue, job, lease_s)
    beat.start()
    try:
        done = store.done_task_ids(queue, job.id)
        log.info("job %s (attempt %d): %s, %d task(s) already stored", job.id, job.attempts, job.submission.method,
                 len(done))
        for row in run_tasks(job.submission, data_roots=data_roots, skip=done):
            if beat.lost.is_set():
                raise LeaseLostError(f"job {job.id}: lease lost by {job.worker}")
            store.record(queue, job, row, config_hash=config_hash(job.submission.config))
            log.info("stored %s: main metric %s", row["task_id"], main_metric(row))
        queue.finish(job, log_tail=tail.text())
        return FINISHED
    except LeaseLostError:
        log.warning("job %s: lease lost; leaving it to the worker that took it over", job.id)
        return "LOST"
    except Exception as exc:  # a job's failure is recorded, never allowed to kill the worker
        for line in traceback.format_exc().splitlines()[-LOG_TAIL_LINES // 2:]:
            tail.lines.append(line)
        try:
            queue.fail(job, f"{type(exc).__name__}: {exc}", log_tail=tail.text())
        except LeaseLostError:
            return "LOST"
        return FAILED
    finally:
        beat.stop.set()
        beat.join()
        logging.getLogger().removeHandler(tail)
        logging.getLogger().setLevel(root_level)


def work(queue: Queue, *, once: bool = False, lease_s: float = 60.0, poll_s: float = 5.0,
         data_roots: Optional[dict[str, str]] = None, worker: Optional[str] = None,
         max_jobs: float = math.inf) -> list[tuple[str, str]]:
    """Claim and run jobs; `once` runs at most one and returns when the queue is empty."""
    ran: list[tuple[str, str]] = []
    while len(ran) < max_jobs:
        job = queue.claim(worker, lease_s=lease_s)
        if job is None:
            if once:
                break
            time.sleep(poll_s)
            continue
        ran.append((job.id, process(queue, job, lease_s=lease_s, data_roots=data_roots)))
        if once:
            break
    return ran


def reproduce(queue: Queue, submission_id: str, *, tolerance: float = 1e-6,
              data_roots: Optional[dict[str, str]] = None) -> list[str]:
    """Rerun a FINISHED submission; the metric differences beyond `tolerance` (empty: reproduced)."""
    info = queue.get(submission_id)
    if info["state"] != FINISHED:
        raise ValueError(f"submission {submission_id} is {info['state']}, not FINISHED; nothing to reproduce")
    stored = {r["task_id"]: r for r in store.results(queue, submission_id)}
    tiers = {r["tier"] for r in stored.values()}
    if len(tiers) != 1:
        raise ValueError(f"submission {submission_id}: stored results span tiers {sorted(tiers)}")
    sub = Submission.model_validate(info["spec"])
    problems: list[str] = []
    seen = set()
    for row in run_tasks(sub, tier=tiers.pop(), data_roots=data_roots):
        seen.add(row["task_id"])
        old = stored.get(row["task_id"])
        if old is None:
            problems.append(f"{row['task_id']}: not in the stored results")
            continue
        for key in sorted(set(old["metrics"]) | set(row["metrics"])):
            a, b = old["metrics"].get(key), row["metrics"].get(key)
            if (a is None) != (b is None) or (a is not None and not abs(a - b) <= tolerance):
                problems.append(f"{row['task_id']} {key}: stored {a}, rerun {b}")
    problems += [f"{t}: stored but not rerun" for t in sorted(set(stored) - seen)]
    return problems

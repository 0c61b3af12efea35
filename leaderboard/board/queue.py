"""A job queue in SQLite that loses nothing: PENDING → RUNNING → FINISHED or FAILED.

A worker claims the oldest pending job in one BEGIN IMMEDIATE transaction and holds it
under a lease that a heartbeat keeps extending. A worker that dies stops heart-beating,
its lease runs out, and the next claim puts the job back to PENDING for anyone to take;
results are stored per task, so the next worker only runs what is missing.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from leaderboard.board import db
from leaderboard.board.submission import Submission

PENDING, RUNNING, FINISHED, FAILED = "PENDING", "RUNNING", "FINISHED", "FAILED"
MAX_ATTEMPTS = 3  # a job that kills its worker this often is failed instead of retried forever


class RateLimitError(ValueError):
    """A submitter sent more new submissions in the window than the limit allows."""


class LeaseLostError(RuntimeError):
    """This worker's lease ran out and the job was handed to another worker."""


@dataclass(frozen=True)
class SubmitResult:
    id: str
    created: bool  # False: an identical submission exists and this id is that one
    state: str


@dataclass(frozen=True)
class Job:
    id: str
    submission: Submission
    worker: str
    attempts: int


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Queue:
    """The submissions table; one connection per thread, so a Queue may be shared by threads."""

    def __init__(self, path: Optional[str | os.PathLike] = None, *, rate_limit: Optional[int] = None,
                 rate_window_s: float = 3600.0, exempt: tuple[str, ...] = ()):
        self.path = Path(path) if path else db.default_db_path()
        self.rate_limit = rate_limit if rate_limit is not None else _env_int("ANOMALY_HUB_RATE_LIMIT", 10)
        self.rate_window_s = rate_window_s
        self.exempt = set(exempt)
        self._local = threading.local()
        db.connect(self.path, check=True).close()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.path)
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # submitting ---------------------------------------------------------------------
    def submit(self, sub: Submission, *, now: Optional[float] = None) -> SubmitResult:
        """Queue `sub`, or return the id of an identical one; refuses past the submitter's rate limit."""
        now = time.time() if now is None else now
        digest = sub.content_hash
        with db.transaction(self.conn) as c:
            row = c.execute("SELECT id, state FROM submissions WHERE content_hash = ?", (digest,)).fetchone()
            if row is not None:
                if row["state"] == FAILED:  # an identical resubmission is a retry
                    c.execute("UPDATE submissions SET state = ?, attempts = 0, reason = NULL, worker = NULL, "
                              "lease_expires_at = NULL WHERE id = ?", (PENDING, row["id"]))
                    return SubmitResult(row["id"], False, PENDING)
                return SubmitResult(row["id"], False, row["state"])
            if sub.submitter not in self.exempt:
                (recent,) = c.execute("SELECT COUNT(*) FROM submissions WHERE submitter = ? AND created_at > ?",
                                      (sub.submitter, now - self.rate_window_s)).fetchone()
                if recent >= self.rate_limit:
                    raise RateLimitError(f"submitter {sub.submitter!r} has sent {recent} submissions in the last "
                                         f"{self.rate_window_s / 3600:g} h; the limit is {self.rate_limit}")
            job_id = digest[:16]
            c.execute(
                "INSERT INTO submissions (id, content_hash, submitter, display_name, method, spec_json, state, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, digest, sub.submitter, sub.display_name, sub.method, sub.model_dump_json(), PENDING, now),
            )
        return SubmitResult(job_id, True, PENDING)

    # working ------------------------------------------------------------------------
    def claim(self, worker: Optional[str] = None, *, lease_s: float = 60.0) -> Optional[Job]:
        """Take the oldest pending job (after requeueing expired leases), or None if there is none."""
        worker = worker or f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        now = time.time()
        with db.transaction(self.conn) as c:
            c.execute("UPDATE submissions SET state = ?, reason = 'worker failed ' || attempts || ' times, "
                      "last lease expired', finished_at = ? WHERE state = ? AND lease_expires_at < ? "
                      "AND attempts >= ?", (FAILED, now, RUNNING, now, MAX_ATTEMPTS))
            c.execute("UPDATE submissions SET state = ?, worker = NULL, lease_expires_at = NULL "
                      "WHERE state = ? AND lease_expires_at < ?", (PENDING, RUNNING, now))
            row = c.execute("SELECT id, spec_json, attempts FROM submissions WHERE state = ? "
                            "ORDER BY created_at, id LIMIT 1", (PENDING,)).fetchone()
            if row is None:
                return None
            c.execute("UPDATE submissions SET state = ?, worker = ?, lease_expires_at = ?, attempts = attempts + 1, "
                      "started_at = COALESCE(started_at, ?) WHERE id = ?",
                      (RUNNING, worker, now + lease_s, now, row["id"]))
        return Job(row["id"], Submission.model_validate_json(row["spec_json"]), worker, row["attempts"] + 1)

    def heartbeat(self, job: Job, *, lease_s: float) -> None:
        """Extend the lease; raises LeaseLostError if the job is no longer this worker's."""
        with db.transaction(self.conn) as c:
            cur = c.execute("UPDATE submissions SET lease_expires_at = ? WHERE id = ? AND worker = ? AND state = ?",
                            (time.time() + lease_s, job.id, job.worker, RUNNING))
            if cur.rowcount != 1:
                raise LeaseLostError(f"job {job.id}: lease lost by {job.worker}")

    def assert_owner(self, c: sqlite3.Connection, job: Job) -> None:
        """Inside a transaction: refuse to write for a job another worker has taken over."""
        row = c.execute("SELECT worker, state FROM submissions WHERE id = ?", (job.id,)).fetchone()
        if row is None or row["worker"] != job.worker or row["state"] != RUNNING:
            raise LeaseLostError(f"job {job.id}: lease lost by {job.worker}")

    def finish(self, job: Job, *, log_tail: str = "") -> None:
        self._end(job, FINISHED, None, log_tail)

    def fail(self, job: Job, reason: str, *, log_tail: str = "") -> None:
        self._end(job, FAILED, reason, log_tail)

    def _end(self, job: Job, state: str, reason: Optional[str], log_tail: str) -> None:
        with db.transaction(self.conn) as c:
            self.assert_owner(c, job)
            c.execute("UPDATE submissions SET state = ?, reason = ?, log_tail = ?, finished_at = ?, "
                      "lease_expires_at = NULL WHERE id = ?", (state, reason, log_tail, time.time(), job.id))

    # reading ------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM submissions WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise ValueError(f"no submission with id {job_id!r}")
        out = dict(row)
        out["spec"] = json.loads(out.pop("spec_json"))
        (out["n_results"],) = self.conn.execute("SELECT COUNT(*) FROM results WHERE submission_id = ?",
                                                (job_id,)).fetchone()
        return out

    def list(self, state: Optional[str] = None) -> list[dict[str, Any]]:
        sql = ("SELECT s.id, s.display_name, s.submitter, s.method, s.state, s.created_at, s.attempts, s.reason, "
               "(SELECT COUNT(*) FROM results r WHERE r.submission_id = s.id) AS n_results FROM submissions s")
        args: tuple = ()
        if state:
            sql += " WHERE s.state = ?"
            args = (state,)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY s.created_at, s.id", args)]

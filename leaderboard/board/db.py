"""The one SQLite file behind the queue and the results store.

WAL mode lets readers (the app, `status`, `table`) run while a worker writes; every
write that must be all-or-nothing goes through `transaction()`, which takes the write
lock up front (BEGIN IMMEDIATE) so two writers never interleave read-then-write.
A file that SQLite cannot read is never reset: it is copied aside and the error says where.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DB_NAME = "leaderboard.sqlite"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    submitter TEXT NOT NULL,
    display_name TEXT NOT NULL,
    method TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'FINISHED', 'FAILED')),
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_expires_at REAL,
    reason TEXT,
    log_tail TEXT
);
CREATE INDEX IF NOT EXISTS submissions_by_state ON submissions (state, created_at);
CREATE INDEX IF NOT EXISTS submissions_by_submitter ON submissions (submitter, created_at);
CREATE TABLE IF NOT EXISTS results (
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    task_id TEXT NOT NULL,
    suite TEXT NOT NULL,
    suite_version INTEGER NOT NULL,
    task TEXT NOT NULL,
    category TEXT NOT NULL,
    condition TEXT NOT NULL,
    tier TEXT NOT NULL,
    method TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    git_commit TEXT NOT NULL,
    seeds_json TEXT NOT NULL,
    timing_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    worker TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (submission_id, task_id),
    UNIQUE (submission_id, suite, task, condition, tier)
);
"""


class CorruptDatabaseError(RuntimeError):
    """The queue file is unreadable; a copy was kept and nothing was reset."""


def data_dir() -> Path:
    """$ANOMALY_HUB_DATA, else a Space's persistent /data, else ./data."""
    if os.environ.get("ANOMALY_HUB_DATA"):
        root = Path(os.environ["ANOMALY_HUB_DATA"])
    elif os.path.isdir("/data") and os.access("/data", os.W_OK):
        root = Path("/data/anomaly-hub")
    else:
        root = Path("data")
    root.mkdir(parents=True, exist_ok=True)
    return root


def default_db_path() -> Path:
    return data_dir() / DB_NAME


def _backup(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
    shutil.copy2(path, backup)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            shutil.copy2(side, backup.with_name(backup.name + suffix))
    return backup


def connect(path: str | os.PathLike, *, check: bool = False) -> sqlite3.Connection:
    """Open (creating if absent) the database; `check` runs an integrity check first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        if check and path.stat().st_size > 0:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(verdict)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives process crashes
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    except sqlite3.DatabaseError as exc:
        conn.close()
        backup = _backup(path)
        raise CorruptDatabaseError(
            f"{path} is not a readable SQLite database ({exc}). It was left untouched and copied to {backup}; "
            f"restore a good copy or move it aside to start an empty queue."
        ) from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One all-or-nothing write; the write lock is taken at BEGIN so read-then-write is atomic."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

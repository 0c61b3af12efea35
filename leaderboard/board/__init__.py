"""The leaderboard: declarative submissions, a crash-safe SQLite queue, and the results store.

`submission` validates what users send, `queue` holds jobs under leases, `worker` runs
them one stored task at a time, `store` keeps the results, `export` turns them into
tables, Parquet, a `datasets.Dataset` and a Hub dataset repo.
"""
from leaderboard.board.db import CorruptDatabaseError, data_dir, default_db_path
from leaderboard.board.queue import FAILED, FINISHED, PENDING, RUNNING, Queue, RateLimitError
from leaderboard.board.submission import Submission, SubmissionError, parse

__all__ = [
    "CorruptDatabaseError", "FAILED", "FINISHED", "PENDING", "Queue", "RUNNING", "RateLimitError", "Submission",
    "SubmissionError", "data_dir", "default_db_path", "parse",
]

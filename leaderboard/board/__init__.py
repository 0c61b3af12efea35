"""The leaderboard: declarative submissions, a crash-safe SQLite queue, and the results store.

`submission` validates what users send, `queue` holds jobs under leases, `worker` runs
them one stored task at a time, `store` keeps the results, `export` turns them into
tables, Parquet, a `datasets.Dataset` and a Hub dataset repo. `map_submission` scores
anomaly maps made elsewhere and stores them as a ranked submission beside the rest.
"""
from leaderboard.board.db import CorruptDatabaseError, data_dir, default_db_path
from leaderboard.board.queue import FAILED, FINISHED, PENDING, RUNNING, Queue, RateLimitError
from leaderboard.board.submission import Submission, SubmissionError, parse
from leaderboard.board.map_submission import MapSubmissionError, submit_maps

__all__ = [
    "CorruptDatabaseError", "FAILED", "FINISHED", "MapSubmissionError", "PENDING", "Queue", "RUNNING", "RateLimitError",
    "Submission", "SubmissionError", "data_dir", "default_db_path", "parse", "submit_maps",
]

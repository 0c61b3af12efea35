"""The queue: concurrent submissions are neither lost nor duplicated, claims are exclusive, leases expire."""
from __future__ import annotations

import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from board_fixtures import tiny
from leaderboard.board import db
from leaderboard.board.queue import PENDING, RUNNING, LeaseLostError, Queue, RateLimitError
from leaderboard.board.submission import parse
from leaderboard.cli import main


def _subs(n: int) -> list:
    # distinct content: bins × image_size
    return [parse(tiny(config={"bins": 1 + i % 50, "image_size": 16 + i // 50}, submitter=f"user{i % 8}"))
            for i in range(n)]


def test_200_concurrent_submissions_none_lost_none_duplicated(db_path):
    subs = _subs(200)
    queue = Queue(db_path, rate_limit=1000)
    with ThreadPoolExecutor(8) as pool:
        first = list(pool.map(queue.submit, subs))
    assert all(r.created for r in first)
    assert len({r.id for r in first}) == 200
    with ThreadPoolExecutor(8) as pool:  # the same 200 again, renamed: all deduplicated to the first ids
        again = list(pool.map(lambda s: queue.submit(s.model_copy(update={"display_name": "dup"})), subs))
    assert [r.id for r in again] == [r.id for r in first]
    assert not any(r.created for r in again)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT content_hash) FROM submissions").fetchone() == (200, 200)
    assert conn.execute("SELECT COUNT(*) FROM submissions WHERE display_name = 'dup'").fetchone() == (0,)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_claims_are_exclusive(db_path):
    queue = Queue(db_path, rate_limit=1000)
    ids = {queue.submit(s).id for s in _subs(30)}

    def drain(worker: str) -> list[str]:
        got = []
        while (job := queue.claim(worker, lease_s=60)) is not None:
            got.append(job.id)
        return got

    with ThreadPoolExecutor(4) as pool:
        claimed = [j for batch in pool.map(drain, ["w1", "w2", "w3", "w4"]) for j in batch]
    assert sorted(claimed) == sorted(ids)


def test_rate_limit_per_submitter_over_a_rolling_window(db_path):
    queue = Queue(db_path, rate_limit=3, rate_window_s=3600)
    subs = [parse(tiny(config={"bins": b})) for b in range(1, 6)]
    t0 = 1_000_000.0
    for i, s in enumerate(subs[:3]):
        queue.submit(s, now=t0 + i)
    with pytest.raises(RateLimitError, match="'tester'.*limit is 3"):
        queue.submit(subs[3], now=t0 + 10)
    assert not queue.submit(subs[0], now=t0 + 11).created  # a duplicate is not a new submission
    assert queue.submit(parse(tiny(config={"bins": 9}, submitter="other")), now=t0 + 12).created
    assert queue.submit(subs[3], now=t0 + 3601).created  # the first one left the window


def test_lease_expiry_requeues_and_heartbeat_extends(db_path):
    queue = Queue(db_path)
    job_id = queue.submit(parse(tiny())).id
    job = queue.claim("dead", lease_s=0.2)
    assert job.id == job_id and queue.get(job_id)["state"] == RUNNING
    assert queue.claim("other", lease_s=10) is None  # leased: nobody else gets it
    queue.heartbeat(job, lease_s=0.6)
    time.sleep(0.3)
    assert queue.claim("other", lease_s=10) is None  # the heartbeat kept it
    time.sleep(0.4)
    taken = queue.claim("other", lease_s=10)
    assert taken.id == job_id and taken.attempts == 2
    with pytest.raises(LeaseLostError):
        queue.heartbeat(job, lease_s=10)
    with pytest.raises(LeaseLostError):
        queue.finish(job)
    assert queue.get(job_id)["worker"] == "other"


def test_expired_job_shows_pending_after_next_claim_attempt(db_path):
    queue = Queue(db_path)
    a = queue.submit(parse(tiny())).id
    queue.claim("dead", lease_s=0.05)
    time.sleep(0.1)
    b = queue.submit(parse(tiny(config={"bins": 3}))).id
    job = queue.claim("w", lease_s=10)
    assert job.id == a  # the requeued job keeps its place at the front
    assert queue.get(b)["state"] == PENDING


def test_corrupt_database_is_an_error_and_a_backup_is_kept(db_path, capsys):
    queue = Queue(db_path)
    queue.submit(parse(tiny()))
    queue.close()
    with db_path.open("r+b") as fh:  # clobber the header and the first pages
        fh.write(b"this is not sqlite" * 300)
    for side in ("-wal", "-shm"):
        db_path.with_name(db_path.name + side).unlink(missing_ok=True)
    damaged = db_path.read_bytes()
    with pytest.raises(db.CorruptDatabaseError, match="not a readable SQLite database") as info:
        Queue(db_path)
    backups = list(db_path.parent.glob("leaderboard.sqlite.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == damaged
    assert str(backups[0]) in str(info.value)
    assert db_path.read_bytes() == damaged  # never silently reset
    assert main(["status", "--db", str(db_path)]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err


def test_data_dir_prefers_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ANOMALY_HUB_DATA", str(tmp_path / "elsewhere"))
    assert db.default_db_path() == tmp_path / "elsewhere" / "leaderboard.sqlite"
    monkeypatch.delenv("ANOMALY_HUB_DATA")
    monkeypatch.chdir(tmp_path)
    expected = "/data/anomaly-hub" if shutil.os.access("/data", shutil.os.W_OK) else "data"
    assert str(db.data_dir()) == expected

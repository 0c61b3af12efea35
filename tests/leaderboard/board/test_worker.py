"""The worker and results store: per-task commits, crash recovery, failures recorded, exports, reproduce."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from board_fixtures import HERE, SUITE, tiny
from leaderboard import suites
from leaderboard.board import export
from leaderboard.board.queue import FAILED, FINISHED, PENDING, Queue
from leaderboard.board.submission import parse
from leaderboard.board.worker import plan, reproduce, run_tasks, work
from leaderboard.cli import main

ROOT = HERE.parents[2]
N_TASKS = 6  # board-tiny: 3 categories × 2 conditions


def _finished(db_path: Path, **extra) -> tuple[Queue, str]:
    queue = Queue(db_path)
    job_id = queue.submit(parse(tiny(**extra))).id
    assert work(queue, once=True) == [(job_id, FINISHED)]
    return queue, job_id


def test_worker_stores_every_task_with_provenance(db_path):
    queue, job_id = _finished(db_path)
    info = queue.get(job_id)
    assert info["state"] == FINISHED and info["n_results"] == N_TASKS
    assert "stored board-tiny@v1:gamma/low_light" in info["log_tail"]
    rows = sqlite3.connect(db_path).execute(
        "SELECT suite, suite_version, task, condition, tier, git_commit, seeds_json, timing_json, result_json "
        "FROM results WHERE submission_id = ?", (job_id,)).fetchall()
    assert {(r[2], r[3]) for r in rows} == {(f"{c}/{k}", k) for c in ("alpha", "beta", "gamma")
                                            for k in ("white_bg", "low_light")}
    for suite, version, task, condition, tier, commit, seeds, timing, result in rows:
        assert (suite, version, tier) == (SUITE, 1, "embedded")
        assert commit == os.environ["ANOMALY_HUB_GIT_COMMIT"]
        assert json.loads(seeds) == {"suite": 0, "method": None}
        assert json.loads(timing)["fit_s"] >= 0 and "task_wall_s" in json.loads(timing)
        full = json.loads(result)
        assert full["n_test"] == 4 and len(full["per_image"]) == 4 and full["condition"] == condition
    assert work(queue, once=True) == []  # nothing left


def test_results_equal_a_direct_run_and_reproduce(db_path):
    queue, job_id = _finished(db_path)
    direct = {r["task_id"]: r["metrics"] for r in run_tasks(parse(tiny()))}
    stored = {r["task_id"]: r["metrics"] for r in export.store.results(queue, job_id)}
    assert stored == direct
    assert reproduce(queue, job_id) == []
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE results SET metrics_json = json_set(metrics_json, '$.image_auroc', 0.123) "
                 "WHERE task = 'beta/white_bg'")
    conn.commit()
    problems = reproduce(queue, job_id, tolerance=1e-6)
    assert len(problems) == 1 and "beta/white_bg" in problems[0] and "image_auroc" in problems[0]
    assert main(["reproduce", job_id, "--db", str(db_path)]) == 1


def test_a_failing_method_is_recorded_and_the_worker_goes_on(db_path):
    queue = Queue(db_path)
    bad = queue.submit(parse(tiny(method="board_broken"))).id
    good = queue.submit(parse(tiny(config={"bins": 4}))).id
    assert work(queue, max_jobs=2) == [(bad, FAILED), (good, FINISHED)]
    info = queue.get(bad)
    assert info["reason"] == "RuntimeError: boom: the detector crashed while fitting"
    assert "boom" in info["log_tail"] and "Traceback" in info["log_tail"]
    again = queue.submit(parse(tiny(method="board_broken")))
    assert (again.id, again.created, again.state) == (bad, False, PENDING)  # resubmitting retries it


def test_worker_killed_mid_job_is_finished_by_another_without_redoing_tasks(db_path, tmp_path):
    spec = tiny(method="board_sleepy", config={"sleep_s": 0.15})
    queue = Queue(db_path)
    job_id = queue.submit(parse(spec)).id
    suites.materialise(suites.get(SUITE))  # generate once, before two processes could race to
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    code = ("import board_fixtures, sys; from leaderboard.cli import main; "
            f"sys.exit(main(['worker', '--once', '--lease-seconds', '2', '--db', {str(db_path)!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    conn = sqlite3.connect(db_path)
    deadline = time.time() + 60
    while conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "the worker stored nothing in 60 s"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r[0]: r[1:] for r in conn.execute("SELECT task_id, worker, created_at FROM results")}
    assert 1 <= len(before) < N_TASKS, "the worker was killed after it finished; the test proves nothing"
    dead_worker = queue.get(job_id)["worker"]

    assert queue.claim("too-early", lease_s=10) is None  # the dead worker's lease still holds
    time.sleep(max(0.0, queue.get(job_id)["lease_expires_at"] - time.time()) + 0.05)
    assert work(queue, once=True, worker="rescuer") == [(job_id, FINISHED)]

    info = queue.get(job_id)
    assert info["attempts"] == 2 and info["n_results"] == N_TASKS
    assert f"{len(before)} task(s) already stored" in info["log_tail"]
    after = {r[0]: r[1:] for r in conn.execute("SELECT task_id, worker, created_at FROM results")}
    assert all(after[t] == before[t] for t in before)  # untouched: not redone
    assert {after[t][0] for t in before} == {dead_worker}
    assert {after[t][0] for t in set(after) - set(before)} == {"rescuer"}
    direct = {r["task"]: r["metrics"] for r in run_tasks(parse({**spec, "config": {"sleep_s": 0.0}}))}
    assert {r["task"]: r["metrics"] for r in export.store.results(queue, job_id)} == direct


def test_exports_table_parquet_dataset_and_hub_dry_run(db_path, tmp_path):
    queue, first = _finished(db_path)
    second = queue.submit(parse(tiny(method="pixel_zscore", display_name="z run"))).id
    work(queue, once=True)
    frame = export.to_frame(queue)
    assert len(frame) == 2 * N_TASKS and set(frame["submission_id"]) == {first, second}
    full = json.loads(frame.iloc[0]["result_json"])
    assert full["metrics"]["image_auroc"] == pytest.approx(frame.iloc[0]["image_auroc"])

    parquet = export.to_parquet(queue, tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), frame)
    ds = export.to_dataset(queue)
    assert ds.num_rows == 2 * N_TASKS and "result_json" in ds.column_names

    table = export.summary(queue, SUITE)
    assert list(table["rank"]) == [1, 2] and set(table["n_tasks"]) == {N_TASKS}
    means = frame.groupby("submission_id")["image_auroc"].mean()
    assert table.set_index("submission_id")["score"].to_dict() == pytest.approx(means.to_dict())
    md = export.render(table, "md")
    assert "| rank |" in md and "z run" in md and "tiny run" in md
    assert json.loads(export.render(table, "json"))[0]["rank"] == 1
    assert export.render(table, "csv").splitlines()[0].startswith("rank,display_name")

    files = export.push_to_hub(queue, "org/anomaly-results", dry_run_dir=tmp_path / "push")
    assert sorted(p.relative_to(tmp_path / "push").as_posix() for p in files) == ["README.md",
                                                                                 "data/results.parquet"]
    assert len(pd.read_parquet(tmp_path / "push" / "data" / "results.parquet")) == 2 * N_TASKS
    assert "data_files: data/results.parquet" in (tmp_path / "push" / "README.md").read_text()
    os.environ.pop("HF_TOKEN", None)
    with pytest.raises(ValueError, match="needs a token"):
        export.push_to_hub(queue, "org/anomaly-results")
    with pytest.raises(ValueError, match="not a Hub repo id"):
        export.push_to_hub(queue, "../etc", dry_run_dir=tmp_path / "x")


def test_cli_submit_status_table(db_path, tmp_path, capsys):
    path = tmp_path / "sub.yaml"
    path.write_text(json.dumps(tiny()))
    assert main(["submit", str(path), "--db", str(db_path)]) == 0
    job_id = capsys.readouterr().out.strip()
    assert main(["submit", str(path), "--db", str(db_path)]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == job_id and "not queued again" in out.err
    assert main(["worker", "--once", "--db", str(db_path)]) == 0
    assert main(["status", "--db", str(db_path)]) == 0
    assert f"{job_id}  FINISHED" in capsys.readouterr().out
    assert main(["status", job_id, "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["n_results"] == N_TASKS
    assert main(["table", "--format", "csv", "--db", str(db_path)]) == 0
    assert job_id in capsys.readouterr().out
    path.write_text(json.dumps(tiny(config={"binz": 3})))
    assert main(["submit", str(path), "--db", str(db_path)]) == 2
    assert "config: histogram_knn: unknown config key 'binz'" in capsys.readouterr().err


def test_plan_matches_selection():
    sub = parse({**tiny(), "suites": [{"name": SUITE, "categories": ["beta"], "conditions": ["low_light"]}]})
    assert [t.key for _, t in plan(sub)] == ["beta/low_light"]


def test_few_shot_runs_are_ranked_in_their_own_setting(db_path):
    queue, standard = _finished(db_path)
    few = queue.submit(parse(tiny(display_name="few", config={"anomaly_shots": 1}))).id
    assert work(queue, once=True) == [(few, FINISHED)]
    rows = export.store.results(queue, few)
    assert len(rows) == N_TASKS and {r["result"]["anomaly_shots"] for r in rows} == {1}
    assert all(r["result"]["n_test"] == 3 for r in rows)  # one crack per category went to fit
    table = export.summary(queue, SUITE).set_index("submission_id")
    assert table.loc[standard, "setting"] == "standard" and table.loc[few, "setting"] == "1-shot anomalies"
    assert table.loc[standard, "rank"] == 1 and table.loc[few, "rank"] == 1
    assert list(export.summary(queue, SUITE)["setting"]) == ["standard", "1-shot anomalies"]

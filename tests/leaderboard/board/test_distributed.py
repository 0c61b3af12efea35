"""Two CPU processes splitting the test images give exactly the metrics of one process."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from board_fixtures import HERE
from layout_builders import make_mvtec_ad

ROOT = HERE.parents[2]


def _launch_two(args: list[str], out: str, env: dict, timeout: int) -> None:
    """`accelerate launch` two CPU processes. The free port is found by binding and releasing it, which
    leaves a window for another process to take it; one retry on a fresh port covers that race."""
    for attempt in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = str(sock.getsockname()[1])
        # With no GPU, accelerate's multi-process launcher starts CPU processes (distributed type MULTI_CPU).
        proc = subprocess.run(["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                               "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", port, *args,
                               "--out", out], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode == 0:
            return
    raise AssertionError(f"accelerate launch failed twice:\n{proc.stderr[-3000:]}")


@pytest.mark.skipif(shutil.which("accelerate") is None, reason="accelerate's launcher is not installed")
def test_two_processes_match_one(tmp_path):
    data = make_mvtec_ad(tmp_path, "alpha", n_train=3, n_good=3, defects={"crack": 4}, size=(16, 16))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    args = ["-m", "leaderboard.worker", "--method", "pixel_zscore", "--data", str(data)]
    subprocess.run([sys.executable, *args, "--out", str(tmp_path / "one.json")], cwd=ROOT, env=env, check=True,
                   timeout=120)
    _launch_two(args, str(tmp_path / "two.json"), env, 120)
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("one", "two"))
    assert (one["n_processes"], two["n_processes"]) == (1, 2)
    assert two["n_test"] == 7 and two["scores"] == one["scores"]
    assert two["metrics"] == one["metrics"] and one["metrics"]["image_auroc"] is not None


@pytest.mark.skipif(shutil.which("accelerate") is None, reason="accelerate's launcher is not installed")
def test_a_suite_split_across_two_processes_matches_one(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "ANOMALY_HUB_CACHE": str(tmp_path / "cache")}
    args = ["-m", "leaderboard.worker", "--suite", "real-textures", "--categories", "brick", "--method", "pixel_zscore"]
    subprocess.run([sys.executable, *args, "--out", str(tmp_path / "one.jsonl")], cwd=ROOT, env=env, check=True,
                   timeout=180)
    _launch_two(args, str(tmp_path / "two.jsonl"), env, 180)
    one, two = ([json.loads(line) for line in (tmp_path / f"{n}.jsonl").read_text().splitlines()] for n in ("one", "two"))
    assert len(one) == len(two) == 1 and (one[0]["n_processes"], two[0]["n_processes"]) == (1, 2)
    assert two[0]["suite"] == "real-textures" and two[0]["n_test"] == 90
    assert two[0]["scores"] == one[0]["scores"] and two[0]["metrics"] == one[0]["metrics"]

"""App benchmark: seconds until `python app.py` serves its page, and a warm /detect round trip.

Run: `python -m benchmarks.app`. Writes benchmarks/results/app.json. Goals on the 2-core
CPU, embedded tier: the page within 15 s, a warm detect on a 256² image within 1 s.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.common import machine, print_table, write_results

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    from gradio_client import Client, handle_file

    from leaderboard import examples

    image = examples.example_images("brick")[-1]
    examples.fitted_model("patchcore", "brick")  # fitted models are cached on disk, as after a first visit
    port = _free_port()
    env = dict(os.environ, ANOMALY_HUB_TIER="embedded", GRADIO_SERVER_PORT=str(port), ANOMALY_HUB_WORKER="0")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 120:
                    raise RuntimeError("the app did not come up")
                time.sleep(0.2)
        page_s = time.perf_counter() - t0
        client = Client(url, verbose=False)
        t = time.perf_counter()
        client.predict(handle_file(str(image)), "patchcore", "brick", api_name="/detect")
        first_s = time.perf_counter() - t
        warm = []
        for _ in range(5):
            t = time.perf_counter()
            client.predict(handle_file(str(image)), "patchcore", "brick", api_name="/detect")
            warm.append(time.perf_counter() - t)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    results = {
        "page_s": round(page_s, 2),
        "goal_page_s": 15,
        "first_detect_s": round(first_s, 2),
        "warm_detect_s": round(statistics.median(warm), 3),
        "goal_warm_detect_s": 1.0,
        "image": "real-textures/brick test image, 256x256",
        "machine": machine(),
    }
    print_table([(k, str(v)) for k, v in results.items() if k != "machine"])
    print(f"wrote {write_results('app', results)}")


if __name__ == "__main__":
    main()

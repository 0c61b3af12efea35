"""Test-only registrations for the leaderboard tests, imported by them and by worker subprocesses.

A tiny generated suite (`board-tiny`: three 16×16 MVTec AD categories × two conditions),
a detector that sleeps per image so a worker can be killed between two tasks, and one
whose fit always fails. Importing twice in one process is harmless.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))  # layout_builders

import methods  # noqa: E402
from layout_builders import make_mvtec_ad  # noqa: E402
from leaderboard import suites  # noqa: E402
from methods.base import AnomalySample, Progress  # noqa: E402
from methods.reference import HistogramKNN, HistogramKNNConfig  # noqa: E402

SUITE = "board-tiny"
TEST_METHODS = ("board_sleepy", "board_broken")


def _generate(out_dir: Path, *, seed: int, size: int, categories: list[str], progress=None) -> None:
    for c in categories:
        make_mvtec_ad(Path(out_dir), c, n_train=3, n_good=2, defects={"crack": 2}, size=(size, size))


@dataclass
class SleepyConfig(HistogramKNNConfig):
    sleep_s: float = 0.15  # per predicted image


class Sleepy(HistogramKNN):
    """histogram_knn that takes a known time per image, so a task lasts long enough to kill a worker between two."""

    Config = SleepyConfig

    def _predict(self, images: list[np.ndarray]):
        time.sleep(self.config.sleep_s * len(images))
        return super()._predict(images)


class Broken(HistogramKNN):
    """Fails in fit, as a detector with a bug would."""

    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        raise RuntimeError("boom: the detector crashed while fitting")


if SUITE not in suites.available():
    suites._SUITES.add(SUITE, HERE / f"{SUITE}.yaml")
    suites.GENERATORS.add(SUITE, _generate)
    methods.register("board_sleepy")(Sleepy)
    methods.register("board_broken")(Broken)


def tiny(method: str = "histogram_knn", **extra) -> dict:
    """A valid submission mapping on the tiny suite."""
    return {"display_name": "tiny run", "submitter": "tester", "method": method,
            "suites": [{"name": SUITE}], **extra}

"""Every leaderboard test gets its own queue database and suite cache."""
from __future__ import annotations

import pytest

import board_fixtures  # noqa: F401  (registers the tiny suite and test methods)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("ANOMALY_HUB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("ANOMALY_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ANOMALY_HUB_GIT_COMMIT", "0123456789abcdef0123456789abcdef01234567")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "leaderboard.sqlite"

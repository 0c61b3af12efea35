"""Which tier runs: explicit choices, the environment variable, and the Hub probe when offline."""
from __future__ import annotations

import logging
import os
import socket
import time

import huggingface_hub.constants
import pytest

from hub import tiers


@pytest.fixture(autouse=True)
def fresh_probe():
    """The probe and the auto choice are cached per process; each test starts without them."""
    tiers.hub_reachable.cache_clear()
    tiers._auto_tier.cache_clear()
    yield
    tiers.hub_reachable.cache_clear()
    tiers._auto_tier.cache_clear()


@pytest.fixture
def closed_port() -> int:
    """A localhost port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_hub(monkeypatch, closed_port, tmp_path):
    """An online process whose Hub endpoint does not answer and whose cache is empty."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))


@pytest.mark.parametrize("tier", tiers.TIERS)
def test_an_explicit_argument_wins_over_the_environment(monkeypatch, tier):
    other = next(t for t in tiers.TIERS if t != tier)
    monkeypatch.setenv(tiers.TIER_ENV, other)
    assert tiers.resolve_tier(tier) == tier
    assert tiers.resolve_tier(f"  {tier.upper()} ") == tier
    assert tiers.describe_tier(tier) == (tier, f"{tier} was chosen by --tier")


@pytest.mark.parametrize("tier", tiers.TIERS)
def test_the_environment_variable_chooses_when_no_argument_does(monkeypatch, tier):
    monkeypatch.setenv(tiers.TIER_ENV, tier)
    assert tiers.resolve_tier() == tier
    assert tiers.describe_tier() == (tier, f"{tier} was chosen by ${tiers.TIER_ENV}")


def test_an_unknown_tier_names_the_choices_and_where_it_came_from(monkeypatch):
    with pytest.raises(tiers.TierError, match=r"'fast'.*argument.*auto, embedded, full"):
        tiers.resolve_tier("fast")
    monkeypatch.setenv(tiers.TIER_ENV, "gpu")
    with pytest.raises(tiers.TierError, match=r"'gpu'.*\$ANOMALY_HUB_TIER.*auto, embedded, full"):
        tiers.resolve_tier()


def test_an_unreachable_hub_is_reported_once_and_turns_the_process_offline(unreachable_hub, caplog):
    with caplog.at_level(logging.DEBUG, logger="hub"):
        start = time.monotonic()
        assert tiers.hub_reachable() is False
        assert tiers.hub_reachable() is False  # cached: no second probe, no second line
        elapsed = time.monotonic() - start

    assert elapsed < 2 * tiers.PROBE_TIMEOUT_S
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert "unreachable" in record.getMessage() and "\n" not in record.getMessage()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert huggingface_hub.constants.HF_HUB_OFFLINE is True


def test_an_offline_process_does_not_probe(monkeypatch, closed_port, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    with caplog.at_level(logging.DEBUG, logger="hub"):
        assert tiers.hub_reachable() is False
    assert caplog.records == []


def test_auto_falls_back_to_embedded_when_the_hub_is_unreachable_and_nothing_is_cached(unreachable_hub, monkeypatch):
    monkeypatch.setenv(tiers.TIER_ENV, "auto")
    tier, why = tiers.describe_tier()
    assert tier == "embedded"
    assert "unreachable" in why and "not cached" in why
    assert tiers.resolve_tier("auto") == "embedded"

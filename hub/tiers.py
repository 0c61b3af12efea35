"""Which tier runs: `embedded` (weights inside installed packages) or `full` (the Hub).

The Hub is probed once per process with a short timeout; when it does not answer we
say so in one log line and set HF_HUB_OFFLINE so no library retries for minutes.
"""
from __future__ import annotations

import functools
import logging
import os
import sys
import urllib.error
import urllib.request

log = logging.getLogger("hub")

TIERS = ("embedded", "full")
TIER_ENV = "ANOMALY_HUB_TIER"
PROBE_TIMEOUT_S = 2.0


class TierError(ValueError):
    """An unknown tier name."""


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        urllib.request.urlopen(f"{endpoint}/api/models?limit=1", timeout=timeout).close()
        return True
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        log.warning("Hugging Face Hub unreachable (%s); using cached or embedded weights, offline from now on", reason)
        _go_offline()
        return False


def _go_offline() -> None:
    """Set HF_HUB_OFFLINE for this process, including a huggingface_hub that is already imported.

    huggingface_hub reads the variable once, at import, into the constant its HTTP layer
    (and transformers) check; setting only the variable would not stop their retries.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


def full_tier_cached() -> bool:
    """True when every full-tier model is already in the local Hugging Face cache."""
    from hub.catalog import full_tier_cached as cached

    return cached()


@functools.lru_cache(maxsize=None)
def _auto_tier() -> tuple[str, str]:
    if full_tier_cached():
        return "full", "all full-tier weights are in the local cache"
    if hub_reachable():
        return "full", "the Hugging Face Hub answered"
    return "embedded", "the Hugging Face Hub is unreachable and the full-tier weights are not cached"


def resolve_tier(requested: str | None = None) -> str:
    """`requested` (or $ANOMALY_HUB_TIER, else 'auto') → 'embedded' or 'full'."""
    return describe_tier(requested)[0]


def describe_tier(requested: str | None = None) -> tuple[str, str]:
    """(tier, why) for reporting in the CLI JSON and the app header."""
    source = "argument"
    if requested is None:
        requested, source = os.environ.get(TIER_ENV, "auto"), f"${TIER_ENV}"
    requested = requested.strip().lower()
    if requested in TIERS:
        return requested, f"{requested} was chosen by {source if source != 'argument' else '--tier'}"
    if requested != "auto":
        raise TierError(f"unknown tier {requested!r} (from {source}); choose one of: auto, {', '.join(TIERS)}")
    return _auto_tier()

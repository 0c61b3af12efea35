"""Tests run on the embedded tier, offline, single-threaded where it matters for determinism."""
import os

os.environ.setdefault("ANOMALY_HUB_TIER", "embedded")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def forget_loaded_models() -> None:
    """Drop the hub's per-process model caches, so the next `hub.load` builds its model afresh
    (as the first fit of a run-suite process does)."""
    from hub import catalog, embedded

    catalog._load_cached.cache_clear()
    embedded.efficientnet_lite0.cache_clear()

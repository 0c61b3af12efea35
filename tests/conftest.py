"""Tests run on the embedded tier, offline, single-threaded where it matters for determinism."""
import os

os.environ.setdefault("ANOMALY_HUB_TIER", "embedded")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

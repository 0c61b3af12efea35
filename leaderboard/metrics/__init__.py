"""Evaluation metrics as pure functions (arrays in, float out), registered by name in METRICS.

Suites list metrics by name; every function accepts scores and maps of any scale or offset.
"""
from leaderboard.metrics._registry import METRICS
from leaderboard.metrics.classification import classification_accuracy, miou
from leaderboard.metrics.image import f1_max, image_auroc
from leaderboard.metrics.pixel import pixel_auroc
from leaderboard.metrics.region_overlap import (
    OFFICIAL_SPRO_LIMITS,
    au_spro,
    au_spro_at,
    aupro,
    loco_regions,
    pro_curve,
    spro_curve,
)

__all__ = [
    "METRICS",
    "OFFICIAL_SPRO_LIMITS",
    "au_spro",
    "au_spro_at",
    "aupro",
    "classification_accuracy",
    "f1_max",
    "image_auroc",
    "loco_regions",
    "miou",
    "pixel_auroc",
    "pro_curve",
    "spro_curve",
]

"""Two deliberately naive detectors that show whether a suite is trivial.

A suite that either solves is measuring pixels or colours, not logic. They are also
fast enough to exercise the evaluation runner, store and queue in tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from methods import register
from methods.base import AnomalySample, Method, Prediction, Progress


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def _back_to(small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return cv2.resize(small.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


@dataclass
class PixelZScoreConfig:
    image_size: int = 128
    top_fraction: float = 0.01  # image score = mean of the top 1% |z|


@register("pixel_zscore")
class PixelZScore(Method):
    """Per-pixel, per-channel z-score against the normal images' mean and std."""

    Config = PixelZScoreConfig

    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        stack = np.stack([_resize(im, self.config.image_size) for im in images]).astype(np.float32)
        self.mean = stack.mean(0)
        self.std = stack.std(0) + 4.0  # the floor keeps flat regions from exploding

    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        out = []
        for img in images:
            z = np.abs(_resize(img, self.config.image_size).astype(np.float32) - self.mean) / self.std
            zmap = z.max(axis=2)
            k = max(1, int(zmap.size * self.config.top_fraction))
            score = float(np.sort(zmap, axis=None)[-k:].mean())
            out.append(Prediction(score=score, anomaly_map=_back_to(zmap, img.shape)))
        return out

    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"mean": self.mean, "std": self.std}, {}

    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.mean, self.std = tensors["mean"], tensors["std"]


@dataclass
class HistogramKNNConfig:
    bins: int = 8  # per RGB channel
    image_size: int = 128


@register("histogram_knn")
class HistogramKNN(Method):
    """L1 distance of the image's joint colour histogram to the nearest normal one.

    Image-level only: its anomaly map is flat at the image score.
    """

    Config = HistogramKNNConfig

    def _hist(self, img: np.ndarray) -> np.ndarray:
        b = self.config.bins
        h = cv2.calcHist([_resize(img, self.config.image_size)], [0, 1, 2], None, [b, b, b], [0, 256] * 3)
        return (h / h.sum()).ravel().astype(np.float32)

    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        self.bank = np.stack([self._hist(im) for im in images])

    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        out = []
        for img in images:
            score = float(np.abs(self.bank - self._hist(img)).sum(1).min())
            out.append(Prediction(score=score, anomaly_map=np.full(img.shape[:2], score, dtype=np.float32)))
        return out

    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"bank": self.bank}, {}

    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.bank = tensors["bank"]

"""Tiny drawn scenes for LogSAD: red discs and blue bars on a light table, and their anomalies."""
from __future__ import annotations

import cv2
import numpy as np
import pytest


def scene(seed: int, discs: int = 3, bars: int = 2, extra: str | None = None, size: int = 128,
          table: tuple[int, int, int] = (225, 222, 215)) -> np.ndarray:
    """Discs and bars at random spots that do not overlap; `extra` adds a 'green' disc or a 'scratch'."""
    rng = np.random.default_rng(seed)
    img = np.empty((size, size, 3), np.uint8)
    img[:] = table
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    taken: list[tuple[int, int]] = []

    def spot() -> tuple[int, int]:
        for _ in range(200):
            x, y = (int(v) for v in rng.integers(22, size - 22, 2))
            if all((x - a) ** 2 + (y - b) ** 2 > 34 ** 2 for a, b in taken):
                taken.append((x, y))
                return x, y
        raise RuntimeError("no room")

    for _ in range(discs):
        cv2.circle(img, spot(), 9, (200, 40, 35), -1)
    for _ in range(bars):
        x, y = spot()
        cv2.rectangle(img, (x - 14, y - 3), (x + 14, y + 3), (40, 60, 190), -1)
    if extra == "green":
        cv2.circle(img, spot(), 9, (40, 170, 60), -1)
    if extra == "scratch":
        x, y = taken[0]
        cv2.line(img, (x - 7, y - 7), (x + 7, y + 7), (250, 250, 250), 2)
    return img


@pytest.fixture(scope="session")
def normals() -> list[np.ndarray]:
    return [scene(s) for s in range(12)]


@pytest.fixture(scope="session")
def fitted(normals):
    import methods

    return methods.create("logsad", max_coreset=400).fit(normals)

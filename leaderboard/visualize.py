"""Pictures of results: heat-map overlays shared by the app, contact sheets and docs."""
from __future__ import annotations

import cv2
import numpy as np


def normalise_map(anomaly_map: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Scale to [0, 1] between vmin and vmax (defaults: the map's own range)."""
    lo = float(anomaly_map.min()) if vmin is None else vmin
    hi = float(anomaly_map.max()) if vmax is None else vmax
    if hi <= lo:
        return np.zeros_like(anomaly_map, dtype=np.float32)
    return np.clip((anomaly_map.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)


def heatmap_overlay(
    image: np.ndarray, anomaly_map: np.ndarray, vmin: float | None = None, vmax: float | None = None, alpha: float = 0.5
) -> np.ndarray:
    """(H, W, 3) uint8 image with a jet-coloured map blended over it.

    Pass vmin/vmax from normal images so a normal image looks calm instead of
    having its own noise stretched to full red.
    """
    norm = normalise_map(anomaly_map, vmin, vmax)
    if norm.shape != image.shape[:2]:
        norm = cv2.resize(norm, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    weight = (alpha * (0.3 + 0.7 * norm))[..., None]
    return (image.astype(np.float32) * (1 - weight) + colour.astype(np.float32) * weight).round().astype(np.uint8)


def outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (255, 0, 0), thickness: int = 2) -> np.ndarray:
    """Draw the contour of a boolean mask on a copy of the image."""
    out = np.ascontiguousarray(image.copy())
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, colour, thickness)
    return out

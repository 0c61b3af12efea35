"""A colour-based foreground estimate, standing in for BiRefNet so masks land on the object.

Industrial photos put one object on a plain backdrop, so the border colour is the
background: pixels far from it in Lab are the object. Textures have no backdrop; when
the border itself is as varied as the interior, the whole image is foreground.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from hub.images import ImageLike, to_rgb_array

# Lab distance below which a pixel always counts as background (JPEG noise, shading).
MIN_DISTANCE = 12.0
# A foreground outside this fraction of the image is not an object on a backdrop.
MIN_FRACTION, MAX_FRACTION = 0.03, 0.92


def estimate_foreground(image: ImageLike) -> np.ndarray:
    """bool (H, W): True on the object; all True for textures and unclear cases."""
    rgb = to_rgb_array(image)
    h, w = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0  # OpenCV scales L to 0..255; a and b are offset by 128 only
    band = max(2, min(h, w) // 32)
    border = np.concatenate([
        lab[:band].reshape(-1, 3), lab[-band:].reshape(-1, 3), lab[:, :band].reshape(-1, 3), lab[:, -band:].reshape(-1, 3)
    ])
    background = np.median(border, axis=0)
    distance = np.linalg.norm(lab - background, axis=-1)
    border_spread = float(np.percentile(np.linalg.norm(border - background, axis=-1), 90))
    scaled = np.clip(distance * (255.0 / max(float(distance.max()), 1e-6)), 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = max(otsu * float(distance.max()) / 255.0, 2.0 * border_spread, MIN_DISTANCE)
    fg = distance > threshold
    k = max(3, min(h, w) // 64) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, kernel, iterations=2).astype(bool)
    fg = ndimage.binary_fill_holes(fg)
    labels, count = ndimage.label(fg)
    if count:
        sizes = ndimage.sum(fg, labels, range(1, count + 1))
        fg = np.isin(labels, 1 + np.flatnonzero(sizes >= 0.2 * sizes.max()))
    if not MIN_FRACTION <= fg.mean() <= MAX_FRACTION:
        return np.ones((h, w), bool)
    return fg

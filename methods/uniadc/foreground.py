"""Where defects may be placed: a colour-based foreground estimate standing in for BiRefNet,
and, for scenes of several objects, the objects themselves.

Industrial photos put one object on a plain backdrop, so the border colour is the
background: pixels far from it in Lab are the object. Textures have no backdrop; when
the border itself is as varied as the interior, the whole image is foreground.

Scenes of small parts in bins or on plates break that estimate (the bins are the
foreground, and defects would land on them). For those, a part model is learned from
the normals with LogSAD's colour segmenter, and defects go on the parts, not on the
fixtures that hold them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
from scipy import ndimage

from hub.images import ImageLike, to_rgb_array
from methods.logsad.segmentation import SegmenterConfig, learn_segmenter, segment_colour

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


# --- objects in bins and on plates: a part model learned from the normals --------------------

# At least this share of the normals must show parts before parts replace the colour estimate
# (a texture's border colours cover it, so it has none).
MIN_PART_AGREEMENT = 0.75
# A component larger than this fraction of the image is a backdrop or a tray, never a part.
MAX_PART_AREA = 0.15


@dataclass(frozen=True)
class PartModel:
    """LogSAD's colour segmenter, fitted on the normals, and how many parts a normal typically holds."""

    segmenter: SegmenterConfig
    typical_parts: int


def object_parts(image: ImageLike, model: PartModel) -> list[np.ndarray]:
    """bool (H, W) masks of the objects a defect can sit on: segmented components that hold no
    other component (a bin, a case or a dish with something in it is a fixture, not a part)."""
    rgb = to_rgb_array(image)
    h, w = rgb.shape[:2]
    comps, _ = segment_colour(rgb, model.segmenter)
    comps = [c for c in comps if c.area <= MAX_PART_AREA]
    centres = [(c.cy, c.cx) for c in comps]
    parts = []
    for i, comp in enumerate(comps):
        ch, cw = comp.mask.shape
        holds = any(comp.mask[min(int(cy * ch), ch - 1), min(int(cx * cw), cw - 1)]
                    for j, (cy, cx) in enumerate(centres) if j != i)
        if holds:
            continue
        mask = cv2.resize(comp.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        if mask.any():
            parts.append(mask)
    return parts


def learn_parts(normals: list[np.ndarray], probe: int = 12) -> Optional[PartModel]:
    """A part model when the normals are scenes of separate objects; None otherwise (textures,
    one object filling the frame), where the colour estimate is used as before."""
    if not normals:
        return None
    probed = normals[:probe]
    # A texture fills the frame: the colour estimate calls most of them foreground everywhere.
    if np.mean([estimate_foreground(im).all() for im in probed]) > 0.6:
        return None
    segmenter = learn_segmenter([to_rgb_array(im) for im in probed])
    model = PartModel(segmenter, 0)
    counts = np.array([len(object_parts(im, model)) for im in probed])
    if float((counts > 0).mean()) < MIN_PART_AGREEMENT:
        return None
    return PartModel(segmenter, int(np.median(counts[counts > 0])))


def scene_foreground(image: ImageLike, model: Optional[PartModel]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(foreground, parts): the union of the image's parts under `model`, or the colour estimate and no parts."""
    if model is not None:
        parts = object_parts(image, model)
        if parts:
            return np.logical_or.reduce(parts), parts
    return estimate_foreground(image), []

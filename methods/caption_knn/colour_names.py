"""Name a colour the way a person would: white-balance the image, then the nearest named colour in CIELAB.

The names are the words the captions use; lightness counts half as much as chroma so that
shading and low light do not turn a blue object into a black one.
"""
from __future__ import annotations

import cv2
import numpy as np

# sRGB prototypes of the colour words (typical paints, plastics, fruit and metals).
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (185, 40, 40),
    "orange": (235, 120, 30),
    "yellow": (230, 195, 45),
    "green": (55, 140, 60),
    "blue": (45, 95, 180),
    "brown": (125, 85, 50),
    "tan": (200, 160, 110),
    "black": (30, 30, 32),
    "grey": (135, 135, 138),
    "white": (238, 238, 236),
}
# Second prototypes where one paint spans two looks: a yellow with a baked, dotted surface
# (cookies), a red with the shading of a thin pencil, the matt orange of a peel and a white ball
# in its own shadow; without them these read tan, brown, red and grey.
SHADES: tuple[tuple[str, tuple[int, int, int]], ...] = (("yellow", (190, 155, 40)), ("red", (165, 75, 70)),
                                                       ("orange", (200, 125, 70)), ("white", (205, 205, 203)))
NAMES: tuple[str, ...] = tuple(PALETTE)
LIGHTNESS_WEIGHT = 0.5


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 or float [0, 1] sRGB → (..., 3) float32 CIELAB (L in 0–100)."""
    arr = np.asarray(rgb)
    f = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)
    shape = f.shape
    lab = cv2.cvtColor(f.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab)
    return lab.reshape(shape)


_PROTOTYPES = list(PALETTE.items()) + list(SHADES)
_PALETTE_LAB = to_lab(np.array([rgb for _, rgb in _PROTOTYPES], dtype=np.uint8))  # (P, 3)
_PROTOTYPE_NAME = np.array([NAMES.index(n) for n, _ in _PROTOTYPES])  # (P,) index into NAMES


_LEVELS = np.arange(256, dtype=np.float32) / 255.0
_SRGB_TO_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4).astype(np.float32)


def white_balance(image: np.ndarray, percentile: float = 75.0, target: float = 0.8,
                  crop: tuple[slice, slice] | None = None) -> np.ndarray:
    """uint8 RGB → float32 RGB in [0, 1] where the bright neutral surface (the table) is grey `target`.

    The reference is the median colour of the pixels above `percentile` in luminance, which is
    the table in a scene of objects on a tray: dim light (low exposure) and tinted light both
    map back to the same colours, so colour names do not depend on the capture. With `crop`
    (rows, columns) only that part is returned, balanced on the whole image's reference.
    """
    lin = _SRGB_TO_LINEAR[image]  # uint8 levels through a table: the formula's values, a tenth of the time
    lum = lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    bright = lum >= np.percentile(lum, percentile)
    ref = np.median(lin[bright], axis=0)
    ref = np.maximum(ref, 1e-4)
    target_lin = ((target + 0.055) / 1.055) ** 2.4
    if crop is not None:
        lin = lin[crop]
    out = np.clip(lin * (target_lin / ref), 0.0, 1.0)
    return np.where(out <= 0.0031308, 12.92 * out, 1.055 * np.power(out, 1 / 2.4) - 0.055).astype(np.float32)


ACHROMATIC = ("black", "grey", "white")
CHROMA_MIN = 18.0  # a colour this saturated is never called black, grey or white (blur desaturates, hue stays)


def name_colour(lab: np.ndarray) -> str:
    """(3,) Lab → the nearest colour word."""
    lab = np.asarray(lab, np.float32)
    d = _PALETTE_LAB - lab[None]
    d[:, 0] *= LIGHTNESS_WEIGHT
    cost = (d * d).sum(1)
    if float(np.hypot(lab[1], lab[2])) >= CHROMA_MIN:
        cost[np.isin(_PROTOTYPE_NAME, [NAMES.index(n) for n in ACHROMATIC])] = np.inf
    return NAMES[int(_PROTOTYPE_NAME[int(np.argmin(cost))])]


def name_pixels(lab: np.ndarray) -> np.ndarray:
    """(H, W, 3) Lab → (H, W) int index into NAMES."""
    d = lab[..., None, :] - _PALETTE_LAB  # (H, W, K, 3)
    d[..., 0] *= LIGHTNESS_WEIGHT
    return _PROTOTYPE_NAME[np.argmin((d * d).sum(-1), axis=-1)].astype(np.int32)

"""Auto-exposure to the normals' brightness, for methods whose features were fitted on well-lit images.

An under-exposed photo is darker and noisier than the normals in a way no feature bank has
seen: every patch is far from every normal patch, so a detector scores the capture, not the
part. Scaling the image in linear light until its bright pixels match the normals' (what a
camera's auto-exposure does) brings it back; an image that needed a large gain collected few
photons, so its shot noise is smoothed before the gain, as a camera's night mode does. Images
exposed like the normals pass through unchanged, so fitting on them is unaffected.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SRGB = np.arange(256, dtype=np.float64) / 255.0
_TO_LINEAR = np.where(_SRGB <= 0.04045, _SRGB / 12.92, ((_SRGB + 0.055) / 1.055) ** 2.4).astype(np.float32)
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def brightness(image: np.ndarray, percentile: float = 90.0) -> float:
    """Linear-light luminance of the image's bright pixels: what exposure scales, object colours barely move."""
    lum = _TO_LINEAR[image] @ _LUMA
    return float(np.percentile(lum, percentile))


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    x = np.clip(linear, 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)
    return np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)


@dataclass
class Exposure:
    """The normals' brightness and what counts as a different exposure.

    `tolerance`: gains within [1/tolerance, tolerance] leave the image untouched. Normals differ
    by up to ~1.7× (a grey table against a white one) and a dark mesh under the parts by ~2.7×,
    so only an image about 1.6 stops off (3×) is re-exposed; `denoise_gain`: from this gain on,
    the image is smoothed (σ = `denoise_sigma` pixels at 256²) in linear light before it is
    scaled; `max_gain` bounds the correction.
    """

    reference: float
    tolerance: float = 3.0
    denoise_gain: float = 3.0
    denoise_sigma: float = 1.0
    max_gain: float = 10.0

    @classmethod
    def fit(cls, normals: list[np.ndarray], **kwargs) -> "Exposure":
        if not normals:
            raise ValueError("exposure: no normal images to take the reference brightness from")
        return cls(reference=float(np.median([brightness(img) for img in normals])), **kwargs)

    def gain(self, image: np.ndarray) -> float:
        return float(np.clip(self.reference / max(brightness(image), 1e-4), 1.0 / self.max_gain, self.max_gain))

    def apply(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The image as the method should see it, and the gain applied (1.0: it passed through)."""
        g = self.gain(image)
        if 1.0 / self.tolerance <= g <= self.tolerance:
            return image, 1.0
        linear = _TO_LINEAR[image]
        if g >= self.denoise_gain:
            sigma = self.denoise_sigma * max(image.shape[:2]) / 256.0
            linear = cv2.GaussianBlur(linear, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
        return _to_srgb(linear * g), g

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.apply(image)[0]


def exposure_note(gain: float) -> str:
    """What a prediction's explanation says about a re-exposed image; empty when it passed through."""
    if gain == 1.0:
        return ""
    side = "darker" if gain > 1.0 else "brighter"
    return f"image re-exposed ×{gain:.2g} first ({side} than the normals)"

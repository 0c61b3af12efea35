"""Turn whatever a user hands us into an RGB uint8 array, refusing bad input early.

Every reader in the project goes through `load_image` so that the same limits and
the same messages apply in the CLI, the datasets and the app.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, UnidentifiedImageError

# 64 megapixels (8192²) is larger than any industrial inspection image we know of
# and small enough to decode safely on a 24 GiB machine.
MAX_PIXELS = 8192 * 8192
# PIL warns at its limit and raises at twice it; we check ourselves before decoding
# and keep PIL's own guard as a second line behind ours.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

ImageLike = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]


class ImageError(ValueError):
    """An input that cannot be used as an image; the message names the problem."""


def _describe(src: object) -> str:
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    if isinstance(src, bytes):
        return f"<{len(src)} bytes>"
    return f"<{type(src).__name__}>"


def _check_size(width: int, height: int, what: str) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{what}: image is empty ({width}×{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{what}: image is {width}×{height} = {width * height:,} pixels, over the limit of "
            f"{MAX_PIXELS:,} pixels (8192×8192); downscale or tile it first"
        )


def open_image(src: ImageLike) -> Image.Image:
    """Open and fully decode an image, checking its size before any pixel is decoded."""
    what = _describe(src)
    if isinstance(src, Image.Image):
        _check_size(*src.size, what)
        return src
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.exists():
            raise ImageError(f"{path}: no such file")
        if path.is_dir():
            raise ImageError(f"{path}: is a folder, not an image file")
        fp: object = path
    elif isinstance(src, bytes):
        fp = io.BytesIO(src)
    else:
        raise ImageError(f"{what}: expected a path, bytes, a PIL image or a numpy array")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp)  # reads the header only
            _check_size(*img.size, what)
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise ImageError(
            f"{what}: refused before decoding: {size}, over the limit of {MAX_PIXELS:,} pixels (8192×8192)"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{what}: not an image file (no known image format)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{what}: unreadable or truncated image ({exc})") from None
    return img


def _array_to_uint8(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(f"{what}: array of shape {arr.shape} is not an image (H×W, H×W×3 or H×W×4)")
    _check_size(arr.shape[1], arr.shape[0], what)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ImageError(f"{what}: float image contains NaN or inf")
        scale = 255.0 if arr.max(initial=0.0) <= 1.0 else 1.0
        arr = np.clip(arr * scale, 0, 255).round().astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.shape[2] == 4:
        arr = _composite_on_white(arr)
    return np.ascontiguousarray(arr)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return rgb.round().astype(np.uint8)


def to_rgb_array(src: ImageLike) -> np.ndarray:
    """Any supported input → (H, W, 3) uint8 RGB. Grayscale, RGBA, 16-bit, palette are converted."""
    what = _describe(src)
    if isinstance(src, np.ndarray):
        return _array_to_uint8(src, what)
    img = open_image(src)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return _array_to_uint8(np.asarray(img).astype(np.uint16 if img.mode != "I" else np.int64), what)
    if img.mode == "F":
        return _array_to_uint8(np.asarray(img, dtype=np.float32), what)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return _composite_on_white(np.asarray(img.convert("RGBA")))
    return np.ascontiguousarray(np.asarray(img.convert("RGB")))


load_image = to_rgb_array


def load_mask(src: ImageLike) -> np.ndarray:
    """A ground-truth mask as (H, W) uint8 with its stored values kept (LOCO uses pixel_value, not 255)."""
    what = _describe(src)
    if isinstance(src, np.ndarray):
        arr = src
    else:
        img = open_image(src)
        arr = np.asarray(img.convert("L") if img.mode not in ("L", "1", "P") else img)
    if arr.ndim == 3:
        arr = arr.max(axis=2)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim != 2 or arr.size == 0:
        raise ImageError(f"{what}: a mask must be a non-empty single-channel image")
    return np.ascontiguousarray(arr.astype(np.uint8))

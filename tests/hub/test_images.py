"""Bad image input gets a clear error that names the problem."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from hub.images import MAX_PIXELS, ImageError, load_mask, to_rgb_array


def _png_bytes(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width×height (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")


def test_not_an_image(tmp_path):
    f = tmp_path / "notes.png"
    f.write_text("hello, I am text")
    with pytest.raises(ImageError, match="not an image file"):
        to_rgb_array(f)


def test_truncated_png(tmp_path):
    data = _png_bytes(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    f = tmp_path / "cut.png"
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated"):
        to_rgb_array(f)


def test_huge_image_is_refused_before_decoding(tmp_path):
    f = tmp_path / "huge.png"
    f.write_bytes(_png_header_only(30000, 30000))
    with pytest.raises(ImageError, match=r"before decoding: 900,000,000 pixels, over the limit of 67,108,864"):
        to_rgb_array(f)
    assert MAX_PIXELS == 8192 * 8192


def test_zero_sized_image():
    with pytest.raises(ImageError, match="empty"):
        to_rgb_array(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(ImageError, match="not an image file|empty"):  # PIL rejects a 0×0 PNG header
        to_rgb_array(_png_header_only(0, 0))


def test_missing_path(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        to_rgb_array(tmp_path / "nope.png")


def test_modes_are_converted():
    gray = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert to_rgb_array(gray).shape == (4, 4, 3)
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent → white
    assert (to_rgb_array(rgba) == 255).all()
    sixteen = np.full((4, 4), 65535, np.uint16)
    assert (to_rgb_array(Image.fromarray(sixteen)) == 255).all()
    floats = np.full((4, 4, 3), 0.5, np.float32)
    assert (to_rgb_array(floats) == 128).all()


def test_nan_float_image_is_refused():
    with pytest.raises(ImageError, match="NaN"):
        to_rgb_array(np.full((4, 4), np.nan, np.float32))


def test_mask_keeps_its_values():
    mask = np.zeros((5, 5), np.uint8)
    mask[1:3, 1:3] = 37
    assert set(np.unique(load_mask(_png_bytes(mask)))) == {0, 37}

"""Uploaded zips of normals: bombs, floods and strangers are refused by name."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from hub.archives import ArchiveError, images_from_zip


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_reads_images_sorted_and_skips_mac_junk(tmp_path):
    z = _zip(tmp_path / "n.zip", {"b.png": _png(20), "a/a.png": _png(10), "__MACOSX/._a.png": b"x", ".DS_Store": b"x"})
    images = images_from_zip(z)
    assert [int(im[0, 0, 0]) for im in images] == [10, 20]


def test_too_many_files(tmp_path):
    z = _zip(tmp_path / "many.zip", {f"{i:05d}.png": _png(i % 255) for i in range(12)})
    with pytest.raises(ArchiveError, match="12 files, over the limit of 10"):
        images_from_zip(z, max_members=10)


def test_zip_bomb(tmp_path):
    z = _zip(tmp_path / "bomb.zip", {"huge.png": b"\0" * 5_000_000})
    with pytest.raises(ArchiveError, match="zip bomb"):
        images_from_zip(z)


def test_total_size_cap(tmp_path):
    z = _zip(tmp_path / "big.zip", {"a.png": _png(1), "b.png": _png(2)})
    with pytest.raises(ArchiveError, match="over the limit of 100"):
        images_from_zip(z, max_total_bytes=100)


def test_non_image_member_and_broken_image(tmp_path):
    with pytest.raises(ArchiveError, match="run.sh: not an image file"):
        images_from_zip(_zip(tmp_path / "x.zip", {"a.png": _png(1), "run.sh": b"echo hi"}))
    with pytest.raises(ArchiveError, match="bad.png: .*not an image file"):
        images_from_zip(_zip(tmp_path / "y.zip", {"bad.png": b"this is text, not a png"}))


def test_not_a_zip(tmp_path):
    f = tmp_path / "n.zip"
    f.write_text("nope")
    with pytest.raises(ArchiveError, match="not a readable zip"):
        images_from_zip(f)

"""Read images out of a user's zip without extracting it, refusing bombs and oversized archives.

Nothing is written to disk: members are read into memory one at a time, after the
archive's own directory has been checked against the caps.
"""
from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from hub.images import ImageError, to_rgb_array

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
MAX_MEMBERS = 500
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # uncompressed
MAX_RATIO = 200  # uncompressed ÷ compressed per member; real images compress far less


class ArchiveError(ValueError):
    """A zip that is refused; the message says why."""


def images_from_zip(path: str | Path, *, max_members: int = MAX_MEMBERS,
                    max_total_bytes: int = MAX_TOTAL_BYTES) -> list[np.ndarray]:
    """The archive's images, sorted by name, as RGB arrays; other files are refused by name."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{Path(path).name}: not a readable zip file ({exc})") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        members = [m for m in members if not PurePosixPath(m.filename).name.startswith(".")
                   and "__MACOSX" not in m.filename]
        if not members:
            raise ArchiveError(f"{Path(path).name}: the zip holds no files")
        if len(members) > max_members:
            raise ArchiveError(f"{Path(path).name}: {len(members)} files, over the limit of {max_members}")
        total = sum(m.file_size for m in members)
        if total > max_total_bytes:
            raise ArchiveError(f"{Path(path).name}: {total:,} bytes uncompressed, over the limit of "
                               f"{max_total_bytes:,}")
        for m in members:
            if m.compress_size and m.file_size / m.compress_size > MAX_RATIO:
                raise ArchiveError(f"{m.filename}: compression ratio {m.file_size / m.compress_size:.0f}:1 "
                                   f"looks like a zip bomb (limit {MAX_RATIO}:1)")
            if PurePosixPath(m.filename).suffix.lower() not in IMAGE_SUFFIXES:
                raise ArchiveError(f"{m.filename}: not an image file (allowed: {', '.join(sorted(IMAGE_SUFFIXES))})")
        images = []
        for m in sorted(members, key=lambda m: m.filename):
            try:
                images.append(to_rgb_array(zf.read(m)))
            except ImageError as exc:
                raise ArchiveError(f"{m.filename}: {exc}") from None
        return images

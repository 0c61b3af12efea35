"""Printed labels: which word a label carries, so a rule can pair it with another part's colour.

The embedded tier finds paper cards and their dark print with caption_knn's object finder and
reads a print as its deskewed template (`print_template`); the words are the clusters of the
normals' prints. In a rule file a word is a glyph, rows of characters from paper to ink, so a
person reviewing the file sees the word and a hand-written file stays self-contained.
"""
from __future__ import annotations

import numpy as np

from methods.logsad.rules import GLYPH_LEVELS, GLYPH_SIZE, Print
from methods.logsad.segmentation import resize_work

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the image's width and height


def find_prints(image: np.ndarray, region: Box | None = None,
                words: list[Print] | None = None) -> tuple[list[np.ndarray], list[Box]]:
    """uint8 RGB → the templates of the prints on its labels (caption_knn's reading, at work size) and their boxes.

    With a `region` (where the normals' labels lie) that part of the white-balanced image is
    searched first, and the whole image only when no print there reads as one of `words` (any
    print, without them): a label rule then costs a few milliseconds per image, and a crop read
    against a plain border finds more labels under cables and in low light (dev Ropes: 20 vs 8
    of 40, 37 vs 33), while under a mesh the whole image reads more (28 vs 11 of 40).
    """
    from methods.caption_knn.colour_names import white_balance  # imported here: caption_knn imports logsad
    from methods.caption_knn.scene_describer import PRINT_SIZE, measure
    from methods.caption_knn.segmentation import segment

    assert PRINT_SIZE == GLYPH_SIZE, "a glyph holds one print template"
    small = resize_work(image)
    h, w = small.shape[:2]

    def search(x0: float, y0: float, x1: float, y1: float) -> tuple[list[np.ndarray], list[Box]]:
        c0, r0 = int(np.floor(x0 * w)), int(np.floor(y0 * h))
        c1, r1 = max(c0 + 8, int(np.ceil(x1 * w))), max(r0 + 8, int(np.ceil(y1 * h)))
        crop = np.ascontiguousarray(white_balance(small, crop=(slice(r0, r1), slice(c0, c1))))
        templates, boxes = [], []
        for seg in segment(crop, None, None):
            info = measure(crop, seg)
            if info is not None and info.print_template is not None:
                ys, xs = np.nonzero(seg.mask)
                templates.append(info.print_template)
                boxes.append(((c0 + xs.min()) / w, (r0 + ys.min()) / h, (c0 + xs.max() + 1) / w,
                              (r0 + ys.max() + 1) / h))
        return templates, boxes

    whole = (0.0, 0.0, 1.0, 1.0)
    found = search(*(region or whole))
    if region is not None and region != whole and not (read(found[0], words) if words else found[0]):
        found = search(*whole)
    return found


def label_region(boxes: list[Box], margin: float = 0.06) -> Box | None:
    """Where labels are looked for: the boxes of the normals' labels, together, widened by `margin`."""
    if not boxes:
        return None
    arr = np.asarray(boxes, np.float64)
    return (max(0.0, float(arr[:, 0].min()) - margin), max(0.0, float(arr[:, 1].min()) - margin),
            min(1.0, float(arr[:, 2].max()) + margin), min(1.0, float(arr[:, 3].max()) + margin))


def word_templates(per_image: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The words the normals' prints spell (clusters of their templates), in a fixed order."""
    from methods.caption_knn.scene_describer import print_clusters

    return print_clusters([t for ts in per_image for t in ts])


def to_glyph(template: np.ndarray) -> list[str]:
    """A template (zero mean, unit norm) as rows of GLYPH_LEVELS characters, paper to ink."""
    cols, rows = GLYPH_SIZE
    t = np.asarray(template, np.float64).reshape(rows, cols)
    span = float(np.ptp(t))
    levels = np.zeros_like(t) if span < 1e-9 else (t - t.min()) / span
    idx = np.rint(levels * (len(GLYPH_LEVELS) - 1)).astype(int)
    return ["".join(GLYPH_LEVELS[i] for i in row) for row in idx]


def from_glyph(glyph: list[str]) -> np.ndarray:
    """Rows of GLYPH_LEVELS characters → a template comparable with `find_prints`' (zero mean, unit norm)."""
    t = np.array([[GLYPH_LEVELS.index(ch) for ch in row] for row in glyph], np.float64).ravel()
    t -= t.mean()
    norm = float(np.linalg.norm(t))
    return t / norm if norm > 1e-9 else t


def read(templates: list[np.ndarray], prints: list[Print]) -> list[str]:
    """The names of the words the image's prints read as (one per print that matches a glyph well enough)."""
    from methods.caption_knn.scene_describer import PRINT_SAME  # the similarity that makes two prints one word

    if not templates or not prints:
        return []
    glyphs = np.stack([from_glyph(p.glyph) for p in prints])
    words = []
    for t in templates:
        sims = glyphs @ np.asarray(t, np.float64)
        k = int(sims.argmax())
        if sims[k] >= PRINT_SAME:
            words.append(prints[k].name)
    return words

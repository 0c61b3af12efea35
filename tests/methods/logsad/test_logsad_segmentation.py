"""The embedded segmenter: a cable, a darker noisier exposure or a blur must not change the components."""
import cv2
import numpy as np
import pytest

from methods.logsad.segmentation import SegmenterConfig, learn_segmenter, segment_colour
from tests.methods.logsad.conftest import scene


@pytest.fixture(scope="module")
def segmenter(normals):
    return learn_segmenter(normals)


def counts(img, cfg) -> int:
    return len(segment_colour(img, cfg)[0])


def test_normals_give_five_components(normals, segmenter):
    assert [counts(img, segmenter) for img in normals] == [5] * len(normals)
    assert segmenter.drop_border  # no normal object touches the border


def test_a_cable_from_the_border_is_not_a_component(normals, segmenter):
    img = normals[0].copy()
    cv2.line(img, (0, 5), (127, 9), (60, 60, 60), 3)  # a dark cable across the top, border to border
    cv2.line(img, (3, 127), (0, 60), (30, 90, 200), 3)  # a blue one in a corner
    assert counts(img, segmenter) == 5


def test_low_light_and_blur_keep_the_count(normals, segmenter):
    rng = np.random.default_rng(0)
    dark = normals[1].astype(np.float32) * 0.25
    dark = np.clip(rng.poisson(dark * 4) / 4 + rng.normal(0, 1.5, dark.shape), 0, 255).astype(np.uint8)
    assert counts(dark, segmenter) == 5
    blurred = cv2.GaussianBlur(normals[2], (0, 0), 1.5)
    assert counts(blurred, segmenter) == 5


def test_a_blank_image_has_no_components(segmenter):
    assert counts(np.full((64, 64, 3), 128, np.uint8), segmenter) == 0
    assert counts(scene(3, discs=0, bars=0), segmenter) == 0


def test_an_object_in_a_bin_is_one_component_not_two():
    """A block lying in the hole of a bin's ring is its own component; the bin's split must not count it again."""
    img = np.full((128, 128, 3), (225, 215, 195), np.uint8)  # beige table
    cv2.rectangle(img, (16, 40), (112, 88), (150, 160, 175), -1)  # a grey-blue bin ...
    cv2.rectangle(img, (22, 46), (106, 82), (225, 215, 195), -1)  # ... whose floor has the table's colour
    cv2.circle(img, (64, 64), 9, (40, 80, 200), -1)  # a blue block on that floor
    comps = segment_colour(img, SegmenterConfig(open_radius=1))[0]
    blocks = [c for c in comps if c.area < 0.03]
    assert len(blocks) == 1
    assert abs(blocks[0].cx - 64 / 128) < 0.02 and abs(blocks[0].cy - 64 / 128) < 0.02


def cutlery(seed: int, size: int = 128) -> np.ndarray:
    """A plate and two utensils as grey as the table: only their drawn outlines (shading) tell them apart."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 200, np.uint8)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    dy = int(rng.integers(-6, 7))
    cv2.circle(img, (64, 64 + dy), 12, (204, 204, 204), -1)
    cv2.circle(img, (64, 64 + dy), 12, (165, 165, 165), 2)
    for x in (26, 102):
        top = 44 + int(rng.integers(-5, 6))
        cv2.rectangle(img, (x - 4, top), (x + 4, top + 40), (196, 196, 196), -1)
        cv2.rectangle(img, (x - 4, top), (x + 4, top + 40), (165, 165, 165), 2)
    return img


def test_objects_as_grey_as_the_table_are_found_by_their_outlines(segmenter):
    normals = [cutlery(s) for s in range(10)]
    cfg = learn_segmenter(normals)
    assert cfg.outlines
    assert [counts(img, cfg) for img in normals] == [3] * len(normals)
    assert not segmenter.outlines  # coloured discs and bars: colour alone agrees already

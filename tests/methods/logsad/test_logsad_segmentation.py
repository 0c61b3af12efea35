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


def test_scene_components_are_a_bin_without_its_contents_and_the_parts_in_and_beside_it():
    from methods.logsad.segmentation import prepare, segment_scene

    img = np.full((256, 256, 3), (222, 220, 214), np.uint8)
    cv2.rectangle(img, (40, 60), (150, 200), (95, 100, 110), -1)  # a grey bin
    cv2.rectangle(img, (60, 90), (130, 102), (40, 70, 190), -1)  # two blue sticks in it
    cv2.rectangle(img, (60, 150), (130, 162), (40, 70, 190), -1)
    cv2.circle(img, (200, 128), 16, (200, 40, 35), -1)  # a red disc on the table
    comps = segment_scene(img, SegmenterConfig(mode="scene"))[0]
    assert len(comps) == 4
    bin_, *parts = sorted(comps, key=lambda c: -c.area)
    assert abs(bin_.cx - 95 / 256) < 0.03 and bin_.area > 0.2
    own = prepare(img)[130, 48]  # a pixel of bare bin floor
    assert np.abs(bin_.colour[1:] - own[1:]).max() < 2.0  # its own grey (a, b), not averaged with the sticks' blue
    sticks = sorted((c for c in parts if c.length > 2.5 * c.width), key=lambda c: c.cy)
    assert [round(c.cy * 256) for c in sticks] == pytest.approx([96, 156], abs=3)
    assert any(abs(c.cx - 200 / 256) < 0.02 for c in parts)


def _tape_with(attached: str) -> np.ndarray:
    """A large blue tape on a light table with something of another colour on its edge."""
    img = np.full((128, 128, 3), (225, 222, 215), np.uint8)
    cv2.rectangle(img, (20, 50), (108, 78), (40, 70, 190), -1)
    if attached == "fringe":  # dark specks 3 px thick along the top edge, as wire crossings behind a mesh leave
        for x in range(26, 100, 12):
            cv2.rectangle(img, (x, 48), (x + 5, 50), (60, 60, 60), -1)
    else:  # a red block lying against the bottom edge
        cv2.rectangle(img, (50, 70), (70, 90), (200, 40, 35), -1)
    return img


def test_a_thin_fringe_on_a_parts_outline_stays_with_it_and_a_touching_object_does_not():
    on = SegmenterConfig(open_radius=1, fringe_radius=3.0)  # the specks' inradius is 2.9 px after smoothing
    off = SegmenterConfig(open_radius=1)
    assert len(segment_colour(_tape_with("fringe"), off)[0]) > 1  # specks counted as parts
    assert len(segment_colour(_tape_with("fringe"), on)[0]) == 1
    assert len(segment_colour(_tape_with("block"), on)[0]) == 2


def test_a_mesh_over_the_table_is_white_balanced_on_the_table_between_its_wires():
    from methods.logsad.segmentation import normalise_illumination

    img = np.full((128, 128, 3), (200, 190, 170), np.uint8)  # a warm table
    img[::3] = img[:, ::3] = (40, 40, 40)  # a dark mesh: more than half of the border on wires
    table = img[1, 1]
    assert np.allclose(normalise_illumination(img, textured_border=0.2)[1, 1], 0.8, atol=0.02)  # table → neutral grey
    plain = normalise_illumination(img)[1, 1]  # on the border's median, a wire: the table is overexposed
    assert not np.allclose(plain, 0.8, atol=0.02)
    flat = np.full((128, 128, 3), table, np.uint8)
    np.testing.assert_allclose(normalise_illumination(flat, textured_border=0.2), normalise_illumination(flat))


def test_a_judge_decides_the_thresholds_before_the_count_agreement(normals):
    """With a given rule file the segmentation it holds under wins; here a judge that likes only its fifth call."""
    calls: list[int] = []

    def judge(per_image):
        calls.append(len(per_image))
        return 1.0 if len(calls) == 5 else 0.0

    bts, cts = (7.0, 10.0, 14.0), (10.0, 15.0, 22.0)
    cfg = learn_segmenter(normals[:4], background_thresholds=bts, content_thresholds=cts, judge=judge)
    assert calls == [4] * 9
    assert (cfg.background_threshold, cfg.content_threshold) == (bts[1], cts[1])

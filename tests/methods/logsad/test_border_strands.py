"""Cables that reach the border are taken out of the foreground by their colour where they meet it."""
import cv2
import numpy as np

from methods.logsad import segmentation as seg


def _lab(img: np.ndarray) -> np.ndarray:
    return seg.to_lab(img.astype(np.float32) / 255.0)


def _cable_scene(cable=(20, 20, 20), stick=(40, 70, 190)) -> tuple[np.ndarray, np.ndarray]:
    """A stick lying across a cable that runs from the left border to the right one, and a stretch of the
    same cable inside the image that does not reach the border; returns the image and the stick's mask."""
    img = np.full((128, 128, 3), 205, np.uint8)
    cv2.line(img, (0, 64), (127, 70), cable, 5)
    cv2.line(img, (30, 100), (90, 110), cable, 5)
    stick_mask = np.zeros((128, 128), np.uint8)
    cv2.rectangle(stick_mask, (60, 30), (68, 96), 1, -1)
    img[stick_mask.astype(bool)] = stick
    return img, stick_mask.astype(bool)


def test_stick_on_a_cable_comes_loose_and_the_cable_goes():
    img, stick = _cable_scene()
    lab = _lab(img)
    fg = seg.background_distance(lab, np.array([lab[0, 0]])) > 12
    kept = seg.strip_border_strands(fg, lab, 12.0)
    assert kept[stick].all()  # the stick is untouched
    assert not (kept & ~stick).any()  # both stretches of cable are gone, the one inside too
    n, cc = cv2.connectedComponents(kept.astype(np.uint8))
    assert n == 2 and not seg.border_band(128, 128)[cc == 1].any()


def test_a_cable_coloured_like_a_normal_object_is_kept():
    """An object colour the normals have protects its pixels: an orange cable must not erase the oranges."""
    img, _ = _cable_scene(cable=(40, 70, 190))
    lab = _lab(img)
    fg = seg.background_distance(lab, np.array([lab[0, 0]])) > 12
    objects = lab[64, 64][None]  # the stick's colour is a normal object's colour
    assert (seg.strip_border_strands(fg, lab, 12.0, objects) == fg).all()
    assert (seg.strip_border_strands(np.zeros_like(fg), lab, 12.0) == 0).all()  # nothing at the border: no change


def test_nearest_lab_distance_halves_lightness_and_takes_the_closest():
    from methods.logsad.segmentation import _nearest_lab_dist

    pixels = np.array([[50.0, 0.0, 0.0], [80.0, 10.0, -10.0]], np.float32)
    colours = np.array([[30.0, 0.0, 0.0], [50.0, 3.0, 4.0]], np.float32)
    # First pixel: 0.5 × 20 = 10 to the first colour, √(3² + 4²) = 5 to the second.
    # Second: √(25² + 10² + 10²) = 28.72 to the first, √(15² + 7² + 14²) = 21.68 to the second.
    np.testing.assert_allclose(_nearest_lab_dist(pixels, colours), [5.0, np.sqrt(470.0)], rtol=1e-6)


def _blue_cable_scene() -> tuple[np.ndarray, np.ndarray]:
    """At work size (256 px): a blue cable from the left border to the right one with a dark shadow where
    another cable lay on it, a yellow cable coming in at the bottom and a stretch of it inside the image,
    and a stick of the blue cable's colour lying apart from both."""
    img = np.full((256, 256, 3), 205, np.uint8)
    cv2.line(img, (0, 40), (255, 48), (40, 70, 190), 10)
    cv2.rectangle(img, (40, 39), (48, 42), (15, 25, 70), -1)  # the shadow of a cable that crossed it
    cv2.line(img, (60, 200), (180, 220), (225, 185, 40), 9)
    cv2.line(img, (220, 255), (240, 224), (225, 185, 40), 9)  # where the yellow cable comes in
    stick = np.zeros((256, 256), np.uint8)
    cv2.rectangle(stick, (120, 90), (136, 170), 1, -1)
    img[stick.astype(bool)] = (40, 70, 190)
    return img, stick.astype(bool)


def test_a_cable_of_an_object_colour_goes_only_where_it_reaches_the_border():
    img, stick = _blue_cable_scene()
    lab = _lab(img)
    fg = seg.background_distance(lab, np.array([lab[0, 0]])) > 12
    objects = lab[128, 128][None] + np.array([[4.0, 3.0, -3.0]], np.float32)  # blue sticks, shaded a little apart
    anywhere = seg.strip_border_strands(fg, lab, 12.0, objects)
    assert not anywhere[stick].any()  # read anywhere, the stick has the blue cable's colour and goes with it
    kept = seg.detach_from_cables(fg, lab, objects, 1, reaching=True)  # with the segmenter's opening after it
    assert kept[stick].mean() > 0.99  # it does not touch the blue cable, so it stays (the opening rounds its corners)
    assert not kept[:70].any()  # the blue cable is gone, and the shadow it surrounds with it
    assert not (kept & ~stick).any()  # yellow is no object's colour: its stretch inside goes wherever it is


def test_nothing_wider_than_a_cable_goes_with_it():
    """A tray of the blue cable's colour that the cable runs into stays, the cable up to it goes."""
    img, _ = _blue_cable_scene()
    cv2.rectangle(img, (150, 30), (230, 120), (40, 70, 190), -1)
    lab = _lab(img)
    fg = seg.background_distance(lab, np.array([lab[0, 0]])) > 12
    objects = lab[128, 128][None] + np.array([[4.0, 3.0, -3.0]], np.float32)
    kept = seg.detach_from_cables(fg, lab, objects, 1, reaching=True)
    assert kept[40:110, 160:220].all()
    assert not kept[40:50, :30].any()


def test_segmenter_keeps_a_stick_apart_from_a_cable_of_its_colour():
    import dataclasses

    img, _ = _blue_cable_scene()
    base = seg.SegmenterConfig(background_threshold=10.0, drop_border=True, open_radius=1,
                               object_colours=_lab(img)[128, 128][None] + np.array([[4.0, 3.0, -3.0]], np.float32))
    found = {}
    for mode in ("off", "anywhere", "reaching"):
        comps, _ = seg.segment_colour(img, dataclasses.replace(base, strip_cables=mode))
        found[mode] = sorted((round(c.cx, 2), round(c.cy, 2)) for c in comps)
    stick = (0.5, 0.51)
    assert stick in found["off"] and (0.47, 0.82) in found["off"]  # the yellow stretch stays too: no cable comes off
    assert stick not in found["anywhere"]  # the stick went with the blue cable's colour
    assert found["reaching"] == [stick]

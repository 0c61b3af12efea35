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

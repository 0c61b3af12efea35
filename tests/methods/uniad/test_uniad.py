"""UniAD: shapes, a decreasing distillation loss, save/load, and the normalisation on held-out normals."""
import numpy as np
import pytest
import torch

import methods
from methods.uniad import components as comp
from methods.uniad import fused_score
from methods.uniad.model import (
    MapNorm, ScoreNorm, Student, discrepancy_maps, nearest_cell_distances, nearest_normal_distances,
)
from methods.uniad.text_check import Rule, TextChecker

TINY = {"steps": 30, "batch_size": 4, "width": 8, "bottleneck": 8, "image_size": 128, "n_colours": 3}


def _scene(rng: np.random.Generator, n_discs: int = 3, size: int = 128) -> np.ndarray:
    """A light-grey table with `n_discs` orange discs: a toy logical scene."""
    import cv2

    img = np.full((size, size, 3), 200, np.uint8) + rng.integers(0, 6, (size, size, 1), dtype=np.uint8)
    slots = [(x, y) for x in (0.2, 0.5, 0.8) for y in (0.2, 0.5, 0.8)]  # distinct places: discs never touch
    for i in rng.choice(len(slots), n_discs, replace=False):
        x, y = (np.array(slots[i]) * size + rng.integers(-4, 5, 2)).astype(int)
        cv2.circle(img, (int(x), int(y)), 9, (230, 120, 30), -1)
    return img


@pytest.fixture(scope="module")
def normals():
    rng = np.random.default_rng(0)
    return [_scene(rng) for _ in range(10)]


@pytest.fixture(scope="module")
def fitted(normals):
    return methods.create("uniad", **TINY).fit(normals)


def test_student_shapes():
    student = Student([40, 112], 320, desc_dim=14, width=8, bottleneck=4)
    stem = torch.zeros(2, 24, 64, 64)  # Lite0 stage 1 of a 256² image
    structural, deep, desc = student(stem)
    assert [tuple(s.shape) for s in structural] == [(2, 40, 32, 32), (2, 112, 16, 16)]
    assert tuple(deep.shape) == (2, 320, 8, 8) and tuple(desc.shape) == (2, 14)
    struct_map, deep_map, desc_err = discrepancy_maps(
        (structural, deep, desc), [torch.zeros(2, 40, 32, 32), torch.zeros(2, 112, 16, 16)],
        torch.zeros(2, 320, 8, 8), torch.zeros(2, 14), grid=32)
    assert struct_map.shape == deep_map.shape == (2, 32, 32) and desc_err.shape == (2,)


def test_prediction_shapes_and_details(fitted, normals):
    img = _scene(np.random.default_rng(5), n_discs=3, size=100)[:, :90]
    pred = fitted.predict([img])[0]
    assert pred.anomaly_map.shape == (100, 90) and pred.anomaly_map.dtype == np.float32
    assert {"structural", "logical_deep", "logical_components", "logical_memory", "logical_composition", "text",
            "branch", "fired"} <= set(pred.details)
    assert pred.details["branch"] in ("structural", "logical", "text")
    assert "z =" in pred.explanation


def test_loss_decreases_on_tiny_data(fitted):
    h = fitted.loss_history
    assert len(h) == TINY["steps"]
    assert np.mean(h[-5:]) < np.mean(h[:5])


def test_save_load_gives_identical_predictions(fitted, normals, tmp_path):
    probe = [normals[0], _scene(np.random.default_rng(9), n_discs=5)]
    before = fitted.predict(probe)
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / "loss_curve.html").is_file()
    again = methods.load(str(tmp_path / "m"))
    assert again.loss_history == fitted.loss_history
    for a, b in zip(before, again.predict(probe)):
        assert a.score == pytest.approx(b.score, rel=1e-6)  # it sums the text check's z-score (see below)
        np.testing.assert_array_equal(a.anomaly_map, b.anomaly_map)
        assert a.details.keys() == b.details.keys()
        for key, value in a.details.items():  # the text encoder's float sums may differ in the last bits
            assert b.details[key] == (pytest.approx(value, rel=1e-5) if isinstance(value, float) else value)


def test_held_out_normals_are_standardised(fitted):
    """Scores are z-scores against normals held out of the student's fit; the text check counts discs."""
    assert fitted.meta["n_val"] == 2 and fitted.meta["n_fit"] == 8
    for v in fitted.meta["scores"].values():
        assert v["std"] > 0
    rng = np.random.default_rng(11)
    normal = np.mean([p.score for p in fitted.predict([_scene(rng) for _ in range(4)])])
    crowded = np.mean([p.score for p in fitted.predict([_scene(rng, n_discs=6) for _ in range(4)])])
    assert crowded > normal


def test_nearest_cell_distances_by_hand():
    """Each cell of a 1×2 map against a bank of three 2-d cells: (3, 4) is 5 from the origin, (1, 0) is 0 from (1, 0)."""
    deep = torch.tensor([[3.0, 1.0], [4.0, 0.0]]).view(1, 2, 1, 2)  # cells (3, 4) and (1, 0)
    bank = torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0]])
    d = nearest_cell_distances(deep, bank, chunk=2)  # chunks must give the same minimum
    assert d.shape == (1, 1, 2)
    assert d[0, 0, 0].item() == pytest.approx(np.hypot(2.0, 4.0))  # nearest to (3, 4) is (1, 0)
    assert d[0, 0, 1].item() == pytest.approx(0.0)


def test_memory_bank_holds_the_fit_normals_cells(fitted):
    """One bank row per deep-map cell of each normal the student was fitted on (held-out ones excluded)."""
    bank = fitted.stats["deep_bank"]
    deep_cells = (TINY["image_size"] // 32) ** 2
    assert bank.shape[0] == fitted.meta["n_fit"] * deep_cells


def test_nearest_normal_distances_by_hand():
    """Two descriptors against three normals: (3, 4) is √20 from (1, 0), nearer than 5 from (0, 0); (1, 1) is 1 from (1, 0)."""
    bank = torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0]])
    d = nearest_normal_distances(torch.tensor([[3.0, 4.0], [1.0, 1.0]]), bank)
    assert d.tolist() == pytest.approx([np.hypot(2.0, 4.0), 1.0])


def test_composition_bank_holds_the_fit_normals_descriptors(fitted):
    """One standardised descriptor per normal the student was fitted on, none of the held-out ones."""
    bank = fitted.stats["desc_bank"]
    assert bank.shape == (fitted.meta["n_fit"], fitted.student.decode_desc.out_features)
    assert fitted.meta["scores"]["composition"]["std"] > 0


def test_fused_score_adds_positive_evidence():
    """Negative z (below the normals' mean) and a disabled branch (−inf) add nothing; positives add as square roots."""
    assert fused_score([4.0, -1.5, 0.25, float("-inf")]) == pytest.approx(2.5)
    assert fused_score([-1.0, -0.2]) == 0.0
    assert fused_score([1.0, 1.0, 1.0]) > fused_score([2.5, -3.0, -3.0])  # three mild signals beat one alone
    assert fused_score([1.0, 1.0, 1.0]) > fused_score([8.0, 0.0, 0.0])  # one signal far out has diminishing returns


def test_score_is_the_fused_sub_scores(fitted, normals):
    pred = fitted.predict([normals[0]])[0]
    subs = [v for k, v in pred.details.items() if k in ("structural", "logical_deep", "logical_components",
                                                        "logical_memory", "logical_composition", "text")]
    assert len(subs) == 6
    assert pred.score == pytest.approx(fused_score(subs))


def test_map_and_score_norm():
    maps = np.linspace(0, 1, 1001)
    norm = MapNorm.fit(maps)
    assert norm(np.median(maps)) == pytest.approx(0.0)
    assert norm(np.quantile(maps, 0.995)) == pytest.approx(1.0)
    s = ScoreNorm.fit(np.array([1.0, 2.0, 3.0]), floor=0.01)
    assert s(2.0) == pytest.approx(0.0) and s(2.0 + np.std([1, 2, 3])) == pytest.approx(1.0)
    assert ScoreNorm.fit(np.zeros(5), floor=0.5).std == 0.5  # a constant branch cannot divide by zero


def test_components_count_discs():
    rng = np.random.default_rng(1)
    images = [_scene(rng) for _ in range(6)]
    segmenter = comp.fit_segmenter(images)
    palette = comp.fit_palette(images, segmenter, 3, 128, 0, 12)
    assert len(palette.centres) == 1  # one stable type: the orange discs
    desc = comp.describe(comp.segment(_scene(rng, n_discs=2), palette, segmenter, 128, 12), palette.n_labels, 12)
    assert desc[0, comp.FEATURES.index("count")] == 2


def _holder_scene(rng: np.random.Generator, n_discs: int = 3, cable: bool = False) -> np.ndarray:
    """A dark-blue tray (a holder) with orange discs in it on a light table; optionally a black cable."""
    import cv2

    img = np.full((128, 128, 3), 205, np.uint8) + rng.integers(0, 4, (128, 128, 1), dtype=np.uint8)
    cv2.rectangle(img, (20, 30), (108, 98), (40, 50, 120), -1)
    for x in (40, 64, 88)[:n_discs]:
        cv2.circle(img, (x + int(rng.integers(-2, 3)), 64), 8, (230, 120, 30), -1)
    if cable:
        cv2.line(img, (0, 8), (127, 20), (20, 20, 20), 3)
    return img


def test_components_keep_the_holder_and_a_background_cable_out():
    """The tray is a holder (left out), the discs in it are the parts; a cable entering from the border is background."""
    rng = np.random.default_rng(2)
    images = [_holder_scene(rng) for _ in range(8)]
    segmenter = comp.fit_segmenter(images)
    palette = comp.fit_palette(images, segmenter, 3, 128, 0, 12)
    assert len(palette.centres) == 1
    count = comp.FEATURES.index("count")
    for n_discs, cable in ((3, False), (2, False), (3, True)):
        labels = comp.segment(_holder_scene(rng, n_discs, cable), palette, segmenter, 128, 12)
        desc = comp.describe(labels, palette.n_labels, 12)
        assert desc[0, count] == n_discs and desc[1, count] == 0  # no unfamiliar part: not the tray, not the cable
        assert (labels >= 0).mean() < 0.1  # three discs of radius 8 cover ≈ 3.7 % of the grid, the tray ≈ 37 %


def test_segmenter_round_trips_through_an_array():
    cfg = comp.fit_segmenter([_holder_scene(np.random.default_rng(i)) for i in range(4)])
    back = comp.segmenter_from_array(comp.segmenter_to_array(cfg))
    assert back.background_threshold == cfg.background_threshold and back.open_radius == cfg.open_radius
    assert back.drop_border == cfg.drop_border and back.container_area == pytest.approx(cfg.container_area)
    np.testing.assert_allclose(back.object_colours, cfg.object_colours, rtol=1e-6)


def test_text_check_names_the_broken_rule():
    rule = Rule(0, "count", "three", "there are three orange objects", 1.0)
    enc = lambda texts: np.stack([np.eye(8)[len(t) % 8] + 0.1 for t in texts])
    checker = TextChecker([rule], ["orange", "unfamiliar-coloured"], np.ones((2, 2)), enc)
    desc = np.zeros((2, comp.N_FEATURES), np.float32)
    desc[0, comp.FEATURES.index("count")] = 3
    assert checker.check(desc) == (0.0, None)
    desc[0, comp.FEATURES.index("count")] = 2
    score, broken = checker.check(desc)
    assert score > 0
    assert broken == {"expected": "there are three orange objects", "found": "there are two orange objects"}


def _shape_mask(kind: str, size: int = 128, r: int = 7) -> np.ndarray:
    import cv2

    m = np.zeros((size, size), np.uint8)
    c = size // 2
    if kind == "disc":
        cv2.circle(m, (c, c), r, 1, -1)
    elif kind == "square":
        cv2.rectangle(m, (c - r, c - r), (c + r, c + r), 1, -1)
    elif kind == "triangle":
        cv2.fillPoly(m, [np.array([(c - r - 2, c + r), (c + r + 2, c + r), (c, c - r - 2)], np.int32)], 1)
    else:  # a bar three times as long as wide
        cv2.rectangle(m, (c - 3 * r, c - r), (c + 3 * r, c + r), 1, -1)
    return m.astype(bool)


def test_shape_coordinates_tell_a_disc_a_square_a_triangle_and_a_bar_apart():
    """Parts a dozen pixels across, as blocks are on the 128² grid: extent and roundness keep the three apart."""
    coords = {k: comp.shape_coordinates(_shape_mask(k)) / comp.SHAPE_SCALE for k in ("disc", "square", "triangle", "bar")}
    extent, roundness, elongation = 0, 2, 3
    assert coords["square"][extent] > coords["disc"][extent] > coords["triangle"][extent] + 0.1
    assert coords["disc"][roundness] > coords["square"][roundness] + 0.1
    assert np.exp(coords["bar"][elongation]) == pytest.approx(43 / 15, rel=0.1)
    assert [comp._shape_name(comp.SHAPE_SCALE * coords[k]) for k in ("disc", "square", "triangle", "bar")] == [
        "round", "square", "triangular", "long"]


def _blocks_scene(rng: np.random.Generator, kinds=("disc", "disc", "square", "square")) -> np.ndarray:
    """Blocks of random colours on a light table: only their shape says which is which."""
    import cv2

    img = np.full((128, 128, 3), 205, np.uint8) + rng.integers(0, 4, (128, 128, 1), dtype=np.uint8)
    for (x, y), kind in zip(((32, 40), (96, 40), (32, 92), (96, 92)), kinds):
        x, y = x + int(rng.integers(-3, 4)), y + int(rng.integers(-3, 4))
        colour = tuple(int(v) for v in rng.choice([(200, 40, 40), (40, 70, 190), (40, 150, 60), (230, 190, 40)]))
        if kind == "disc":
            cv2.circle(img, (x, y), 10, colour, -1)
        elif kind == "square":
            cv2.rectangle(img, (x - 9, y - 9), (x + 9, y + 9), colour, -1)
        else:
            cv2.fillPoly(img, [np.array([(x - 11, y + 9), (x + 11, y + 9), (x, y - 11)], np.int32)], colour)
    return img


def test_palette_types_by_shape_when_colour_says_nothing():
    rng = np.random.default_rng(3)
    images = [_blocks_scene(rng) for _ in range(10)]
    segmenter = comp.fit_segmenter(images)
    palette = comp.fit_palette(images, segmenter, 4, 128, 0, 12)
    assert palette.space == "shape" and sorted(comp.cluster_names(palette)[:-1]) == ["round", "square"]
    count = comp.FEATURES.index("count")
    swapped = _blocks_scene(rng, ("disc", "triangle", "square", "square"))  # a disc became a triangle
    desc = comp.describe(comp.segment(swapped, palette, segmenter, 128, 12), palette.n_labels, 12)
    names = comp.cluster_names(palette)
    assert desc[names.index("round"), count] == 1 and desc[names.index("square"), count] == 2
    assert desc[-1, count] == 1  # the triangle is a shape no normal had
    back = comp.Palette.from_array(palette.to_array(), palette.shape_array())
    assert back.space == "shape"
    np.testing.assert_allclose(back.shapes, palette.shapes)


def test_palette_stays_with_colour_when_colour_is_enough():
    rng = np.random.default_rng(1)
    images = [_scene(rng) for _ in range(6)]
    palette = comp.fit_palette(images, comp.fit_segmenter(images), 3, 128, 0, 12)
    assert palette.space == "colour" and palette.shapes is None and len(palette.shape_array()) == 0


def test_fit_is_reproducible_whatever_the_process_drew_before(normals):
    """A run-suite process fits scenario after scenario and only the first fit builds the backbone, which
    draws from torch's global generator: the student must not depend on that history."""
    from tests.conftest import forget_loaded_models

    first = methods.create("uniad", **TINY)
    first.teachers  # builds the backbone now, outside the fit
    first.fit(normals)
    forget_loaded_models()  # the next fit builds the backbone again
    torch.rand(1000)
    again = methods.create("uniad", **TINY).fit(normals)
    assert again.loss_history == first.loss_history

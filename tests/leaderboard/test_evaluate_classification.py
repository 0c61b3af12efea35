"""Classification metrics, few-shot anomaly hold-out and the structural split in `evaluate`."""
import json
from dataclasses import dataclass

import numpy as np
import pytest
from layout_builders import make_mvtec_loco, save_png

import methods
from leaderboard.evaluate import evaluate, evaluation_options
from methods.base import Method, Prediction

SIZE = 16
COLOURS = {"red": (220, 20, 20), "blue": (20, 20, 220)}
SEEN: dict[str, list] = {}


def _normal(i: int) -> np.ndarray:
    return np.full((SIZE, SIZE, 3), 100 + i, np.uint8)


def _region(i: int) -> np.ndarray:
    m = np.zeros((SIZE, SIZE), bool)
    m[2 + i % 8 : 6 + i % 8, 3:9] = True
    return m


@dataclass
class ColourConfig:
    other: bool = False


@methods.register("test_colour_classifier")
class ColourClassifier(Method):
    """Names a defect by its colour; `other` makes it answer "Other" instead. Records what fit saw."""

    Config = ColourConfig

    def _fit(self, images, anomalies, progress):
        SEEN["normals"] = [img.copy() for img in images]
        SEEN["anomalies"] = [(a.image.copy(), a.mask.copy(), a.category) for a in anomalies]

    def _predict(self, images):
        out = []
        names = ["normal", "red", "blue"]
        for img in images:
            img = img.astype(int)
            red = (img[..., 0] > 150) & (img[..., 2] < 80)
            blue = (img[..., 2] > 150) & (img[..., 0] < 80)
            cmap = np.where(red, 1, np.where(blue, 2, 0)).astype(np.int32)
            name = None
            if cmap.any():
                name = "Other" if self.config.other else names[int(np.bincount(cmap[cmap > 0]).argmax())]
            out.append(Prediction(score=float(cmap.astype(bool).mean()), anomaly_map=cmap.astype(np.float32),
                                  class_map=cmap, class_name=name or "red", details={"class_names": names}))
        return out

    def _state(self):
        return {}, {}

    def _set_state(self, tensors, meta):
        pass


@pytest.fixture()
def colours(tmp_path):
    """MVTec AD layout: 4 normals, 3 good tests, 3 red and 3 blue defects with masks."""
    cat = tmp_path / "swatch"
    for i in range(4):
        save_png(cat / "train" / "good" / f"{i:03d}.png", _normal(i))
    for i in range(3):
        save_png(cat / "test" / "good" / f"{i:03d}.png", _normal(10 + i))
    for kind, colour in COLOURS.items():
        for i in range(3):
            img = _normal(20 + i)
            img[_region(i)] = colour
            save_png(cat / "test" / kind / f"{i:03d}.png", img)
            save_png(cat / "ground_truth" / kind / f"{i:03d}_mask.png", _region(i).astype(np.uint8) * 255)
    return cat


def test_a_classifying_method_gets_accuracy_and_miou(colours):
    r = evaluate("test_colour_classifier", data=colours, progress=False)
    assert r["metrics"]["classification_accuracy"] == 1.0
    assert r["metrics"]["miou"] == pytest.approx(1.0)
    assert r["classification"] == {"class_names": ["normal", "red", "blue"], "n_images": 6, "excluded_types": []}
    assert {row["class_name"] for row in r["per_image"] if row["label"] == 1} == {"red", "blue"}
    assert "anomaly_shots" not in r and r["n_test"] == 9


def test_other_counts_as_wrong(colours):
    r = evaluate("test_colour_classifier", data=colours, config={"other": True}, progress=False)
    assert r["metrics"]["classification_accuracy"] == 0.0


def test_anomaly_shots_go_to_fit_and_leave_the_test_set(colours):
    SEEN.clear()
    r = evaluate("test_colour_classifier", data=colours, config={"anomaly_shots": 1}, progress=False)
    assert r["anomaly_shots"] == 1
    assert r["held_out_for_training"] == ["test/blue/000.png", "test/red/000.png"]
    assert r["n_test"] == 7 and "anomaly_shots" not in r["config"]
    paths = {row["path"] for row in r["per_image"]}
    assert not paths & set(r["held_out_for_training"])
    # fit saw exactly the training normals and the held-out anomalies with their masks and folder names.
    train = [_normal(i) for i in range(4)]
    assert len(SEEN["normals"]) == 4 and all((a == b).all() for a, b in zip(SEEN["normals"], train))
    got = sorted((cat, img.tobytes(), mask.tobytes()) for img, mask, cat in SEEN["anomalies"])
    want = []
    for kind, colour in sorted(COLOURS.items()):
        img = _normal(20)
        img[_region(0)] = colour
        want.append((kind, img.tobytes(), _region(0).tobytes()))
    assert got == sorted(want)
    # No test image left in the test set reached fit.
    seen = [img.tobytes() for img in SEEN["normals"]] + [img.tobytes() for img, _, _ in SEEN["anomalies"]]
    from hub.images import load_image

    for row in r["per_image"]:
        assert load_image(colours / row["path"]).tobytes() not in seen


def test_evaluation_options_are_popped_and_checked():
    assert evaluation_options({"anomaly_shots": 2, "steps": 5}) == ({"steps": 5}, 2, None)
    assert evaluation_options({"split": "structural"}, anomaly_shots=1) == ({}, 1, "structural")
    with pytest.raises(ValueError, match="anomaly_shots is 1 as an argument but 2 in the config"):
        evaluation_options({"anomaly_shots": 2}, anomaly_shots=1)
    with pytest.raises(ValueError, match="integer ≥ 1"):
        evaluation_options({"anomaly_shots": 0})
    with pytest.raises(ValueError, match="split must be one of logical, structural"):
        evaluation_options({"split": "both"})


def test_too_many_anomaly_shots_is_refused(colours):
    with pytest.raises(ValueError, match="defect type 'blue' of swatch has 3 test images"):
        evaluate("test_colour_classifier", data=colours, config={"anomaly_shots": 3}, progress=False)


def _loco_image(key: str, i: int) -> np.ndarray:
    img = _normal(i + {"train": 0, "validation": 30, "good": 40, "logical_anomalies": 50,
                       "structural_anomalies": 60}[key])
    if key == "structural_anomalies":
        img[_region(i)] = COLOURS["red"]
    if key == "logical_anomalies":
        img[_region(i)] = COLOURS["blue"]
    return img


def test_loco_types_come_from_pixel_values_and_the_structural_split(tmp_path):
    # Logical anomalies are "blue" (value 37), structural "red" (value 91), by defects_config.json.
    root = make_mvtec_loco(tmp_path, "tray", n_train=3, n_good=2, n_logical=3, n_structural=3,
                           defects=(("blue", 37, 1.0, True), ("red", 91, 1.0, True)), images=_loco_image,
                           masks=lambda key, i, shape: [(_region(i), 37 if key == "logical_anomalies" else 91)])
    full = evaluate("test_colour_classifier", data=root, progress=False)
    assert full["metrics"]["classification_accuracy"] == 1.0 and full["classification"]["n_images"] == 6
    assert {row["defect"] for row in full["per_image"] if row["label"] == 1} == {"red", "blue"}
    r = evaluate("test_colour_classifier", data=root, config={"split": "structural", "anomaly_shots": 1},
                 progress=False)
    assert r["split"] == "structural" and r["n_test"] == 2 + 2
    assert r["held_out_for_training"] == ["test/structural_anomalies/000.png"]
    assert r["metrics"]["image_auroc_logical"] is None
    assert [c for _, _, c in SEEN["anomalies"]] == ["red"]
    assert json.loads(json.dumps(r)) == r


def test_a_method_without_classes_gets_no_classification_metrics(colours):
    r = evaluate("patchcore", data=colours, progress=False)
    assert "classification_accuracy" not in r["metrics"] and "classification" not in r

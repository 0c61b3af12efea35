"""The registered caption_knn method: fit, predict, score_text, bad input, persistence."""
import numpy as np
import pytest

import methods
from methods.caption_knn.captioners import available_prompts, load_prompt
from methods.caption_knn.scene_describer import NO_OBJECTS

from .scenes import scene, table

ANOMALY = (("bar", "blue", 0.55), ("bar", "red", 0.3))  # a long blue stick is missing


@pytest.fixture(scope="module")
def model():
    m = methods.create("caption_knn", epochs=1, prompt="Sticks")
    return m.fit([scene(s)[0] for s in range(12)])


def test_normal_scores_below_anomalies_and_explains(model):
    normal, missing, empty = model.predict([scene(200)[0], scene(200, objects=ANOMALY)[0], table(256, 3)])
    assert normal.score < missing.score < empty.score
    assert empty.score == 1.0 and empty.details["caption"] == NO_OBJECTS
    assert missing.explanation.startswith("caption: 2 objects")
    assert "nearest normal caption: 3 objects" in missing.explanation
    assert "3 → 2" in missing.details["differences"][0] or any("→" in d for d in missing.details["differences"])
    assert missing.anomaly_map.shape == (256, 256) and missing.anomaly_map.dtype == np.float32


def test_score_text_accepts_a_typed_caption(model):
    normal = model.score_text(model.captions[0])
    wrong = model.score_text(model.captions[0].replace("2 blue", "3 blue", 1))
    assert normal.score == pytest.approx(0.0, abs=1e-6)
    assert wrong.score > normal.score
    assert wrong.anomaly_map.shape == (1, 1)


@pytest.mark.parametrize("text", ["", "   \n "])
def test_score_text_refuses_empty(model, text):
    with pytest.raises(ValueError, match="non-empty"):
        model.score_text(text)


def test_score_text_refuses_100_kb(model):
    with pytest.raises(ValueError, match="limit is 10000"):
        model.score_text("1 red round. " * 8000)


def test_missing_prompt_file_is_named():
    with pytest.raises(FileNotFoundError, match=r"NoSuchScenario\.txt not found; available prompts: .*Sticks"):
        methods.create("caption_knn", prompt="NoSuchScenario")


def test_every_prompt_file_parses():
    names = available_prompts()
    assert {"auto", "Sticks", "Fruits", "Tools", "Cookies", "Tapes", "Stationery", "Ropes", "Blocks", "Dishes",
            "Balls"} <= set(names)
    for name in names:
        p = load_prompt(name)
        assert p.text and (p.views is None) == (name == "auto")


def test_save_and_load_keep_captions_and_scores(model, tmp_path):
    model.save(tmp_path / "m")
    again = methods.load(str(tmp_path / "m"))
    image = scene(201, objects=ANOMALY)[0]
    assert again.captions == model.captions
    assert again.predict(image)[0].score == pytest.approx(model.predict(image)[0].score, rel=1e-5)


def test_auto_exposure_is_off_by_default_and_persists_when_on(model, tmp_path):
    dark = (scene(202)[0] * 0.15).astype(np.uint8)
    assert model.predict(dark)[0].details["exposure_gain"] == 1.0  # off by default (README, "Results")
    on = methods.create("caption_knn", epochs=0, prompt="Sticks", auto_exposure=True).fit(
        [scene(s)[0] for s in range(6)])
    pred = on.predict(dark)[0]
    assert pred.details["exposure_gain"] > 3 and "re-exposed" in pred.explanation
    on.save(tmp_path / "on")
    again = methods.load(str(tmp_path / "on")).predict(dark)[0]
    assert again.details["exposure_gain"] == pred.details["exposure_gain"] and again.score == pytest.approx(pred.score)

"""LogSAD end to end on drawn scenes: mining, detection, explanations, few-shot, bad input, CLI."""
import logging

import numpy as np
import pytest

import methods
from methods.logsad import LogSAD
from methods.logsad import rules as rulefile
from methods.logsad.__main__ import main as cli
from tests.methods.logsad.conftest import scene


def test_mined_rules_count_the_parts(fitted):
    rf = fitted.rule_file
    counts = {r.interest: r.range for r in rf.rules if r.kind == "count"}
    assert sorted(counts.values()).count((3, 3)) == 1 and (2, 2) in counts.values()
    assert counts["unknown"] == (0, 0)
    assert rulefile.loads(fitted.rules_yaml()) == rf  # what a person reviews is what runs


def test_logical_anomalies_break_rules_and_say_so(fitted, normals):
    good = fitted.predict([scene(100 + s) for s in range(4)])
    missing = fitted.predict(scene(200, discs=2))[0]
    extra = fitted.predict(scene(201, extra="green"))[0]
    assert all(p.details["broken_rules"] == [] for p in good)
    # from ten normals on a broken rule decides (Eq. 4): the score is the number of broken rules
    # plus the other detectors' maximum, above every image that breaks none
    assert fitted.calibrators["rules"].mean == 0.0
    assert missing.details["scores"]["rules"] == 1.0 and missing.details["dominant"] == "rules"
    others = max(v for k, v in missing.details["scores"].items() if k != "rules")
    assert missing.score == pytest.approx(len(missing.details["broken_rules"]) + others)
    assert "= 2, normal 3" in missing.explanation
    assert extra.score >= 1.0 and "count(unknown) = 1, normal 0" in extra.explanation
    assert max(p.score for p in good) < 1.0
    # the offending component is marked in the map
    green = np.all(np.abs(scene(201, extra="green").astype(int) - (40, 170, 60)) < 10, axis=-1)
    assert extra.anomaly_map[green].mean() > 0.9


def test_structural_anomaly_scores_above_normals(fitted):
    good = [p.score for p in fitted.predict([scene(300 + s) for s in range(6)])]
    scratched = fitted.predict(scene(301, extra="scratch"))[0]
    assert scratched.score > np.median(good)


@pytest.mark.parametrize("shots", [1, 2, 4, 8])
def test_few_shot(shots, normals):
    model = methods.create("logsad", max_coreset=300).fit(normals[:shots])
    assert set(model.calibrators) == {"patch", "interest", "composition", "rules"}
    assert all(np.isfinite(c.mean) and c.std > 0 for c in model.calibrators.values())
    good, missing = model.predict([scene(400), scene(401, discs=1)])
    assert missing.score > good.score
    assert missing.score >= 1.0 and missing.details["dominant"] == "rules"  # normals broke none: it decides
    # a handful of references: interest and composition matching are left out of the score
    assert model.active == ("patch", "rules") and set(good.details["scores"]) == {"patch", "rules"}


def test_few_shot_detectors_are_a_setting_and_survive_save_load(fitted, normals, tmp_path):
    assert fitted.active == ("patch", "interest", "composition", "rules")  # twelve normals: all four
    every = methods.create("logsad", max_coreset=300, few_shot_detectors=("patch", "interest", "composition",
                                                                          "rules")).fit(normals[:4])
    assert every.active == ("patch", "interest", "composition", "rules")
    few = methods.create("logsad", max_coreset=300).fit(normals[:4])
    few.save(tmp_path / "few")
    again = methods.load(str(tmp_path / "few"))
    assert again.active == ("patch", "rules")
    assert again.predict(scene(402))[0].score == pytest.approx(few.predict(scene(402))[0].score)
    with pytest.raises(ValueError, match="few_shot_detectors"):
        methods.create("logsad", few_shot_detectors=())


def test_a_given_rule_file_decides_at_any_shot_count(fitted, normals, tmp_path):
    """Eq. 4 with six normals: a given file was not mined from them, so a broken rule scores 1 (the fit warns
    about a rule its normals break; see the next test) instead of counting as much as it is rare."""
    rf = fitted.rule_file
    impossible = rulefile.CountRule(interest=rf.interests[0].name, range=(7, 9))
    path = rulefile.dump(rf.model_copy(update={"rules": [impossible]}), tmp_path / "rules.yaml")
    model = methods.create("logsad", rules=str(path), max_coreset=300).fit(normals[:6])
    assert model.active == ("patch", "rules")
    assert model.calibrators["rules"].mean == 0.0
    pred = model.predict(scene(500))[0]
    assert len(pred.details["broken_rules"]) == 1
    assert pred.details["scores"]["rules"] == pytest.approx(1.0) and pred.details["dominant"] == "rules"


def test_image_without_components_is_a_low_confidence_explanation(fitted):
    blank = np.full((128, 128, 3), 220, np.uint8)
    pred = fitted.predict(blank)[0]
    assert pred.details["n_components"] == 0
    assert pred.explanation.startswith("No components found (low confidence")
    assert pred.anomaly_map.shape == (128, 128)


def test_fit_on_blank_images_does_not_crash():
    blanks = [np.full((64, 64, 3), 200 + i, np.uint8) for i in range(3)]
    model = methods.create("logsad", max_coreset=100).fit(blanks)
    assert model.rule_file.interests == []
    assert np.isfinite(model.predict(blanks[0])[0].score)


def test_a_given_rule_file_is_used_and_a_never_holding_rule_is_warned(fitted, normals, tmp_path, caplog):
    rf = fitted.rule_file
    name = rf.interests[0].name
    impossible = rulefile.CountRule(interest=name, range=(7, 9))
    path = rulefile.dump(rf.model_copy(update={"rules": [impossible]}), tmp_path / "rules.yaml")
    with caplog.at_level(logging.WARNING, logger="methods.logsad"):
        model = methods.create("logsad", rules=str(path), max_coreset=300).fit(normals[:6])
    assert len(model.rule_file.rules) == 1
    assert any("fails on 6 of 6 normal images" in w and "normal 7–9" in w for w in model.rule_warnings)
    assert "can hardly hold" in caplog.text


def test_a_broken_rule_file_fails_fit_with_its_line(normals, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("interests: []\nrules:\n- {kind: count, interest: red disc, range: [1, 2]}\n")
    with pytest.raises(rulefile.RuleFileError, match=r"line 3: rules\.0: .*unknown interest 'red disc'"):
        methods.create("logsad", rules=str(path)).fit(normals[:2])


def test_save_load_keeps_rules_and_scores(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    again = methods.load(str(tmp_path / "m"))
    assert isinstance(again, LogSAD) and again.rule_file == fitted.rule_file
    img = scene(500, discs=4)
    a, b = fitted.predict(img)[0], again.predict(img)[0]
    assert a.score == pytest.approx(b.score) and a.explanation == b.explanation


def test_scene_segmenter_survives_save_load(normals, tmp_path):
    model = methods.create("logsad", segmenter="scene", max_coreset=400).fit(normals[:6])
    assert model.segmenter.mode == "scene" and model.segmenter.scene_colours is not None
    model.save(tmp_path / "scene")
    again = methods.load(str(tmp_path / "scene"))
    assert again.segmenter.mode == "scene"
    np.testing.assert_array_equal(again.segmenter.scene_colours, model.segmenter.scene_colours)
    img = scene(501, discs=2)
    a, b = model.predict(img)[0], again.predict(img)[0]
    assert a.score == pytest.approx(b.score) and a.explanation == b.explanation


def test_unknown_segmenter_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="segmenter must be one of colour, scene; got 'sceen'"):
        methods.create("logsad", segmenter="sceen")


def test_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="detectors"):
        methods.create("logsad", detectors=("patch", "vibes"))


def test_mine_cli_writes_a_rule_file(normals, tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "parts"
    folder.mkdir()
    for i, img in enumerate(normals[:6]):
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    out = tmp_path / "rules.yaml"
    assert cli(["mine", "--data", str(folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "(colour segmenter)" in printed
    assert "rule 0 (count, " in printed and " of 6 normals" in printed
    assert cli(["mine", "--data", str(folder), "--segmenter", "scene", "--out", str(tmp_path / "scene.yaml")]) == 0
    assert "(scene segmenter)" in capsys.readouterr().out
    rf = rulefile.load(out)
    assert rf.category == "parts" and any(r.kind == "count" for r in rf.rules)
    assert cli(["check", str(out)]) == 0
    out.write_text(out.read_text().replace("kind: count", "kind: cout", 1))
    assert cli(["check", str(out)]) == 2
    assert "did you mean 'count'" in capsys.readouterr().err


def test_embedded_patch_features_keep_their_magnitude(fitted, normals):
    """As PatchCore: L2-normalising the CNN features lost structural AUROC on the dev suite."""
    norms = fitted._patch_features([normals[0]]).norm(dim=-1)
    assert float(norms.std() / norms.mean()) > 0.05


def test_a_component_smaller_than_a_cell_still_claims_its_cells():
    """A speck (a noisy re-exposed capture makes some) must not leave the patch score nothing to take."""
    from types import SimpleNamespace

    import torch

    from methods.logsad import Analysis

    mask = np.zeros((128, 128), bool)
    mask[70:72, 30:32] = True  # 4 px: under a quarter of any 16 × 16 px cell
    a = Analysis(torch.zeros(8, 8, 4), [SimpleNamespace(mask=mask)], np.zeros((1, 11), np.float32), (128, 128))
    cells = LogSAD._object_cells(a)
    assert cells[4, 1] and cells.sum() == 9  # its cell and the ring around it

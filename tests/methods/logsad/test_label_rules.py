"""Label rules: a part's colour paired with the word printed on a label (rope and card, juice and fruit tag)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from methods.logsad import rules as rulefile
from methods.logsad.composition import check_rule
from methods.logsad.mining import MiningConfig, mine
from methods.logsad.prints import find_prints, from_glyph, read, to_glyph
from methods.logsad.rules import GLYPH_SIZE, LabelPair, LabelRule, Print, RuleFileError
from methods.logsad.segmentation import Component

ROPES = {"RED": (200, 40, 35), "BLUE": (40, 60, 190), "GREEN": (40, 160, 60)}


def labelled(seed: int, word: str, rope: str | None = None, size: int = 256) -> np.ndarray:
    """A rope of `rope`'s colour (default: the word's) above a white card with `word` printed on it."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), (200, 198, 192), np.uint8)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    y, x0 = int(rng.integers(60, 90)), int(rng.integers(40, 60))
    cv2.line(img, (x0, y), (x0 + 150, y + int(rng.integers(-10, 10))), ROPES[rope or word], 9)
    card = np.full((36, 96, 3), 250, np.uint8)
    font = cv2.FONT_HERSHEY_DUPLEX
    (w1, h1), _ = cv2.getTextSize(word, font, 1.0, 2)
    scale = min(0.8 * 96 / w1, 0.55 * 36 / h1)
    (tw, th), _ = cv2.getTextSize(word, font, scale, 2)
    cv2.putText(card, word, ((96 - tw) // 2, (36 + th) // 2), font, scale, (20, 20, 25), 2, cv2.LINE_AA)
    cx, cy = int(rng.integers(80, 176)), int(rng.integers(170, 200))
    move = cv2.getRotationMatrix2D((48, 18), float(rng.uniform(-8, 8)), 1.0)
    move[:, 2] += (cx - 48, cy - 18)
    inside = cv2.warpAffine(np.full((36, 96), 255, np.uint8), move, (size, size)) > 127
    img[inside] = cv2.warpAffine(card, move, (size, size))[inside]
    return img


def _glyph(fill: str = ".") -> list[str]:
    cols, rows = GLYPH_SIZE
    return [fill * cols] * rows


def _word(k: int) -> np.ndarray:
    """A distinct template per word: a bar at row k (zero mean, unit norm)."""
    cols, rows = GLYPH_SIZE
    t = np.zeros((rows, cols))
    t[k % rows, :] = 1.0
    t[(3 * k + 1) % rows, : cols // 2] = 1.0
    t = t.ravel() - t.mean()
    return t / np.linalg.norm(t)


def _rope(colour, interest: int = 0) -> Component:
    return Component(mask=np.ones((4, 4), bool), colour=np.asarray(colour, np.float32), area=0.02, length=0.5,
                     width=0.05, solidity=0.8, extent=0.7, holes=0, cx=0.5, cy=0.3, interest=interest)


RULE = LabelRule(interest="rope", pairs=[LabelPair(print="w1", colour="red", colour_lab=(45.0, 50.0, 30.0)),
                                         LabelPair(print="w2", colour="blue", colour_lab=(40.0, 5.0, -40.0))])


# --- the file format ---------------------------------------------------------------------------

def test_glyph_round_trip_keeps_the_print():
    t = _word(3) + 0.05 * np.random.default_rng(0).standard_normal(GLYPH_SIZE[0] * GLYPH_SIZE[1])
    t /= np.linalg.norm(t)
    glyph = to_glyph(t)
    assert len(glyph) == GLYPH_SIZE[1] and {len(r) for r in glyph} == {GLYPH_SIZE[0]}
    assert float(from_glyph(glyph) @ t) > 0.98


def test_prints_and_label_rule_round_trip_with_one_glyph_row_per_line():
    rf = rulefile.RuleFile(
        interests=[rulefile.Interest(name="rope", colour_lab=(50, 0, 0), area=0.02, elongation=8, extent=0.7,
                                     solidity=0.8, radius=10, any_colour=True)],
        prints=[Print(name="w1", glyph=to_glyph(_word(1))), Print(name="w2", glyph=to_glyph(_word(2)))],
        rules=[RULE])
    text = rulefile.dumps(rf)
    assert rulefile.loads(text) == rf
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith("- '")]
    assert len(rows) == 2 * GLYPH_SIZE[1]


@pytest.mark.parametrize("glyph, message", [
    (_glyph()[:-1], "must be 10 rows of 40 characters"),
    (_glyph("x"), "characters must be among"),
])
def test_bad_glyph_is_named(glyph, message):
    with pytest.raises(ValueError, match=message):
        Print(name="w1", glyph=glyph)


def test_unknown_print_in_a_label_rule_gets_line_and_suggestion():
    text = """\
interests:
- {name: rope, colour_lab: [50, 0, 0], area: 0.02, elongation: 8, extent: 0.7, solidity: 0.8, radius: 10}
prints:
- {name: print 1, glyph: %s}
- {name: print 2, glyph: %s}
rules:
- kind: label
  interest: rope
  pairs:
  - {print: print 1, colour: red, colour_lab: [45, 50, 30]}
  - {print: prnt 2, colour: blue, colour_lab: [40, 5, -40]}
""" % (_glyph(), _glyph("@"))
    with pytest.raises(RuleFileError, match=r"line \d+: .*unknown print 'prnt 2'. Did you mean 'print 2'"):
        rulefile.loads(text)


def test_label_rule_needs_two_different_prints():
    with pytest.raises(ValueError):
        LabelRule(interest="rope", pairs=[RULE.pairs[0]])
    with pytest.raises(ValueError, match="more than once"):
        LabelRule(interest="rope", pairs=[RULE.pairs[0], RULE.pairs[0]])


# --- reading and checking -------------------------------------------------------------------------

def test_read_names_the_matching_word_and_nothing_for_an_unknown_print():
    words = [Print(name=f"w{k}", glyph=to_glyph(_word(k))) for k in (1, 2)]
    assert read([_word(2), _word(1)], words) == ["w2", "w1"]
    assert read([_word(5)], words) == []
    assert read([], words) == [] and read([_word(1)], []) == []


def test_label_rule_holds_breaks_and_abstains():
    red, blue = (46.0, 48.0, 28.0), (41.0, 4.0, -38.0)
    names = ["rope"]
    ok = check_rule(0, RULE, [_rope(red)], names, ["w1"])
    assert ok.holds and "red" in ok.text
    bad = check_rule(0, RULE, [_rope(blue)], names, ["w1"])
    assert not bad.holds and bad.offenders == [0] and bad.excess == 1.0
    assert bad.text == "colour(rope) = blue, label reads w1, normal red"
    assert check_rule(0, RULE, [_rope(blue)], names, []).holds  # no label read
    assert check_rule(0, RULE, [_rope(blue)], names, ["w1", "w2"]).holds  # two words: no verdict
    assert check_rule(0, RULE, [_rope(blue, interest=-1)], names, ["w1"]).holds  # no rope: the count rules' business


def test_drawn_labels_read_as_their_words():
    found = {(w, s): find_prints(labelled(s, w))[0] for w in ROPES for s in range(2)}
    assert all(len(t) == 1 for t in found.values())
    for (w1, s1), (t1,) in found.items():
        for (w2, s2), (t2,) in found.items():
            if (w1, s1) != (w2, s2):
                assert (float(t1 @ t2) > 0.5) == (w1 == w2), (w1, w2)


# --- mining -----------------------------------------------------------------------------------------

COLOURS = {0: (45.0, 50.0, 30.0), 1: (40.0, 5.0, -40.0), 2: (55.0, -40.0, 30.0)}


def _normals(n: int, paired: bool):
    rng = np.random.default_rng(0)
    per_image, prints = [], []
    for i in range(n):
        word = i % 3
        colour = COLOURS[word if paired else int(rng.integers(3))]
        per_image.append([_rope(np.asarray(colour) + rng.normal(0, 1.5, 3))])
        prints.append([_word(word)])
    return per_image, prints


def test_miner_proposes_a_label_rule_where_the_word_decides_the_colour():
    per_image, prints = _normals(12, paired=True)
    rf = mine(per_image, MiningConfig(), prints=prints)
    labels = [r for r in rf.rules if r.kind == "label"]
    assert len(labels) == 1 and len(labels[0].pairs) == 3 and len(rf.prints) == 3
    assert rulefile.loads(rulefile.dumps(rf)) == rf
    # every normal keeps the rule it was mined from
    for comps, ts in zip(per_image, prints):
        assert check_rule(0, labels[0], comps, rf.interest_names(), read(ts, rf.prints)).holds


def test_miner_proposes_none_for_random_colours_few_normals_or_no_labels():
    per_image, prints = _normals(12, paired=False)
    assert not [r for r in mine(per_image, MiningConfig(), prints=prints).rules if r.kind == "label"]
    per_image, prints = _normals(6, paired=True)
    assert not mine(per_image, MiningConfig(), prints=prints).prints
    per_image, _ = _normals(12, paired=True)
    assert not mine(per_image, MiningConfig(), prints=[[] for _ in per_image]).prints


# --- the method ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def label_model():
    import methods

    normals = [labelled(s, w) for s in range(4) for w in ROPES]
    return methods.create("logsad", max_coreset=400).fit(normals)


def test_logsad_mines_the_label_rule_and_names_a_wrong_pairing(label_model):
    rf = label_model.rule_file
    assert len(rf.prints) == 3 and [r.kind for r in rf.rules].count("label") == 1
    good = label_model.predict([labelled(50, "BLUE")])[0]
    wrong = label_model.predict([labelled(50, "BLUE", rope="RED")])[0]
    assert not [b for b in good.details["broken_rules"] if b["kind"] == "label"]
    assert [b for b in wrong.details["broken_rules"] if b["kind"] == "label"]
    assert wrong.score > good.score
    assert "label reads" in wrong.explanation


def test_labels_are_looked_for_where_the_normals_had_them_then_anywhere():
    from methods.logsad.prints import label_region

    templates, boxes = find_prints(labelled(3, "RED"))
    (x0, y0, x1, y1), = boxes
    assert 0.5 < y0 < y1 < 0.9 and 0.3 < x1 - x0 < 0.45  # the card: 96 × 36 px of 256, centred at y ≈ 0.66–0.78
    region = label_region(boxes)
    assert region == pytest.approx((x0 - 0.06, y0 - 0.06, x1 + 0.06, y1 + 0.06))
    inside, _ = find_prints(labelled(3, "RED"), region)
    assert max(float(t @ templates[0]) for t in inside) > 0.9
    elsewhere, _ = find_prints(labelled(3, "RED"), (0.0, 0.0, 0.3, 0.2))  # no print there: the whole image
    assert len(elsewhere) == 1 and float(elsewhere[0] @ templates[0]) > 0.99
    assert label_region([]) is None


def test_saved_model_keeps_reading_labels(label_model, tmp_path):
    import methods

    label_model.save(tmp_path / "m")
    again = methods.load(tmp_path / "m")
    assert again.reads_prints and again.print_region == label_model.print_region is not None
    wrong = again.predict([labelled(51, "GREEN", rope="BLUE")])[0]
    assert [b for b in wrong.details["broken_rules"] if b["kind"] == "label"]


def test_rule_editor_check_reads_labels_for_an_edited_file(label_model):
    """The app's rules tab: an edited file with a label rule is checked with the image's label read."""
    text = label_model.rules_yaml()
    _, _, results = label_model.check_rules(labelled(52, "RED", rope="GREEN"), text)
    label = [r for r in results if r.kind == "label"]
    assert len(label) == 1 and not label[0].holds and "label reads" in label[0].text
    _, _, results = label_model.check_rules(labelled(52, "RED"), text)
    assert [r.holds for r in results if r.kind == "label"] == [True]


def test_repeated_print_names_are_an_error():
    with pytest.raises(ValueError, match="print names must be unique; repeated: w1"):
        rulefile.RuleFile(prints=[Print(name="w1", glyph=_glyph()), Print(name="w1", glyph=_glyph("@"))])

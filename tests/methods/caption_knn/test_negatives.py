"""Replacement-only negatives: same words in the same places, never the positive, at least one attribute changed."""
import numpy as np
import pytest

from methods.caption_knn.colour_names import NAMES
from methods.caption_knn.negatives import GENERIC_SHAPES, REGIONS, candidates, contradict

SHAPES = ["small-bar", "large-bar", "round"]
CAPTIONS = [
    "3 objects: 2 blue large-bar, 1 red small-bar.\n"
    "lengths: blue large-bar 1.0, blue large-bar 0.9, red small-bar 0.5.",
    "6 objects: 2 grey round, 4 grey small-bar.\n"
    "left: 2 grey small-bar. middle: 2 grey round. right: 2 grey small-bar.",
    "3 objects: 1 grey bar, 1 white round, 1 grey oval.\nleft to right: grey bar, white round, grey oval.",
]


def _attribute(word: str) -> bool:
    w = word.rstrip(".,:;").lower()
    return w.isdigit() or w in NAMES or w in SHAPES or w in REGIONS or w in GENERIC_SHAPES or (
        len(w) == 3 and w[1] == "." and w[0].isdigit())


@pytest.mark.parametrize("caption", CAPTIONS)
def test_negatives_replace_attributes_only(caption):
    rng = np.random.default_rng(0)
    for _ in range(200):
        neg = contradict(caption, rng, SHAPES)
        assert neg != caption
        a, b = caption.split(), neg.split()
        assert len(a) == len(b)  # same token count: replacement only
        assert [s for s in caption if s.isspace()] == [s for s in neg if s.isspace()]  # same layout
        changed = [(x, y) for x, y in zip(a, b) if x != y]
        assert changed and all(_attribute(x) and _attribute(y) for x, y in changed)
        assert all(x.endswith(tuple(".,:;")) == y.endswith(tuple(".,:;")) for x, y in changed)


def test_every_kind_of_edit_occurs():
    rng = np.random.default_rng(1)
    caption = CAPTIONS[2].replace("3 objects", "left: 3 objects") + " lengths: grey bar 1.0."
    kinds = set()
    for _ in range(300):
        neg = contradict(caption, rng, SHAPES + ["oval", "bar"])
        for x, y in zip(caption.split(), neg.split()):
            if x != y:
                w = x.rstrip(".,:;")
                kinds.add("count" if w.isdigit() else "length" if "." in w else "colour" if w in NAMES
                          else "region" if x.endswith(":") else "shape")
    swapped = [contradict(CAPTIONS[2], np.random.default_rng(s), SHAPES) for s in range(60)]
    assert any(s.split("\n")[1] == "left to right: white round, grey bar, grey oval." for s in swapped)
    assert kinds == {"count", "length", "colour", "region", "shape"}


def test_order_items_and_region_words_are_found():
    tokens = "left: 1 red round. left to right: grey bar, white round, grey oval.".split()
    where = candidates(tokens, SHAPES)
    assert [tokens[i] for i in where["region"]] == ["left:"]  # not the "right:" of "left to right:"
    assert [tokens[i] for i in where["order"]] == ["grey", "white", "grey"]


def test_length_edits_are_large():
    rng = np.random.default_rng(2)
    for _ in range(100):
        neg = contradict("lengths: blue bar 1.0.", rng, ["bar"])
        value = neg.split()[-1].rstrip(".")
        if value != "1.0":
            assert abs(float(value) - 1.0) >= 0.3 - 1e-9


def test_negative_never_repeats_a_normal_caption():
    normals = ["1 objects: 1 red round.", "2 objects: 2 red round."]
    rng = np.random.default_rng(3)
    for _ in range(100):
        assert contradict(normals[0], rng, ["round"], forbidden=normals) not in normals


def test_nothing_to_contradict_is_an_error():
    with pytest.raises(ValueError, match="nothing to contradict"):
        contradict("hello there", np.random.default_rng(0))

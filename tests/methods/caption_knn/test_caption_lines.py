"""Structured caption embeddings: keyed lines, slots learned from the normals, distances by hand."""
import numpy as np
import pytest
import torch

import hub
from methods.caption_knn.caption_lines import OTHER, caption_lines, line_keys, slot_texts, structured_embedding
from methods.caption_knn.knn import knn_distances
from methods.caption_knn.text_encoder import encode, fine_tune

CAPTION = ("4 objects: 2 orange round, 2 white round.\n"
           "bottom-left: 1 white round. bottom-right: 1 white round. top-left: 1 orange round. top-right: 1 orange round.\n"
           "lengths: none.\n"
           "left to right: white round, orange round, white round, orange round.")
SWAPPED = CAPTION.replace("bottom-left: 1 white", "bottom-left: 1 orange").replace("top-left: 1 orange",
                                                                                     "top-left: 1 white")


def test_a_caption_is_cut_into_keyed_lines():
    lines = caption_lines(CAPTION)
    assert lines[0] == ("# objects", "4 objects: 2 orange round, 2 white round.")  # the count stays content
    assert lines[1:5] == [("bottom-left", "1 white round."), ("bottom-right", "1 white round."),
                          ("top-left", "1 orange round."), ("top-right", "1 orange round.")]
    assert lines[5] == ("lengths", "none.")
    assert lines[6:] == [("left to right 1", "white round"), ("left to right 2", "orange round"),
                         ("left to right 3", "white round"), ("left to right 4", "orange round")]
    assert caption_lines("no objects found.") == [("text", "no objects found.")]


def test_keys_the_normals_never_used_share_the_other_slot():
    keys = line_keys([CAPTION])
    assert keys[-1] == OTHER and len(keys) == 11
    test = "3 objects: 3 red round.\noutside: 1 red round. table: 2 red round."
    slots = slot_texts(test, keys)
    assert slots == {0: "3 objects: 3 red round.", keys.index(OTHER): "1 red round. 2 red round."}


def test_a_colour_swap_between_two_lines_is_far_by_hand():
    """One-hot line embeddings: a bag of words cannot see the swap, the slots see two changed lines."""
    captions = ["top: a. bottom: b.", "top: b. bottom: a."]
    keys = line_keys(captions[:1])
    assert keys == ["top", "bottom", OTHER]
    vocab = {"a.": [1.0, 0.0], "b.": [0.0, 2.0]}  # unnormalised on purpose: each slot is a unit vector
    emb = structured_embedding(lambda texts: torch.tensor([vocab[t] for t in texts]), captions, keys)
    assert emb.shape == (2, 3 * 2)
    # two slots each at distance √2, one empty slot in both: √((2 + 2) / 3)
    d = knn_distances(emb[1:].numpy(), emb[:1].numpy(), 1)[0, 0]
    assert d == pytest.approx(2 / np.sqrt(3))
    assert float(emb[0].norm()) == pytest.approx(np.sqrt(2 / 3))


def test_line_embeddings_fine_tune_and_separate_a_swap():
    base = hub.load("text_encoder", "embedded")
    positives = [CAPTION, CAPTION.replace("lengths: none.", "lengths: none."), CAPTION]
    negatives = [SWAPPED, CAPTION.replace("2 orange", "3 orange"), CAPTION.replace("top-right:", "outside:")]
    keys = line_keys(positives)
    model, losses = fine_tune(base, positives, negatives, epochs=1, batch_size=2, lr=1e-4, seed=0, keys=keys)
    assert len(losses) == 2
    emb = encode(model, [CAPTION, SWAPPED], keys=keys)
    assert emb.shape == (2, len(keys) * 384)
    whole = encode(base, [CAPTION, SWAPPED])
    # the swap changes 2 of 10 present slots; the whole-caption embedding barely moves
    assert np.linalg.norm(emb[0] - emb[1]) > 3 * np.linalg.norm(whole[0] - whole[1])

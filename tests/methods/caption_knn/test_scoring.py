"""NT-Xent by hand on three embeddings, the k-NN normality, and fine-tuning that steps every batch."""
import math

import numpy as np
import pytest
import torch

import hub
from methods.caption_knn.knn import anomaly_score, knn_distances, normality
from methods.caption_knn.text_encoder import encode, fine_tune, nt_xent


def test_nt_xent_matches_a_hand_computation():
    anchor = torch.tensor([[1.0, 0.0]])
    positive = torch.tensor([[0.6, 0.8]])  # cosine 0.6 with the anchor
    negative = torch.tensor([[0.0, 2.0]])  # cosine 0 (unnormalised on purpose)
    # −log(e^{0.6/0.5} / (e^{0.6/0.5} + e^{0/0.5})) = log(1 + e^{−1.2})
    expected = math.log(1 + math.exp(-1.2))
    assert float(nt_xent(anchor, positive, negative, 0.5)) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.263282, abs=1e-6)


def test_nt_xent_uses_every_negative_of_the_batch():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    n = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # anchor 0: positive cos 1, negatives cos 1 and 0 → −log(e^2 / (e^2 + e^2 + e^0))
    per = -math.log(math.exp(2) / (2 * math.exp(2) + 1))
    assert float(nt_xent(a, a, n, 0.5)) == pytest.approx(per, rel=1e-6)


def test_knn_normality_by_hand():
    bank = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    q = np.array([[0.0, 0.0]])
    np.testing.assert_allclose(knn_distances(q, bank, 2), [[0.0, 5.0]])
    assert normality(q, bank, 2)[0] == pytest.approx(1 / (1 + 2.5))
    assert anomaly_score(q, bank, 5)[0] == pytest.approx(1 - 1 / (1 + 5.0))  # k capped at the bank size
    assert normality(np.array([[3.0, 4.0]]), bank[1:2], 5)[0] == 1.0


def test_a_caption_equal_to_the_normals_is_at_distance_exactly_zero():
    """384-d float32 unit vectors: the |a|² + |b|² − 2ab expansion leaves ~5e-4 here, differences leave 0."""
    v = np.random.default_rng(13).normal(size=(1, 384)).astype(np.float32)  # a seed where the expansion fails
    v /= np.linalg.norm(v)
    bank = np.repeat(v, 5, axis=0)
    assert knn_distances(v, bank, 5).max() == 0.0 and anomaly_score(v, bank, 5)[0] == 0.0


def test_empty_bank_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        knn_distances(np.zeros((1, 2)), np.zeros((0, 2)), 5)


def test_fine_tune_steps_every_batch_and_leaves_the_shared_encoder_alone():
    base = hub.load("text_encoder", "embedded")
    before = {k: v.clone() for k, v in base.state_dict().items()}
    positives = ["2 objects: 2 red round.", "3 objects: 3 red round.", "1 objects: 1 blue bar.",
                 "2 objects: 2 blue bar.", "4 objects: 4 green oval."]
    negatives = ["2 objects: 2 blue round.", "3 objects: 1 red round.", "1 objects: 1 red bar.",
                 "2 objects: 2 blue oval.", "4 objects: 3 green oval."]
    model, losses = fine_tune(base, positives, negatives, epochs=2, batch_size=2, lr=1e-4, seed=0)
    assert len(losses) == 2 * 3  # ceil(5 / 2) optimizer steps per epoch
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    emb = encode(model, positives)
    assert emb.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)

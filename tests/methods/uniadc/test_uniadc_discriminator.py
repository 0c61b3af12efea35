import math

import numpy as np
import pytest
import torch

from methods.uniadc.discriminator import (
    FusionHead,
    category_ce,
    dice_loss,
    focal_loss,
    image_class,
    label_grid,
    open_set_threshold,
    total_loss,
    upsample_logits,
)


def hand_made(confident: float):
    """2×2 image, classes normal/scratch/hole; top-left pixel is a scratch, bottom-right a hole."""
    classes = torch.tensor([[[1, 0], [0, 2]]])
    target = (classes > 0).float()
    logits = torch.zeros(1, 3, 2, 2)
    for y in range(2):
        for x in range(2):
            logits[0, int(classes[0, y, x]), y, x] = confident
    return logits, target, classes


def test_perfect_prediction_has_near_zero_focal_dice_and_ce():
    parts = total_loss(*hand_made(40.0))
    assert parts["focal"] < 1e-6 and parts["dice"] < 1e-3 and parts["ce"] < 1e-6


def test_known_values_on_a_hand_made_case():
    logits, target, classes = hand_made(0.0)
    # All logits equal: p(normal) = 1/3, so p(anomalous) = 2/3 everywhere.
    p = 2 / 3
    focal = -(2 * (1 - p) ** 2 * math.log(p) + 2 * p ** 2 * math.log(1 - p)) / 4
    dice = 1 - (2 * 2 * p + 1) / (4 * p + 2 + 1)
    parts = total_loss(logits, target, classes, ce_weight=0.5)
    assert float(parts["focal"]) == pytest.approx(focal, rel=1e-5)
    assert float(parts["dice"]) == pytest.approx(dice, rel=1e-5)
    # Two anomaly categories, equal logits: CE = ln 2, counted on the two anomalous pixels only.
    assert float(parts["ce"]) == pytest.approx(math.log(2), rel=1e-6)
    assert float(parts["total"]) == pytest.approx(focal + dice + 0.5 * math.log(2), rel=1e-5)


def test_ce_ignores_normal_pixels_and_is_zero_without_anomalies():
    logits, _, classes = hand_made(0.0)
    logits[0, 1:, 0, 1] = torch.tensor([9.0, -9.0])  # a normal pixel with a strong opinion: not counted
    assert float(category_ce(logits, classes)) == pytest.approx(math.log(2), rel=1e-6)
    assert float(category_ce(logits, torch.zeros_like(classes))) == 0.0


def test_focal_down_weights_easy_pixels_and_dice_penalises_false_alarms():
    target = torch.tensor([1.0, 0.0])
    assert float(focal_loss(torch.tensor([0.9, 0.1]), target)) < float(focal_loss(torch.tensor([0.6, 0.4]), target)) / 10
    assert float(dice_loss(torch.tensor([1.0, 1.0]), target)) > float(dice_loss(torch.tensor([1.0, 0.0]), target))


def test_head_logits_are_scaled_cosines_over_normal_and_categories():
    torch.manual_seed(0)
    head = FusionHead([4, 6], extra_channels=1, width=8, text_dim=5)
    maps = [torch.randn(2, 4, 8, 8), torch.randn(2, 6, 4, 4)]
    logits = head(maps, torch.rand(2, 1, 8, 8), torch.randn(3, 5))
    assert logits.shape == (2, 3, 8, 8)
    assert float(logits.detach().abs().max()) <= float(head.logit_scale.detach().exp()) + 1e-4


@pytest.mark.parametrize("context, reach", [(1, 0), (3, 1), (5, 2)])
def test_head_context_is_how_far_a_change_in_the_features_reaches(context, reach):
    torch.manual_seed(0)
    head = FusionHead([4], extra_channels=0, width=8, text_dim=5, context=context)
    text = torch.randn(3, 5)
    maps = torch.randn(1, 4, 9, 9)
    changed = maps.clone()
    changed[0, :, 4, 4] += 5.0  # one cell in the middle
    with torch.no_grad():
        moved = (head([changed], None, text) - head([maps], None, text)).abs().amax(1)[0] > 1e-6
    expected = torch.zeros(9, 9, dtype=torch.bool)
    expected[4 - reach : 5 + reach, 4 - reach : 5 + reach] = True
    assert (moved == expected).all()


def test_image_class_is_the_majority_over_anomalous_pixels():
    prob = np.array([[0.9, 0.8, 0.7], [0.1, 0.1, 0.6]])
    cls = np.zeros((2, 2, 3))
    cls[0] = [[0.8, 0.3, 0.9], [0.5, 0.5, 0.2]]  # category 1 wins at three of the four anomalous pixels
    cls[1] = 1 - cls[0]
    k, conf = image_class(prob, cls, threshold=0.5)
    assert k == 1
    assert conf == pytest.approx(np.mean([0.8, 0.9, 0.2, 0.3]))
    # Nothing above the threshold: the pixels at half the peak or more decide.
    k, _ = image_class(prob * 0.5, cls, threshold=0.5)
    assert k == 1


def test_open_set_threshold_is_a_quantile_of_correct_confidences():
    conf = [0.9, 0.8, 0.7, 0.6, 0.2]
    correct = [True, True, True, True, False]
    assert open_set_threshold(conf, correct, 0.0) == 0.0
    assert open_set_threshold(conf, correct, 0.5) == pytest.approx(0.75)
    assert open_set_threshold(conf, [False] * 5, 0.5) == 0.0
    # The wrong one's low confidence does not pull the threshold down.
    assert open_set_threshold(conf, correct, 0.25) == pytest.approx(np.quantile([0.9, 0.8, 0.7, 0.6], 0.25))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        open_set_threshold(conf, correct, 1.0)
    with pytest.raises(ValueError, match="5 confidences but 2"):
        open_set_threshold(conf, [True, False], 0.1)


def test_label_grid_marks_every_cell_a_defect_touches():
    # A one-pixel-wide scratch on 8×8 pixels seen on a 4×4 grid (2×2 pixels a cell): it covers
    # a quarter of each cell it crosses, which a half-covered rule would label as normal.
    mask = np.zeros((8, 8), bool)
    mask[3, 1:6] = True
    target, classes = label_grid(mask, 2, (4, 4))
    expected = np.zeros((4, 4), np.float32)
    expected[1, 0:3] = 1.0
    assert (target == expected).all()
    assert (classes == expected.astype(np.int64) * 2).all()
    empty_target, empty_classes = label_grid(np.zeros((8, 8), bool), 3, (4, 4))
    assert not empty_target.any() and not empty_classes.any()


def test_logits_are_upsampled_to_the_label_grid_only_when_coarser():
    logits = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    assert upsample_logits(logits, (2, 2)) is logits
    up = upsample_logits(logits, (4, 4))
    assert up.shape == (2, 3, 4, 4)
    assert float(up.mean()) == pytest.approx(float(logits.mean()))

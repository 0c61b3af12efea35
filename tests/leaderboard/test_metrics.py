"""Metrics against hand-worked values and an independent brute-force PRO/sPRO."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from leaderboard.datasets.base import DefectSpec
from leaderboard.metrics import (
    METRICS,
    OFFICIAL_SPRO_LIMITS,
    au_spro,
    au_spro_at,
    aupro,
    classification_accuracy,
    f1_max,
    image_auroc,
    loco_regions,
    miou,
    pixel_auroc,
    pro_curve,
    spro_curve,
)


def brute_overlap_auc(maps, regions, limit):
    """One curve point per distinct threshold with explicit overlaps; regions[i] = [(mask, saturation)]."""
    normal = [np.ones(m.shape, bool) for m in maps]
    for i, image_regions in enumerate(regions):
        for mask, _ in image_regions:
            normal[i] &= ~mask
    n_normal = sum(int(n.sum()) for n in normal)
    flat = [(i, mask, sat) for i, image_regions in enumerate(regions) for mask, sat in image_regions]
    xs, ys = [0.0], [0.0]
    for t in np.unique(np.concatenate([m.ravel() for m in maps]))[::-1]:
        fp = sum(int(((m >= t) & n).sum()) for m, n in zip(maps, normal))
        overlaps = [min(int(((maps[i] >= t) & mask).sum()) / sat, 1.0) for i, mask, sat in flat]
        xs.append(fp / n_normal)
        ys.append(float(np.mean(overlaps)))
    x, y = np.array(xs), np.array(ys)
    after = int(np.argmax(x > limit)) if (x > limit).any() else len(x)
    x_in, y_in = x[:after], y[:after]
    if x_in[-1] < limit:
        x0, x1, y0, y1 = x[after - 1], x[after], y[after - 1], y[after]
        x_in = np.append(x_in, limit)
        y_in = np.append(y_in, y0 + (y1 - y0) * (limit - x0) / (x1 - x0))
    return float(np.trapezoid(y_in, x_in) / limit)


def components(mask):
    labelled, n = ndimage.label(mask, structure=np.ones((3, 3)))
    return [(labelled == k, float((labelled == k).sum())) for k in range(1, n + 1)]


def one_region_4x4(region_scores, normal_scores):
    """A 4×4 map whose first pixels form the mask and hold `region_scores`, the rest `normal_scores`."""
    values = np.array(list(region_scores) + list(normal_scores), dtype=float)
    assert values.size == 16
    mask = np.zeros(16, bool)
    mask[: len(region_scores)] = True
    return mask.reshape(4, 4), values.reshape(4, 4)


# ---------------------------------------------------------------- image level


def test_image_auroc_hand_worked():
    # anomalous 0.4 beats normal 0.1 only, anomalous 0.9 beats both: 3 of 4 pairs
    assert image_auroc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]) == pytest.approx(0.75)
    # a tie counts half
    assert image_auroc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)


def test_f1_max_hand_worked():
    # threshold 0.4 flags {0.9, 0.6, 0.4}: precision 2/3, recall 1, F1 0.8; the others give 2/3, 0.5, 2/3
    assert f1_max([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]) == pytest.approx(0.8)


def test_image_metrics_invariant_to_affine_rescaling():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 40)
    labels[:2] = [0, 1]
    scores = rng.normal(size=40)
    for metric in (image_auroc, f1_max):
        assert metric(labels, scores * 1000 - 5) == pytest.approx(metric(labels, scores), abs=1e-12)


def test_image_metrics_refuse_a_single_class():
    with pytest.raises(ValueError, match=r"both normal \(0\) and anomalous \(1\).*all 3 labels are anomalous"):
        image_auroc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="all 2 labels are normal"):
        f1_max([0, 0], [0.1, 0.2])


def test_image_metrics_refuse_bad_inputs():
    with pytest.raises(ValueError, match="3 labels but 2 scores"):
        image_auroc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"got \[2\]"):
        image_auroc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        image_auroc([0, 1], [0.1, np.nan])


# ---------------------------------------------------------------- pixel AUROC


def test_pixel_auroc_hand_worked():
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert pixel_auroc([m == 4], [m]) == pytest.approx(1.0)
    # the anomalous 3 beats 1 and 2 but not 4: 2 of 3 pairs
    assert pixel_auroc([m == 3], [m]) == pytest.approx(2 / 3)
    # pooled over images: a normal image adds four normal pixels all below 3
    assert pixel_auroc([m == 3, np.zeros((2, 2), bool)], [m, m - 10]) == pytest.approx(6 / 7)


def test_pixel_auroc_refuses_empty_masks_and_shape_mismatch():
    m = np.zeros((2, 2))
    with pytest.raises(ValueError, match="all 4 pixels are normal"):
        pixel_auroc([m > 0], [m])
    with pytest.raises(ValueError, match=r"masks\[1\] has shape \(2, 3\) but maps\[1\] has shape \(2, 2\)"):
        pixel_auroc([m > 0, np.zeros((2, 3), bool)], [m, m])


# ---------------------------------------------------------------- AUPRO


def test_aupro_hand_worked_4x4():
    # Region {15, 12}; normals 0..11, 13, 14 (14 pixels). Sweeping down:
    # t=15 → (FPR 0, PRO 1/2); t=14, 13 → FPR 1/14, 2/14 at PRO 1/2; t=12 → (2/14, 1); then flat to (1, 1).
    mask, m = one_region_4x4([15, 12], [*range(12), 13, 14])
    fprs, pros = pro_curve([mask], [m])
    np.testing.assert_allclose(fprs, [0, 0, 2 / 14, 2 / 14, 1])
    np.testing.assert_allclose(pros, [0, 0.5, 0.5, 1, 1])
    # limit 0.3: 0.5·(2/14) + 1·(0.3 − 2/14) = 0.3 − 1/14, divided by 0.3
    assert aupro([mask], [m], fpr_limit=0.3) == pytest.approx((0.3 - 1 / 14) / 0.3)
    # limit 0.1 lies on the flat PRO = 1/2 stretch: area 0.05, divided by 0.1
    assert aupro([mask], [m], fpr_limit=0.1) == pytest.approx(0.5)


def test_aupro_ties_enter_together():
    # Region {5, 3}; normals: one 5 (tied with the region), one 4, twelve 0. Sweeping down:
    # t=5 → region pixel and normal pixel enter together: (1/14, 1/2), a diagonal from (0, 0);
    # t=4 → (2/14, 1/2); t=3 → (2/14, 1); t=0 → (1, 1).
    mask, m = one_region_4x4([5, 3], [5, 4] + [0] * 12)
    # limit 0.05 lies on the diagonal y = 7x: y(0.05) = 0.35, area 0.5·0.05·0.35 = 0.00875 → 0.175
    # (region-first tie breaking would give 0.5, normal-first 0)
    assert aupro([mask], [m], fpr_limit=0.05) == pytest.approx(0.175)
    # limit 0.3: 1/56 (diagonal) + 1/28 (flat at 1/2) + (0.3 − 2/14) = 0.3 − 5/56, divided by 0.3
    assert aupro([mask], [m], fpr_limit=0.3) == pytest.approx((0.3 - 5 / 56) / 0.3)


def test_aupro_uses_8_connected_regions():
    # (0,0), (1,1), (1,2) touch diagonally: one 8-connected region of 3 pixels, so once only the
    # top pixel is in, PRO = 1/3 (4-connectivity would give two regions and PRO (1 + 0) / 2).
    m = np.zeros((4, 4))
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = mask[1, 1] = mask[1, 2] = True
    m[0, 0], m[1, 1], m[1, 2] = 9.0, 5.0, 5.0
    fprs, pros = pro_curve([mask], [m])
    assert (fprs[1], pros[1]) == (0.0, pytest.approx(1 / 3))


def test_aupro_perfect_inverted_and_rescaled():
    rng = np.random.default_rng(1)
    masks = [np.zeros((12, 12), bool) for _ in range(4)]
    masks[1][2:5, 2:6] = True
    masks[1][8:10, 8:11] = True
    masks[3][0:3, 9:12] = True
    noise = [rng.normal(size=(12, 12)) for _ in masks]
    perfect = [n * 0.1 + 10 * k for n, k in zip(noise, masks)]
    assert aupro(masks, perfect) == pytest.approx(1.0)
    assert aupro(masks, [-p for p in perfect]) == pytest.approx(0.0, abs=1e-12)
    assert aupro(masks, [p * 1000 - 5 for p in noise]) == pytest.approx(aupro(masks, noise), abs=1e-12)


def test_aupro_matches_brute_force_with_ties():
    rng = np.random.default_rng(2)
    for _ in range(5):
        maps = [rng.integers(-3, 4, size=(7, 9)).astype(np.float32) for _ in range(3)]  # heavy ties
        masks = [ndimage.binary_dilation(rng.random((7, 9)) < 0.05) for _ in range(3)]
        masks[0][0, 0] = True
        regions = [components(k) for k in masks]
        for limit in (0.05, 0.3, 1.0):
            assert aupro(masks, maps, fpr_limit=limit) == pytest.approx(brute_overlap_auc(maps, regions, limit))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    levels=st.integers(2, 50),
    limit=st.sampled_from([0.01, 0.05, 0.3, 1.0]),
)
def test_aupro_matches_brute_force_hypothesis(seed, levels, limit):
    rng = np.random.default_rng(seed)
    maps = [rng.integers(0, levels, size=(6, 6)) * 0.5 - 3 for _ in range(2)]
    masks = [rng.random((6, 6)) < 0.2 for _ in range(2)]
    masks[1][5, 5] = True
    masks[0][0, 0] = False
    regions = [components(k) for k in masks]
    assert aupro(masks, maps, fpr_limit=limit) == pytest.approx(brute_overlap_auc(maps, regions, limit))


def test_aupro_refuses_bad_inputs():
    m = np.zeros((4, 4))
    with pytest.raises(ValueError, match="no ground-truth region"):
        aupro([m > 1], [m])
    with pytest.raises(ValueError, match="at least one normal pixel"):
        aupro([m == 0], [m])
    with pytest.raises(ValueError, match=r"masks\[0\] has shape \(4, 5\) but maps\[0\] has shape \(4, 4\)"):
        aupro([np.ones((4, 5), bool)], [m])
    with pytest.raises(ValueError, match="1 masks but 2 maps"):
        aupro([m > 1], [m, m])
    with pytest.raises(ValueError, match=r"maps\[1\] contains NaN"):
        aupro([m > 1, m > 1], [m, np.full((4, 4), np.nan)])
    with pytest.raises(ValueError, match=r"maps\[0\] must be 2-D"):
        aupro([m > 1], [np.zeros((4, 4, 3))])
    mask, scores = one_region_4x4([1], [0] * 15)
    with pytest.raises(ValueError, match=r"FPR limit must be in \(0, 1\]"):
        aupro([mask], [scores], fpr_limit=0.0)


# ---------------------------------------------------------------- sPRO (MVTec LOCO)

DEFECTS = {
    37: DefectSpec("missing_part", 37, 2, False),  # absolute: saturates at 2 pixels
    200: DefectSpec("scratch", 200, 0.5, True),  # relative: half the region
}


def loco_example():
    """Image 0 anomalous with regions A (value 37, 4 px) and B (value 200, 2 px); image 1 good."""
    raw_a = np.zeros((4, 4), np.uint8)
    raw_a[0, :] = 37
    raw_b = np.zeros((4, 4), np.uint8)
    raw_b[1, 0:2] = 200
    anomalous = np.zeros((4, 4))
    anomalous[0, :] = [9, 8, 1, 1]
    anomalous[1, 0:2] = [7, 0.5]
    anomalous[2, 0] = 6
    good = np.zeros((4, 4))
    good[3, 3] = 8  # tied with A's second pixel
    return [anomalous, good], [loco_regions([raw_a, raw_b], DEFECTS), []]


def test_loco_regions_reads_pixel_values_and_saturation():
    _, gt_regions = loco_example()
    (mask_a, sat_a), (mask_b, sat_b) = gt_regions[0]
    assert mask_a.dtype == bool and mask_a.sum() == 4 and mask_a[0].all()
    assert sat_a == 2.0  # absolute threshold 2, region of 4
    assert sat_b == 1.0  # relative 0.5 × 2 pixels
    raw = np.zeros((3, 3), np.uint8)
    raw[0, :] = 37  # 3 pixels, absolute threshold 2 kept
    raw_small = np.zeros((3, 3), np.uint8)
    raw_small[0, 0] = 37  # 1 pixel: the official code caps an absolute threshold at the area
    raw_rel = np.zeros((3, 3), np.uint8)
    raw_rel[:, :2] = 200
    raw_rel[2, 1] = 0  # 5 pixels × 0.5 = 2.5 → int() floors to 2
    got = [s for _, s in loco_regions([raw, raw_small, raw_rel], DEFECTS)]
    assert got == [2.0, 1.0, 2.0]


def test_loco_regions_refuses_unknown_values_and_empty_masks():
    raw = np.zeros((3, 3), np.uint8)
    raw[1, 1] = 99
    with pytest.raises(ValueError, match=r"pixel value 99.*known: \[37, 200\]"):
        loco_regions([raw], DEFECTS)
    with pytest.raises(ValueError, match="raw mask 0 is empty"):
        loco_regions([np.zeros((3, 3), np.uint8)], DEFECTS)
    raw[1, 2] = 37
    with pytest.raises(ValueError, match=r"several defect values \[37, 99\]"):
        loco_regions([raw], DEFECTS)


def test_spro_hand_worked_with_absolute_and_relative_saturation():
    # Negatives: 10 pixels of image 0 outside A and B plus 16 of the good image = 26.
    # t=9 → A has 1 of its 2 saturation pixels: sPRO_A 1/2, B 0 → mean 1/4 at FPR 0
    # t=8 → A saturated (1) and the tied good pixel enters: (1/26, 1/2), a diagonal
    # t=7 → B's 1 pixel meets its saturation area 1: (1/26, 1); t=6 → (2/26, 1); A's pixels at 1 add nothing.
    maps, regions = loco_example()
    fprs, spros = spro_curve(maps, regions)
    np.testing.assert_allclose(fprs[:5], [0, 0, 1 / 26, 1 / 26, 2 / 26])
    np.testing.assert_allclose(spros[:5], [0, 0.25, 0.5, 1, 1])
    assert spros.max() == 1.0  # A with 4 of 2 saturation pixels is capped at 1
    # limit 0.05: trapezoid (0, 1/4)→(1/26, 1/2) = 0.375/26, then 1·(0.05 − 1/26); divided by 0.05
    assert au_spro(maps, regions, fpr_limit=0.05) == pytest.approx((0.05 - 0.625 / 26) / 0.05)
    # limit 0.01 lies on the diagonal y = 1/4 + 26x/4: y(0.01) = 0.315, area 0.5·(0.25 + 0.315)·0.01
    assert au_spro(maps, regions, fpr_limit=0.01) == pytest.approx(0.2825)


def test_spro_negatives_exclude_every_region_of_an_image():
    # A normal-looking score inside region B must not count as a false positive.
    maps, regions = loco_example()
    maps[0][1, 1] = 100.0  # B's 0.5 pixel is now the top score
    fprs, spros = spro_curve(maps, regions)
    assert (fprs[1], spros[1]) == (0.0, pytest.approx(0.5))


def test_au_spro_at_official_limits_in_one_pass():
    maps, regions = loco_example()
    got = au_spro_at(maps, regions)
    assert list(got) == list(OFFICIAL_SPRO_LIMITS) == [0.01, 0.05, 0.1, 0.3, 1.0]
    for limit, value in got.items():
        assert value == pytest.approx(au_spro(maps, regions, fpr_limit=limit))
    assert got[1.0] == pytest.approx(brute_overlap_auc(maps, regions, 1.0))


def test_spro_matches_brute_force_with_fractional_saturation():
    rng = np.random.default_rng(3)
    for _ in range(5):
        maps = [rng.integers(0, 5, size=(6, 8)) * 3.0 - 7 for _ in range(3)]
        regions = [[], [], []]
        for i in (0, 2):
            for _ in range(2):  # overlapping regions allowed: each counts its own pixels
                mask = rng.random((6, 8)) < 0.15
                mask[i, i] = True
                regions[i].append((mask, float(rng.uniform(0.5, mask.sum() + 2))))
        for limit in (0.05, 0.3, 1.0):
            expected = brute_overlap_auc(maps, regions, limit)
            assert au_spro(maps, regions, fpr_limit=limit) == pytest.approx(expected)


def test_spro_perfect_and_rescaled():
    maps, regions = loco_example()
    perfect = [np.zeros((4, 4)), np.zeros((4, 4))]
    for mask, _ in regions[0]:
        perfect[0][mask] = 1.0
    assert au_spro(perfect, regions) == pytest.approx(1.0)
    rescaled = [m * 1000 - 5 for m in maps]
    assert au_spro_at(rescaled, regions) == pytest.approx(au_spro_at(maps, regions))


def test_spro_refuses_bad_regions():
    maps, regions = loco_example()
    with pytest.raises(ValueError, match="1 gt_regions entries but 2 maps"):
        spro_curve(maps, regions[:1])
    bad = [[(np.ones((4, 5), bool), 1.0)], []]
    with pytest.raises(ValueError, match=r"gt_regions\[0\]\[0\] mask has shape \(4, 5\) but maps\[0\]"):
        spro_curve(maps, bad)
    with pytest.raises(ValueError, match="saturation area must be a positive number"):
        spro_curve(maps, [[(regions[0][0][0], 0.0)], []])
    with pytest.raises(ValueError, match="no ground-truth region"):
        spro_curve(maps, [[], []])


# ---------------------------------------------------------------- classification


def test_classification_accuracy():
    assert classification_accuracy(["scratch", "hole", "hole"], ["scratch", "hole", "crack"]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="2 true names but 1 predicted"):
        classification_accuracy(["a", "b"], ["a"])


def test_miou_hand_worked():
    gt = np.array([[0, 1], [1, 2]])
    pred = np.array([[0, 1], [2, 2]])
    # class 0: I 1, U 1; class 1: I 1, U 2; class 2: I 1, U 2; class 3 absent everywhere → left out
    assert miou([gt], [pred], num_classes=4) == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert miou([gt], [pred], num_classes=4, ignore_normal=True) == pytest.approx(0.5)


def test_miou_refuses_bad_maps():
    gt = np.array([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match=r"pred_class_maps\[0\] holds class 5, outside 0..3"):
        miou([gt], [np.full((2, 2), 5)], num_classes=4)
    with pytest.raises(ValueError, match=r"gt_class_maps\[0\] has shape \(2, 2\) but pred_class_maps\[0\]"):
        miou([gt], [np.zeros((3, 2), int)], num_classes=4)


def test_registry_lists_every_metric_by_name():
    assert METRICS.available() == sorted(
        ["image_auroc", "pixel_auroc", "aupro", "spro", "f1_max", "classification_accuracy", "miou"]
    )
    assert METRICS.get("aupro") is aupro and METRICS.get("spro") is au_spro

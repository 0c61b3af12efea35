"""Agreement with the official MVTec LOCO AD evaluation, and LOCO ground truth exactly as the dataset ships it.

The OFFICIAL_* numbers were produced once, by running the official evaluation code on the fixture
`make_official_fixture` writes (deterministic; FIXTURE_SHA256 guards that it still is):
`python evaluate_experiment.py --object_name pushpins --dataset_base_dir DATA --anomaly_maps_dir MAPS
--output_dir OUT`, defaults otherwise (curve_max_distance 0.001). Source: MVTec's archive
`mvtec_loco_ad_evaluation.tar.xz` (version 2.0, files dated 2022-10-13, MVTec Software GmbH),
unmodified as stored in github.com/kiyoonjeong0305/Efficient-VQVAE at commit
81fccf51a4b0bb3e596a04d7b56c192a9f38d51c (2023-07-13), archive sha256
3a3bd3816cc8d9e3abc10d308b9315ca46c5b7fedd98128920bbc9bc2bad3823. Run on 2026-11-23 with
Python 3.11, numpy 1.26.4, tifffile 2023.7.10, Pillow 10.4.0. None of its code is part of this project.

Its AU-sPRO per kind is taken over that kind's images plus the good ones (FPR over their normal
pixels, sPRO over that kind's defects only), and "mean" averages the two kinds; its image AUROC
is likewise good vs logical and good vs structural with the map maximum as the image score, which
is what our `spro_logical`/`spro_structural` and `image_auroc_logical`/`image_auroc_structural`
compute. Our headline `spro` pools all test images, which the official code does not report.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from layout_builders import make_mvtec_loco

from leaderboard import metrics
from leaderboard.datasets import open_dataset
from leaderboard.score_maps import score_maps

CATEGORY = "pushpins"  # the official script accepts only the five MVTec LOCO object names
SIZE = (32, 48)
SEED = 20220113
# (defect_name, pixel_value, saturation_threshold, relative_saturation): relative thresholds are
# floats and absolute ones ints, as the official DefectConfig insists. Stain's 500 exceeds every
# region, so its areas cap it; scratch's 40 caps one region (60 px) and not another (36 px).
DEFECTS = (("missing_part", 37, 0.5, True), ("extra_part", 255, 1.0, True),
           ("scratch", 91, 40, False), ("stain", 140, 500, False))
KINDS = ("good", "logical_anomalies", "structural_anomalies")
# Each image's maximum level, all different so that image scores never tie (the official ROC
# code gives tied scores no half credit); in test order: good, logical, structural.
CAPS = {"good": (44, 41, 43), "logical_anomalies": (48, 42, 45), "structural_anomalies": (47, 40, 46)}
N_LEVELS = 49


def _rect(top: int, left: int, height: int, width: int) -> np.ndarray:
    region = np.zeros(SIZE, dtype=bool)
    region[top:top + height, left:left + width] = True
    return region


def _disk(cy: int, cx: int, radius: int) -> np.ndarray:
    yy, xx = np.mgrid[:SIZE[0], :SIZE[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2


def _regions(kind: str, index: int) -> list[tuple[np.ndarray, int]]:
    """One (region, pixel_value) per mask file: two defects of different values in one image, one overlap."""
    return {
        ("logical_anomalies", 0): [(_rect(4, 6, 6, 8), 37)],
        ("logical_anomalies", 1): [(_rect(20, 30, 5, 10), 255), (_rect(3, 3, 4, 4), 37)],
        ("logical_anomalies", 2): [(_rect(10, 12, 8, 12), 255)],
        ("structural_anomalies", 0): [(_rect(14, 5, 3, 20), 91)],
        ("structural_anomalies", 1): [(_rect(8, 20, 6, 6), 91), (_rect(11, 23, 5, 7), 140)],
        ("structural_anomalies", 2): [(_disk(22, 36, 5), 140)],
    }[(kind, index)]


def _quantised_maps(union: np.ndarray, caps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n, H, W) float32 maps on 49 levels, higher inside the regions, each image topping out at its cap.

    The official code samples thresholds: the 48 scores at equidistant positions of all sorted
    scores, refined only where its curve looks coarse. Level k fills exactly the sorted positions
    from the k-th such sample to the next, so every level is a threshold and the official curve
    passes through every corner of the exact one; a 1e-6 comparison then tests the definition,
    not the sampling. Levels 0 and 1 hold no region pixel, because the official code brackets
    them together (between its lowest sampled threshold and min - 1e-6) and the curve stays flat there.
    """
    latent = (rng.normal(size=union.shape) + 2.0 * union).ravel()
    n = latent.size
    picks = np.linspace(0, n - 1, num=50, dtype=int)[1:-1]  # as the official _get_initial_thresholds
    counts = np.diff(np.concatenate(([0], picks, [n])))  # (49,) pixels per level, lowest first
    cap = np.repeat(caps, union[0].size)
    image = np.repeat(np.arange(len(caps)), union[0].size)
    level = np.full(n, -1)
    for lev in range(N_LEVELS - 1, -1, -1):
        for i in np.flatnonzero(caps == lev):  # each image reaches its cap
            own = np.flatnonzero((image == i) & (level < 0))
            level[own[np.argmax(latent[own])]] = lev
        free = np.flatnonzero((level < 0) & (cap >= lev))
        needed = counts[lev] - int(np.count_nonzero(caps == lev))
        level[free[np.argsort(-latent[free], kind="stable")[:needed]]] = lev
    level = level.reshape(union.shape)
    assert (level >= 0).all() and np.array_equal(level.max(axis=(1, 2)), caps)
    assert level[union].min() >= 2
    return (level / 16).astype(np.float32)


def make_official_fixture(root: Path) -> tuple[Path, Path]:
    """A MVTec LOCO category (3 good, 3 logical, 3 structural, 32×48) and its maps in the official layout.

    Returns (dataset root, maps root). Masks store each defect's pixel_value, as the dataset ships.
    """
    data, maps = Path(root) / "data", Path(root) / "maps"
    make_mvtec_loco(data, CATEGORY, n_train=1, n_validation=0, n_good=3, n_logical=3, n_structural=3,
                    defects=DEFECTS, masks=lambda kind, i, _shape: _regions(kind, i), size=SIZE)
    names = [(kind, i) for kind in KINDS for i in range(3)]
    union = np.stack([np.any([r for r, _ in _regions(kind, i)], axis=0) if kind != "good" else np.zeros(SIZE, bool)
                      for kind, i in names])
    caps = np.array([CAPS[kind][i] for kind, i in names])
    for (kind, i), m in zip(names, _quantised_maps(union, caps, np.random.default_rng(SEED))):
        out = maps / CATEGORY / "test" / kind / f"{i:03d}.tiff"
        out.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(out, m)
    return data, maps


# The official metrics.json for the fixture: localization.auc_spro and classification.auc_roc.
OFFICIAL_AU_SPRO = {
    "logical_anomalies": {0.01: 0.04671161825726141, 0.05: 0.23258029524577647, 0.1: 0.3451116501036346,
                          0.3: 0.7032819187561027, 1.0: 0.899942758068695},
    "structural_anomalies": {0.01: 0.0483530042918455, 0.05: 0.24092052220866156, 0.1: 0.3565713722154419,
                             0.3: 0.6672716697530694, 1.0: 0.8936870287891037},
    "mean": {0.01: 0.04753231127455346, 0.05: 0.23675040872721903, 0.1: 0.3508415111595382,
             0.3: 0.6852767942545861, 1.0: 0.8968148934288993},
}
OFFICIAL_AUC_ROC = {"logical_anomalies": 0.7777777777777778, "structural_anomalies": 0.6666666666666666,
                    "mean": 0.7222222222222222}
FIXTURE_SHA256 = "1452c032c54ed60f3291ac79d5070a487ea333c7a8a8e3d832b2635aebdc0868"  # the maps, in test order
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def official_fixture(tmp_path_factory):
    data, maps = make_official_fixture(tmp_path_factory.mktemp("official"))
    ds = open_dataset(data, CATEGORY)
    arrays = [tifffile.imread(maps / CATEGORY / "test" / s.defect_type / f"{s.image_id}.tiff") for s in ds.test]
    return data, maps, ds, arrays


def test_fixture_is_the_one_the_reference_numbers_came_from(official_fixture):
    _, _, ds, arrays = official_fixture
    digest = hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest()
    assert digest == FIXTURE_SHA256
    assert [s.defect_type for s in ds.test] == [kind for kind in KINDS for _ in range(3)]


def test_au_spro_matches_official_at_every_limit(official_fixture):
    _, _, ds, arrays = official_fixture
    regions = [metrics.loco_regions(s.masks(), ds.defects) if s.mask_paths else [] for s in ds.test]
    ours = {}
    for kind in ("logical", "structural"):
        pick = [i for i, s in enumerate(ds.test) if s.label == 0 or s.kind == kind]
        ours[f"{kind}_anomalies"] = metrics.au_spro_at([arrays[i] for i in pick], [regions[i] for i in pick],
                                                       metrics.OFFICIAL_SPRO_LIMITS)
    ours["mean"] = {lim: (ours["logical_anomalies"][lim] + ours["structural_anomalies"][lim]) / 2
                    for lim in metrics.OFFICIAL_SPRO_LIMITS}
    for key, official in OFFICIAL_AU_SPRO.items():
        assert set(ours[key]) == set(official)
        for limit, value in official.items():
            assert abs(ours[key][limit] - value) < TOLERANCE, (key, limit, ours[key][limit], value)


def test_score_maps_matches_official(official_fixture):
    data, maps, _, _ = official_fixture
    m = score_maps(maps, data, CATEGORY)["metrics"]
    assert abs(m["spro_logical"] - OFFICIAL_AU_SPRO["logical_anomalies"][0.05]) < TOLERANCE
    assert abs(m["spro_structural"] - OFFICIAL_AU_SPRO["structural_anomalies"][0.05]) < TOLERANCE
    assert abs(m["image_auroc_logical"] - OFFICIAL_AUC_ROC["logical_anomalies"]) < TOLERANCE
    assert abs(m["image_auroc_structural"] - OFFICIAL_AUC_ROC["structural_anomalies"]) < TOLERANCE
    mean = (m["image_auroc_logical"] + m["image_auroc_structural"]) / 2
    assert abs(mean - OFFICIAL_AUC_ROC["mean"]) < TOLERANCE


def test_loco_masks_as_shipped_give_the_hand_computed_spro(tmp_path):
    """Two mask files of different defects in one image, stored with their pixel values 37 and 91.

    missing_part (37): 3×4 = 12 pixels, relative 0.5 → saturated at 6 pixels.
    scratch (91): 2×4 = 8 pixels, absolute 4 → saturated at 4 pixels.
    At threshold 0.8, 3 pixels of each are positive: sPRO = (3/6 + 3/4) / 2 = 0.625, and of the
    64 + 44 normal pixels, 3 score >= 0.8: FPR = 3/108. Treating both as plain PRO would give
    (3/12 + 3/8) / 2, swapping the two thresholds (3/4 + 3/4) / 2.
    """
    a, b = np.zeros((8, 8), bool), np.zeros((8, 8), bool)
    a[0:3, 0:4] = True
    b[5:7, 2:6] = True
    cat = make_mvtec_loco(tmp_path, "box", n_good=1, n_logical=1, n_structural=0,
                          defects=(("missing_part", 37, 0.5, True), ("scratch", 91, 4, False)),
                          masks=lambda kind, i, shape: [(a, 37), (b, 91)])
    ds = open_dataset(cat)
    good, anomalous = ds.test
    assert [np.unique(m).tolist() for m in anomalous.masks()] == [[0, 37], [0, 91]]
    regions = metrics.loco_regions(anomalous.masks(), ds.defects)
    assert [saturation for _, saturation in regions] == [6.0, 4.0]

    anomalous_map = np.full((8, 8), 0.1, np.float32)
    anomalous_map[0, 0:3] = 0.9  # 3 of missing_part
    anomalous_map[5, 2:5] = 0.8  # 3 of scratch
    anomalous_map[7, 7] = 0.95  # a false positive
    good_map = np.full((8, 8), 0.1, np.float32)
    good_map[2, 2:4] = 0.85  # two more
    fprs, spros = metrics.spro_curve([good_map, anomalous_map], [[], regions])
    at = np.isclose(fprs, 3 / 108)
    assert spros[at].min() == pytest.approx(0.25) and spros[at].max() == pytest.approx(0.625)
    assert np.isclose(fprs, 1 / 108).any() and spros[fprs < 3 / 108].max() == pytest.approx(0.25)

    # End to end through the reader and score-maps: the curve rises to 0.625 at FPR 3/108, then
    # runs straight to (1, 1) as every remaining pixel enters at 0.1.
    for sample, m in zip(ds.test, (good_map, anomalous_map)):
        out = tmp_path / "maps" / "box" / "test" / sample.defect_type / f"{sample.image_id}.tiff"
        out.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(out, m)
    x0, y_limit = 3 / 108, 0.625 + 0.375 * (0.05 - 3 / 108) / (1 - 3 / 108)
    by_hand = (0.25 * (x0 - 1 / 108) + (0.625 + y_limit) / 2 * (0.05 - x0)) / 0.05
    assert score_maps(tmp_path / "maps", cat)["metrics"]["spro"] == pytest.approx(by_hand, abs=1e-12)

"""PatchCore's pieces on hand-checkable data, and a real defect on a real photograph."""
import numpy as np
import skimage.data
import torch

import methods
from methods.patchcore.coreset import greedy_coreset
from methods.patchcore.memory_bank import nearest_distances


def test_coreset_picks_one_point_per_cluster():
    # Four tight, far-apart clusters: a 4-point k-center coreset must take one from each.
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [100, 0], [0, 100], [100, 100]], np.float32)
    pts = np.concatenate([c + rng.normal(0, 0.5, (50, 2)) for c in centres]).astype(np.float32)
    idx = greedy_coreset(torch.from_numpy(pts), 4).numpy()
    assert sorted(set(idx // 50)) == [0, 1, 2, 3]


def test_coreset_covers_the_set():
    # Greedy k-center is a 2-approximation: the covering radius can only shrink as k grows.
    x = torch.randn(2000, 16, generator=torch.Generator().manual_seed(0))
    radii = []
    for k in (10, 50, 200):
        idx = greedy_coreset(x, k)
        radii.append(float(torch.cdist(x, x[idx]).min(1).values.max()))
    assert radii[0] > radii[1] > radii[2]
    assert len(set(greedy_coreset(x, 200).tolist())) == 200


def test_nearest_distances_match_cdist():
    g = torch.Generator().manual_seed(1)
    q, bank = torch.randn(5000, 40, generator=g), torch.randn(700, 40, generator=g)
    expected = torch.cdist(q, bank).min(1).values
    torch.testing.assert_close(nearest_distances(q, bank, chunk=999), expected, rtol=1e-4, atol=1e-4)


def test_patchcore_finds_a_scratch_on_brick():
    brick = skimage.data.brick()
    rng = np.random.default_rng(0)
    train = [brick[y : y + 192, x : x + 192] for y, x in rng.integers(0, 300, (12, 2))]
    good = brick[250:442, 250:442].copy()
    scratched = good.copy()
    scratched[96:100, 30:160] = 255  # a bright 4-px scratch
    model = methods.create("patchcore").fit(train)
    p_good, p_bad = model.predict([good, scratched])
    assert p_bad.score > p_good.score * 1.2
    peak = np.unravel_index(np.argmax(p_bad.anomaly_map), p_bad.anomaly_map.shape)
    assert 80 <= peak[0] <= 116 and 20 <= peak[1] <= 170


def test_vit_feature_path_on_a_tiny_dinov2(monkeypatch):
    """The full tier's feature path, on a tiny timm DINOv2 built from a config (no download)."""
    import timm

    import hub
    from methods.backbone import FeatureExtractor

    tiny = timm.create_model("vit_small_patch14_dinov2", pretrained=False, img_size=70, depth=3, embed_dim=48,
                             num_heads=2).eval()
    monkeypatch.setattr(hub, "load", lambda role, tier=None, device="cpu": tiny)
    extractor = FeatureExtractor("full", "cpu", image_size=72, layers=(1, 2))
    maps = extractor([np.zeros((50, 60, 3), np.uint8), np.full((80, 80, 3), 200, np.uint8)])
    assert extractor.image_size == 70
    assert [tuple(m.shape) for m in maps] == [(2, 48, 5, 5), (2, 48, 5, 5)]

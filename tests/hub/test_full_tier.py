"""The full tier's real loading code, run on tiny models saved from configs: no download, no mocks.

Each test builds a model the way the library's own tests do, saves it, and hands the folder
(or a fake Hugging Face cache holding it) to the same loader the app uses.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from hub import catalog, full


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every socket connection tried during the test; libraries may swallow the refusal, so we count."""
    attempts: list[object] = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise ConnectionRefusedError(f"test forbids network access ({address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def put_in_cache(cache: Path, repo: str, revision: str, source: Path) -> None:
    """Lay `source` out as huggingface_hub's cache would after downloading `repo` at `revision`."""
    root = cache / f"models--{repo.replace('/', '--')}"
    shutil.copytree(source, root / "snapshots" / revision)
    (root / "refs").mkdir(exist_ok=True)
    (root / "refs" / "main").write_text(revision)


def rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


# --- the table ---------------------------------------------------------------------------


def test_every_source_is_pinned_and_has_a_loader_and_key_files():
    assert set(full.SOURCES) == set(full.LOADERS) == set(full.KEY_FILES)
    for name, (repo, revision) in full.SOURCES.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), name
        assert re.fullmatch(r"[0-9a-f]{40}", revision), f"{name} is not pinned to a commit"


@pytest.mark.parametrize("role", catalog.ROLES)
def test_catalog_full_cards_name_the_pinned_source(role):
    model_card = catalog.card(role, "full")
    repo, revision = full.SOURCES[model_card.name]
    assert model_card.source == f"hf:{repo}"
    assert model_card.revision == revision


def test_unknown_model_names_the_choices():
    with pytest.raises(KeyError, match="dinov2.*vlm_captioner"):
        full.load("dinov3")


def test_all_cached_reads_only_the_local_cache(tmp_path, network_attempts):
    cache = tmp_path / "cache"
    cache.mkdir()
    assert not full.all_cached(cache_dir=str(cache))
    assert set(full.missing_files(cache_dir=str(cache))) == set(full.SOURCES)

    for name, (repo, revision) in full.SOURCES.items():
        snapshot = tmp_path / "snapshots" / name
        for alternatives in full.KEY_FILES[name]:
            path = snapshot / alternatives[-1]  # any alternative must count
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
        put_in_cache(cache, repo, revision, snapshot)
    assert full.all_cached(cache_dir=str(cache))

    repo, revision = full.SOURCES["sam_vit_b"]
    snapshot = cache / f"models--{repo.replace('/', '--')}" / "snapshots" / revision
    (snapshot / "checkpoints/sam_vit_b_01ec64.pth").unlink()
    assert full.missing_files(cache_dir=str(cache)) == {"sam_vit_b": ["checkpoints/sam_vit_b_01ec64.pth"]}
    assert not full.all_cached(cache_dir=str(cache))
    assert network_attempts == []


# --- backbone: DINOv2 through timm ---------------------------------------------------------

TINY_VIT = {"embed_dim": 32, "depth": 2, "num_heads": 2, "img_size": 28}


def save_tiny_dinov2(folder: Path) -> torch.nn.Module:
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = timm.create_model("vit_base_patch14_dinov2", pretrained=False, **TINY_VIT)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), str(folder / "model.safetensors"))
    return model


def test_dinov2_loads_a_saved_checkpoint_and_takes_any_multiple_of_14(tmp_path):
    saved = save_tiny_dinov2(tmp_path / "dinov2")
    model = full.load("dinov2", repo=str(tmp_path / "dinov2"), **TINY_VIT)

    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    for key, value in saved.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    tokens = model.forward_features(torch.randn(1, 3, 42, 56))
    assert tokens.shape == (1, 1 + 3 * 4, 32)  # (B, cls + patches, C)


def test_dinov2_loads_the_pinned_revision_from_the_cache_while_offline(tmp_path, monkeypatch, network_attempts):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo, revision = full.SOURCES["dinov2"]
    saved = save_tiny_dinov2(tmp_path / "dinov2")
    cache = tmp_path / "cache"
    put_in_cache(cache, repo, revision, tmp_path / "dinov2")

    model = full.load("dinov2", cache_dir=str(cache), **TINY_VIT)

    assert torch.equal(model.pos_embed, saved.pos_embed)
    assert network_attempts == []


def test_a_missing_file_offline_says_what_and_where(tmp_path, monkeypatch, network_attempts):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(full.ModelNotCachedError, match=r"timm/vit_base_patch14_dinov2\.lvd142m@4685c99dabff.*offline"):
        full.load("dinov2", cache_dir=str(tmp_path))
    assert network_attempts == []


def test_an_unpinned_revision_warns_once(tmp_path, monkeypatch, caplog, network_attempts):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    save_tiny_dinov2(tmp_path / "dinov2")
    put_in_cache(tmp_path / "cache", "acme/tiny-dinov2", "0" * 40, tmp_path / "dinov2")

    with caplog.at_level(logging.WARNING, logger="hub"):
        for _ in range(2):
            full.load("dinov2", repo="acme/tiny-dinov2", cache_dir=str(tmp_path / "cache"), **TINY_VIT)
    unpinned = [r for r in caplog.records if "not pinned" in r.getMessage()]
    assert len(unpinned) == 1
    assert "acme/tiny-dinov2" in unpinned[0].getMessage()


# --- clip: open_clip ---------------------------------------------------------------------


def test_open_clip_loads_a_registered_tiny_config_with_its_weights(tmp_path):
    import open_clip
    from safetensors.torch import save_file

    config = {
        "embed_dim": 16,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    (tmp_path / "tiny-clip-hubtest.json").write_text(json.dumps(config))
    open_clip.add_model_config(tmp_path / "tiny-clip-hubtest.json")
    torch.manual_seed(0)
    saved = open_clip.create_model("tiny-clip-hubtest")
    with torch.no_grad():
        saved.logit_scale.fill_(3.0)  # differs from the init value, so a skipped load would show
    save_file(saved.state_dict(), str(tmp_path / "open_clip_model.safetensors"))

    clip = full.load("open_clip_vit_l14", repo=str(tmp_path), arch="tiny-clip-hubtest")

    assert clip.model.logit_scale.item() == 3.0
    assert not clip.model.training
    images = torch.stack([clip.preprocess(Image.fromarray(rgb(50, 60, seed))) for seed in range(2)])
    assert images.shape == (2, 3, 32, 32)
    text = clip.tokenizer(["a photo of a scratched metal plate", "a photo of a flawless metal plate"])
    assert text.shape == (2, 77)
    with torch.no_grad():
        assert clip.model.encode_image(images).shape == (2, 16)
        assert clip.model.encode_text(text).shape == (2, 16)


# --- segmenter: segment_anything SAM ------------------------------------------------------

TINY_SAM = full.SamArch(
    encoder_embed_dim=32,
    encoder_depth=2,
    encoder_num_heads=2,
    encoder_global_attn_indexes=(1,),
    window_size=4,
    image_size=64,
    patch_size=8,
    prompt_embed_dim=32,
    decoder_mlp_dim=64,
    decoder_num_heads=2,
    iou_head_hidden_dim=32,
)


def test_sam_builder_matches_segment_anything_vit_b():
    from segment_anything import sam_model_registry

    with torch.device("meta"):  # shapes only: no 90M-parameter init
        official = sam_model_registry["vit_b"]().state_dict()
        ours = full.build_sam(full.SAM_VIT_B).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in official.items()}


@pytest.fixture
def tiny_sam(tmp_path) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    state = full.build_sam(TINY_SAM).state_dict()
    torch.save(state, tmp_path / "sam_tiny.pth")
    return full.load("sam_vit_b", checkpoint=tmp_path / "sam_tiny.pth", arch=TINY_SAM), state


def test_sam_loads_a_checkpoint_and_predicts_from_a_point(tiny_sam):
    from segment_anything import SamPredictor

    sam, state = tiny_sam
    for key, value in state.items():
        assert torch.equal(sam.state_dict()[key], value), key
    predictor = SamPredictor(sam)
    predictor.set_image(rgb(64, 48))
    masks, scores, logits = predictor.predict(point_coords=np.array([[10, 20]]), point_labels=np.array([1]))
    assert masks.shape == (3, 64, 48) and masks.dtype == bool
    assert scores.shape == (3,)
    assert logits.shape == (3, 32, 32)  # 4x the 8x8 image embedding


def test_sam_automatic_mask_generator_runs_on_the_loaded_model(tiny_sam):
    from segment_anything import SamAutomaticMaskGenerator

    sam, _ = tiny_sam
    # Random weights predict poor masks: keep every one so the whole pipeline is exercised.
    generator = SamAutomaticMaskGenerator(
        sam, points_per_side=4, pred_iou_thresh=0.0, stability_score_thresh=0.0, box_nms_thresh=1.0
    )
    masks = generator.generate(rgb(64, 48))
    assert masks
    assert all(m["segmentation"].shape == (64, 48) for m in masks)


def test_sam_refuses_a_checkpoint_of_another_size(tmp_path):
    torch.manual_seed(0)
    torch.save(full.build_sam(TINY_SAM).state_dict(), tmp_path / "sam_tiny.pth")
    bigger = dataclasses.replace(TINY_SAM, encoder_embed_dim=48)
    with pytest.raises(RuntimeError, match="size mismatch"):
        full.load("sam_vit_b", checkpoint=tmp_path / "sam_tiny.pth", arch=bigger)


# --- inpainter: diffusers Stable Diffusion inpainting ------------------------------------------


def byte_level_vocab(specials: list[str], end_of_word: str = "") -> dict[str, int]:
    """A BPE vocabulary without merges: every byte is a token, so any text encodes."""
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {token: i for i, token in enumerate(specials)}
    for char in sorted(ByteLevel.alphabet()):
        vocab[char] = len(vocab)
        if end_of_word:
            vocab[char + end_of_word] = len(vocab)
    return vocab


def save_tiny_inpainting_pipeline(folder: Path) -> None:
    """diffusers' own get_dummy_components() for inpainting, with a tokenizer built offline."""
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=9,  # 4 noisy latents + 4 masked-image latents + 1 mask
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
            num_attention_heads=4, num_hidden_layers=2, vocab_size=1000,
        )
    )
    tokenizer = CLIPTokenizer(
        vocab=byte_level_vocab(["<|startoftext|>", "<|endoftext|>"], end_of_word="</w>"), merges=[], model_max_length=77
    )
    StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).save_pretrained(folder)


def test_sd_inpainting_loads_with_ddim_and_runs_one_denoising_step(tmp_path):
    from diffusers import DDIMScheduler

    save_tiny_inpainting_pipeline(tmp_path / "sd")
    pipe = full.load("sd_inpainting", repo=str(tmp_path / "sd"))

    assert isinstance(pipe.scheduler, DDIMScheduler)
    assert pipe.safety_checker is None
    assert pipe.unet.config.in_channels == 9
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    steps_run: list[int] = []
    out = pipe(
        prompt="a scratch",
        image=Image.fromarray(rgb(32, 32)),
        mask_image=Image.fromarray(mask),
        height=32,
        width=32,
        num_inference_steps=2,
        strength=0.5,  # half of 2 steps: one denoising step
        guidance_scale=1.0,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
        callback_on_step_end=lambda p, i, t, kw: steps_run.append(i) or kw,
    )
    assert steps_run == [0]
    assert out.images.shape == (1, 32, 32, 3)
    assert np.isfinite(out.images).all()


# --- text encoder: BERT --------------------------------------------------------------------

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "scratch", "on", "the", "metal", "surface", "crack"]


def save_tiny_bert(folder: Path) -> torch.nn.Module:
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(0)
    model = BertModel(
        BertConfig(
            vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=37, max_position_embeddings=64,
        )
    ).eval()
    model.save_pretrained(folder)
    BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)}).save_pretrained(folder)
    return model


def test_bert_loads_as_a_mean_pooling_sentence_encoder(tmp_path):
    bert = save_tiny_bert(tmp_path / "bert")
    encoder = full.load("bert_base", repo=str(tmp_path / "bert"))

    embeddings = encoder.encode(["A scratch on the metal surface", "crack"], convert_to_tensor=True)
    assert embeddings.shape == (2, 32)
    ids = torch.tensor([[2, 5, 6, 7, 8, 9, 10, 3]])  # [CLS] a scratch on the metal surface [SEP], lower-cased
    with torch.no_grad():
        expected = bert(input_ids=ids).last_hidden_state.mean(dim=1)[0]
    torch.testing.assert_close(embeddings[0], expected, atol=1e-5, rtol=1e-5)


def test_bert_loads_the_pinned_revision_from_the_cache_while_offline(tmp_path, monkeypatch, network_attempts):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo, revision = full.SOURCES["bert_base"]
    save_tiny_bert(tmp_path / "bert")
    put_in_cache(tmp_path / "cache", repo, revision, tmp_path / "bert")

    encoder = full.load("bert_base", cache_dir=str(tmp_path / "cache"))

    assert encoder.encode(["crack"]).shape == (1, 32)
    assert network_attempts == []


# --- captioner: SmolVLM (Idefics3) ---------------------------------------------------------

# SmolVLM's chat layout, reduced: "<|im_start|>User:<image>prompt<end_of_utterance>\nAssistant:"
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}:"
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% else %}<image>{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)


def save_tiny_smolvlm(folder: Path) -> None:
    from transformers import (
        GPT2Tokenizer,
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
    )

    image_tokens = ["<fake_token_around_image>", "<image>", "<global-img>"]
    image_tokens += [f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)]
    tokenizer = GPT2Tokenizer(
        vocab=byte_level_vocab(["<|im_start|>", "<end_of_utterance>"]),
        merges=[],
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        pad_token="<end_of_utterance>",
        unk_token="<end_of_utterance>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": image_tokens})
    # One 28x28 tile of 14x14 patches, pixel-shuffled by 2: one <image> token per image.
    image_processor = Idefics3ImageProcessor(
        size={"longest_edge": 28}, max_image_size={"longest_edge": 28}, do_image_splitting=False
    )
    processor = Idefics3Processor(image_processor, tokenizer, image_seq_len=1, chat_template=CHAT_TEMPLATE)
    config = Idefics3Config(
        vision_config={
            "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1, "num_attention_heads": 2,
            "image_size": 28, "patch_size": 14,
        },
        text_config={
            "model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 37,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
            "pad_token_id": tokenizer.pad_token_id,
        },
        scale_factor=2,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
    )
    torch.manual_seed(0)
    Idefics3ForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)


def test_vlm_loads_with_its_processor_and_generates_two_tokens(tmp_path):
    save_tiny_smolvlm(tmp_path / "vlm")
    captioner = full.load("vlm_captioner", repo=str(tmp_path / "vlm"))

    assert type(captioner.model).__name__ == "Idefics3ForConditionalGeneration"
    assert not captioner.model.training
    image = rgb(40, 30)
    caption = captioner.caption(image, "What is wrong here?", max_new_tokens=2)

    # Repeat the same greedy generation by hand: the caption must be just its new tokens.
    text = captioner.processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is wrong here?"}]}],
        add_generation_prompt=True,
    )
    assert text.endswith("<end_of_utterance>\nAssistant:")
    inputs = captioner.processor(text=[text], images=[[Image.fromarray(image)]], return_tensors="pt")
    assert (inputs["input_ids"] == captioner.model.config.image_token_id).sum() == 1
    with torch.no_grad():
        out = captioner.model.generate(**inputs, max_new_tokens=2, do_sample=False)
    new_tokens = out[0, inputs["input_ids"].shape[1]:]
    assert len(new_tokens) == 2
    assert caption == captioner.processor.decode(new_tokens, skip_special_tokens=True).strip()

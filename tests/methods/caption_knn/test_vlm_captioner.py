"""The full-tier captioner: a tiny Idefics3 (SmolVLM's architecture) built offline, loaded through hub.full."""
from pathlib import Path

import numpy as np
import torch

from hub import full
from methods.caption_knn.captioners import VLMCaptioner, load_prompt, normalise_caption

# SmolVLM's chat layout, reduced: "<|im_start|>User:<image>prompt<end_of_utterance>\nAssistant:"
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}:"
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% else %}<image>{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)


def _byte_vocab(specials: list[str]) -> dict[str, int]:
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {t: i for i, t in enumerate(specials)}
    for ch in sorted(ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    return vocab


def save_tiny_vlm(folder: Path) -> None:
    from transformers import (GPT2Tokenizer, Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessor,
                              Idefics3Processor)

    image_tokens = ["<fake_token_around_image>", "<image>", "<global-img>"]
    image_tokens += [f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)]
    tokenizer = GPT2Tokenizer(vocab=_byte_vocab(["<|im_start|>", "<end_of_utterance>"]), merges=[],
                              bos_token="<|im_start|>", eos_token="<end_of_utterance>",
                              pad_token="<end_of_utterance>", unk_token="<end_of_utterance>")
    tokenizer.add_special_tokens({"additional_special_tokens": image_tokens})
    image_processor = Idefics3ImageProcessor(size={"longest_edge": 28}, max_image_size={"longest_edge": 28},
                                             do_image_splitting=False)
    processor = Idefics3Processor(image_processor, tokenizer, image_seq_len=1, chat_template=CHAT_TEMPLATE)
    config = Idefics3Config(
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 28, "patch_size": 14},
        text_config={"model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 37,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
                     "pad_token_id": tokenizer.pad_token_id},
        scale_factor=2,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
    )
    torch.manual_seed(0)
    Idefics3ForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)


def test_vlm_captioner_answers_the_scenario_prompt(tmp_path):
    save_tiny_vlm(tmp_path / "vlm")
    vlm = full.load("vlm_captioner", repo=str(tmp_path / "vlm"))
    captioner = VLMCaptioner(vlm, max_new_tokens=4)
    image = (np.random.default_rng(0).random((40, 30, 3)) * 255).astype(np.uint8)
    prompt = load_prompt("Sticks").text
    first = captioner.describe(image, prompt)
    assert isinstance(first, str) and first == captioner.describe(image, prompt)  # greedy: same prompt, same text
    assert first == normalise_caption(vlm.caption(image, prompt, max_new_tokens=4))


def test_normalise_caption_keeps_lines_and_lowers_case():
    expected = "left: 2 red balls.\nright: 1 blue ball."
    assert normalise_caption("  Left:  2 Red  balls.\n\nRight: 1 BLUE ball. ") == expected
    assert normalise_caption("   ") == "no objects found."

"""Captioners behind one protocol, `describe(image, prompt) -> str`, and the prompt files they read.

A prompt file (`prompts/<name>.txt`) has a header line `views: ...` (the caption views the
embedded scene describer writes, or `auto` to learn them from the normals), a `---` line,
and the instruction a vision-language model gets. The same prompt serves fit and predict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from methods.caption_knn.scene_describer import VIEWS, SceneDescriber

PROMPTS = Path(__file__).parent / "prompts"


class Captioner(Protocol):
    def describe(self, image: np.ndarray, prompt: str) -> str:
        ...


@dataclass
class Prompt:
    name: str
    views: list[str] | None  # None = learn from the normals
    text: str


def available_prompts() -> list[str]:
    return sorted(p.stem for p in PROMPTS.glob("*.txt"))


def load_prompt(name: str) -> Prompt:
    """A prompt by name (`prompts/<name>.txt`) or by path to a .txt file."""
    path = Path(name) if name.endswith(".txt") else PROMPTS / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"caption_knn: prompt file {path} not found; available prompts: {', '.join(available_prompts())}"
        )
    raw = path.read_text()
    head, sep, body = raw.partition("\n---\n")
    if not sep:
        raise ValueError(f"caption_knn: prompt file {path} needs a 'views: ...' header and a '---' line")
    m = re.search(r"^views:\s*(.+)$", head, re.M)
    if not m:
        raise ValueError(f"caption_knn: prompt file {path} has no 'views:' line")
    words = [w.strip() for w in m.group(1).split(",") if w.strip()]
    if words == ["auto"]:
        views = None
    else:
        unknown = [w for w in words if w not in VIEWS]
        if unknown:
            raise ValueError(f"caption_knn: prompt file {path}: unknown views {unknown}; views: {', '.join(VIEWS)}")
        views = words
    return Prompt(path.stem, views, body.strip())


class SceneCaptioner:
    """The embedded tier: a deterministic describer, fitted on the normals (no VLM)."""

    def __init__(self, describer: SceneDescriber):
        self.describer = describer

    def describe(self, image: np.ndarray, prompt: str = "") -> str:
        return self.describer.describe(image, prompt)


class VLMCaptioner:
    """The full tier: a vision-language model (`hub.load("captioner", "full")`, SmolVLM) answering the prompt."""

    def __init__(self, vlm, max_new_tokens: int = 160):
        self.vlm = vlm
        self.max_new_tokens = max_new_tokens

    def describe(self, image: np.ndarray, prompt: str) -> str:
        text = self.vlm.caption(image, prompt, max_new_tokens=self.max_new_tokens)
        return normalise_caption(text)


def normalise_caption(text: str) -> str:
    """Lower case, one space between words, one line per sentence: the format negatives and k-NN expect."""
    lines = [" ".join(line.lower().split()) for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line) or "no objects found."

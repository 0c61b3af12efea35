"""VID-AD's language-based logical detector: caption each image, fine-tune a text encoder, score by k-NN.

Embedded tier: a deterministic scene describer (segmentation, CIELAB colour names, learned
shape clusters and layout) writes the captions and all-MiniLM-L6-v2 embeds them. Full tier:
SmolVLM answers the scenario prompt and BERT-base embeds. A caption is embedded line by line
(`caption_lines`; `embedding="caption"` embeds it whole, as the paper does). Both tiers
fine-tune with NT-Xent on the normal captions against replacement-only contradictions, and
score a caption by 1 − 1 / (1 + mean distance to its k = 5 nearest normal captions).
"""
from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import hub
from methods import register
from methods.base import AnomalySample, Method, Prediction, Progress
from methods.exposure import Exposure, exposure_note
from methods.caption_knn.caption_lines import line_keys
from methods.caption_knn.captioners import SceneCaptioner, VLMCaptioner, load_prompt
from methods.caption_knn.knn import nearest
from methods.caption_knn.negatives import contradict
from methods.caption_knn.scene_describer import NO_OBJECTS, SceneDescriber
from methods.caption_knn.text_encoder import encode, fine_tune


@dataclass
class CaptionKNNConfig:
    prompt: str = "auto"  # prompts/<name>.txt or a path; "auto" learns the caption views from the normals
    captioner: str = "auto"  # auto (scene on embedded, vlm on full) | scene | vlm
    embedding: str = "lines"  # lines: each caption line in its own slot | caption: the whole caption at once
    epochs: int = 8
    batch_size: int = 16
    lr: float = 5e-5
    weight_decay: float = 1e-5
    temperature: float = 0.5
    k: int = 5
    max_new_tokens: int = 160
    max_text_chars: int = 10_000  # score_text refuses longer input
    auto_exposure: bool = False  # re-expose images 3× off the normals' brightness first (methods/exposure.py); off: README
    seed: int = 0


@register("caption_knn")
class CaptionKNN(Method):
    Config = CaptionKNNConfig
    smoke_config = {"epochs": 1}

    def __init__(self, config: Any = None, *, tier: str | None = None, device: str | None = None):
        super().__init__(config, tier=tier, device=device)
        c = self.config
        if c.captioner not in ("auto", "scene", "vlm"):
            raise ValueError(f"caption_knn: captioner must be auto, scene or vlm, got {c.captioner!r}")
        if c.embedding not in ("lines", "caption"):
            raise ValueError(f"caption_knn: embedding must be lines or caption, got {c.embedding!r}")
        if c.k < 1 or c.epochs < 0 or c.batch_size < 1:
            raise ValueError("caption_knn: k and batch_size must be ≥ 1 and epochs ≥ 0")
        self.prompt = load_prompt(c.prompt)  # a missing prompt file fails here, before any work
        self.describer = SceneDescriber(seed=c.seed)
        self._vlm: VLMCaptioner | None = None
        self.encoder = None
        self.captions: list[str] = []
        self.bank: np.ndarray | None = None  # (N, D), D = slots × the encoder's width for line embeddings
        self.keys: list[str] | None = None  # the line slots (embedding="lines")
        self.losses: list[float] = []
        self.exposure: Exposure | None = None

    @property
    def uses_vlm(self) -> bool:
        return self.config.captioner == "vlm" or (self.config.captioner == "auto" and self.tier == "full")

    def _captioner(self):
        if not self.uses_vlm:
            return SceneCaptioner(self.describer)
        if self._vlm is None:
            self._vlm = VLMCaptioner(hub.load("captioner", "full", device=self.device), self.config.max_new_tokens)
        return self._vlm

    # --- fit ----------------------------------------------------------------------------------
    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        c = self.config
        progress(0.0, "captioning the normal images")
        self.exposure = Exposure.fit(images) if c.auto_exposure else None
        if self.exposure is not None:  # a normal far off the others' exposure is seen as a test image would be
            images = [self.exposure(img) for img in images]
        if self.uses_vlm:
            cap = self._captioner()
            captions = [cap.describe(img, self.prompt.text) for img in images]
        else:
            captions = self.describer.fit(images, self.prompt.views)
        rng = np.random.default_rng(c.seed)
        shapes = self.describer.shapes.names if self.describer.shapes else []
        negatives = []
        for text in captions:
            try:
                negatives.append(contradict(text, rng, shapes, forbidden=captions))
            except ValueError:
                negatives.append(None)
        pairs = [(p, n) for p, n in zip(captions, negatives) if n is not None]
        self.keys = line_keys(captions) if c.embedding == "lines" else None
        base = hub.load("text_encoder", self.tier, device=self.device)
        if pairs and c.epochs > 0:
            self.encoder, self.losses = fine_tune(
                base, [p for p, _ in pairs], [n for _, n in pairs], epochs=c.epochs, batch_size=c.batch_size,
                lr=c.lr, weight_decay=c.weight_decay, temperature=c.temperature, seed=c.seed, keys=self.keys,
                progress=lambda f, d: progress(0.2 + 0.75 * f, d))
        else:
            self.encoder = copy.deepcopy(base).eval()
        self.captions = captions
        self.bank = encode(self.encoder, captions, keys=self.keys)
        progress(1.0, "done")

    # --- scoring ------------------------------------------------------------------------------
    def score_text(self, text: str) -> Prediction:
        """Score a caption a person typed (no image): the app's caption tab."""
        if not self.fitted:
            raise RuntimeError("caption_knn: call fit(normal_images) or load(dir) before score_text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("caption_knn: score_text needs a non-empty caption")
        if len(text) > self.config.max_text_chars:
            limit = self.config.max_text_chars
            raise ValueError(f"caption_knn: caption is {len(text)} characters; the limit is {limit}")
        return self._score([text.strip()], [None], [(1, 1)])[0]

    def _score(self, captions: list[str], objects: list, shapes: list[tuple[int, int]]) -> list[Prediction]:
        emb = encode(self.encoder, captions, keys=self.keys)
        dists, rows = nearest(emb, self.bank, self.config.k)  # rows[:, 0]: the normal caption to explain with
        preds = []
        for i, caption in enumerate(captions):
            normality = 1.0 / (1.0 + float(dists[i].mean()))
            score = 1.0 - normality
            if caption == NO_OBJECTS and NO_OBJECTS not in self.captions:
                score = 1.0  # nothing found where the normals always hold objects
            closest = self.captions[int(rows[i, 0])]
            diff = caption_diff(closest, caption)
            explanation = (f"caption: {caption}\nnearest normal caption: {closest}\n"
                           f"differs in: {', '.join(diff) if diff else 'nothing'}")
            amap = self._map(shapes[i], score, objects[i], closest)
            preds.append(Prediction(float(score), amap, explanation=explanation,
                                    details={"caption": caption, "nearest_normal_caption": closest,
                                             "differences": diff, "normality": normality}))
        return preds

    def _map(self, shape: tuple[int, int], score: float, objs, nearest: str) -> np.ndarray:
        """Flat at half the score; objects whose colour + shape the nearest normal caption lacks: the full score."""
        amap = np.full(shape, 0.5 * score, np.float32)
        if objs:
            for o in objs:
                if o.noun not in nearest and o.mask is not None and o.mask.shape == shape:
                    amap[o.mask] = score
        return amap

    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        captions, objects, gains = [], [], []
        for img in images:
            img, gain = self.exposure.apply(img) if self.exposure is not None else (img, 1.0)
            gains.append(gain)
            if self.uses_vlm:
                captions.append(self._captioner().describe(img, self.prompt.text))
                objects.append(None)
            else:
                caption, objs = self.describer.describe_objects(img)
                captions.append(caption)
                objects.append(objs)
        preds = self._score(captions, objects, [img.shape[:2] for img in images])
        for pred, gain in zip(preds, gains):
            pred.details["exposure_gain"] = round(gain, 3)
            if gain != 1.0:
                pred.explanation += f"\n{exposure_note(gain)}"
        return preds

    # --- persistence --------------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors = {"bank": self.bank}
        tensors.update({f"encoder.{k}": v for k, v in self.encoder.state_dict().items()})
        meta = {"captions": self.captions, "describer": self.describer.state(), "losses": self.losses,
                "line_keys": self.keys, "exposure_reference": self.exposure.reference if self.exposure else None}
        return tensors, json.loads(json.dumps(meta))

    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.bank = tensors["bank"]
        self.captions = list(meta["captions"])
        self.losses = list(meta.get("losses", []))
        self.keys = meta.get("line_keys")
        reference = meta.get("exposure_reference")
        self.exposure = Exposure(reference=reference) if reference is not None else None
        self.describer.set_state(meta["describer"])
        base = hub.load("text_encoder", self.tier, device=self.device)
        self.encoder = copy.deepcopy(base)
        prefix = "encoder."
        state = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in tensors.items() if k.startswith(prefix)}
        self.encoder.load_state_dict(state)
        self.encoder.eval()


def caption_diff(normal: str, caption: str) -> list[str]:
    """Word replacements, insertions and deletions that turn the normal caption into this one."""
    a, b = normal.split(), caption.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "replace":
            out.append(f"{' '.join(a[i1:i2])} → {' '.join(b[j1:j2])}")
        elif op == "delete":
            out.append(f"missing: {' '.join(a[i1:i2])}")
        elif op == "insert":
            out.append(f"extra: {' '.join(b[j1:j2])}")
    return out

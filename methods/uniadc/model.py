"""UniADC as a Method: synthesise anomalies from a prior (and samples), train the discriminator.

Fit, in order:
1. Split the normals into a fit part and a held-out part (`val_fraction`).
2. Synthesise `n_per_category` anomalies per category on the fit normals (prior-guided;
   sample-guided as well for categories that have real samples), and a smaller set on the
   held-out normals. Real samples themselves are training data too.
3. Extract frozen backbone features once for every image (cached, `max_cache_mb` caps it);
   a memory bank of the fit normals' patches gives every pixel its distance to the nearest
   normal patch, an extra input channel (leave-one-out for fit normals, so training sees the
   distances a test image would get).
4. Train the fusion head (focal + dice + 0.5 CE, AdamW) on labels at `label_stride` (the
   logits upsampled to that grid; a cell is anomalous when any of its pixels is, so defects
   a few pixels wide still teach the category) and keep the checkpoint with the lowest loss
   on the held-out *synthetic* split. The open-set threshold is set on that split's
   sample-guided anomalies when there are real samples, on all of it otherwise.
Nothing else reaches fit: no test image, no test mask.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from methods import register
from methods.backbone import FeatureExtractor, patch_features
from methods.base import AnomalySample, Method, Prediction, Progress
from methods.patchcore.coreset import greedy_coreset
from methods.uniadc.discriminator import (FusionHead, image_class, label_grid, open_set_threshold, total_loss,
                                          upsample_logits)
from methods.uniadc.foreground import PartModel, learn_parts, scene_foreground
from methods.uniadc.inpaint import synthesize
from methods.uniadc.prior import Category, Prior, load_prior, parse_prior
from methods.uniadc.sample_guided import synthesize_from_samples

OTHER = "Other"
NORMAL = "normal"
# Used when no prior is configured, so the method runs from the app without one: the
# structural defects common to most products, every shape and size allowed.
GENERIC_PRIOR = {
    "name": "object",
    "categories": {
        "scratch": {"description": "Thin scratches on the surface", "shape": "Line"},
        "hole": {"description": "A dark hole in the object", "shape": "Ellipse"},
        "stain": {"description": "A dark stain on the surface", "shape": ["Ellipse", "Perlin Noise"]},
        "contamination": {"description": "Foreign matter contamination on the object"},
    },
}


@dataclass
class UniADCConfig:
    prior: Optional[Union[str, dict[str, Any]]] = None  # YAML path or inline mapping; None: GENERIC_PRIOR
    object_name: str = ""  # for the normal class's text; default: the prior's name
    image_size: int = 256
    layers: tuple[int, ...] = (2, 4, 6)  # embedded: Lite0 stages of stride 8, 16, 32 into the head
    bank_layers: tuple[int, ...] = (2, 4)  # embedded: the stages PatchCore uses, for the normal distance
    vit_layers: tuple[int, ...] = (5, 8, 11)  # full: DINOv2 blocks into the head
    vit_bank_layers: tuple[int, ...] = (5, 8)
    normal_distance: bool = True  # feed each pixel's nearest-normal distance to the head
    coreset_ratio: float = 0.05
    n_per_category: int = 64  # synthetic training images per category (the paper: 16; 24 overfit by step 125)
    n_candidates: int = 4  # candidates per synthetic image for category-consistency selection
    object_parts: bool = True  # learn the scene's parts from the normals and put defects on them
    val_fraction: float = 0.25  # normals held out to synthesise the checkpoint-selection split
    width: int = 64
    context: int = 5  # neighbourhood (cells) of the head's second fusion layer; 1: per pixel
    steps: int = 600
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-2
    ce_weight: float = 0.5
    label_stride: int = 2  # labels and loss on a grid of this stride (pixels), the logits upsampled to it
    eval_every: int = 25
    threshold: float = 0.5  # anomaly probability above which a pixel is anomalous (the paper: 0.5)
    other_quantile: float = 0.02  # fraction of held-out known defects the open-set threshold gives up
    max_cache_mb: int = 1024
    smoothing_sigma: float = 2.0
    seed: int = 0


@dataclass
class _Item:
    """One training or held-out image with its labels at image resolution."""

    image: np.ndarray
    mask: np.ndarray  # (H, W) bool
    label: int  # 0 normal, k ≥ 1 category k
    source: int  # index of the fit normal it was made from; -1 when not made from a fit normal
    sample_guided: bool = False  # made from a real anomaly sample


@dataclass
class _Cached:
    maps: list[torch.Tensor]  # per layer (N, C, h, w) float16
    extra: Optional[torch.Tensor]  # (N, 1, h0, w0) float32
    target: torch.Tensor  # (N, hl, wl) float32, 1 where any pixel of the cell is anomalous
    classes: torch.Tensor  # (N, hl, wl) int64
    labels: list[int] = field(default_factory=list)
    sample_guided: list[bool] = field(default_factory=list)


def resolve_prior(value: Union[str, dict[str, Any], None]) -> Prior:
    if value is None:
        return Prior.model_validate(GENERIC_PRIOR)
    if isinstance(value, dict):
        import yaml

        return parse_prior(yaml.safe_dump(value, sort_keys=False), "config.prior")
    return load_prior(value)


def text_embeddings(texts: list[str], tier: str, device: str) -> torch.Tensor:
    """(T, E) unit-norm text embeddings: MiniLM (embedded) or CLIP's text tower (full)."""
    import hub

    if tier == "embedded":
        model = hub.load("text_encoder", tier=tier, device=device)
        emb = torch.as_tensor(model.encode(texts, convert_to_numpy=True, show_progress_bar=False))
    else:
        clip = hub.load("clip", tier=tier, device=device)
        with torch.inference_mode():
            emb = clip.model.encode_text(clip.tokenizer(texts).to(device)).float().cpu()
    return F.normalize(emb.float(), dim=1)


@register("uniadc")
class UniADC(Method):
    Config = UniADCConfig
    smoke_config: ClassVar[dict[str, Any]] = {"n_per_category": 2, "steps": 4, "eval_every": 2, "width": 8,
                                              "n_candidates": 1, "batch_size": 4, "image_size": 128}

    def __init__(self, config: Any = None, *, tier: str | None = None, device: str | None = None):
        super().__init__(config, tier=tier, device=device)
        c = self.config
        for name in ("coreset_ratio", "val_fraction", "threshold", "other_quantile"):
            if not 0.0 <= getattr(c, name) <= 1.0:
                raise ValueError(f"uniadc: {name} must be in [0, 1], got {getattr(c, name)}")
        if c.context < 1 or c.context % 2 == 0:
            raise ValueError(f"uniadc: context must be an odd number of cells ≥ 1, got {c.context}")
        if c.n_per_category < 1 or c.steps < 1 or c.batch_size < 1 or c.eval_every < 1 or c.label_stride < 1:
            raise ValueError("uniadc: n_per_category, steps, batch_size, eval_every and label_stride must be ≥ 1")
        self._extractor: Optional[FeatureExtractor] = None
        self.head: Optional[FusionHead] = None
        self.text: Optional[torch.Tensor] = None  # (K+1, E)
        self.bank: Optional[torch.Tensor] = None  # (M, d)
        self._bank_ids: Optional[torch.Tensor] = None  # (M,) which fit normal each bank row came from
        self.meta: dict[str, Any] = {}

    # --- features -------------------------------------------------------------------------
    @property
    def _layers(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        c = self.config
        if self.tier == "embedded":
            return tuple(c.layers), tuple(c.bank_layers)
        return tuple(c.vit_layers), tuple(c.vit_bank_layers)

    @property
    def extractor(self) -> FeatureExtractor:
        if self._extractor is None:
            head, bank = self._layers
            self._extractor = FeatureExtractor(self.tier, self.device, self.config.image_size,
                                               tuple(sorted(set(head) | set(bank))))
        return self._extractor

    def _features(self, images: list[np.ndarray]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Head maps (per layer, (B, C, h, w)) and bank patch features (B, d, h', w')."""
        head, bank = self._layers
        maps = dict(zip(self.extractor.layers, self.extractor(images)))
        return [maps[i] for i in head], patch_features([maps[i] for i in bank])

    def _distance(self, patches: torch.Tensor, grid: tuple[int, int], exclude: Optional[list[int]] = None,
                  bank_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, d, h', w') → (B, 1, *grid) nearest-normal distance / scale; `exclude[b]` drops that image's patches."""
        assert self.bank is not None
        b, d, h, w = patches.shape
        q = patches.permute(0, 2, 3, 1).reshape(b, h * w, d).float()
        bank_sq = (self.bank * self.bank).sum(1)
        out = []
        for i in range(b):
            d2 = (q[i] * q[i]).sum(1, keepdim=True) - 2 * q[i] @ self.bank.T + bank_sq  # (hw, M)
            if exclude is not None and exclude[i] >= 0:
                own = bank_ids == exclude[i]
                if not own.all():  # with a single fit normal there is nothing else to compare with
                    d2[:, own] = float("inf")
            out.append(d2.min(1).values.clamp_min(0).sqrt())
        dist = torch.stack(out).view(b, 1, h, w) / self.meta.get("distance_scale", 1.0)
        return F.interpolate(dist, size=grid, mode="bilinear", align_corners=False)

    # --- fit ---------------------------------------------------------------------------------
    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        c = self.config
        t0 = time.perf_counter()
        torch.manual_seed(c.seed)
        rng = np.random.default_rng(c.seed)
        prior = resolve_prior(c.prior)
        names, texts = self._classes(prior, anomalies)
        n = len(images)
        order = rng.permutation(n)
        n_val = min(max(1, int(round(n * c.val_fraction))), n - 1) if n >= 2 else 0
        val_idx, fit_idx = sorted(order[:n_val].tolist()), sorted(order[n_val:].tolist())
        fit_imgs = [images[i] for i in fit_idx]
        # With one normal there is nothing to hold out: the held-out split reuses it (recorded in meta).
        val_imgs = [images[i] for i in val_idx] or fit_imgs

        progress(0.02, "synthesising anomalies")
        by_cat = {name: [a for a in anomalies if a.category == name] for name in names[1:]}
        n_val_per = max(1, c.n_per_category // 4)
        parts = learn_parts(fit_imgs) if c.object_parts else None
        self.meta["typical_parts"] = parts.typical_parts if parts is not None else 0
        train = self._synthesise(fit_imgs, prior, names, by_cat, c.n_per_category, rng, True, progress, 0.02, 0.25,
                                 parts)
        train += [_Item(a.image, a.mask, names.index(a.category), -1) for a in anomalies]
        val = self._synthesise(val_imgs, prior, names, by_cat, n_val_per, rng, False, progress, 0.25, 0.32, parts)
        synth_s = time.perf_counter() - t0
        n_synth = len(train) + len(val) - len(fit_imgs) - len(val_imgs) - len(anomalies)

        progress(0.32, "backbone features")
        t1 = time.perf_counter()
        self.text = text_embeddings(texts, self.tier, self.device)
        train = self._cap(train, rng)
        self._build_bank([it.image for it in train if it.label == 0 and it.source >= 0], progress)
        cache = self._cache(train, progress, 0.4, 0.6, leave_one_out=True)
        val_cache = self._cache(val, progress, 0.6, 0.65, leave_one_out=False)
        feat_s = time.perf_counter() - t1

        t2 = time.perf_counter()
        history = self._train(cache, val_cache, progress)
        train_s = time.perf_counter() - t2
        confidences, correct, guided = self._held_out_classification(val_cache)
        # With real samples, the open-set threshold is set on the held-out anomalies made from them:
        # their confidences are closer to a real defect's than those of prior-guided ones.
        calibration = [i for i, g in enumerate(guided) if g] or list(range(len(guided)))
        self.meta.update(
            class_names=names, texts=texts, prior=prior.name, other_threshold=open_set_threshold(
                [confidences[i] for i in calibration], [correct[i] for i in calibration], c.other_quantile),
            other_calibration="sample-guided" if any(guided) else "prior-guided",
            held_out_accuracy=float(np.mean(correct)) if correct else None,
            fit_normals=fit_idx, val_normals=val_idx, n_train_images=len(train), n_val_images=len(val),
            n_anomaly_samples=len(anomalies), history=history,
            timing={"synthesis_s": round(synth_s, 2), "synthesis_s_per_image": round(synth_s / max(n_synth, 1), 4),
                    "features_s": round(feat_s, 2), "train_s": round(train_s, 2)},
        )
        progress(1.0, "done")

    def _classes(self, prior: Prior, anomalies: list[AnomalySample]) -> tuple[list[str], list[str]]:
        """Class names (normal first, prior order, then sample-only categories) and their texts."""
        obj = self.config.object_name or prior.name.replace("_", " ").replace("-", " ")
        names, texts = [NORMAL], [f"a normal {obj} without defects"]
        for name, cat in prior.categories.items():
            names.append(name)
            texts.append(cat.description)
        for a in anomalies:
            if a.category not in names:
                names.append(a.category)
                texts.append(f"{a.category.replace('_', ' ')} on the {obj}")
        if OTHER in names or len(set(names)) != len(names):
            raise ValueError(f"uniadc: category names must be unique and not {NORMAL!r} or {OTHER!r}: {names[1:]}")
        return names, texts

    def _synthesise(self, normals: list[np.ndarray], prior: Prior, names: list[str],
                    samples: dict[str, list[AnomalySample]], per_category: int, rng: np.random.Generator,
                    track_source: bool, progress: Progress, start: float, end: float,
                    part_model: Optional[PartModel] = None) -> list[_Item]:
        """The normals themselves plus `per_category` synthetic anomalies per category.

        Categories with real samples get half of theirs sample-guided (all, when the prior
        does not name them); the rest are prior-guided. With a part model, defects go on the
        scene's parts (see foreground.learn_parts).
        """
        c = self.config
        scenes = [scene_foreground(img, part_model) for img in normals]
        items = [_Item(img, np.zeros(img.shape[:2], bool), 0, i if track_source else -1)
                 for i, img in enumerate(normals)]
        # Normals in which the part model found no part would put defects on the bins: skip them.
        sources = [i for i, (_, parts) in enumerate(scenes) if parts] or list(range(len(normals)))
        total = per_category * (len(names) - 1)
        for k, name in enumerate(names[1:], start=1):
            cat: Optional[Category] = prior.categories.get(name)
            for j in range(per_category):
                src = sources[int(rng.integers(len(sources)))]
                use_samples = bool(samples[name]) and (cat is None or j % 2 == 1)
                fg, parts = scenes[src]
                if use_samples:
                    made = synthesize_from_samples(normals[src], samples[name], rng, c.n_candidates, fg, parts,
                                                   part_model)[0]
                else:
                    assert cat is not None
                    made = synthesize(normals[src], cat, rng, c.n_candidates, fg, parts=parts)
                items.append(_Item(made.image, made.mask, k, src if track_source else -1, use_samples))
                done = (k - 1) * per_category + j + 1
                progress(start + (end - start) * done / max(total, 1), "synthesising anomalies")
        return items

    def _cap(self, items: list[_Item], rng: np.random.Generator) -> list[_Item]:
        """Drop synthetic images evenly if the feature cache would pass `max_cache_mb`."""
        head, _ = self._layers
        s = self.config.image_size
        if self.tier == "embedded":
            from methods.backbone import LITE0_STAGES

            per_image = sum(LITE0_STAGES[i][0] * (s // LITE0_STAGES[i][1]) ** 2 for i in head) * 2
        else:
            per_image = len(head) * 768 * (s // 14) ** 2 * 2
        limit = max(1, int(self.config.max_cache_mb * 2**20 // per_image))
        self.meta["cache_mb"] = round(min(len(items), limit) * per_image / 2**20, 1)
        if len(items) <= limit:
            return items
        keep = [it for it in items if it.label == 0 or it.source < 0]
        synthetic = [it for it in items if it.label > 0 and it.source >= 0]
        room = max(0, limit - len(keep))
        pick = sorted(rng.choice(len(synthetic), size=min(room, len(synthetic)), replace=False).tolist())
        self.meta["cache_capped"] = True
        return keep + [synthetic[i] for i in pick]

    def _build_bank(self, normals: list[np.ndarray], progress: Progress) -> None:
        c = self.config
        if not c.normal_distance:
            self.bank = None
            return
        parts, ids = [], []
        for i in range(0, len(normals), 8):
            _, patches = self._features(normals[i : i + 8])
            b, d, h, w = patches.shape
            parts.append(patches.permute(0, 2, 3, 1).reshape(-1, d))
            ids.append(torch.arange(i, i + b).repeat_interleave(h * w))
        feats, owner = torch.cat(parts).float(), torch.cat(ids)
        size = max(1, int(len(feats) * c.coreset_ratio))
        idx = greedy_coreset(feats, size, seed=c.seed, progress=lambda f, d: progress(0.32 + 0.08 * f, "coreset"))
        self.bank, self._bank_ids = feats[idx].contiguous(), owner[idx]
        # Scale: the mean leave-one-out distance of the normals' own patches, so a typical normal pixel is ≈ 1.
        self.meta["distance_scale"] = 1.0
        sample = list(range(0, len(normals), max(1, len(normals) // 8)))
        _, patches = self._features([normals[i] for i in sample])
        dist = self._distance(patches, patches.shape[-2:], exclude=sample, bank_ids=self._bank_ids)
        finite = dist[torch.isfinite(dist)]
        self.meta["distance_scale"] = float(finite.mean()) if finite.numel() and float(finite.mean()) > 0 else 1.0

    def _cache(self, items: list[_Item], progress: Progress, start: float, end: float,
               leave_one_out: bool) -> _Cached:
        maps_per_layer: list[list[torch.Tensor]] = []
        extras, targets, classes = [], [], []
        bs = 8
        stride = self.config.label_stride
        label_size = (self.config.image_size // stride, self.config.image_size // stride)
        for i in range(0, len(items), bs):
            batch = items[i : i + bs]
            maps, patches = self._features([it.image for it in batch])
            grid = maps[0].shape[-2:]
            if not maps_per_layer:
                maps_per_layer = [[] for _ in maps]
            for store, m in zip(maps_per_layer, maps):
                store.append(m.half())
            if self.bank is not None:
                exclude = [it.source for it in batch] if leave_one_out else None
                extras.append(self._distance(patches, grid, exclude, self._bank_ids))
            for it in batch:
                target, cls = label_grid(it.mask, it.label, label_size)
                targets.append(torch.from_numpy(target))
                classes.append(torch.from_numpy(cls))
            progress(start + (end - start) * min(i + bs, len(items)) / len(items), "backbone features")
        return _Cached([torch.cat(s) for s in maps_per_layer], torch.cat(extras) if extras else None,
                       torch.stack(targets), torch.stack(classes), [it.label for it in items],
                       [it.sample_guided for it in items])

    def _train(self, cache: _Cached, val: _Cached, progress: Progress) -> list[dict[str, float]]:
        c = self.config
        assert self.text is not None
        extra = 1 if cache.extra is not None else 0
        self.head = FusionHead([m.shape[1] for m in cache.maps], extra, c.width, self.text.shape[1],
                               c.context).to(self.device)
        opt = torch.optim.AdamW(self.head.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c.steps)
        gen = torch.Generator().manual_seed(c.seed)
        n = cache.target.shape[0]
        history: list[dict[str, float]] = []
        best: tuple[float, int, dict[str, torch.Tensor]] = (float("inf"), 0, {})
        with torch.inference_mode(False), torch.enable_grad():
            # The cache was built from inference-mode tensors; autograd needs ordinary copies.
            maps = [m.clone() for m in cache.maps]
            extras = None if cache.extra is None else cache.extra.clone()
            target, classes = cache.target.clone(), cache.classes.clone()
            for step in range(1, c.steps + 1):
                self.head.train()
                idx = torch.randint(0, n, (min(c.batch_size, n),), generator=gen)
                logits = self.head([m[idx] for m in maps], None if extras is None else extras[idx], self.text.clone())
                logits = upsample_logits(logits, target.shape[-2:])
                loss = total_loss(logits, target[idx], classes[idx], c.ce_weight)["total"]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                if step % c.eval_every == 0 or step == c.steps:
                    val_loss = self._loss_on(val)
                    history.append({"step": step, "train_loss": round(float(loss.detach()), 5), "val_loss": round(val_loss, 5)})
                    if val_loss < best[0]:
                        best = (val_loss, step, copy.deepcopy(self.head.state_dict()))
                progress(0.65 + 0.3 * step / c.steps, "training discriminator")
        self.head.load_state_dict(best[2])
        self.head.eval()
        self.meta.update(best_step=best[1], best_val_loss=round(best[0], 5))
        return history

    @torch.inference_mode()
    def _logits(self, maps: list[torch.Tensor], extra: Optional[torch.Tensor]) -> torch.Tensor:
        assert self.head is not None and self.text is not None
        self.head.eval()
        return self.head(maps, extra, self.text)

    def _loss_on(self, val: _Cached) -> float:
        total, n = 0.0, val.target.shape[0]
        for i in range(0, n, 32):
            sl = slice(i, i + 32)
            logits = self._logits([m[sl] for m in val.maps], None if val.extra is None else val.extra[sl])
            logits = upsample_logits(logits, val.target.shape[-2:])
            part = total_loss(logits, val.target[sl], val.classes[sl], self.config.ce_weight)["total"]
            total += float(part) * logits.shape[0]
        return total / n

    def _held_out_classification(self, val: _Cached) -> tuple[list[float], list[bool], list[bool]]:
        """Confidence, correctness and sample-guidedness of the image class on the held-out synthetic anomalies."""
        confidences, correct, guided = [], [], []
        for i, label in enumerate(val.labels):
            if label == 0:
                continue
            logits = self._logits([m[i : i + 1] for m in val.maps], None if val.extra is None else val.extra[i : i + 1])
            probs = logits.softmax(1)[0].numpy()
            k, conf = image_class(1 - probs[0], probs[1:] / np.clip(1 - probs[0], 1e-6, None), self.config.threshold)
            confidences.append(conf)
            correct.append(k == label)
            guided.append(val.sample_guided[i])
        return confidences, correct, guided

    # --- predict -----------------------------------------------------------------------------
    @torch.inference_mode()
    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        preds = []
        for i in range(0, len(images), 8):
            batch = images[i : i + 8]
            maps, patches = self._features(batch)
            extra = self._distance(patches, maps[0].shape[-2:]) if self.bank is not None else None
            probs = self._logits(maps, extra).softmax(1)  # (B, K+1, h, w)
            for img, p in zip(batch, probs):
                preds.append(self._prediction(img, p))
        return preds

    def _prediction(self, img: np.ndarray, probs: torch.Tensor) -> Prediction:
        c = self.config
        names = self.meta["class_names"]
        h, w = img.shape[:2]
        full = F.interpolate(probs[None], size=(h, w), mode="bilinear", align_corners=False)[0].numpy()
        anomaly = 1.0 - full[0]
        if c.smoothing_sigma > 0:
            s = c.smoothing_sigma * max(h, w) / 256.0
            anomaly = cv2.GaussianBlur(anomaly, (0, 0), sigmaX=s, sigmaY=s, borderType=cv2.BORDER_REFLECT)
        anomaly = np.ascontiguousarray(anomaly, dtype=np.float32)
        class_probs = full[1:] / np.clip(1.0 - full[0], 1e-6, None)  # p(category | anomalous)
        class_map = np.where(anomaly > c.threshold, class_probs.argmax(0) + 1, 0).astype(np.int32)
        k, confidence = image_class(anomaly, class_probs, c.threshold)
        other = confidence < self.meta["other_threshold"]
        name = OTHER if other else names[k]
        score = float(anomaly.max())
        verdict = "anomalous" if score > c.threshold else "normal"
        explanation = (f"{verdict} (max anomaly probability {score:.2f}); most likely defect: {name} "
                       f"(confidence {confidence:.2f}" + (f" < open-set threshold {self.meta['other_threshold']:.2f})"
                                                           if other else ")"))
        details = {"class_names": list(names), "confidence": round(confidence, 4), "best_category": names[k],
                   "anomalous": score > c.threshold}
        return Prediction(score=score, anomaly_map=anomaly, class_map=class_map, class_name=name,
                          explanation=explanation, details=details)

    # --- persistence -------------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.head is not None and self.text is not None
        tensors: dict[str, Any] = {f"head.{k}": v for k, v in self.head.state_dict().items()}
        tensors["text"] = self.text
        if self.bank is not None:
            tensors["bank"] = self.bank
        shapes = {"in_channels": [m.in_channels for m in self.head.lateral], "extra": self.head.extra_channels,
                  "text_dim": int(self.text.shape[1]), "context": self.head.context}
        return tensors, dict(self.meta, shapes=shapes)

    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        sh = meta["shapes"]
        self.head = FusionHead(sh["in_channels"], sh["extra"], self.config.width, sh["text_dim"],
                               sh.get("context", 1)).to(self.device)
        self.head.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("head.")})
        self.head.eval()
        self.text = torch.from_numpy(tensors["text"]).to(self.device)
        self.bank = torch.from_numpy(tensors["bank"]).to(self.device) if "bank" in tensors else None
        self.meta = {k: v for k, v in meta.items() if k != "shapes"}

"""UniAD: one student distilled from a structural teacher and a logical teacher, plus a text-guided check.

Our reading of the paper (methods/uniad/README.md says what it states and what we chose):
the structural teacher is the tier backbone's multi-scale local features; the logical teacher is
the backbone's whole-image deep map together with a component-composition descriptor from a
colour segmentation; one student (a small trunk on the backbone's frozen stem) has a local branch
for the first and a bottlenecked global branch for the second. The logical teacher also keeps a
memory of the fit normals' deep-map cells. Discrepancies and memory distances are z-scored on
normals held out of the fit, the component rules the normals obey are compared as sentences, and
the score sums the square roots of the positive z-scores.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Optional

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from methods import register
from methods.backbone import upsample_map
from methods.base import AnomalySample, Method, Prediction, Progress
from methods.exposure import Exposure, exposure_note
from methods.uniad import components as comp
from methods.uniad.model import (
    MapNorm, ScoreNorm, Student, Teachers, channel_stats, discrepancy_maps, nearest_cell_distances,
    nearest_normal_distances,
)
from methods.uniad.text_check import TextChecker, mine_rules, rules_from_json, rules_to_json, typical_sizes

# Descriptor std floors per feature (area, count, cx, cy, spread, max_blob, min_blob): a feature
# constant on the normals must still give a finite, comparable error when it changes.
DESC_STD_FLOOR = np.array([0.01, 0.5, 0.03, 0.03, 0.02, 0.005, 0.005], np.float32)
BRANCHES = ("structural", "logical", "text")


@dataclass
class UniADConfig:
    image_size: int = 256
    layers: tuple[int, ...] = (2, 4)  # embedded structural teacher: Lite0 stages of stride 8 and 16
    deep_layer: int = 6  # embedded logical teacher: Lite0 stage of stride 32
    vit_layers: tuple[int, ...] = (5, 8)  # full structural teacher: DINOv2 blocks
    vit_deep_layer: int = 11  # full logical teacher: DINOv2 last block
    seg_size: int = 128  # grid of the colour segmentation
    n_colours: int = 8  # most colour classes tried (K is picked by count stability on the normals)
    min_blob: int = 12  # pixels (at seg_size) for a blob to count as a component
    width: int = 64  # student trunk width
    bottleneck: int = 32  # width of the global branch's code
    steps: int = 400
    batch_size: int = 8
    lr: float = 1e-3
    val_fraction: float = 0.2  # normals held out of the student's fit to normalise discrepancies
    fired_z: float = 3.0  # a branch "fires" above this many held-out standard deviations
    text_check: bool = True
    auto_exposure: bool = True  # scale under- or over-exposed images to the normals' brightness (methods/exposure.py)
    text_floor: float = 0.05  # std floor of the text score (1 − cosine units)
    smoothing_sigma: float = 4.0
    seed: int = 0


@register("uniad")
class UniAD(Method):
    Config = UniADConfig
    smoke_config: ClassVar[dict[str, Any]] = {"steps": 3, "batch_size": 2, "width": 8, "n_colours": 3}

    def __init__(self, config: Any = None, *, tier: str | None = None, device: str | None = None):
        super().__init__(config, tier=tier, device=device)
        self._teachers: Optional[Teachers] = None
        self._text: Optional[TextChecker] = None
        self.student: Optional[Student] = None
        self.loss_history: list[float] = []
        self.stats: dict[str, torch.Tensor] = {}
        self.meta: dict[str, Any] = {}

    # --- pieces --------------------------------------------------------------------------
    @property
    def teachers(self) -> Teachers:
        if self._teachers is None:
            c = self.config
            self._teachers = Teachers(self.tier, self.device, c.image_size, c.layers, c.vit_layers, c.deep_layer,
                                      c.vit_deep_layer)
        return self._teachers

    def _encoder(self):
        import hub

        model = hub.load("text_encoder", tier=self.tier, device=self.device)
        return lambda texts: model.encode(texts, convert_to_numpy=True, show_progress_bar=False)

    def _checker(self) -> Optional[TextChecker]:
        if not self.config.text_check:
            return None
        if self._text is None:
            m = self.meta
            self._text = TextChecker(rules_from_json(m["rules"]), m["cluster_names"],
                                     self.stats["typical"].numpy(), self._encoder())
        return self._text

    def _teach(self, images: list[np.ndarray]) -> dict[str, Any]:
        """Frozen teacher outputs and composition descriptors, standardised where stats exist."""
        c = self.config
        gains = [1.0] * len(images)
        if "exposure" in self.stats:
            exposure = Exposure(reference=float(self.stats["exposure"][0]))
            images, gains = map(list, zip(*(exposure.apply(img) for img in images)))
        t = self.teachers(images)
        out = {"stem": t.stem, "struct": t.structural, "deep": t.deep, "gains": gains}
        if "palette" in self.stats:
            palette = self._palette()
            segmenter = comp.segmenter_from_array(self.stats["segmenter"].cpu().numpy())
            labels = [comp.segment(img, palette, segmenter, c.seg_size, c.min_blob) for img in images]
            out["labels"] = labels
            out["desc"] = torch.from_numpy(np.stack([comp.describe(l, palette.n_labels, c.min_blob) for l in labels]))
        return out

    def _palette(self) -> comp.Palette:
        shape = self.stats.get("palette_shape")
        return comp.Palette.from_array(self.stats["palette"].cpu().numpy(),
                                       None if shape is None else shape.cpu().numpy())

    def _standardise(self, raw: dict[str, Any]) -> dict[str, Any]:
        s = self.stats
        return {
            "stem": raw["stem"],
            "struct": [(m - s[f"struct_mean_{i}"]) / s[f"struct_std_{i}"] for i, m in enumerate(raw["struct"])],
            "deep": (raw["deep"] - s["deep_mean"]) / s["deep_std"],
            "desc": ((raw["desc"] - s["desc_mean"]) / s["desc_std"]).flatten(1),
        }

    # --- fit -------------------------------------------------------------------------------
    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        c = self.config
        rng = np.random.default_rng(c.seed)
        order = rng.permutation(len(images))
        n_val = int(round(len(images) * c.val_fraction)) if len(images) >= 5 else 0
        val_idx, fit_idx = order[:n_val], order[n_val:]
        if n_val == 0:
            val_idx = fit_idx  # too few normals to hold any out: normalise on the fit set itself
        fit_imgs, val_imgs = [images[i] for i in fit_idx], [images[i] for i in val_idx]
        if c.auto_exposure:  # a normal far off the others' exposure is seen as a test image would be
            exposure = Exposure.fit(fit_imgs)
            fit_imgs, val_imgs = [exposure(img) for img in fit_imgs], [exposure(img) for img in val_imgs]

        # Logical teacher, hand-made half: palette, names, descriptors of the fit normals.
        t0 = time.perf_counter()
        segmenter = comp.fit_segmenter(fit_imgs)
        palette = comp.fit_palette(fit_imgs, segmenter, c.n_colours, c.seg_size, c.seed, c.min_blob)
        self.stats = {"palette": torch.from_numpy(palette.to_array()),
                      "segmenter": torch.from_numpy(comp.segmenter_to_array(segmenter))}
        if palette.shapes is not None:
            self.stats["palette_shape"] = torch.from_numpy(palette.shape_array())
        if c.auto_exposure:
            self.stats["exposure"] = torch.tensor([exposure.reference], dtype=torch.float32)
        progress(0.05, "palette")
        fit_raw = self._batched(fit_imgs, progress, 0.05, 0.2)
        descs = fit_raw["desc"]  # (N, K, F)
        self.stats["desc_mean"] = descs.mean(0)
        spread = descs.std(0, unbiased=False) if len(descs) > 1 else torch.zeros_like(descs[0])
        self.stats["desc_std"] = torch.maximum(spread, torch.from_numpy(DESC_STD_FLOOR)[None].expand_as(descs[0]))
        for i, m in enumerate(fit_raw["struct"]):
            self.stats[f"struct_mean_{i}"], self.stats[f"struct_std_{i}"] = channel_stats(m)
        self.stats["deep_mean"], self.stats["deep_std"] = channel_stats(fit_raw["deep"])
        self.stats["typical"] = torch.from_numpy(typical_sizes(descs.numpy()).astype(np.float32))
        names = comp.cluster_names(palette)
        progress(0.2, f"component types by {palette.space}: {', '.join(names[:-1])}")
        feat_s = time.perf_counter() - t0

        # Student: one trunk, two branches, trained on cached teacher outputs only.
        t1 = time.perf_counter()
        target = self._standardise(fit_raw)
        self.stats["deep_bank"] = target["deep"].permute(0, 2, 3, 1).reshape(-1, target["deep"].shape[1]).contiguous()
        self.stats["desc_bank"] = target["desc"].contiguous()
        torch.manual_seed(c.seed)  # right here, so nothing drawn earlier in the fit or the process moves the student
        self.student = self._new_student(target)
        self.loss_history = self._train(target, progress)
        train_s = time.perf_counter() - t1

        # Held-out normals: rules, map and score normalisation.
        val_raw = self._batched(val_imgs, progress, 0.85, 0.95)
        rules = mine_rules(descs.numpy(), val_raw["desc"].numpy(), names, self.stats["typical"].numpy())
        self.meta = {"cluster_names": names, "type_space": palette.space, "rules": rules_to_json(rules), "n_fit": len(fit_idx), "n_val": int(n_val)}
        self._text = None
        raw_scores = self._raw_scores(val_raw, norms=None)
        self.meta["norms"] = {
            "struct_map": vars(MapNorm.fit(np.stack(raw_scores["struct_map"]))),
            "deep_map": vars(MapNorm.fit(np.stack(raw_scores["deep_map"]))),
            "cluster_map": vars(MapNorm.fit(np.stack(raw_scores["cluster_map"]))),
            "memory_map": vars(MapNorm.fit(np.stack(raw_scores["memory_map"]))),
        }
        scores = self._raw_scores(val_raw, norms=self.meta["norms"])
        self.meta["scores"] = {
            "structural": vars(ScoreNorm.fit(scores["structural"], floor=0.05)),
            "deep": vars(ScoreNorm.fit(scores["deep"], floor=0.05)),
            "components": vars(ScoreNorm.fit(scores["components"], floor=0.05)),
            "memory": vars(ScoreNorm.fit(scores["memory"], floor=0.05)),
            "composition": vars(ScoreNorm.fit(scores["composition"], floor=0.05)),
            "text": vars(ScoreNorm.fit(scores["text"], floor=c.text_floor)),
        }
        self.meta.update(loss_history=self.loss_history, feature_s=round(feat_s, 2), train_s=round(train_s, 2))
        progress(1.0, "done")

    def _batched(self, images: list[np.ndarray], progress: Progress, start: float, end: float) -> dict[str, Any]:
        bs = 8
        parts = []
        for i in range(0, len(images), bs):
            parts.append(self._teach(images[i : i + bs]))
            progress(start + (end - start) * min(i + bs, len(images)) / len(images), "teacher features")
        return {
            "stem": torch.cat([p["stem"] for p in parts]),
            "struct": [torch.cat([p["struct"][j] for p in parts]) for j in range(len(parts[0]["struct"]))],
            "deep": torch.cat([p["deep"] for p in parts]),
            "desc": torch.cat([p["desc"] for p in parts]),
            "labels": [l for p in parts for l in p["labels"]],
        }

    def _new_student(self, target: dict[str, Any]) -> Student:
        c = self.config
        return Student([m.shape[1] for m in target["struct"]], target["deep"].shape[1], target["desc"].shape[1],
                       width=c.width, bottleneck=c.bottleneck).to(self.device)

    def _train(self, target: dict[str, Any], progress: Progress) -> list[float]:
        c = self.config
        student = self.student
        assert student is not None
        opt = torch.optim.Adam(student.parameters(), lr=c.lr, weight_decay=1e-5)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(c.steps, 1))
        gen = torch.Generator().manual_seed(c.seed)
        n = target["stem"].shape[0]
        history = []
        student.train()
        with torch.inference_mode(False), torch.enable_grad():
            tensors = {k: (v.clone() if torch.is_tensor(v) else [m.clone() for m in v]) for k, v in target.items()}
            for step in tqdm(range(c.steps), desc="uniad student", leave=False):
                idx = torch.randint(0, n, (min(c.batch_size, n),), generator=gen)
                s_struct, s_deep, s_desc = student(tensors["stem"][idx])
                loss_struct = sum(F.mse_loss(_fit_to(s, t[idx]), t[idx]) for s, t in zip(s_struct, tensors["struct"]))
                loss_struct = loss_struct / len(s_struct)
                loss_logic = F.mse_loss(_fit_to(s_deep, tensors["deep"][idx]), tensors["deep"][idx]) + F.mse_loss(
                    s_desc, tensors["desc"][idx])
                loss = loss_struct + loss_logic
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                history.append(float(loss.detach()))
                progress(0.2 + 0.65 * (step + 1) / c.steps, "training student")
        student.eval()
        return history

    # --- scoring ---------------------------------------------------------------------------
    @torch.inference_mode()
    def _raw_scores(self, raw: dict[str, Any], norms: Optional[dict[str, dict]]) -> dict[str, list]:
        """Per image: the three discrepancy maps (raw or normalised) and the image-level sub-scores."""
        assert self.student is not None
        grid = raw["struct"][0].shape[-1]
        std = self._standardise(raw)
        out_s = self.student(std["stem"])
        struct, deep, desc_err = discrepancy_maps(out_s, std["struct"], std["deep"], std["desc"], grid)
        k = self._palette().n_labels
        per_cluster = (out_s[2] - std["desc"]).view(-1, k, comp.N_FEATURES).pow(2).mean(2)  # (B, K)
        per_cluster = torch.cat([per_cluster, torch.zeros_like(per_cluster[:, :1])], 1)  # label -1 (background) → 0
        memory = nearest_cell_distances(std["deep"], self.stats["deep_bank"])  # (B, h_d, w_d)
        composition = (nearest_normal_distances(std["desc"], self.stats["desc_bank"])
                       if "desc_bank" in self.stats else torch.zeros(struct.shape[0]))
        memory = F.interpolate(memory[:, None], size=(grid, grid), mode="bilinear", align_corners=False)[:, 0]
        checker = self._checker() if norms is not None else None
        out: dict[str, list] = {key: [] for key in ("struct_map", "deep_map", "cluster_map", "memory_map", "structural",
                                                   "deep", "components", "memory", "composition", "text", "rule")}
        for b in range(struct.shape[0]):
            labels = torch.from_numpy(raw["labels"][b]).long()  # -1 indexes the background's 0
            cmap = per_cluster[b][labels][None, None]  # (1, 1, seg, seg): each pixel gets its cluster's error
            cmap = F.adaptive_avg_pool2d(cmap, grid)[0, 0]
            s_map, d_map, m_map = struct[b], deep[b], memory[b]
            if norms is not None:
                s_map, d_map = MapNorm(**norms["struct_map"])(s_map), MapNorm(**norms["deep_map"])(d_map)
                cmap, m_map = MapNorm(**norms["cluster_map"])(cmap), MapNorm(**norms["memory_map"])(m_map)
            out["struct_map"].append(s_map.cpu().numpy())
            out["deep_map"].append(d_map.cpu().numpy())
            out["cluster_map"].append(cmap.cpu().numpy())
            out["memory_map"].append(m_map.cpu().numpy())
            out["structural"].append(float(s_map.max()))
            out["deep"].append(float(d_map.mean()))
            out["components"].append(float(desc_err[b]))
            out["memory"].append(float(memory[b].max()))
            out["composition"].append(float(composition[b]))
            if checker is not None:
                t, rule = checker.check(raw["desc"][b].numpy())
            else:
                t, rule = 0.0, None
            out["text"].append(t)
            out["rule"].append(rule)
        return out

    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        preds = []
        for i in range(0, len(images), 8):
            batch = images[i : i + 8]
            raw = self._teach(batch)
            r = self._raw_scores(raw, norms=self.meta["norms"])
            for j, img in enumerate(batch):
                preds.append(self._prediction(img, r, j, raw["gains"][j]))
        return preds

    def _prediction(self, img: np.ndarray, r: dict[str, list], j: int, gain: float = 1.0) -> Prediction:
        sn = {k: ScoreNorm(**v) for k, v in self.meta["scores"].items()}
        z = {
            "structural": sn["structural"](r["structural"][j]),
            "logical_deep": sn["deep"](r["deep"][j]),
            "logical_components": sn["components"](r["components"][j]),
            "logical_memory": sn["memory"](r["memory"][j]),
            "logical_composition": sn["composition"](r["composition"][j]) if "composition" in sn else -math.inf,
            "text": sn["text"](r["text"][j]) if self.config.text_check else -math.inf,
        }
        logical = max(z["logical_deep"], z["logical_components"], z["logical_memory"], z["logical_composition"])
        branch = {"structural": z["structural"], "logical": logical, "text": z["text"]}
        top = max(branch, key=branch.get)
        score = fused_score(z.values())
        logical_map = np.maximum(np.maximum(r["deep_map"][j], r["cluster_map"][j]), r["memory_map"][j])
        amap = np.maximum(r["struct_map"][j], logical_map)
        fired = [b for b in BRANCHES if branch[b] > self.config.fired_z]
        rule = r["rule"][j]
        if fired:
            explanation = f"{top} branch fired (z = {branch[top]:.1f})"
            if rule is not None and ("text" in fired or "logical" in fired):
                explanation += f"; text check expected '{rule['expected']}', found '{rule['found']}'"
        else:
            explanation = f"no branch fired (highest: {top}, z = {branch[top]:.1f})"
        if gain != 1.0:
            explanation += f"; {exposure_note(gain)}"
        details = {k: float(v) for k, v in z.items() if math.isfinite(v)}
        details.update(branch=top, fired=fired, rule=rule, exposure_gain=round(gain, 3))
        class_name = ("structural" if top == "structural" else "logical") if fired else None
        amap = upsample_map(amap, img.shape[:2], self.config.smoothing_sigma)
        return Prediction(score=float(score), anomaly_map=amap,
                          class_name=class_name, explanation=explanation, details=details)

    # --- persistence -----------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.student is not None
        tensors = {f"stats.{k}": v for k, v in self.stats.items()}
        tensors.update({f"student.{k}": v for k, v in self.student.state_dict().items()})
        shapes = {"struct_channels": [h.out_channels for h in self.student.heads],
                  "deep_channels": self.student.deep_channels, "desc_dim": self.student.decode_desc.out_features}
        return tensors, dict(self.meta, shapes=shapes)

    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        c = self.config
        self.stats = {k[6:]: torch.from_numpy(v).to(self.device) for k, v in tensors.items() if k.startswith("stats.")}
        sh = meta["shapes"]
        self.student = Student(sh["struct_channels"], sh["deep_channels"], sh["desc_dim"], width=c.width,
                               bottleneck=c.bottleneck).to(self.device)
        weights = {k[8:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("student.")}
        self.student.load_state_dict(weights)
        self.student.eval()
        self.meta = {k: v for k, v in meta.items() if k != "shapes"}
        self.loss_history = list(meta.get("loss_history", []))
        self._text = None

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        if self.loss_history:
            write_loss_curve(self.loss_history, directory / "loss_curve.html")
        return directory


def fused_score(z_scores) -> float:
    """Sum of the square roots of the positive held-out z-scores of every sub-signal.

    Evidence adds up: an anomaly usually lifts several signals a little, while a normal image
    that happens to lift one (a noisy rule, an unusual pose) does not outrank it, as it would
    under the largest z alone. The square root gives each signal diminishing returns, so a
    capture change that lifts one signal by tens of deviations on every image (blurred deep
    features, a cable under the memory) does not drown the signals that still tell images apart.
    """
    return float(sum(math.sqrt(max(v, 0.0)) for v in z_scores if math.isfinite(v)))


def _fit_to(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    if s.shape[-2:] == t.shape[-2:]:
        return s
    return F.interpolate(s, size=t.shape[-2:], mode="bilinear", align_corners=False)


def write_loss_curve(history: list[float], path: Path) -> Path:
    """The student's training loss as a self-contained plotly HTML page."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(y=history, mode="lines", name="loss"))
    fig.update_layout(title="UniAD student: distillation loss", xaxis_title="step",
                      yaxis_title="loss (standardised MSE)",
                      yaxis_type="log")
    fig.write_html(str(path), include_plotlyjs=True)
    return path

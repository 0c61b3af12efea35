"""LogSAD (Zhang et al., CVPR 2025): training-free logical and structural anomaly detection.

Four detectors, each calibrated on held-out normal images and fused by their maximum:
patch matching (a memory bank of normal patch features), interest matching (components
matched to the normals' with the Hungarian algorithm), composition matching (the histogram
of component assignments) and the rules of an editable rule file (mined from the normals
when none is given). See methods/logsad/README.md.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from scipy.special import expit

from methods import register
from methods.backbone import FeatureExtractor, patch_features, to_tensor, upsample_map
from methods.base import AnomalySample, Method, Prediction, Progress
from methods.exposure import Exposure, exposure_note
from methods.logsad import rules as rulefile
from methods.logsad.calibration import Calibrator, fuse
from methods.logsad.composition import RuleResult, check_all, histogram, histogram_distance
from methods.logsad.interest_matching import match_score
from methods.logsad.mining import MiningConfig, assign, mine
from methods.logsad.prints import find_prints, label_region, read
from methods.logsad.segmentation import (CABLE_STRIPS, EMBEDDED_SEGMENTERS, Component, SegmenterConfig,
                                         learn_embedded, segment_embedded, segment_masks)
from methods.patchcore.coreset import greedy_coreset
from methods.patchcore.memory_bank import nearest_distances

log = logging.getLogger("methods.logsad")
DETECTORS = ("patch", "interest", "composition", "rules")
RULES_FLOOR = 1e-3  # σ of the rules detector when held-out normals break none: one broken rule scores 1


@dataclass
class LogSADConfig:
    rules: str = ""  # a rule file to use; empty: mine one from the normals
    image_size: int = 256  # embedded backbone input
    layers: tuple[int, ...] = (2, 4)  # EfficientNet-Lite0 stages (stride 8 and 16)
    clip_layers: tuple[int, ...] = (5, 11, 17, 23)  # full tier: four stages of ViT-L/14, as the paper
    neighbourhood: int = 3
    coreset_ratio: float = 0.1
    max_coreset: int = 1000  # bounds fit and predict time on CPU (below `few_shot_below` normals every patch is kept)
    holdout: float = 0.25  # share of normals held out for calibration ...
    leave_one_out_below: int = 10  # ... or leave-one-out calibration with fewer normals
    # Below this many normals rules mined from them count as much as they are rarer than on held-out
    # normals; from more, or with a given rule file, a broken rule decides (Eq. 4): under cables and
    # meshes the other detectors saturate and the rules are what still ranks the images.
    calibrate_rules_below: int = 10
    detectors: tuple[str, ...] = DETECTORS
    # Below `few_shot_below` normals only these of `detectors` score: interest and composition
    # matching against three or four reference images take an unseen normal arrangement for an
    # anomaly (three dev draws of 4 and 8 normals: patch + rules gained 0.010–0.027 logical and
    # 0.014–0.023 structural over all four).
    few_shot_detectors: tuple[str, ...] = ("patch", "rules")
    few_shot_below: int = 10
    appearance_weight: float = 1.0  # appearance vs descriptor in the interest-matching features
    smoothing_sigma: float = 4.0
    # Embedded: "colour" (segmentation.py) or "scene" (caption_knn's object finder, which also finds grey
    # parts by shading and outline). Colour by default: scene mode won on some scenarios (Tapes, Sticks
    # under cables) and lost more under meshes, blur and low light (methods/logsad/README.md).
    segmenter: str = "colour"
    # Colour segmenter: a differently coloured piece on a large part's outline with an inradius up to this
    # many pixels is its fringe (wire crossings blurred into its edge behind a mesh), not a second part.
    fringe_radius: float = 2.5
    # White balance on the table between a mesh's wires when the border's lightness spreads wider than
    # this (interquartile range over median; a plain table stays below 0.18, a mesh above 0.2).
    textured_border: float = 0.2
    # Cables under the objects (colour segmenter): "reaching" takes out foreground coloured as it is where it
    # crosses the border, a colour no normal object has wherever it shows, an object's colour only where it
    # reaches the border, never a patch wider than a cable; "anywhere" (caption_knn's and UniAD's
    # reading) takes out every cable-coloured pixel; "off" leaves cables to the border-part drop.
    strip_cables: str = "reaching"
    auto_exposure: bool = True  # re-expose images far darker or brighter than the normals (methods/exposure.py)
    batch_size: int = 8
    sam_points_per_side: int = 16
    sam_pred_iou_thresh: float = 0.86
    sam_stability_score_thresh: float = 0.92
    seed: int = 0

    def segmenter_settings(self) -> SegmenterConfig:
        """The colour segmenter's fixed settings; `learn_segmenter` learns the rest from the normals."""
        return SegmenterConfig(fringe_radius=self.fringe_radius, textured_border=self.textured_border,
                               strip_cables=self.strip_cables)


@dataclass
class Analysis:
    """One image seen by the detectors."""

    patch_feats: torch.Tensor  # (h, w, d)
    components: list[Component]
    comp_feats: np.ndarray  # (n_components, d_app + d_desc)
    shape: tuple[int, int]  # the input image's (H, W)
    exposure_gain: float = 1.0  # how much the image was re-exposed before it was seen (1: not at all)
    prints: list[np.ndarray] | None = None  # templates of the prints on its labels, when the rules read labels
    print_boxes: list[tuple[float, float, float, float]] | None = None  # where each print is (image fractions)


def _rules_judge(rule_file: rulefile.RuleFile):
    """How well a given rule file holds on normals segmented one way: minus the rules they break.

    A rule file is mined (or written) with one segmentation; learned from a few other normals,
    the thresholds may split parts differently and break rules on every normal.
    """
    def judge(per_image: list[list[Component]]) -> float:
        broken = 0
        for comps in per_image:
            assign(comps, rule_file.interests)
            broken += sum(not r.holds for r in check_all(rule_file, comps))
        return -broken / max(len(per_image), 1)

    return judge


@register("logsad")
class LogSAD(Method):
    Config = LogSADConfig
    smoke_config = {"max_coreset": 500}

    def __init__(self, config: Any = None, *, tier: str | None = None, device: str | None = None):
        super().__init__(config, tier=tier, device=device)
        for key in ("detectors", "few_shot_detectors"):
            chosen = getattr(self.config, key)
            bad = [d for d in chosen if d not in DETECTORS]
            if bad or not chosen:
                raise ValueError(f"logsad: {key} must be a non-empty subset of {', '.join(DETECTORS)}; got {bad}")
        if self.config.strip_cables not in CABLE_STRIPS:
            raise ValueError(f"logsad: strip_cables must be one of {', '.join(CABLE_STRIPS)}; "
                             f"got {self.config.strip_cables!r}")
        if self.config.segmenter not in EMBEDDED_SEGMENTERS:
            raise ValueError(f"logsad: segmenter must be one of {', '.join(EMBEDDED_SEGMENTERS)}; "
                             f"got {self.config.segmenter!r}")
        self.active: tuple[str, ...] = tuple(self.config.detectors)  # the detectors that score, set by fit
        self._extractor: FeatureExtractor | None = None
        self._clip = None  # full tier: hub OpenClip bundle (tests may set a tiny one)
        self._sam = None  # full tier: segment_anything Sam
        self.segmenter = SegmenterConfig()
        self.reads_prints = False  # whether images' labels are read (the rule file has label rules)
        self.print_region: tuple[float, float, float, float] | None = None  # where the normals' labels are
        self.rule_file: rulefile.RuleFile | None = None
        self.bank: torch.Tensor | None = None  # (M, d)
        self.references: list[np.ndarray] = []  # per normal image: (n_i, d) component features
        self.histograms = np.zeros((0, 1), np.float32)  # (N, k + 1)
        self.calibrators: dict[str, Calibrator] = {}
        self._mirror: Analysis | None = None  # one-shot calibration's stand-in for a second normal
        self.rule_warnings: list[str] = []
        self.exposure: Exposure | None = None

    # --- models ----------------------------------------------------------------------------
    @property
    def extractor(self) -> FeatureExtractor:
        if self._extractor is None:
            self._extractor = FeatureExtractor("embedded", self.device, self.config.image_size, self.config.layers)
        return self._extractor

    @property
    def clip(self):
        if self._clip is None:
            import hub

            self._clip = hub.load("clip", tier="full", device=self.device)
        return self._clip

    @property
    def sam(self):
        if self._sam is None:
            import hub

            self._sam = hub.load("segmenter", tier="full", device=self.device)
        return self._sam

    @torch.inference_mode()
    def _patch_features(self, images: list[np.ndarray]) -> torch.Tensor:
        """(B, h, w, d) patch features: raw CNN features as PatchCore (embedded), L2-normalised ViT tokens (full).

        Normalising the embedded features discards the magnitude a defect changes: the patch
        detector's structural AUROC on seven dev scenarios was 0.641 with it, 0.711 without.
        """
        if self.tier == "embedded":
            feats = patch_features(self.extractor(images), self.config.neighbourhood)
            return feats.permute(0, 2, 3, 1).contiguous().float()
        visual = self.clip.model.visual
        size = visual.image_size if isinstance(visual.image_size, int) else visual.image_size[0]
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

        x = to_tensor(images, size, OPENAI_DATASET_MEAN, OPENAI_DATASET_STD, self.device)
        x = x.to(next(visual.parameters()).dtype)
        depth = len(visual.transformer.resblocks)
        idx = sorted({min(i, depth - 1) for i in self.config.clip_layers})
        maps = visual.forward_intermediates(x, indices=idx, intermediates_only=True, output_fmt="NCHW")
        maps = [m.float() for m in maps["image_intermediates"]]
        maps = [m / m.norm(dim=1, keepdim=True).clamp_min(1e-6) for m in maps]  # per-stage normalised, as the paper
        feats = patch_features(maps, 1)
        feats = feats / feats.norm(dim=1, keepdim=True).clamp_min(1e-6)
        return feats.permute(0, 2, 3, 1).contiguous().float()

    def _segment(self, image: np.ndarray) -> list[Component]:
        if self.tier == "embedded":
            return segment_embedded(image, self.segmenter)[0]
        from segment_anything import SamAutomaticMaskGenerator

        c = self.config
        generator = SamAutomaticMaskGenerator(self.sam, points_per_side=c.sam_points_per_side,
                                              pred_iou_thresh=c.sam_pred_iou_thresh,
                                              stability_score_thresh=c.sam_stability_score_thresh)
        masks = [m["segmentation"] for m in generator.generate(image)]
        return segment_masks(image, masks, self.segmenter)[0]

    def _analyse(self, images: list[np.ndarray], words: list[rulefile.Print] | None = None) -> list[Analysis]:
        """Patch features, components and (when the rules read labels) print templates of each image.

        `words`: the prints of the rule file that reads the labels (default: the one in use), which
        decide whether a label found in the normals' label region was read or the whole image is searched.
        """
        if words is None:
            read_prints, words = self.reads_prints, self.rule_file.prints if self.rule_file is not None else None
        else:
            read_prints = bool(words)
        gains = [1.0] * len(images)
        if self.exposure is not None:
            images, gains = map(list, zip(*(self.exposure.apply(img) for img in images)))
        out = []
        bs = self.config.batch_size
        for i in range(0, len(images), bs):
            batch = images[i: i + bs]
            feats = self._patch_features(batch)
            for img, f, gain in zip(batch, feats, gains[i: i + bs]):
                comps = self._segment(img)
                prints, boxes = find_prints(img, self.print_region, words) if read_prints else (None, None)
                out.append(Analysis(f, comps, self._component_features(f, comps), img.shape[:2], gain, prints, boxes))
        return out

    def _component_features(self, feats: torch.Tensor, comps: list[Component]) -> np.ndarray:
        """Masked average of patch features (the paper's interest features) next to colour/shape."""
        h, w, d = feats.shape
        f = feats.reshape(-1, d).numpy()
        rows = []
        for c in comps:
            m = cv2.resize(c.mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA).reshape(-1)
            if m.sum() < 1e-3:
                m = np.zeros(h * w, np.float32)
                m[min(h - 1, int(c.cy * h)) * w + min(w - 1, int(c.cx * w))] = 1.0
            app = (m[:, None] * f).sum(0) / m.sum()
            app = app / max(np.linalg.norm(app), 1e-8) * self.config.appearance_weight
            rows.append(np.concatenate([app, 0.005 * c.descriptor()]))
        return np.array(rows, np.float32).reshape(len(comps), d + 7)

    # --- fit -------------------------------------------------------------------------------
    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        c = self.config
        self.calibrators, self._mirror = {}, None
        few = [d for d in c.detectors if d in c.few_shot_detectors]
        self.active = tuple(few) if len(images) < c.few_shot_below and few else tuple(c.detectors)
        self.exposure = Exposure.fit(images) if c.auto_exposure else None
        if self.exposure is not None:  # a normal far off the others' exposure is seen as a test image would be
            images = [self.exposure(img) for img in images]
        given = rulefile.load(c.rules) if c.rules else None
        if self.tier == "embedded":
            progress(0.0, "segmenter")
            self.segmenter = learn_embedded(images, c.segmenter, c.segmenter_settings(),
                                            judge=None if given is None else _rules_judge(given))
        else:
            self.segmenter = SegmenterConfig(drop_border=True)
        progress(0.1, "features")
        # Labels are read on the normals when rules are mined (a label rule may come of it) or given ones read them.
        self.reads_prints, self.print_region = given is None or bool(given.prints), None
        normals = self._analyse(images)
        comps = [a.components for a in normals]
        if given is not None:
            self.rule_file = given
            for cs in comps:
                assign(cs, self.rule_file.interests)
        else:
            self.rule_file = mine(comps, MiningConfig(), category="", prints=[a.prints or [] for a in normals])
        self.reads_prints = bool(self.rule_file.prints)
        if self.reads_prints:  # later images are read where the normals' labels were first
            self.print_region = label_region([box for a in normals
                                              for t, box in zip(a.prints or [], a.print_boxes or [])
                                              if read([t], self.rule_file.prints)])
        self.rule_warnings = self._warn_rules(normals)
        progress(0.5, "calibration")
        self._calibrate_rules(images, normals)
        self._calibrate(images, normals)
        self._memorise(normals)
        progress(1.0, "done")

    def _warn_rules(self, normals: list[Analysis]) -> list[str]:
        """Rules that fail on more than a tenth of the normals: warned with the normals' values."""
        assert self.rule_file is not None
        comps = [a.components for a in normals]
        results = [check_all(self.rule_file, a.components, a.prints) for a in normals]
        warnings = []
        for k, rule in enumerate(self.rule_file.rules):
            failed = [r[k] for r in results if not r[k].holds]
            if len(failed) > 0.1 * len(comps):
                seen = "; ".join(sorted({f.text for f in failed})[:3])
                msg = (f"rule {k} ({rule.kind}) fails on {len(failed)} of {len(comps)} normal images, "
                       f"so it can hardly hold: {seen}")
                log.warning(msg)
                warnings.append(msg)
        return warnings

    def _bank(self, normals: list[Analysis]) -> torch.Tensor:
        """Patch memory: a greedy coreset, or every patch below `few_shot_below` normals (a tenth of four
        images' patches is too thin a memory: dev 4-shot with given rule files, structural 0.586 → 0.593)."""
        bank = torch.cat([a.patch_feats.reshape(-1, a.patch_feats.shape[-1]) for a in normals])
        if len(normals) < self.config.few_shot_below:
            return bank.contiguous()
        size = min(max(1, int(len(bank) * self.config.coreset_ratio)), self.config.max_coreset)
        if len(normals) > 1 and size < len(bank):
            bank = bank[greedy_coreset(bank, size, seed=self.config.seed)]
        return bank.contiguous()

    def _memorise(self, normals: list[Analysis]) -> None:
        self.bank = self._bank(normals)
        self.references = [a.comp_feats for a in normals]
        k = len(self.rule_file.interests) if self.rule_file else 0
        self.histograms = np.stack([histogram(a.components, k) for a in normals])

    def _calibration_pairs(self, images: list[np.ndarray], normals: list[Analysis]) -> list[tuple[list[int], Analysis]]:
        """(memory indices, held-out normal) pairs: hold-out, leave-one-out, or the mirrored image for one shot."""
        n = len(normals)
        if n == 1:  # nothing to hold out: the mirrored image stands in for a second normal
            if self._mirror is None:
                self._mirror = self._analyse([np.ascontiguousarray(images[0][:, ::-1])])[0]
            return [([0], self._mirror)]
        if n < self.config.leave_one_out_below:
            return [([j for j in range(n) if j != i], normals[i]) for i in range(n)]
        held = max(2, int(round(self.config.holdout * n)))
        memory = list(range(n - held))
        return [(memory, normals[i]) for i in range(n - held, n)]

    def _calibrate_rules(self, images: list[np.ndarray], normals: list[Analysis]) -> None:
        """How many rules a held-out normal breaks → μ, σ of the rules detector (rules mined from few normals only).

        Rules mined from four normals break on unseen normals often (dev copy: on 45–97 % of the
        normal test images of Ropes, Dishes, Tools, Balls), so they are checked on normals they were
        not mined from and a broken rule counts as much as it is rarer there. From
        `calibrate_rules_below` normals on, and for a given rule file at any shot count (it was not
        mined from these few normals), μ = 0 and a broken rule scores 1 (Eq. 4).
        """
        if "rules" not in self.active:
            return
        if len(normals) >= self.config.calibrate_rules_below or self.config.rules:
            self.calibrators["rules"] = Calibrator(0.0, RULES_FLOOR)
            return
        broken = []
        for memory, probe in self._calibration_pairs(images, normals):  # leave-one-out: a split per probe
            rf = mine([normals[j].components for j in memory], MiningConfig(), category="",
                      prints=[normals[j].prints or [] for j in memory])
            assign(probe.components, rf.interests)
            broken.append(sum(not r.holds for r in check_all(rf, probe.components, probe.prints)))
        for a in normals:  # mining on the splits re-labelled the normals' components
            assign(a.components, self.rule_file.interests)
        self.calibrators["rules"] = Calibrator.fit(broken, RULES_FLOOR)

    def _calibrate(self, images: list[np.ndarray], normals: list[Analysis]) -> None:
        """Scores of held-out normals against the others → μ, σ per detector."""
        pairs = self._calibration_pairs(images, normals)
        scores: dict[str, list[float]] = {d: [] for d in ("patch", "interest", "composition")}
        k = len(self.rule_file.interests)
        banks: dict[tuple[int, ...], torch.Tensor] = {}
        for memory, probe in pairs:
            key = tuple(memory)
            if key not in banks:  # one bank per memory split (one in hold-out mode)
                banks[key] = self._bank([normals[j] for j in memory])
            scores["patch"].append(self._patch_score(probe, self._patch_map(probe, banks[key])))
            scores["interest"].append(match_score(probe.comp_feats, [normals[j].comp_feats for j in memory])[0])
            assign(probe.components, self.rule_file.interests)
            hists = np.stack([histogram(normals[j].components, k) for j in memory])
            scores["composition"].append(histogram_distance(histogram(probe.components, k), hists))
        floors = {"patch": 1e-4, "interest": 0.01, "composition": 0.5}
        self.calibrators.update({d: Calibrator.fit(s, floors[d]) for d, s in scores.items()})

    @staticmethod
    def _patch_map(a: Analysis, bank: torch.Tensor) -> np.ndarray:
        h, w, d = a.patch_feats.shape
        return nearest_distances(a.patch_feats.reshape(-1, d), bank).reshape(h, w).numpy()

    @staticmethod
    def _object_cells(a: Analysis) -> np.ndarray:
        """(h, w) bool: feature cells on or next to a component; all cells when none was found.

        Structural defects sit on objects; scoring only there keeps a cable, a mesh or an
        unseen table texture from posing as a defect. Components too small to cover a quarter
        of any cell still claim the cells they touch.
        """
        h, w = a.patch_feats.shape[:2]
        if not a.components:
            return np.ones((h, w), bool)
        union = np.zeros(a.components[0].mask.shape, np.float32)
        for c in a.components:
            union = np.maximum(union, c.mask.astype(np.float32))
        cover = cv2.resize(union, (w, h), interpolation=cv2.INTER_AREA)
        cells = cover > 0.25
        if not cells.any():
            cells = cover > 0
        if not cells.any():
            return np.ones((h, w), bool)
        return cv2.dilate(cells.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)

    def _patch_score(self, a: Analysis, patch_map: np.ndarray) -> float:
        return float(patch_map[self._object_cells(a)].max())

    # --- predict ---------------------------------------------------------------------------
    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        assert self.bank is not None and self.rule_file is not None
        return [self._predict_one(a) for a in self._analyse(images)]

    def _predict_one(self, a: Analysis) -> Prediction:
        rf = self.rule_file
        assign(a.components, rf.interests)
        patch_map = self._patch_map(a, self.bank)
        raw = {
            "patch": self._patch_score(a, patch_map),
            "interest": match_score(a.comp_feats, self.references)[0],
            "composition": histogram_distance(histogram(a.components, len(rf.interests)), self.histograms),
        }
        results = check_all(rf, a.components, a.prints) if "rules" in self.active else []
        broken = sorted((r for r in results if not r.holds), key=lambda r: -r.excess)
        calibrated: dict[str, float] = {}
        if "rules" in self.active:  # first, so a tie at the sigmoid's ceiling goes to the detector that explains itself
            rules_cal = self.calibrators.get("rules", Calibrator(0.0, RULES_FLOOR))
            # not clipped like the others' sigmoid: a rule normals never break scores exactly 1 and outranks them
            calibrated["rules"] = float(expit(rules_cal.z(len(broken)))) if broken else 0.0
        calibrated.update({d: float(self.calibrators[d](raw[d])) for d in raw if d in self.active})
        score, winner = fuse(calibrated)
        if broken and calibrated.get("rules") == 1.0:
            # A rule that held-out normals never break decides (Eq. 4). Images that break rules are
            # then ordered by how many they break and, among equals, by the other detectors.
            score = len(broken) + max((v for k, v in calibrated.items() if k != "rules"), default=0.0)
        amap = self._anomaly_map(a, patch_map, broken, calibrated)
        explanation = self._explain(a, winner, raw, calibrated, broken)
        if a.exposure_gain != 1.0:
            explanation += f"; {exposure_note(a.exposure_gain)}"
        details = {
            "exposure_gain": round(a.exposure_gain, 3),
            "scores": calibrated,
            "raw": raw,
            "detectors": list(self.active),
            "dominant": winner,
            "n_components": len(a.components),
            "broken_rules": [{"rule": r.index, "kind": r.kind, "text": r.text, "score": round(r.score, 4)}
                             for r in broken],
        }
        return Prediction(score=score, anomaly_map=amap, explanation=explanation, details=details,
                          class_name=("logical" if winner in ("rules", "composition", "interest") and score > 0.5
                                      else "structural" if score > 0.5 else None))

    def _anomaly_map(self, a: Analysis, patch_map: np.ndarray, broken: list[RuleResult],
                     calibrated: dict[str, float]) -> np.ndarray:
        H, W = a.shape
        if "patch" in self.active:
            cells = self.calibrators["patch"](patch_map) * self._object_cells(a)
            amap = upsample_map(cells.astype(np.float32), (H, W), self.config.smoothing_sigma)
        else:
            amap = np.zeros((H, W), np.float32)
        marks: dict[int, float] = {}
        for r in broken:
            for i in r.offenders:
                marks[i] = max(marks.get(i, 0.0), calibrated["rules"])
        if "interest" in calibrated:
            for i, comp in enumerate(a.components):
                if comp.interest < 0:
                    marks[i] = max(marks.get(i, 0.0), calibrated["interest"])
        for i, value in marks.items():
            m = cv2.resize(a.components[i].mask.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
            amap[m] = np.maximum(amap[m], value)
        return np.ascontiguousarray(amap, dtype=np.float32)

    def _explain(self, a: Analysis, winner: str, raw: dict[str, float], calibrated: dict[str, float],
                 broken: list[RuleResult]) -> str:
        prefix = ""
        if not a.components:
            prefix = "No components found (low confidence in the logical checks); "
        if winner == "rules" and broken:
            more = f" (+{len(broken) - 1} more broken rules)" if len(broken) > 1 else ""
            return prefix + f"rule {broken[0].index} broken: {broken[0].text}{more}"
        cal = self.calibrators.get(winner)
        stats = f"{raw[winner]:.3g}, normal {cal.mean:.3g} ± {cal.std:.2g}" if cal else ""
        words = {"patch": "patch score dominates", "interest": "interest matching cost dominates",
                 "composition": "component composition differs from every normal"}
        tail = "; all rules hold" if not broken else f"; {len(broken)} rules broken, first: {broken[0].text}"
        return prefix + f"{words[winner]}: {stats}{tail if 'rules' in self.active else ''}"

    # --- persistence -----------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.bank is not None and self.rule_file is not None
        lengths = np.array([len(r) for r in self.references], np.int64)
        width = self.references[0].shape[1] if self.references else 0
        tensors = {
            "bank": self.bank,
            "reference_features": (np.concatenate(self.references) if lengths.sum()
                                   else np.zeros((0, width), np.float32)),
            "reference_lengths": lengths,
            "histograms": self.histograms,
        }
        colours = ("object_colours", "scene_colours")
        for key in colours:
            if getattr(self.segmenter, key) is not None:
                tensors[key] = getattr(self.segmenter, key)
        seg = {k: v for k, v in dataclasses.asdict(self.segmenter).items() if k not in colours}
        meta = {
            "rules_yaml": rulefile.dumps(self.rule_file),
            "segmenter": seg,
            "calibrators": {k: [v.mean, v.std] for k, v in self.calibrators.items()},
            "feature_width": int(width),
            "rule_warnings": self.rule_warnings,
            "active_detectors": list(self.active),
            "exposure_reference": self.exposure.reference if self.exposure is not None else None,
            "print_region": list(self.print_region) if self.print_region is not None else None,
        }
        return tensors, meta

    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.bank = torch.from_numpy(tensors["bank"]).to(self.device)
        feats, lengths = tensors["reference_features"], tensors["reference_lengths"]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        self.references = [feats[bounds[i]: bounds[i + 1]] for i in range(len(lengths))]
        self.histograms = tensors["histograms"]
        self.segmenter = SegmenterConfig(**meta["segmenter"], object_colours=tensors.get("object_colours"),
                                         scene_colours=tensors.get("scene_colours"))
        self.rule_file = rulefile.loads(meta["rules_yaml"], "saved rules")
        self.reads_prints = bool(self.rule_file.prints)
        region = meta.get("print_region")
        self.print_region = tuple(region) if region is not None else None
        self.calibrators = {k: Calibrator(*v) for k, v in meta["calibrators"].items()}
        self.rule_warnings = meta.get("rule_warnings", [])
        self.active = tuple(meta.get("active_detectors", self.config.detectors))
        reference = meta.get("exposure_reference")
        self.exposure = Exposure(reference=reference) if reference is not None else None

    # --- convenience -------------------------------------------------------------------------
    def check_rules(self, image: Any, rules_text: str | None = None) -> tuple[list[Component], list[str],
                                                                               list[RuleResult]]:
        """Apply a rule file (default: the one in use) to one image.

        Returns its components with their masks at the image's size, the interest name of each
        ("unknown" when none matches) and every rule's result, for the app's rule editor.
        """
        from hub.images import to_rgb_array

        if not self.fitted:
            raise RuntimeError("logsad: fit first")
        rf = rulefile.loads(rules_text, "edited rules") if rules_text is not None else self.rule_file
        rgb = to_rgb_array(image)
        a = self._analyse([rgb], words=rf.prints)[0]
        assign(a.components, rf.interests)
        names = rf.interest_names()
        h, w = rgb.shape[:2]
        for comp in a.components:
            comp.mask = cv2.resize(comp.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        labels = [names[c.interest] if c.interest >= 0 else "unknown" for c in a.components]
        return a.components, labels, check_all(rf, a.components, a.prints)

    def rules_yaml(self) -> str:
        """The rule file in use (mined or loaded), as YAML for a person to review."""
        if self.rule_file is None:
            raise RuntimeError("logsad: fit first")
        return rulefile.dumps(self.rule_file)


__all__ = ["LogSAD", "LogSADConfig", "DETECTORS"]

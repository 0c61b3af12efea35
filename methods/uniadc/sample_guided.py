"""Sample-guided synthesis (few-shot): move a real anomaly onto a normal image.

As the paper: crop the anomaly by its mask, apply one random affine to the crop and its mask,
paste it at a random place inside the normal image's foreground, and repaint the seam. The
embedded tier repaints by blending (a feathered alpha, or OpenCV's Poisson `seamlessClone`,
varied per candidate) where the paper repaints with diffusion. Candidates are ranked by the
SSIM between the original anomaly with its surrounding context and the pasted one, so a
paste that keeps the defect's look, on a background like its own, wins.

On scenes of small or thin objects a random pose puts the defect beside the object, so
the pose is chosen instead: of several rotations, and every position, the one where the
object's outline around the defect (the sample's foreground in the crop's context) best
matches the target's foreground. A hole lands inside a stick along its axis, a bite on
its edge.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from hub.images import to_rgb_array
from methods.base import AnomalySample
from methods.uniadc.foreground import PartModel, estimate_foreground, scene_foreground
from methods.uniadc.inpaint import Synthesis
from methods.uniadc.mask_shapes import SIZE_RANGES

BLENDS = ("feather", "poisson")
# Pixels of surrounding normal context kept around the anomaly for the SSIM comparison.
CONTEXT = 8
PLACEMENT_TRIES = 12
# Rotations tried per candidate when the pose is matched to the target's objects.
POSE_TRIES = 16


def _check(samples: list[AnomalySample], image: np.ndarray) -> None:
    if not samples:
        raise ValueError("sample-guided synthesis needs at least one anomaly sample")
    for i, s in enumerate(samples):
        if not isinstance(s, AnomalySample):
            raise TypeError(f"samples[{i}] is a {type(s).__name__}, not an AnomalySample")
        if s.mask.shape != s.image.shape[:2]:
            raise ValueError(f"samples[{i}] ({s.category!r}): mask is {s.mask.shape[1]}×{s.mask.shape[0]} "
                             f"but its image is {s.image.shape[1]}×{s.image.shape[0]}")
        if not s.mask.any():
            raise ValueError(f"samples[{i}] ({s.category!r}): mask is empty")
        if min(image.shape[:2]) < 8:
            raise ValueError(f"normal image is {image.shape[1]}×{image.shape[0]}; too small to paste into")


def _affine(sample: AnomalySample, target_shape: tuple[int, int], rng: np.random.Generator,
            objects: np.ndarray | None = None):
    """The anomaly and its context, warped by one random affine, on a canvas just large enough.

    Returns (patch uint8: the warped anomaly with its context, mask bool, context bool: where
    the patch holds warped pixels rather than padding, and the warped `objects` (the sample's
    foreground, bool) or None).
    """
    ys, xs = np.nonzero(sample.mask)
    y0, y1 = max(0, ys.min() - CONTEXT), min(sample.mask.shape[0], ys.max() + 1 + CONTEXT)
    x0, x1 = max(0, xs.min() - CONTEXT), min(sample.mask.shape[1], xs.max() + 1 + CONTEXT)
    crop = sample.image[y0:y1, x0:x1]
    mask = sample.mask[y0:y1, x0:x1].astype(np.uint8)
    # Scale the anomaly with the image, so a defect keeps its size relative to the object.
    rel = math.sqrt(target_shape[0] * target_shape[1] / (sample.mask.shape[0] * sample.mask.shape[1]))
    scale = rel * rng.uniform(0.8, 1.2)
    angle = rng.uniform(-180, 180)
    h, w = mask.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    if rng.random() < 0.5:  # a mirror image is as plausible a defect
        m[:, 0] *= -1  # the shift below brings the mirrored crop back onto the canvas
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64) @ m.T
    lo, hi = corners.min(0), corners.max(0)
    m[:, 2] -= lo
    out_w, out_h = int(math.ceil(hi[0] - lo[0])) + 1, int(math.ceil(hi[1] - lo[1])) + 1
    # Never larger than 90 % of the target: shrink the whole transform if needed.
    shrink = min(1.0, 0.9 * target_shape[1] / out_w, 0.9 * target_shape[0] / out_h)
    m *= shrink
    out_w, out_h = max(1, int(out_w * shrink)), max(1, int(out_h * shrink))
    patch = cv2.warpAffine(crop, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    warped = cv2.warpAffine(mask, m, (out_w, out_h), flags=cv2.INTER_NEAREST) > 0
    context = cv2.warpAffine(np.ones_like(mask), m, (out_w, out_h), flags=cv2.INTER_NEAREST) > 0
    moved = None
    if objects is not None:
        crop_objects = objects[y0:y1, x0:x1].astype(np.uint8)
        moved = cv2.warpAffine(crop_objects, m, (out_w, out_h), flags=cv2.INTER_NEAREST) > 0
    return patch, warped, context, moved


def _place(foreground: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Top-left corner where the warped mask lies most inside the foreground (best of a few draws)."""
    H, W = foreground.shape
    h, w = mask.shape
    best, best_cover = (0, 0), -1.0
    ys, xs = np.nonzero(foreground)
    for _ in range(PLACEMENT_TRIES):
        i = int(rng.integers(len(ys)))
        top = int(np.clip(ys[i] - h // 2, 0, H - h))
        left = int(np.clip(xs[i] - w // 2, 0, W - w))
        cover = float(foreground[top:top + h, left:left + w][mask].mean())
        if cover > best_cover:
            best, best_cover = (top, left), cover
        if cover >= 0.999:
            break
    return best


def _matched_pose(sample: AnomalySample, sample_objects: np.ndarray, foreground: np.ndarray,
                  target_shape: tuple[int, int], rng: np.random.Generator):
    """Of `POSE_TRIES` random affines, the warp and position where the sample's objects around the
    defect agree best with the target's foreground (least squared difference over the context)."""
    target = foreground.astype(np.float32)
    best = None
    for _ in range(POSE_TRIES):
        patch, mask, context, objects = _affine(sample, target_shape, rng, sample_objects)
        h, w = mask.shape
        if h > target.shape[0] or w > target.shape[1]:
            continue
        weight = context
        ring = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~mask & context
        if ring.any() and objects[ring].mean() < 0.3:
            # The sample's object was not segmented around its defect: all that is known is that
            # the defect lies on an object, so only the defect's own pixels are matched.
            objects, weight = mask, mask
        cost = cv2.matchTemplate(target, objects.astype(np.float32), cv2.TM_SQDIFF, mask=weight.astype(np.float32))
        cost = np.where(np.isfinite(cost), cost, np.inf) / max(int(weight.sum()), 1)
        low = float(cost.min())
        if best is None or low < best[0]:
            # Ties (any point inside a large object fits an inner defect) are broken at random.
            ys, xs = np.nonzero(cost <= low + 1e-3)
            i = int(rng.integers(len(ys)))
            best = (low, patch, mask, context, int(ys[i]), int(xs[i]))
    return best


def _blend(image: np.ndarray, patch: np.ndarray, mask: np.ndarray, top: int, left: int, how: str,
           rng: np.random.Generator) -> np.ndarray:
    """`image` with `patch` pasted inside `mask` at (top, left); pixels outside the mask are unchanged."""
    h, w = mask.shape
    out = image.copy()
    region = out[top:top + h, left:left + w].astype(np.float32)
    # OpenCV's Poisson solver fails on masks without a solid interior (thin lines, specks):
    # those are alpha-blended instead.
    if how == "poisson" and cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).any():
        # Clone within the patch's own window (plus a margin), so source, mask and destination
        # share one frame and OpenCV's placement (mask bounding box centred at `center`) is the identity.
        pad = 4
        big = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        dst = np.ascontiguousarray(big[top:top + h + 2 * pad, left:left + w + 2 * pad])
        src = cv2.copyMakeBorder(patch, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        m = cv2.copyMakeBorder(mask.astype(np.uint8) * 255, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        ys, xs = np.nonzero(m)
        center = (int(xs.min()) + (int(xs.max()) - int(xs.min()) + 1) // 2,
                  int(ys.min()) + (int(ys.max()) - int(ys.min()) + 1) // 2)
        cloned = cv2.seamlessClone(src, dst, m, center, cv2.NORMAL_CLONE)[pad:-pad, pad:-pad]
        # Poisson blending drifts colours toward the surroundings; keep part of the anomaly's own.
        keep = rng.uniform(0.3, 0.7)
        mixed = cloned.astype(np.float32) * (1 - keep) + patch.astype(np.float32) * keep
    else:
        inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
        alpha = np.clip(inside / rng.uniform(1.0, 3.0), 0, 1)[..., None]
        mixed = region * (1 - alpha) + patch.astype(np.float32) * alpha
    region = np.where(mask[..., None], mixed, region)
    out[top:top + h, left:left + w] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out


def context_ssim(reference: np.ndarray, candidate: np.ndarray, valid: np.ndarray) -> float:
    """SSIM of two equally sized RGB sub-images (grey levels), averaged over `valid` pixels."""
    a = cv2.cvtColor(reference, cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(candidate, cv2.COLOR_RGB2GRAY)
    if min(a.shape) < 3 or not valid.any():
        return -1.0
    win = min(7, min(a.shape) - (1 - min(a.shape) % 2))
    _, full = structural_similarity(a, b, win_size=win, data_range=255, full=True)
    return float(full[valid].mean())


def _size_name(area_fraction: float) -> str:
    for name, (lo, hi) in SIZE_RANGES.items():
        if area_fraction < hi:
            return name
    return "Large"


def synthesize_from_samples(image, samples: list[AnomalySample], rng: np.random.Generator,
                            n_candidates: int = 4, foreground: np.ndarray | None = None,
                            parts: Sequence[np.ndarray] = (), part_model: Optional[PartModel] = None
                            ) -> list[Synthesis]:
    """`n_candidates` pastes of the samples' anomalies into `image`, best SSIM to the original context first.

    With `parts` (the target's objects) and the `part_model` that found them, each paste's
    pose is matched to the objects (see `_matched_pose`); otherwise it is random inside the
    foreground.
    """
    rgb = to_rgb_array(image)
    samples = list(samples)
    _check(samples, rgb)
    if foreground is None:
        foreground = estimate_foreground(rgb)
    fg_area = max(int(foreground.sum()), 1)
    sample_objects: dict[int, np.ndarray] = {}
    made: list[Synthesis] = []
    for k in range(max(1, int(n_candidates))):
        index = int(rng.integers(len(samples)))
        sample = samples[index]
        posed = None
        if len(parts) and part_model is not None:
            if index not in sample_objects:
                sample_objects[index] = scene_foreground(sample.image, part_model)[0] | sample.mask
            posed = _matched_pose(sample, sample_objects[index], foreground, rgb.shape[:2], rng)
        if posed is not None:
            _, patch, mask, context, top, left = posed
        else:
            patch, mask, context, _ = _affine(sample, rgb.shape[:2], rng)
            top, left = _place(foreground, mask, rng)
        how = BLENDS[k % len(BLENDS)]
        out = _blend(rgb, patch, mask, top, left, how, rng)
        full = np.zeros(rgb.shape[:2], bool)
        full[top:top + mask.shape[0], left:left + mask.shape[1]] = mask
        h, w = mask.shape
        score = context_ssim(patch, out[top:top + h, left:left + w], context)
        made.append(Synthesis(out, full, "sample", _size_name(full.sum() / fg_area), f"paste-{how}", score,
                              int(n_candidates), category=sample.category))
    return sorted(made, key=lambda s: -s.score)


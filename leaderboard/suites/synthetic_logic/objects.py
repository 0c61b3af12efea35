"""Drawings of the hand-made and hardware objects: sticks, ropes, tapes, stationery, tools, blocks, balls."""
from __future__ import annotations

import cv2
import numpy as np

from . import sdf
from .layers import Layer, Patch, builder, mix, slab, tinted
from .scene import Item

WOOD = (0.80, 0.62, 0.40)
STEEL = (0.50, 0.51, 0.53)


def _wood_grain(p: Item, patch: Patch, strength: float) -> np.ndarray:
    """Grain lines running along the object's length, warped like real wood."""
    warp = patch.noise(0.05, 2)
    period = 0.16 * max(p.width, 0.02)
    grain = np.sin(2 * np.pi * (patch.v / period + 0.9 * warp))
    return 1.0 + strength * grain + 0.35 * strength * patch.noise(0.004)


@builder("stick")
def stick(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    d = sdf.box(patch.u, patch.v, hl, hw, 0.35 * hw)
    height = sdf.bevel(-d, hw)
    painted = bool(p.colour)
    albedo = tinted(p.rgb, _wood_grain(p, patch, 0.045 if painted else 0.13))
    if painted:
        end = np.clip((np.abs(patch.u) - (hl - 0.25 * hw)) / (0.2 * hw), 0, 1)
        albedo = mix(albedo, WOOD, 0.7 * end)
    return [Layer(d, height, albedo, gloss=0.16 if painted else 0.05, shininess=28)]


@builder("rope")
def rope(p: Item, patch: Patch) -> list[Layer]:
    hw = p.width / 2
    dist, arc = sdf.polyline(patch.u, patch.v, p.path)
    fray = 0.08 * hw * patch.noise(0.006)
    d = dist - hw + fray
    pitch = 1.3 * p.width
    ridge = np.abs(np.sin(np.pi * (arc / pitch + 0.55 * dist / hw)))
    core = np.sqrt(np.clip(hw * hw - dist * dist, 0, None))
    height = core * (0.85 + 0.15 * ridge)
    shade = (0.7 + 0.38 * ridge) * (1 + 0.06 * patch.noise(0.003))
    return [Layer(d, height, tinted(p.rgb, shade), gloss=0.03, shininess=6)]


@builder("tape")
def tape(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    tooth = 0.006
    zig = tooth * np.abs(((patch.v / tooth) % 2.0) - 1.0)
    d = np.maximum(np.abs(patch.v) - hw, np.abs(patch.u) - hl + zig)
    height = slab(-d, 0.002, 0.0025)
    fibres = 1 + 0.035 * patch.noise(0.003) + 0.02 * patch.noise(0.02)
    albedo = tinted(p.rgb, fibres)
    edge = np.clip(1 - (hw - np.abs(patch.v)) / 0.004, 0, 1)
    albedo = mix(albedo, (1.0, 1.0, 1.0), 0.12 * edge)
    return [Layer(d, height, albedo, gloss=0.06, shininess=30)]


@builder("pencil")
def pencil(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    tip = min(2.4 * p.width, 0.3 * p.length)
    u, v = patch.u, patch.v
    half = np.where(u < hl - tip, hw, hw * np.clip((hl - u) / tip, 0, 1))
    d = np.maximum(np.abs(v) - half, np.maximum(-hl - u, u - hl))
    height = np.clip((half - np.abs(v)) * 1.8, 0, 0.8 * half) * (d < 0)
    albedo = tinted(p.rgb, 1 + 0.04 * patch.noise(0.01))
    facet = np.clip(1 - np.abs(np.abs(v) - 0.5 * half) / (0.12 * hw + 1e-9), 0, 1)
    albedo = mix(albedo, (0.95, 0.9, 0.75), 0.25 * facet * (u < hl - tip))
    wood = (u >= hl - tip) & (u < hl - 0.32 * tip)
    albedo = np.where(wood[..., None], tinted((0.88, 0.72, 0.52), _wood_grain(p, patch, 0.08)), albedo)
    albedo = np.where((u >= hl - 0.32 * tip)[..., None], np.float32((0.16, 0.16, 0.18)), albedo)
    cap = np.clip((-hl + 0.04 * p.width - u) / (0.04 * p.width), 0, 1)
    albedo = mix(albedo, (0.86, 0.74, 0.55), cap)
    gloss = np.where(u < hl - tip, 0.35, 0.06)
    return [Layer(d, height, albedo, gloss=gloss, shininess=32)]


@builder("eraser")
def eraser(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    d = sdf.box(patch.u, patch.v, hl, hw, 0.3 * hw)
    height = slab(-d, 0.35 * hw, 0.7 * hw)
    albedo = tinted(p.rgb, 1 + 0.03 * patch.noise(0.002) + 0.03 * patch.noise(0.03))
    return [Layer(d, height, albedo, gloss=0.05, shininess=8)]


def _metal(patch: Patch, rgb: tuple[float, float, float] = STEEL) -> np.ndarray:
    brushed = patch.noise(0.002) * 0.05 + patch.noise(0.04) * 0.06
    return tinted(rgb, 1 + brushed)


@builder("bolt")
def bolt(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    u, v = patch.u, patch.v
    head_t = 0.42 * p.width
    rs = 0.27 * p.width
    head = sdf.box(u + hl - head_t / 2, v, head_t / 2, hw, 0.1 * hw)
    shaft = sdf.box(u - head_t / 2, v, hl - head_t / 2, rs, 0.4 * rs)
    d = np.minimum(head, shaft)
    h_head = np.clip((hw - np.abs(v)) * 1.73, 0, 0.87 * hw) * (head < 0)
    thread = 0.14 * rs * np.sin(2 * np.pi * u / 0.011) * (u > -hl + head_t + 0.25 * p.length)
    h_shaft = (sdf.bevel(-shaft, rs) + thread) * (shaft < 0)
    height = np.maximum(h_head, np.clip(h_shaft, 0, None))
    return [Layer(d, height, _metal(patch), gloss=0.75, shininess=36)]


@builder("washer")
def washer(p: Item, patch: Patch) -> list[Layer]:
    r_out = p.length / 2
    r_in = 0.45 * r_out
    d = np.maximum(sdf.circle(patch.u, patch.v, r_out), -sdf.circle(patch.u, patch.v, r_in))
    height = slab(-d, 0.22 * (r_out - r_in), 0.012)
    return [Layer(d, height, _metal(patch), gloss=0.7, shininess=40)]


@builder("nut")
def nut(p: Item, patch: Patch) -> list[Layer]:
    apothem = p.length / 2 * np.cos(np.pi / 6)
    hole = 0.48 * apothem
    d = np.maximum(sdf.regular_polygon(patch.u, patch.v, apothem, 6), -sdf.circle(patch.u, patch.v, hole))
    height = slab(-d, 0.12 * apothem, 0.3 * apothem)
    albedo = _metal(patch)
    r = np.hypot(patch.u, patch.v)
    albedo = mix(albedo, (0.3, 0.3, 0.32), 0.5 * np.clip((r - 0.97 * apothem) / (0.1 * apothem), 0, 1))
    albedo = mix(albedo, (0.22, 0.22, 0.24), np.clip(1 - (r - hole) / (0.12 * apothem), 0, 1))
    return [Layer(d, height, albedo, gloss=0.7, shininess=36)]


def block_sdf(kind: str, u: np.ndarray, v: np.ndarray, s: float) -> np.ndarray:
    """Outline of a block of nominal size s, by shape name; every shape fits in a circle of diameter s."""
    if kind == "circle_block":
        return sdf.circle(u, v, s / 2)
    if kind == "square_block":
        return sdf.box(u, v, 0.45 * s, 0.45 * s, 0.06 * s)
    if kind == "triangle_block":
        return sdf.regular_polygon(u, v, 0.25 * s, 3)
    if kind == "hexagon_block":
        return sdf.regular_polygon(u, v, 0.43 * s, 6)
    if kind == "star_block":
        return sdf.star(u, v, 0.52 * s, 5, 2.8)
    if kind == "cross_block":
        return np.minimum(sdf.box(u, v, 0.48 * s, 0.17 * s, 0.03 * s), sdf.box(u, v, 0.17 * s, 0.48 * s, 0.03 * s))
    raise ValueError(f"unknown block shape {kind!r}")


BLOCK_KINDS = ("circle_block", "triangle_block", "square_block", "hexagon_block", "star_block", "cross_block")


@builder(*BLOCK_KINDS)
def block(p: Item, patch: Patch) -> list[Layer]:
    s = p.length
    d = block_sdf(p.kind, patch.u, patch.v, s)
    height = slab(-d, 0.07 * s, 0.32 * s)
    albedo = tinted(p.rgb, _wood_grain(p.moved(width=s * 0.4), patch, 0.05))
    return [Layer(d, height, albedo, gloss=0.14, shininess=22)]


@builder("ball")
def ball(p: Item, patch: Patch) -> list[Layer]:
    r = p.length / 2
    d = sdf.circle(patch.u, patch.v, r)
    height = sdf.bevel(-d, r)
    albedo = tinted(p.rgb, 1 + 0.02 * patch.noise(0.004) + 0.015 * patch.noise(0.05))
    seam = np.clip(1 - np.abs(patch.v - 0.15 * patch.u) / (0.025 * r), 0, 1) * (d < 0)
    albedo = albedo * (1 - 0.07 * seam[..., None])
    return [Layer(d, height, albedo, gloss=0.28, shininess=26)]


def _label_texture(word: str, length: float, width: float, px: float) -> np.ndarray:
    """The printed card at twice the image resolution: paper colour with the word in dark ink."""
    w = max(int(round(length / px * 2)), 8)
    h = max(int(round(width / px * 2)), 4)
    tex = np.full((h, w), 255, np.uint8)
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, th), _ = cv2.getTextSize(word, font, 1.0, 2)
    scale = min(0.8 * w / tw, 0.55 * h / th)
    thick = max(int(round(scale * 1.6)), 1)
    (tw, th), base = cv2.getTextSize(word, font, scale, thick)
    cv2.putText(tex, word, ((w - tw) // 2, (h + th) // 2), font, scale, 0, thick, cv2.LINE_AA)
    return tex.astype(np.float32) / 255.0


@builder("label")
def label(p: Item, patch: Patch) -> list[Layer]:
    hl, hw = p.length / 2, p.width / 2
    d = sdf.box(patch.u, patch.v, hl, hw, 0.05 * hw)
    tex = _label_texture(p.text, p.length, p.width, patch.px)
    tx = ((patch.u + hl) / p.length * tex.shape[1]).astype(np.float32)
    ty = ((patch.v + hw) / p.width * tex.shape[0]).astype(np.float32)
    ink = cv2.remap(tex, tx, ty, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    paper = tinted(p.rgb, 1 + 0.015 * patch.noise(0.003))
    albedo = mix(paper, (0.08, 0.08, 0.1), 0.92 * (1 - ink))
    height = slab(-d, 0.002, 0.002)
    return [Layer(d, height, albedo, gloss=0.04, shininess=6)]


def natural_wood(rng: np.random.Generator) -> tuple[float, float, float]:
    k = rng.uniform(0.92, 1.05)
    return (WOOD[0] * k, WOOD[1] * k * rng.uniform(0.97, 1.03), WOOD[2] * k * rng.uniform(0.92, 1.05))


def paper(rng: np.random.Generator) -> tuple[float, float, float]:
    g = rng.uniform(0.9, 0.97)
    return (g, g * rng.uniform(0.98, 1.0), g * rng.uniform(0.93, 0.99))


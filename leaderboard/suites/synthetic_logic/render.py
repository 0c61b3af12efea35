"""Turn a scene into a photograph-like image: shaded objects, soft shadows, table, optics, noise.

Shading is Lambert plus Blinn-Phong from the scene's light, in linear light; shadows
are the silhouette pushed away from the light and blurred in proportion to the
object's height. Vignette, light falloff, lens blur and sensor noise come last, as
in a camera.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import fixtures, food, objects, tableware  # noqa: F401  (registers the builders)
from .defects import apply_defect
from .layers import BUILDERS, Layer, Patch, fractal_noise, value_noise
from .scene import Environment, Item, Scene

GAMMA = 2.2


def patch_for(item: Item, size: int, margin: float, seed: int) -> Patch | None:
    """The pixel box covering the item, or None when it lies wholly outside the image."""
    hx, hy = item.half_extent()
    radius = np.hypot(hx, hy) + margin
    cx, cy, r = item.x * size, item.y * size, radius * size + 2
    x0, y0 = max(int(np.floor(cx - r)), 0), max(int(np.floor(cy - r)), 0)
    x1, y1 = min(int(np.ceil(cx + r)), size), min(int(np.ceil(cy + r)), size)
    if x1 <= x0 or y1 <= y0:
        return None
    xs = (np.arange(x0, x1, dtype=np.float32) + 0.5) / size - item.x
    ys = (np.arange(y0, y1, dtype=np.float32) + 0.5) / size - item.y
    dx, dy = np.meshgrid(xs, ys)
    a = np.deg2rad(item.angle)
    c, s = np.float32(np.cos(a)), np.float32(np.sin(a))
    return Patch(x0, y0, x1, y1, c * dx + s * dy, -s * dx + c * dy, 1.0 / size, np.random.default_rng(seed))


def light_vector(env: Environment) -> np.ndarray:
    el, az = env.light_elevation, env.light_azimuth
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], np.float32)


def surface_albedo(env: Environment, size: int) -> np.ndarray:
    """The table top: a light material with its own texture (paper, linen, wood grain or plastic)."""
    rng = np.random.default_rng(env.seed)
    shape = (size, size)
    px = 1.0 / size
    mottle = fractal_noise(rng, shape, 0.25 / px, 3)
    fine = value_noise(rng, shape, 1.0)
    shade = 1.0 + 0.035 * mottle + 0.012 * fine
    theta = rng.uniform(0, np.pi)
    yy, xx = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) * px
    along = np.cos(theta) * xx + np.sin(theta) * yy
    across = -np.sin(theta) * xx + np.cos(theta) * yy
    if env.surface == "linen":
        period = rng.uniform(0.008, 0.014)
        weave = np.sin(2 * np.pi * along / period) * np.sin(2 * np.pi * across / period)
        slub = fractal_noise(rng, (size, 1), 0.03 / px)[:, :1]
        shade += 0.03 * weave + 0.02 * slub + 0.015 * value_noise(rng, shape, 0.004 / px)
    elif env.surface == "wood":
        warp = fractal_noise(rng, shape, 0.3 / px, 2)
        period = rng.uniform(0.012, 0.025)
        grain = np.sin(2 * np.pi * (across / period + 1.5 * warp)) ** 3
        streak = fractal_noise(rng, shape, 0.01 / px, 2)
        shade += 0.022 * grain + 0.02 * streak
    elif env.surface == "paper":
        shade += 0.02 * value_noise(rng, shape, 0.004 / px)
    else:
        shade += 0.012 * fractal_noise(rng, shape, 0.05 / px, 2)
    albedo = np.asarray(env.surface_rgb, np.float32) * shade[..., None]
    if env.surface == "wood":
        albedo *= np.asarray((1.04, 0.98, 0.9), np.float32)
    return np.clip(albedo, 0, 1)


def _shade(layer: Layer, env: Environment, px: float, light: np.ndarray) -> np.ndarray:
    """Linear-light colour of a layer under the scene light."""
    gy, gx = np.gradient(layer.height / px)
    nz = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
    nx, ny = -gx * nz, -gy * nz
    ndl = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, None)
    half = light + np.array([0, 0, 1], np.float32)
    half /= np.linalg.norm(half)
    ndh = np.clip(nx * half[0] + ny * half[1] + nz * half[2], 0.0, None)
    spec = layer.gloss * ndh**layer.shininess
    irradiance = env.ambient * (0.55 + 0.45 * nz) + env.light_intensity * ndl
    lin = np.power(np.clip(layer.albedo, 0, 1), GAMMA)
    return lin * irradiance[..., None] + (env.light_intensity * spec)[..., None]


def _darken(canvas: np.ndarray, alpha: np.ndarray, box: tuple[int, int], shift: tuple[float, float],
            sigma: float, strength: float) -> None:
    """Multiply the canvas by a blurred, shifted copy of a silhouette (a shadow)."""
    size = canvas.shape[0]
    pad = int(np.ceil(3 * sigma)) + 1
    ox, oy = int(round(shift[0])), int(round(shift[1]))
    h, w = alpha.shape
    x0, y0 = box[0] + ox - pad, box[1] + oy - pad
    buf = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    buf[pad:pad + h, pad:pad + w] = alpha
    buf = cv2.GaussianBlur(buf, (0, 0), sigma)
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + buf.shape[1], size), min(y0 + buf.shape[0], size)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    sub = buf[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    canvas[cy0:cy1, cx0:cx1] *= (1.0 - strength * sub)[..., None]


@dataclass
class Rendered:
    image: np.ndarray  # (S, S, 3) uint8
    foreground: np.ndarray  # (S, S) bool: objects and fixtures
    footprints: dict[int, np.ndarray]  # uid → (S, S) bool silhouette of each object
    defects: dict[int, np.ndarray]  # uid → (S, S) bool pixels of its structural defect


def footprint(item: Item, size: int) -> np.ndarray:
    """Silhouette of an object without drawing it (for the place a missing object should be)."""
    out = np.zeros((size, size), bool)
    patch = patch_for(item, size, 0.0, item.seed)
    if patch is None:
        return out
    for layer in BUILDERS[item.kind](item, patch):
        out[patch.y0:patch.y1, patch.x0:patch.x1] |= layer.sdf < 0
    return out


def render_scene(scene: Scene, size: int) -> Rendered:
    env = scene.env
    light = light_vector(env)
    direct = env.light_intensity * light[2]
    shadow_strength = 0.9 * direct / (env.ambient + direct)
    canvas = np.power(surface_albedo(env, size), GAMMA) * (env.ambient + direct)
    foreground = np.zeros((size, size), bool)
    footprints: dict[int, np.ndarray] = {}
    defects: dict[int, np.ndarray] = {}
    lxy = light[:2] / max(float(np.linalg.norm(light[:2])), 1e-6)
    cot = np.cos(env.light_elevation) / np.sin(env.light_elevation)
    for item in (env.place(it) for it in scene.items):
        patch = patch_for(item, size, 0.02, item.seed)
        if patch is None:
            continue
        layers = BUILDERS[item.kind](item, patch)
        mask = np.zeros((size, size), bool)
        if item.defect:
            main = max(layers, key=lambda lay: int((lay.sdf < 0).sum()))
            local = apply_defect(main, item.defect, patch, np.random.default_rng(item.seed + 1))
            defects[item.uid] = np.zeros((size, size), bool)
            defects[item.uid][patch.y0:patch.y1, patch.x0:patch.x1] = local
        box = (patch.x0, patch.y0)
        region = canvas[patch.y0:patch.y1, patch.x0:patch.x1]
        for layer in layers:
            alpha = np.clip(0.5 - layer.sdf / patch.px, 0.0, 1.0) * layer.opacity
            alpha = alpha.astype(np.float32)
            mask[patch.y0:patch.y1, patch.x0:patch.x1] |= alpha >= 0.5
            if layer.casts_shadow:
                h_px = float(layer.height.max()) / patch.px
                reach = 1.3 * h_px * cot
                _darken(canvas, alpha, box, (-lxy[0] * reach, -lxy[1] * reach),
                        0.5 + 0.22 * reach + 0.003 * size, shadow_strength * 0.85)
                _darken(canvas, alpha, box, (0.0, 0.0), 0.5 + 0.005 * size, 0.25)
            colour = _shade(layer, env, patch.px, light)
            region[:] = region * (1.0 - alpha[..., None]) + colour * alpha[..., None]
        foreground |= mask
        if not item.fixture:
            footprints[item.uid] = mask
    return Rendered(_camera(canvas, env, size), foreground, footprints, defects)


def _camera(canvas: np.ndarray, env: Environment, size: int) -> np.ndarray:
    """Light falloff, vignette, white balance, gamma, lens blur and sensor noise."""
    rng = np.random.default_rng(env.seed + 7)
    yy, xx = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size - 0.5
    falloff = 1.0 + env.falloff * 2 * (xx * np.cos(env.light_azimuth) + yy * np.sin(env.light_azimuth))
    vignette = 1.0 - env.vignette * (xx * xx + yy * yy) * 2
    lin = canvas * (falloff * vignette)[..., None] * np.asarray(env.tint, np.float32)
    img = np.power(np.clip(lin, 0, 1), 1.0 / GAMMA)
    img = cv2.GaussianBlur(img, (0, 0), env.blur * size / 256)
    sigma = env.noise / 255.0
    luma = rng.standard_normal((size, size, 1)).astype(np.float32)
    chroma = rng.standard_normal((size, size, 3)).astype(np.float32)
    img = img + sigma * (0.5 + 0.7 * np.sqrt(img)) * (luma + 0.45 * chroma)
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)

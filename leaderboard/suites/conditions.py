"""VID-AD's five capture conditions as deterministic transforms for any dataset.

VID-AD (Cable BG, Mesh BG, Blurry CD, Low-light CD next to the default White BG) keeps
the logical state of a scene fixed and changes only what the camera sees. Rendering the
same conditions onto another dataset's images turns any suite into a robustness suite:
the objects stay pixel-identical under the background conditions, so a change in a
detector's score is caused by the distraction alone.
"""
from __future__ import annotations

import zlib

import cv2
import numpy as np
from scipy import signal

CONDITIONS: tuple[str, ...] = ("white_bg", "cable_bg", "mesh_bg", "blurry", "low_light")

_VID_AD_SUFFIXES: dict[str, str] = {
    "_white_bg": "white_bg",
    "_cable_bg": "cable_bg",
    "_mesh_bg": "mesh_bg",
    "_blurry_cd": "blurry",
    "_low-light_cd": "low_light",
}

# Light comes from the upper left and slightly toward the viewer; image y points down.
_LIGHT = np.array([-0.45, -0.55, 0.70], dtype=np.float32) / np.linalg.norm([-0.45, -0.55, 0.70])
_HALF = (_LIGHT + np.array([0.0, 0.0, 1.0], dtype=np.float32)) / np.linalg.norm(_LIGHT + [0.0, 0.0, 1.0])

_SRGB_TO_LINEAR = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
).astype(np.float32)


def condition_from_vid_ad_suffix(folder_name: str) -> str:
    """The condition of a VID-AD folder: `Sticks_Cable_BG` → cable_bg, plain `Sticks` → white_bg.

    VID-AD names its White BG folders after the scenario alone and the other four with a
    suffix; a bare suffix (`_Mesh_BG`) or an empty name maps the same way.
    """
    lowered = folder_name.strip().lower()
    for suffix, name in _VID_AD_SUFFIXES.items():
        if lowered.endswith(suffix) or lowered == suffix.lstrip("_"):
            return name
    return "white_bg"


def apply_condition(
    image: np.ndarray, condition: str, *, seed: int, foreground: np.ndarray | None = None
) -> np.ndarray:
    """Render `condition` onto an RGB uint8 image; the same seed gives the same bytes.

    Background conditions keep `foreground` pixels (bool HxW) exactly; without it the
    foreground is estimated with `estimate_foreground`.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose one of {', '.join(CONDITIONS)}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    if foreground is not None and foreground.shape != image.shape[:2]:
        raise ValueError(f"foreground is {foreground.shape}, the image is {image.shape[:2]}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(condition.encode())]))
    if condition == "white_bg":
        return image.copy()
    if condition == "blurry":
        return _defocus(image, rng)
    if condition == "low_light":
        return _low_light(image, rng)
    fg = estimate_foreground(image) if foreground is None else foreground.astype(bool)
    if condition == "cable_bg":
        return _replace_background(image, fg, _cable_layer(image, fg, rng))
    return _replace_background(image, fg, _mesh_layer(image, fg, rng))


def estimate_foreground(image: np.ndarray) -> np.ndarray:
    """Objects as a bool HxW mask: everything that is not the plain, border-connected background.

    The background is modelled as a smooth (quadratic) colour field fitted in Lab to the
    pixels near the border colour, so vignetting and lighting gradients stay background.
    Lightness counts half as much as colour, and darkening by up to 10 L units (a soft
    shadow, about half the light) not at all, so shadows stay background too and the
    new background passes through them; grey objects must be clearly darker than that.
    """
    h, w = image.shape[:2]
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    ys, xs = np.mgrid[0:h, 0:w]
    xn, yn = (xs.ravel() / max(w - 1, 1) - 0.5), (ys.ravel() / max(h - 1, 1) - 0.5)
    design = np.stack([np.ones_like(xn), xn, yn, xn * xn, xn * yn, yn * yn], axis=1).astype(np.float32)
    band = max(2, round(0.02 * min(h, w)))
    border = np.zeros((h, w), dtype=bool)
    border[:band], border[-band:], border[:, :band], border[:, -band:] = True, True, True, True
    border = border.ravel()
    dist = _background_distance(lab, np.median(lab[border], axis=0))
    threshold = float(np.clip(4.0 * np.percentile(dist[border], 60) + 6.0, 8.0, 25.0))
    sample = np.random.default_rng(0).permutation(h * w)[: min(h * w, 40000)]
    for _ in range(3):
        fit = sample[dist[sample] < threshold]
        if len(fit) < 12:
            break
        coef, *_ = np.linalg.lstsq(design[fit], lab[fit], rcond=None)
        dist = _background_distance(lab, design @ coef)
        threshold = float(np.clip(4.0 * np.percentile(dist[border], 60) + 6.0, 8.0, 25.0))
    candidate = (dist < threshold).reshape(h, w).astype(np.uint8)
    _, labels = cv2.connectedComponents(candidate, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, edge_labels[edge_labels > 0])
    fg = ~background
    radius = max(1, round(0.004 * min(h, w)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, disk).astype(bool)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(4, 0.0005 * h * w)
    return keep[labels]


def _background_distance(lab: np.ndarray, reference: np.ndarray) -> np.ndarray:
    d = lab - reference
    d_light = 0.5 * np.where(d[:, 0] >= 0, d[:, 0], np.minimum(0.0, d[:, 0] + 10.0))
    return np.sqrt(d_light**2 + d[:, 1] ** 2 + d[:, 2] ** 2)


def _to_linear(image: np.ndarray) -> np.ndarray:
    return _SRGB_TO_LINEAR[image]


def _to_srgb_uint8(linear: np.ndarray) -> np.ndarray:
    x = np.clip(linear, 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)
    return np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)


def _replace_background(image: np.ndarray, fg: np.ndarray, layer: np.ndarray) -> np.ndarray:
    out = _to_srgb_uint8(layer)
    out[fg] = image[fg]
    return out


def _scene_light(image: np.ndarray, fg: np.ndarray) -> np.ndarray:
    """Relative illumination of the background (HxW, ~1): object shadows and gradients carry over.

    Blurred over background pixels only (normalised convolution), so objects' own colours
    do not leak into the light they cast onto the new background.
    """
    h, w = fg.shape
    lum = _to_linear(image) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    weight = (~fg).astype(np.float32)
    if weight.sum() < 1:
        return np.ones((h, w), dtype=np.float32)
    sigma = max(1.0, 0.01 * min(h, w))
    num = cv2.GaussianBlur(lum * weight, (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    local = np.where(den > 1e-3, num / np.maximum(den, 1e-3), np.nan)
    reference = float(np.percentile(lum[weight > 0], 90))
    local = np.where(np.isnan(local), reference, local)
    return np.clip(local / max(reference, 1e-3), 0.25, 1.2).astype(np.float32)


def _shade(
    nx: np.ndarray, ny: np.ndarray, nz: np.ndarray, albedo: np.ndarray, gloss: float, shininess: float
) -> np.ndarray:
    """Lambert plus Blinn-Phong in linear light; returns (..., 3)."""
    diffuse = np.maximum(0.0, nx * _LIGHT[0] + ny * _LIGHT[1] + nz * _LIGHT[2])
    specular = np.maximum(0.0, nx * _HALF[0] + ny * _HALF[1] + nz * _HALF[2]) ** shininess
    return albedo * (0.28 + 0.85 * diffuse)[..., None] + (gloss * specular)[..., None]


# ------------------------------------------------------------------ cables


_CABLE_COLOURS = np.array(
    [(22, 22, 25), (22, 22, 25), (60, 62, 66), (228, 228, 222), (35, 80, 170),
     (175, 35, 35), (225, 185, 40), (40, 125, 65), (225, 115, 35), (120, 120, 125)],
    dtype=np.uint8,
)


def _cable_path(rng: np.random.Generator, h: int, w: int, radius: float) -> np.ndarray:
    """A cable thrown on a table: constant speed, curvature a smooth bounded random process."""
    size = min(h, w)
    side = rng.integers(4)
    t = rng.uniform(0.05, 0.95)
    start = {
        0: (t * w, -radius * 2),
        1: (w + radius * 2, t * h),
        2: (t * w, h + radius * 2),
        3: (-radius * 2, t * h),
    }[int(side)]
    target = (rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h)
    heading = np.arctan2(target[1] - start[1], target[0] - start[0]) + rng.normal(0.0, 0.25)
    step = 0.5
    n = int(2.5 * (h + w) / step)
    corr = 0.15 * size / step
    a = 1.0 / corr
    sigma_k = 1.0 / (rng.uniform(0.25, 0.5) * size)
    kappa = signal.lfilter([sigma_k * np.sqrt(2 * a)], [1.0, -(1 - a)], rng.standard_normal(n))
    kappa = np.clip(kappa + rng.normal(0, 0.3 * sigma_k), -1 / (0.07 * size), 1 / (0.07 * size))
    theta = heading + np.cumsum(kappa * step)
    pts = np.asarray(start) + np.cumsum(step * np.stack([np.cos(theta), np.sin(theta)], axis=1), axis=0)
    margin = 3 * radius
    inside = (pts[:, 0] > -margin) & (pts[:, 0] < w + margin) & (pts[:, 1] > -margin) & (pts[:, 1] < h + margin)
    left = np.flatnonzero(~inside)
    end = left[0] if len(left) else n
    return pts[: max(end, 2)]


def _render_tube(points: np.ndarray, radius: float, h: int, w: int, scale: int) -> tuple[np.ndarray, ...]:
    """Coverage and surface normal of a round tube along `points`, supersampled by `scale`."""
    pad = int(np.ceil(3 * radius)) + 2
    hs, ws = (h + 2 * pad) * scale, (w + 2 * pad) * scale
    line = np.full((hs, ws), 255, dtype=np.uint8)
    pts = np.round((points + pad) * scale * 16).astype(np.int32)
    cv2.polylines(line, [pts], False, 0, 1, cv2.LINE_8, shift=4)
    dist = cv2.distanceTransform(line, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) / scale
    gy, gx = np.gradient(cv2.GaussianBlur(dist, (0, 0), max(0.7, 0.2 * radius) * scale))
    norm = np.maximum(np.hypot(gx, gy), 1e-6)
    t = np.clip(dist / radius, 0.0, 1.0)
    nz = np.sqrt(np.clip(1.0 - t * t, 0.0, 1.0))
    coverage = np.clip((radius - dist) * scale + 0.5, 0.0, 1.0)
    crop = (slice(pad * scale, (pad + h) * scale), slice(pad * scale, (pad + w) * scale))
    return coverage[crop], (gx / norm * t)[crop], (gy / norm * t)[crop], nz[crop]


def _downsample(x: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(x.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def _cable_layer(image: np.ndarray, fg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Several shaded, glossy cables with soft contact shadows lying on the original background."""
    h, w = fg.shape
    size = min(h, w)
    light = _scene_light(image, fg)
    canvas = _to_linear(image).copy()
    scale = 2 if size <= 512 else 1  # large images are fine without supersampling
    for _ in range(int(rng.integers(3, 7))):
        radius = 0.5 * size * rng.uniform(0.018, 0.045)
        albedo = _to_linear(_CABLE_COLOURS[rng.integers(len(_CABLE_COLOURS))])
        centre_line = _cable_path(rng, h, w, radius)
        gloss = rng.uniform(0.15, 0.45)
        cov_s, nx, ny, nz = _render_tube(centre_line, radius, h, w, scale)
        lit_s = _shade(nx, ny, nz, albedo, gloss, 24.0)
        coverage = _downsample(cov_s, h, w)
        premult = _downsample(lit_s * cov_s[..., None], h, w)
        shift = np.float32([[1, 0, 0.7 * radius], [0, 1, 0.9 * radius]])
        shadow = cv2.warpAffine(coverage, shift, (w, h), borderMode=cv2.BORDER_CONSTANT)
        shadow = cv2.GaussianBlur(np.maximum(shadow, coverage), (0, 0), 0.6 * radius + 0.5)
        canvas *= (1.0 - 0.65 * shadow)[..., None]
        canvas = canvas * (1.0 - coverage[..., None]) + premult * light[..., None]
    return canvas


# ------------------------------------------------------------------ mesh


def _mesh_layer(image: np.ndarray, fg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A woven metal or moulded plastic mesh laid over the table, shaded and shadowed.

    No perspective: the grid is rotated, its pitch and phase randomised, and its wires
    wobble by a small smooth displacement field as real meshes do.
    """
    h, w = fg.shape
    size = min(h, w)
    scale = 2 if size <= 512 else 1  # large images are fine without supersampling
    hs, ws = h * scale, w * scale
    metal = rng.random() < 0.6
    pitch = float(size * rng.uniform(0.03, 0.06) * scale)
    wire = pitch * (rng.uniform(0.16, 0.28) if metal else rng.uniform(0.28, 0.42))
    if metal:
        albedo = _to_linear(np.array([rng.integers(105, 160)] * 3, dtype=np.uint8)) * np.float32([0.97, 0.99, 1.03])
        gloss, shininess, weave = rng.uniform(0.35, 0.6), 30.0, 0.5 * wire
    else:
        tones = np.array([(28, 28, 30), (38, 95, 55), (35, 70, 140), (215, 215, 210), (60, 60, 64)], dtype=np.uint8)
        albedo, gloss, shininess, weave = _to_linear(tones[rng.integers(len(tones))]), rng.uniform(0.08, 0.2), 12.0, 0.0
    angle = float(np.deg2rad(rng.uniform(-12, 12) + (45.0 if rng.random() < 0.25 else 0.0)))
    ys, xs = np.mgrid[0:hs, 0:ws].astype(np.float32)
    jitter_sigma = 2.0 * pitch
    small = (max(4, int(hs / jitter_sigma) + 3), max(4, int(ws / jitter_sigma) + 3))
    wobble = [
        cv2.resize(rng.standard_normal(small).astype(np.float32), (ws, hs), interpolation=cv2.INTER_CUBIC)
        * (0.04 * pitch)
        for _ in range(2)
    ]
    c, s = float(np.cos(angle)), float(np.sin(angle))
    u = c * xs + s * ys + wobble[0] + rng.uniform(0, pitch)
    v = -s * xs + c * ys + wobble[1] + rng.uniform(0, pitch)
    iu, iv = np.round(u / pitch), np.round(v / pitch)
    du, dv = u - iu * pitch, v - iv * pitch
    half = wire / 2
    tu, tv = np.clip(du / half, -1, 1), np.clip(dv / half, -1, 1)
    cross_u, cross_v = np.sqrt(1 - tu * tu), np.sqrt(1 - tv * tv)
    # Weave: wire i rises over crossing j when i + j is even; its slope tilts the normal.
    phase_u = np.pi * (v / pitch + iu)
    phase_v = np.pi * (u / pitch + iv + 1)
    z_u = weave * np.cos(phase_u) + half * cross_u
    z_v = weave * np.cos(phase_v) + half * cross_v
    slope_u = -weave * np.pi / pitch * np.sin(phase_u)
    slope_v = -weave * np.pi / pitch * np.sin(phase_v)
    cov_u = np.clip(half - np.abs(du) + 0.5, 0, 1)
    cov_v = np.clip(half - np.abs(dv) + 0.5, 0, 1)
    top_u = (z_u >= z_v) | (cov_v <= 0)

    def normal(t_cross: np.ndarray, n_cross: np.ndarray, slope: np.ndarray, along_u: bool) -> tuple[np.ndarray, ...]:
        a, b = (t_cross, -slope * n_cross) if along_u else (-slope * n_cross, t_cross)
        norm = np.sqrt(a * a + b * b + n_cross * n_cross) + 1e-6
        a, b, nz = a / norm, b / norm, n_cross / norm
        return c * a - s * b, s * a + c * b, nz

    shade_u = _shade(*normal(tu, cross_u, slope_u, True), albedo, gloss, shininess)
    shade_v = _shade(*normal(tv, cross_v, slope_v, False), albedo, gloss, shininess)
    # A little ambient occlusion where a wire dips under its neighbour.
    shade_u *= (0.75 + 0.25 * np.clip((z_u + weave) / (2 * weave + half), 0, 1))[..., None] if weave else 1.0
    shade_v *= (0.75 + 0.25 * np.clip((z_v + weave) / (2 * weave + half), 0, 1))[..., None] if weave else 1.0
    cov_top = np.where(top_u, cov_u, cov_v)
    cov_low = np.where(top_u, cov_v, cov_u)
    shade_top = np.where(top_u[..., None], shade_u, shade_v)
    shade_low = np.where(top_u[..., None], shade_v, shade_u)
    mesh_s = shade_low * cov_low[..., None]
    mesh_s = mesh_s * (1 - cov_top[..., None]) + shade_top * cov_top[..., None]
    coverage_s = 1 - (1 - cov_top) * (1 - cov_low)
    coverage = _downsample(coverage_s, h, w)
    premult = _downsample(mesh_s, h, w)
    height = size * rng.uniform(0.006, 0.012)
    shift = np.float32([[1, 0, 0.8 * height], [0, 1, 1.0 * height]])
    shadow = cv2.warpAffine(coverage, shift, (w, h), borderMode=cv2.BORDER_REFLECT)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 0.5 * height + 0.5)
    table = _to_linear(image) * (1.0 - 0.6 * shadow)[..., None] * 0.85
    light = _scene_light(image, fg)[..., None]
    return table * (1 - coverage[..., None]) + premult * light


# ------------------------------------------------------------------ capture


def _defocus(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Defocus is a disc (the aperture's image) convolved in linear light, not a Gaussian on sRGB."""
    h, w = image.shape[:2]
    radius = max(1.0, min(h, w) * rng.uniform(0.012, 0.02))
    k = int(np.ceil(radius)) + 1
    fine = 4
    coords = (np.arange((2 * k + 1) * fine) + 0.5) / fine - (k + 0.5)  # sub-pixel centres, symmetric
    disc = (np.hypot(*np.meshgrid(coords, coords)) <= radius).astype(np.float32)
    kernel = cv2.resize(disc, (2 * k + 1, 2 * k + 1), interpolation=cv2.INTER_AREA)
    kernel = cv2.GaussianBlur(kernel, (0, 0), 0.5)
    kernel /= kernel.sum()
    blurred = cv2.filter2D(_to_linear(image), -1, kernel, borderType=cv2.BORDER_REFLECT)
    return _to_srgb_uint8(blurred)


def _low_light(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fewer photons, not a darker picture: exposure scaled in linear light, shot and read noise, 8-bit output.

    At full exposure a white pixel collects `full_photons`; dimming by `exposure` leaves
    only 40 to 250 photons, so Poisson noise grows with the signal while read noise sets
    the floor that dominates the shadows.
    """
    exposure = rng.uniform(0.1, 0.25)
    full_photons = rng.uniform(400.0, 1000.0)
    read_noise = rng.uniform(2.0, 4.0)  # electrons
    photons = _to_linear(image) * (exposure * full_photons)
    electrons = rng.poisson(photons).astype(np.float32) + rng.normal(0.0, read_noise, photons.shape).astype(np.float32)
    return _to_srgb_uint8(electrons / full_photons)

"""Prior-guided anomaly synthesis: repaint a generated mask so it shows the described defect.

Two tiers share mask generation and category-consistency selection:
- embedded: a procedural inpainter. The description is read for colour words and defect
  nouns; the noun picks an operator (stain, line, hole, dent, deformation, foreign matter,
  missing material) and the colour tints it ("brown, gray or dark blue": one per candidate;
  "lighter or darker": either tone per candidate). Runs on CPU in well under a second at 256².
- full: Stable Diffusion inpainting with DDIM, the description as prompt and the noise
  factor drawn from 0.4–0.6 as in the paper (BrushNet is replaced by SD's own inpainting UNet).

Selection stands in for the paper's AlphaCLIP score: a candidate wins when its region is
visibly changed, matches the named colour, and meets its surroundings without a hard seam.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from skimage.morphology import skeletonize

from hub.images import ImageLike, to_rgb_array
from methods.uniadc.foreground import estimate_foreground
from methods.uniadc.mask_shapes import perlin_noise, sample_mask
from methods.uniadc.prior import Category

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (165, 30, 30), "brown": (105, 65, 35), "black": (25, 25, 25), "white": (238, 238, 232),
    "rust": (150, 72, 30), "yellow": (215, 185, 40), "green": (55, 120, 45), "blue": (40, 70, 165),
    "gray": (120, 120, 120), "grey": (120, 120, 120), "orange": (215, 115, 30), "pink": (225, 135, 165),
    "purple": (110, 50, 130), "golden": (200, 160, 60), "silver": (190, 190, 195), "copper": (180, 100, 50),
}
# Defect nouns -> operator, checked in this order so that the most specific wins
# ("foreign matter stain" is foreign matter, "dented" beats a generic "surface").
OPERATOR_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("foreign", ("contamination", "contaminated", "foreign", "impurit", "debris", "particle", "mold")),
    ("missing", ("missing", "broken", "chipped", "chip", "break", "damage", "fray", "abrasion")),
    ("hole", ("hole", "poke", "puncture", "blowhole", "pit", "pore")),
    ("line", ("scratch", "crack", "cut", "fold", "thread", "string", "hair", "fiber", "fibre", "tear", "split", "line")),
    ("deform", ("deform", "bent", "bend", "warp", "twist", "squeez", "crumpl", "misplac")),
    ("dent", ("dent", "uneven", "bump", "bulge", "rough", "wear")),
    ("stain", ("stain", "color", "colour", "spot", "liquid", "oil", "glue", "discolo", "burn", "flecked", "print")),
]
# Words that put a defect on the object's outline (a bite, a chipped edge) rather than inside it.
EDGE_WORDS = ("edge", "notch", "bite", "rim", "outline")
# Words that draw a Line mask jagged and branching, as cracks run, rather than as a smooth stroke.
JAGGED_WORDS = ("crack", "jagged", "zigzag", "branch", "fissure")
DARK_WORDS = ("dark", "black", "burn", "crack", "hole")
BRIGHT_WORDS = ("bright", "white", "light", "shiny", "scratch")
_TONE_WORDS = {"dark", "darker", "light", "lighter", "bright", "brighter", "black", "white"}
_COLOUR_MODIFIERS = ("dark", "light", "pale", "deep")


@dataclass(frozen=True)
class Appearance:
    """What the description asks for, read once per category."""

    operator: str
    colour: tuple[int, int, int] | None
    tone: int  # -1 dark, +1 bright, 0 unspecified
    colours: tuple[tuple[int, int, int], ...] = ()  # "brown, gray or blue": each candidate draws one


def _colour_list(description: str) -> tuple[tuple[int, int, int], ...]:
    """The first colour word and those listed after it with commas or "or" ("brown, gray or dark blue")."""
    tokens = re.findall(r"[a-z]+|,", description.lower())
    start = next((i for i, t in enumerate(tokens) if t in COLOURS), None)
    if start is None:
        return ()
    found = [_modified(COLOURS[tokens[start]], tokens[start - 1] if start else "")]
    i = start + 1
    while i < len(tokens) and tokens[i] in (",", "or"):
        i += 1
        while i < len(tokens) and tokens[i] in (",", "or", *_COLOUR_MODIFIERS):
            i += 1
        if i < len(tokens) and tokens[i] in COLOURS:
            found.append(_modified(COLOURS[tokens[i]], tokens[i - 1]))
            i += 1
        else:
            break
    return tuple(dict.fromkeys(found))


def _modified(colour: tuple[int, int, int], modifier: str) -> tuple[int, int, int]:
    """"dark blue" is a darker blue, "light"/"pale" blue a paler one."""
    rgb = np.asarray(colour, np.float32)
    if modifier in ("dark", "deep"):
        rgb = rgb * 0.6
    elif modifier in ("light", "pale"):
        rgb = rgb + (255 - rgb) * 0.5
    return tuple(int(round(v)) for v in rgb)


def read_description(description: str) -> Appearance:
    words = re.findall(r"[a-z]+", description.lower())
    colours = _colour_list(description)
    colour = colours[0] if colours else None
    operator = next(
        (op for op, stems in OPERATOR_WORDS if any(w.startswith(s) for w in words for s in stems)), "stain"
    )
    first_dark = next((i for i, w in enumerate(words) if w.startswith(DARK_WORDS)), None)
    first_bright = next((i for i, w in enumerate(words) if w.startswith(BRIGHT_WORDS)), None)
    either = any(words[i + 1] == "or" and {words[i], words[i + 2]} & _TONE_WORDS and
                 words[i].startswith(DARK_WORDS) != words[i + 2].startswith(DARK_WORDS)
                 for i in range(len(words) - 2))
    if either or (first_dark is None and first_bright is None):
        tone = 0  # "lighter or darker": each candidate draws its own
    elif first_bright is None or (first_dark is not None and first_dark < first_bright):
        tone = -1
    else:
        tone = 1
    return Appearance(operator, colour, tone, colours if len(colours) > 1 else ())


# --- operators: (image float32 HxWx3 in 0..255, mask bool, appearance, rng, context) -> image --------


def _feather(mask: np.ndarray, width: float) -> np.ndarray:
    """Alpha that is 1 deep inside the mask, ramps down to 0 at its edge, and is 0 outside."""
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(inside / max(width, 1e-3), 0, 1).astype(np.float32)


def _mix(a: np.ndarray, b: np.ndarray | tuple, alpha: np.ndarray) -> np.ndarray:
    return a * (1 - alpha[..., None]) + np.asarray(b, np.float32) * alpha[..., None]


def _luminance(img: np.ndarray) -> np.ndarray:
    return img @ np.array([0.299, 0.587, 0.114], np.float32)


def _stain(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """Translucent colour that keeps the texture underneath, uneven like a real spill."""
    h, w = mask.shape
    density = 0.55 + 0.45 * np.clip(perlin_noise((h, w), int(rng.integers(4, 10)), rng) * 2 + 0.5, 0, 1)
    alpha = _feather(mask, rng.uniform(1.5, 4)) * density * rng.uniform(0.7, 0.95)
    if look.colour is not None:
        shade = _luminance(img) / max(float(_luminance(img)[mask].mean()), 1.0)
        tinted = np.asarray(look.colour, np.float32) * np.clip(shade, 0.6, 1.4)[..., None]
        out = _mix(img, tinted, alpha)
    elif look.tone > 0:
        out = _mix(img, (245, 245, 240), alpha * 0.8)
    else:
        out = img * (1 - alpha[..., None] * rng.uniform(0.45, 0.7))
    # A slightly darker rim where a drying liquid collects.
    rim = np.clip(alpha * 3, 0, 1) - np.clip(alpha * 3 - 1, 0, 1)
    return out * (1 - 0.15 * rim[..., None])


def dark_stroke(look: Appearance, words: tuple[str, ...], surface: float, rng: np.random.Generator) -> bool:
    """Whether a line is drawn darker than its surface (luminance `surface`, 0–255).

    A named tone decides, a crack is dark; "lighter or darker" draws the tone that contrasts
    with the surface four times in five, since a mark shows most against its surface.
    """
    if look.tone:
        return look.tone < 0
    if "crack" in words:
        return True
    return bool(rng.random() < (0.8 if surface > 128 else 0.2))


def _line(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """Thin strokes along the mask's skeleton: dark for cracks and threads, bright for scratches."""
    skeleton = skeletonize(mask)
    thickness = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    width = max(1, int(round(min(float(thickness.max()) * rng.uniform(0.5, 0.9), 0.012 * max(mask.shape)))))
    # A smooth sideways wobble so the stroke wanders like a real scratch or crack.
    h, w = mask.shape
    wobble = perlin_noise((h, w), int(rng.integers(6, 14)), rng).astype(np.float32) * rng.uniform(1.0, 3.0)
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    skeleton = cv2.remap(skeleton.astype(np.float32), grid_x + wobble, grid_y - wobble, cv2.INTER_LINEAR) > 0.3
    stroke = cv2.dilate(skeleton.astype(np.uint8), np.ones((width, width), np.uint8)) if width > 1 else skeleton
    stroke = cv2.GaussianBlur(stroke.astype(np.float32), (0, 0), 0.7) * mask
    dark = dark_stroke(look, ctx["words"], float(_luminance(img)[mask].mean()), rng)
    if look.colour is not None:
        return _mix(img, look.colour, stroke * rng.uniform(0.7, 0.95))
    if dark:
        return img * (1 - stroke[..., None] * rng.uniform(0.55, 0.8))
    # A scratch catches light: brighter core with a faint shadow beside it.
    shadow = np.roll(stroke, 1, axis=0) * (1 - stroke)
    out = _mix(img, (245, 245, 240), stroke * rng.uniform(0.45, 0.75))
    return out * (1 - 0.25 * shadow[..., None])


def _height_shading(mask: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Lambert shading change (about 0 on flat ground) of a smooth pit shaped like the mask."""
    height = -cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    gy, gx = np.gradient(height)
    angle = rng.uniform(0, 2 * np.pi)
    return (gx * np.cos(angle) + gy * np.sin(angle)) * sigma


def _hole(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """A dark cavity, deepest at its centre, with a lit inner wall on one side."""
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    depth = depth / max(float(depth.max()), 1.0)
    dark = np.asarray(look.colour if look.colour is not None else (18, 14, 12), np.float32)
    base = img[mask].mean(axis=0) * rng.uniform(0.08, 0.2) + dark * 0.5
    cavity = base * (1 - 0.5 * np.clip(depth, 0, 1))[..., None]
    alpha = _feather(mask, rng.uniform(1.0, 2.0))
    sigma = max(1.0, 0.15 * math.sqrt(mask.sum()))
    wall = np.clip(_height_shading(mask, rng, sigma) * 4, -1, 1) * mask
    out = _mix(img, cavity, alpha * rng.uniform(0.85, 1.0))
    return out * (1 + 0.5 * wall[..., None])


def _dent(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """A shallow pit or bump: shading only, the texture stays."""
    sigma = max(1.5, 0.2 * math.sqrt(mask.sum()))
    shade = np.clip(_height_shading(mask, rng, sigma) * rng.uniform(1.5, 3), -0.35, 0.35) * _feather(mask, sigma / 2)
    return img * (1 + shade[..., None])


def _deform(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """Texture displaced by a smooth random field inside the mask, plus the shading of a dent."""
    h, w = mask.shape
    amplitude = rng.uniform(0.06, 0.12) * math.sqrt(mask.sum())
    weight = _feather(mask, max(2.0, 0.1 * math.sqrt(mask.sum())))
    dx = perlin_noise((h, w), int(rng.integers(3, 7)), rng) * amplitude * 2 * weight
    dy = perlin_noise((h, w), int(rng.integers(3, 7)), rng) * amplitude * 2 * weight
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(img, grid_x + dx.astype(np.float32), grid_y + dy.astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    return _dent(warped, mask, look, rng, ctx)


def _foreign(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """A patch of other material Poisson-blended in: the image rotated and recoloured, or a named colour."""
    h, w = mask.shape
    patch = np.rot90(img, int(rng.integers(1, 4))) if h == w else img[::-1, ::-1]
    patch = cv2.resize(np.ascontiguousarray(patch), None, fx=rng.uniform(1.5, 3), fy=rng.uniform(1.5, 3))
    y0, x0 = int(rng.integers(0, patch.shape[0] - h + 1)), int(rng.integers(0, patch.shape[1] - w + 1))
    patch = patch[y0:y0 + h, x0:x0 + w]
    grain = perlin_noise((h, w), int(rng.integers(12, 30)), rng)[..., None] * 60
    if look.colour is not None:
        shade = _luminance(patch) / max(float(_luminance(patch).mean()), 1.0)
        patch = np.asarray(look.colour, np.float32) * np.clip(shade, 0.5, 1.5)[..., None] + grain
    else:
        hsv = cv2.cvtColor(np.clip(patch, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(40, 140))) % 180
        hsv[..., 1] = np.clip(hsv[..., 1].astype(int) + 60, 0, 255)
        patch = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32) * rng.uniform(0.5, 0.9) + grain
    pad = 8
    big = cv2.copyMakeBorder(np.clip(img, 0, 255).astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_REFLECT)
    src = cv2.copyMakeBorder(np.clip(patch, 0, 255).astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_REFLECT)
    m = cv2.copyMakeBorder(mask.astype(np.uint8) * 255, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    ys, xs = np.nonzero(m)
    center = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    cloned = cv2.seamlessClone(src, big, m, center, cv2.NORMAL_CLONE)[pad:-pad, pad:-pad].astype(np.float32)
    # Poisson blending pulls colours toward the surroundings; keep part of the patch's own colour.
    alpha = _feather(mask, 2.0) * rng.uniform(0.3, 0.6)
    return _mix(cloned, patch, alpha)


def _missing(img: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator, ctx: dict) -> np.ndarray:
    """Material gone: on an object, the backdrop shows through a clean gap whose rim of remaining
    material is pressed slightly darker; on a texture (no backdrop), a dark gap with a broken edge.

    The backdrop is the one around the mask (a tray under a part, not the table's far edge).
    """
    background = ctx["background"]
    foreground = ctx.get("foreground")
    m8 = mask.astype(np.uint8)
    if background is None:
        out = _mix(img, img * rng.uniform(0.1, 0.25), _feather(mask, 1.0))
        edge = cv2.dilate(m8, np.ones((3, 3), np.uint8), iterations=2).astype(bool) & ~cv2.erode(
            m8, np.ones((3, 3), np.uint8)).astype(bool)
        edge = cv2.GaussianBlur(edge.astype(np.float32), (0, 0), 1.0)
        return out * (1 - rng.uniform(0.3, 0.5) * edge[..., None])
    if foreground is not None:
        near = cv2.dilate(m8, np.ones((3, 3), np.uint8), iterations=max(3, mask.shape[0] // 32))
        around = near.astype(bool) & ~foreground
        if around.sum() >= 8:
            background = np.median(img[around], axis=0)
    noise = perlin_noise(mask.shape, 20, rng)[..., None] * 6
    fill = np.asarray(background, np.float32) + noise
    # The rim: the part of the mask within a few pixels of the material that remains.
    depth = cv2.distanceTransform(m8, cv2.DIST_L2, 3)
    rim_width = max(1.0, rng.uniform(0.2, 0.35) * float(depth.max()))
    remaining = foreground & ~mask if foreground is not None else np.zeros_like(mask)
    to_material = cv2.distanceTransform((~remaining).astype(np.uint8), cv2.DIST_L2, 3)
    gone = mask & (to_material > rim_width)
    if not gone.any():
        gone = mask
    out = _mix(img, fill, _feather(gone, 1.0))
    rim = (mask & ~gone).astype(np.float32) * np.clip(1 - to_material / (rim_width + 1), 0, 1)
    return out * (1 - rng.uniform(0.1, 0.25) * cv2.GaussianBlur(rim, (0, 0), 0.8)[..., None])


OPERATORS: dict[str, Callable[..., np.ndarray]] = {
    "stain": _stain, "line": _line, "hole": _hole, "dent": _dent, "deform": _deform, "foreign": _foreign,
    "missing": _missing,
}


def repaint(image: np.ndarray, mask: np.ndarray, look: Appearance, rng: np.random.Generator,
            foreground: np.ndarray | None = None, words: tuple[str, ...] = ()) -> np.ndarray:
    """uint8 (H, W, 3): `image` with the masked region repainted by the operator `look` names."""
    img = image.astype(np.float32)
    background = None
    if foreground is not None and not foreground.all():
        background = np.median(img[~foreground], axis=0)
    out = OPERATORS[look.operator](img, mask, look, rng, {"background": background, "words": words,
                                                       "foreground": foreground})
    # Nothing outside the mask may change: the mask is the ground truth.
    out = np.where(mask[..., None], out, img)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


# --- category-consistency selection -------------------------------------------------------


def _lab(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    return lab


def consistency_score(original: np.ndarray, repainted: np.ndarray, mask: np.ndarray, look: Appearance) -> float:
    """Higher is better: visible change inside the mask, the named colour, no hard seam at its edge."""
    lab0, lab1 = _lab(original), _lab(repainted)
    change = float(np.linalg.norm(lab1[mask] - lab0[mask], axis=1).mean())
    visibility = min(change / 25.0, 1.0)
    colour_term = 0.0
    if look.colour is not None:
        target = _lab(np.array([[look.colour]], np.uint8))[0, 0]
        colour_term = float(np.linalg.norm(lab1[mask].mean(axis=0) - target)) / 100.0
    m8 = mask.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    inner = mask & ~cv2.erode(m8, kernel, iterations=2).astype(bool)
    outer = cv2.dilate(m8, kernel, iterations=2).astype(bool) & ~mask
    grad = lambda lab: np.hypot(cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0), cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1))
    g0, g1 = grad(lab0), grad(lab1)
    # Border gradient the repaint added, relative to the texture's own gradient there.
    seam = 0.0
    if inner.any() and outer.any():
        added = float(g1[inner | outer].mean() - g0[inner | outer].mean())
        seam = max(0.0, added) / (float(g0[outer].mean()) + 20.0)
    return visibility - colour_term - 0.5 * seam


# --- one synthetic anomaly ---------------------------------------------------------------


@dataclass
class Synthesis:
    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    shape: str
    size: str
    operator: str
    score: float
    candidates: int
    category: str = ""  # set by sample-guided synthesis: the sample's category


def synthesize_candidates(image: ImageLike, category: Category, rng: np.random.Generator, n_candidates: int = 4,
                          foreground: np.ndarray | None = None, pipe: Any = None,
                          parts: Sequence[np.ndarray] = ()) -> list[Synthesis]:
    """Every (mask, repaint) candidate for `category`, each with its consistency score.

    With `parts` (the objects of a scene, see foreground.object_parts) each candidate's mask
    goes on one part, drawn at random, and its size is relative to that part: a hole in a
    nut is nut-sized, not bin-sized.
    """
    rgb = to_rgb_array(image)
    if foreground is None:
        foreground = estimate_foreground(rgb)
    look = read_description(category.description)
    words = tuple(re.findall(r"[a-z]+", category.description.lower()))
    at_edge = any(w.startswith(EDGE_WORDS) for w in words)
    jagged = any(w.startswith(JAGGED_WORDS) for w in words)
    made: list[Synthesis] = []
    for _ in range(max(1, n_candidates)):
        region = parts[int(rng.integers(len(parts)))] if len(parts) else foreground
        drawn = sample_mask(region, category, rng, at_edge, jagged)
        if look.colours:
            look = replace(look, colour=look.colours[int(rng.integers(len(look.colours)))])
        if pipe is None:
            outs = [repaint(rgb, drawn.mask, look, rng, foreground, words)]
        else:
            outs = inpaint_diffusion(pipe, rgb, drawn.mask, category.description, rng, n_images=1)
        for out in outs:
            score = consistency_score(rgb, out, drawn.mask, look)
            made.append(Synthesis(out, drawn.mask, drawn.shape, drawn.size, look.operator, score, n_candidates))
    return made


def synthesize(image: ImageLike, category: Category, rng: np.random.Generator, n_candidates: int = 4,
               foreground: np.ndarray | None = None, pipe: Any = None, parts: Sequence[np.ndarray] = ()) -> Synthesis:
    """Best of `n_candidates` (mask, repaint) pairs for `category`; the full tier when `pipe` is given."""
    return max(synthesize_candidates(image, category, rng, n_candidates, foreground, pipe, parts),
               key=lambda c: c.score)


# --- full tier: diffusers inpainting -----------------------------------------------------

NOISE_RANGE = (0.4, 0.6)
DENOISING_STEPS = 10


def diffusion_arguments(description: str, strength: float, n_images: int, size: tuple[int, int]) -> dict[str, Any]:
    """Keyword arguments for StableDiffusionInpaintPipeline.

    diffusers runs int(num_inference_steps * strength) steps, so asking for 10 / strength
    gives the paper's 10 DDIM steps starting from noise level `strength`.
    """
    return {
        "prompt": description,
        "negative_prompt": "blurry, smooth, cartoon, text, watermark",
        "num_inference_steps": int(math.ceil(DENOISING_STEPS / strength)),
        "strength": strength,
        "num_images_per_prompt": n_images,
        "height": size[0],
        "width": size[1],
        "guidance_scale": 7.5,
        "output_type": "np",
    }


def inpaint_diffusion(pipe: Any, image: np.ndarray, mask: np.ndarray, description: str, rng: np.random.Generator,
                      n_images: int = 4, resolution: int = 512) -> list[np.ndarray]:
    """`n_images` SD-inpainted candidates at the input size, unchanged outside the mask."""
    import torch
    from PIL import Image

    h, w = mask.shape
    side = max(8, resolution // 8 * 8)
    strength = float(rng.uniform(*NOISE_RANGE))
    kwargs = diffusion_arguments(description, strength, n_images, (side, side))
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    # A slightly grown mask gives the UNet room to blend; the paste below keeps the ground truth exact.
    grown = cv2.dilate(mask.astype(np.uint8) * 255, np.ones((5, 5), np.uint8))
    result = pipe(
        image=Image.fromarray(image).resize((side, side), Image.BICUBIC),
        mask_image=Image.fromarray(grown).resize((side, side), Image.NEAREST),
        generator=generator,
        **kwargs,
    ).images
    outs = []
    for im in result:
        im = cv2.resize((np.clip(im, 0, 1) * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_AREA)
        outs.append(np.where(mask[..., None], im, image))
    return outs

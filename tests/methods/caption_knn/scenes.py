"""Small generated scenes for the caption_knn tests: shaded objects on a light, textured table."""
from __future__ import annotations

import cv2
import numpy as np

COLOURS = {"blue": (45, 95, 180), "red": (185, 40, 40), "orange": (235, 120, 30), "green": (55, 140, 60)}


def table(size: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 12)
    base = 205 + 40 * noise / (np.abs(noise).max() + 1e-6) * 0.2
    img = np.repeat(base[..., None], 3, axis=2) + rng.normal(0, 1.5, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def draw(img: np.ndarray, kind: str, colour: str, x: float, y: float, length: float, angle: float = 0.0) -> np.ndarray:
    """Draw a bar (kind="bar") or a disc ("disc") with simple shading; returns the object's mask."""
    size = img.shape[0]
    mask = np.zeros(img.shape[:2], np.uint8)
    c = (int(x * size), int(y * size))
    if kind == "bar":
        box = cv2.boxPoints((c, (length * size, 0.045 * size), angle)).astype(np.int32)
        cv2.fillPoly(mask, [box], 1)
    else:
        cv2.circle(mask, c, int(length * size / 2), 1, -1)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    shade = 0.75 + 0.25 * np.clip(dist / max(dist.max(), 1), 0, 1)
    rgb = np.array(COLOURS[colour], np.float32)
    m = mask.astype(bool)
    img[m] = np.clip(rgb[None] * shade[m][:, None], 0, 255).astype(np.uint8)
    return m


def scene(seed: int, objects=(("bar", "blue", 0.55), ("bar", "blue", 0.55), ("bar", "red", 0.3)), size: int = 256):
    """Objects in separate lanes, jittered; returns (image, foreground mask)."""
    rng = np.random.default_rng(seed)
    img = table(size, seed)
    fg = np.zeros((size, size), bool)
    lanes = rng.permutation(len(objects))
    for lane, (kind, colour, length) in zip(lanes, objects):
        x = 0.25 + 0.5 * lane / max(len(objects) - 1, 1) + rng.uniform(-0.02, 0.02)
        y = 0.5 + rng.uniform(-0.05, 0.05)
        fg |= draw(img, kind, colour, x, y, length * rng.uniform(0.95, 1.05), 90 + rng.uniform(-5, 5))
    return img, fg


def bin_scene(seed: int, dark: bool = True, discs=(("orange", 0.3), ("blue", 0.7)), size: int = 256):
    """A plastic bin on the table holding discs (a colour, or "metal" for a grey one); returns (image, foreground).

    The foreground is the bin, as in the suite: cables and mesh pass around fixtures, not over them.
    """
    rng = np.random.default_rng(seed)
    img = table(size, seed)
    x0, y0, x1, y1 = (int(f * size) for f in (0.12, 0.3 + rng.uniform(-0.02, 0.02), 0.88, 0.7))
    plastic = (70, 74, 86) if dark else (200, 200, 196)
    cv2.rectangle(img, (x0, y0), (x1, y1), plastic, -1)
    cv2.rectangle(img, (x0, y0), (x1, y1), tuple(int(c * 0.8) for c in plastic), 3)  # the bin's wall
    fg = np.zeros((size, size), bool)
    fg[y0:y1 + 1, x0:x1 + 1] = True
    for colour, x in discs:
        mask = np.zeros((size, size), np.uint8)
        c = (int((x + rng.uniform(-0.03, 0.03)) * size), int((0.5 + rng.uniform(-0.04, 0.04)) * size))
        cv2.circle(mask, c, int(0.05 * size), 1, -1)
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
        shade = 0.75 + 0.25 * np.clip(dist / max(dist.max(), 1), 0, 1)
        rgb = np.array((150, 150, 155) if colour == "metal" else COLOURS[colour], np.float32)
        m = mask.astype(bool)
        img[m] = np.clip(rgb[None] * shade[m][:, None], 0, 255).astype(np.uint8)
    return img, fg

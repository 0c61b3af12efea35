"""One PNG that shows a dataset at a glance: per category a row of normals and a row per anomaly kind.

Works on MVTec AD and MVTec LOCO folders (one category or a folder of categories).
Captions come from a category's MANIFEST.json when there is one (the synthetic
suites write it), otherwise from folder names; ground-truth masks are outlined in red.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
BACKGROUND = (250, 250, 248)
RED = (230, 20, 20)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _spread(paths: list[Path], n: int) -> list[Path]:
    """n paths evenly spaced through the sorted list, so the tiles show the variety of a folder."""
    if len(paths) <= n:
        return paths
    return [paths[int(i)] for i in np.linspace(0, len(paths) - 1, n).round()]


def _mask_files(category: Path, defect: str, stem: str) -> list[Path]:
    loco = category / "ground_truth" / defect / stem
    if loco.is_dir():
        return _images(loco)
    ad = (category / "ground_truth" / defect).glob(f"{stem}_mask.*")
    return sorted(p for p in ad if p.suffix.lower() in IMAGE_SUFFIXES)


def _manifest(category: Path) -> dict[str, dict]:
    path = category / "MANIFEST.json"
    if not path.exists():
        return {}
    with open(path) as f:
        data = json.load(f)
    return {entry["path"]: entry for entry in data.get("images", [])} | {"": {"rule": data.get("rule", "")}}


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int, lines: int) -> list[str]:
    out: list[str] = []
    for word in text.split():
        if out and draw.textlength(out[-1] + " " + word, font=font) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1].rstrip(".,;") + "…"
    return out


def _tile(path: Path, masks: list[Path], tile: int) -> Image.Image:
    """The image fitted into a tile×tile square, the union of its masks outlined in red just outside it."""
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    h, w = rgb.shape[:2]
    scale = tile / max(h, w)
    nh, nw = max(int(round(h * scale)), 1), max(int(round(w * scale)), 1)
    small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA).copy()
    union = np.zeros((h, w), np.uint8)
    for mp in masks:
        with Image.open(mp) as m:
            arr = np.asarray(m.convert("L"))
        if arr.shape == union.shape:
            union |= (arr > 0).astype(np.uint8)
    if union.any():
        small_mask = cv2.resize(union, (nw, nh), interpolation=cv2.INTER_NEAREST)
        grow = max(tile // 80, 1)
        small_mask = cv2.dilate(small_mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
        contours, _ = cv2.findContours(small_mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(small, contours, -1, RED, 1, cv2.LINE_AA)
    canvas = Image.new("RGB", (tile, tile), BACKGROUND)
    canvas.paste(Image.fromarray(small), ((tile - nw) // 2, (tile - nh) // 2))
    return canvas


def _categories(root: Path) -> list[Path]:
    """Category folders: root itself, or its subfolders in the index's order when root has a MANIFEST.json."""
    if (root / "test").is_dir():
        return [root]
    found = sorted(d for d in root.iterdir() if d.is_dir() and (d / "test").is_dir())
    index = root / "MANIFEST.json"
    if index.exists():
        with open(index) as f:
            order = [s.get("name") for s in json.load(f).get("scenarios", [])]
        found.sort(key=lambda d: order.index(d.name) if d.name in order else len(order))
    return found


def contact_sheet(dataset_dir: str | Path, out_png: str | Path, per_kind: int = 4, tile: int = 160,
                  categories: Optional[list[str]] = None) -> Path:
    """Draw the sheet and write it to out_png; `categories` limits it to those category folders."""
    root = Path(dataset_dir)
    cats = _categories(root)
    if categories is not None:
        cats = [c for c in cats if c.name in set(categories)]
    if not cats:
        raise ValueError(f"{root}: no category with a test/ folder (expected MVTec AD or MVTec LOCO layout)")
    font, bold = _font(11), _font(15)
    label_w, pad, caption_h, header_h = 130, 8, 44, 44
    width = label_w + per_kind * (tile + pad) + pad
    blocks: list[Image.Image] = []
    for cat in cats:
        captions = _manifest(cat)
        good = _images(cat / "test" / "good") or _images(cat / "train" / "good")
        rows = [("good", "good", good)]
        for defect in sorted(d.name for d in (cat / "test").iterdir() if d.is_dir() and d.name != "good"):
            rows.append((defect, defect, _images(cat / "test" / defect)))
        block = Image.new("RGB", (width, header_h + len(rows) * (tile + caption_h + pad)), BACKGROUND)
        draw = ImageDraw.Draw(block)
        draw.text((pad, 6), cat.name, fill=(0, 0, 0), font=bold)
        rule = captions.get("", {}).get("rule", "")
        for k, line in enumerate(_wrap(draw, rule, font, width - 2 * pad, 1)):
            draw.text((pad, 26 + 13 * k), line, fill=(60, 60, 60), font=font)
        for r, (name, defect, paths) in enumerate(rows):
            y = header_h + r * (tile + caption_h + pad)
            for k, line in enumerate(_wrap(draw, name.replace("_", " "), bold, label_w - 2 * pad, 3)):
                draw.text((pad, y + tile // 2 - 20 + 18 * k), line, fill=(0, 0, 0), font=bold)
            for c, path in enumerate(_spread(paths, per_kind)):
                x = label_w + c * (tile + pad)
                masks = [] if defect == "good" else _mask_files(cat, defect, path.stem)
                block.paste(_tile(path, masks, tile), (x, y))
                entry = captions.get(path.relative_to(cat).as_posix())
                if entry is not None:
                    text = f"{entry['kind']}: {entry['description']}" if entry["description"] else entry["kind"]
                else:
                    text = f"{defect.replace('_', ' ')}: {path.stem}"
                for k, line in enumerate(_wrap(draw, text, font, tile, 3)):
                    draw.text((x, y + tile + 2 + 13 * k), line, fill=(20, 20, 20), font=font)
        blocks.append(block)
    sheet = Image.new("RGB", (width, sum(b.height for b in blocks)), BACKGROUND)
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out


def conditions_sheet(dataset_dir: str | Path, out_png: str | Path, tile: int = 160,
                     categories: Optional[list[str]] = None) -> Path:
    """One row per category: its first anomalous test image under each capture condition.

    The transforms are the ones `evaluate --condition` applies; generated scenes use their
    stored exact foreground, other datasets the estimate.
    """
    from hub.images import load_image, load_mask
    from leaderboard.suites.conditions import CONDITIONS, apply_condition

    root = Path(dataset_dir)
    cats = [c for c in _categories(root) if categories is None or c.name in set(categories)]
    if not cats:
        raise ValueError(f"{root}: no category with a test/ folder (expected MVTec AD or MVTec LOCO layout)")
    font, bold = _font(12), _font(13)
    label_w, pad, header_h = 110, 6, 22
    sheet = Image.new("RGB", (label_w + len(CONDITIONS) * (tile + pad), header_h + len(cats) * (tile + pad)),
                      BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for c, cond in enumerate(CONDITIONS):
        draw.text((label_w + c * (tile + pad), 4), cond, fill=(0, 0, 0), font=bold)
    for r, cat in enumerate(cats):
        folders = [d for d in sorted((cat / "test").iterdir()) if d.is_dir() and d.name != "good"]
        path = next((p for d in folders for p in _images(d)), None) or _images(cat / "test" / "good")[0]
        image = load_image(path)
        fg_path = cat / "foreground" / path.relative_to(cat)
        fg = load_mask(fg_path) > 0 if fg_path.is_file() else None
        y = header_h + r * (tile + pad)
        draw.text((pad, y + tile // 2 - 8), cat.name, fill=(0, 0, 0), font=font)
        for c, cond in enumerate(CONDITIONS):
            shown = apply_condition(image, cond, seed=r, foreground=fg)
            sheet.paste(Image.fromarray(shown).resize((tile, tile), Image.Resampling.LANCZOS),
                        (label_w + c * (tile + pad), y))
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out

"""A picture of LogSAD's label rule at work, for methods/logsad/README.md: `python docs/label_rules.py`.

Fits `logsad` (embedded tier) on the synthetic-logic Ropes normals, then shows normal test images
and images whose rope has another colour than its card names: the label found (box), the word read
(its glyph from the rule file), the rope's colour and the rule's verdict. Writes docs/logsad-labels.jpg.
The examples are picked by the suite's manifest (normal / `wrong_relation`); the method never reads it.
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "logsad-labels.jpg"
TILE = 256
PANEL = 120  # text under each tile


def _glyph_image(glyph: list[str], width: int) -> np.ndarray:
    """The glyph as the rule file holds it, drawn at its own 4:1 aspect, paper white and ink black."""
    from methods.logsad.rules import GLYPH_LEVELS

    levels = np.array([[GLYPH_LEVELS.index(ch) for ch in row] for row in glyph], np.float32) / (len(GLYPH_LEVELS) - 1)
    img = (255 * (1.0 - levels)).astype(np.uint8)
    height = round(width * img.shape[0] / img.shape[1])
    return cv2.cvtColor(cv2.resize(img, (width, height), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)


def _tile(model, image: np.ndarray, title: str) -> np.ndarray:
    from methods.logsad.mining import assign
    from methods.logsad.prints import read

    a = model._analyse([image])[0]
    assign(a.components, model.rule_file.interests)
    pred = model._predict_one(a)
    rule = next(r for r in model.rule_file.rules if r.kind == "label")
    vis = cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_AREA).copy()
    words = []
    for template, (x0, y0, x1, y1) in zip(a.prints or [], a.print_boxes or []):
        word = read([template], model.rule_file.prints)
        words += word
        colour = (0, 160, 0) if word else (160, 160, 160)
        cv2.rectangle(vis, (int(x0 * TILE), int(y0 * TILE)), (int(x1 * TILE) - 1, int(y1 * TILE) - 1), colour, 2)
    names = model.rule_file.interest_names()
    for c in a.components:
        if c.interest >= 0 and names[c.interest] == rule.interest:
            mask = cv2.resize(c.mask.astype(np.uint8), (TILE, TILE), interpolation=cv2.INTER_NEAREST)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(vis, contours, -1, (255, 255, 255), 1)
    panel = np.full((PANEL, TILE, 3), 255, np.uint8)
    broken = [b for b in pred.details["broken_rules"] if b["kind"] == "label"]
    lines = [title, "label reads: " + (", ".join(sorted(set(words))) or "nothing")]
    if words:
        pair = next((p for p in rule.pairs if p.print == words[0]), None)
        glyph = _glyph_image(next(p.glyph for p in model.rule_file.prints if p.name == words[0]), 200)
        panel[62:62 + glyph.shape[0], 10:10 + glyph.shape[1]] = glyph
        lines.append(f"which goes with: {pair.colour if pair else '?'}")
    verdict = ("BROKEN: " + broken[0]["text"]) if broken else "label rule holds"
    for k, line in enumerate(lines):
        cv2.putText(panel, line, (6, 16 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    foot = np.full((34, TILE, 3), 255, np.uint8)
    for k, part in enumerate(textwrap.wrap(verdict, 46)[:2]):
        cv2.putText(foot, part, (6, 13 + 15 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                    (200, 0, 0) if broken else (0, 120, 0), 1, cv2.LINE_AA)
    cv2.putText(vis, f"score {pred.score:.2f}", (6, TILE - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    return np.concatenate([vis, panel, foot], 0)


def main() -> None:
    import methods
    from hub.images import to_rgb_array
    from leaderboard import suites
    from leaderboard.datasets import open_dataset

    root = suites.materialise(suites.get("synthetic-logic"), categories=["Ropes"])
    ds = open_dataset(root, "Ropes")
    model = methods.create("logsad").fit([to_rgb_array(p) for p in ds.train])
    manifest = {i["path"]: i for i in json.loads((Path(root) / "Ropes" / "MANIFEST.json").read_text())["images"]}
    good = [p for p in sorted(manifest) if manifest[p]["kind"] == "good" and p.startswith("test/")][:3]
    wrong = [p for p in sorted(manifest) if "wrong_relation" in manifest[p]["defect_types"]][:3]
    tiles = [_tile(model, to_rgb_array(Path(root) / "Ropes" / p), "normal" if p in good else "wrong pairing")
             for p in good + wrong]
    sheet = np.concatenate([np.concatenate(tiles[:3], 1), np.concatenate(tiles[3:], 1)], 0)
    cv2.imwrite(str(OUT), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

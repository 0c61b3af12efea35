"""`python -m methods.uniadc synthesize|preview`: make an MVTec-style synthetic test set from a prior."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hub.images import ImageError, to_rgb_array
from methods.uniadc.foreground import learn_parts, scene_foreground
from methods.uniadc.prior import PriorError, load_prior

MAX_N = 1000
# Fewest source images from which a part model is learned; with fewer, the colour foreground is used.
PART_MIN_SOURCES = 4
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


class SynthesisInputError(ValueError):
    """Bad CLI input: a missing or empty image folder, or an out-of-range count."""


def list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise SynthesisInputError(f"{folder}: no such image folder")
    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not images:
        raise SynthesisInputError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    return images


def run_synthesis(prior_path: str | Path, images_dir: str | Path, out_dir: str | Path, n: int = 16, seed: int = 0,
                  tier: str = "embedded", n_candidates: int = 4) -> dict:
    """`n` images per category in MVTec layout under `out_dir`, with a synthesis.json record."""
    if not 1 <= n <= MAX_N:
        raise SynthesisInputError(f"--n {n} is out of range: ask for 1 to {MAX_N} images per category")
    prior = load_prior(prior_path)
    sources = list_images(Path(images_dir))
    pipe = None
    if tier == "full":
        from hub import full
        from methods.base import default_device

        pipe = full.load("sd_inpainting", default_device())
    from methods.uniadc.inpaint import synthesize

    out = Path(out_dir)
    # Scenes of several objects (parts in bins): learn the parts from the sources, so defects go on them.
    part_model = learn_parts([to_rgb_array(p) for p in sources[:12]]) if len(sources) >= PART_MIN_SOURCES else None
    cache: dict[Path, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = {}
    records = []
    start = time.perf_counter()
    for c, (name, category) in enumerate(prior.categories.items()):
        (out / "test" / name).mkdir(parents=True, exist_ok=True)
        (out / "ground_truth" / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            source = sources[(c * n + i) % len(sources)]
            if source not in cache:
                rgb = to_rgb_array(source)
                cache[source] = (rgb, *scene_foreground(rgb, part_model))
            rgb, fg, parts = cache[source]
            item_seed = seed * 1_000_003 + c * MAX_N + i
            made = synthesize(rgb, category, np.random.default_rng(item_seed), n_candidates, fg, pipe, parts)
            image_path = out / "test" / name / f"{i:03d}.png"
            mask_path = out / "ground_truth" / name / f"{i:03d}_mask.png"
            cv2.imwrite(str(image_path), cv2.cvtColor(made.image, cv2.COLOR_RGB2BGR))
            cv2.imwrite(str(mask_path), made.mask.astype(np.uint8) * 255)
            records.append({
                "image": str(image_path.relative_to(out)), "mask": str(mask_path.relative_to(out)),
                "source": str(source), "category": name, "description": category.description,
                "shape": made.shape, "size": made.size, "operator": made.operator, "seed": item_seed,
                "score": round(made.score, 4), "candidates": made.candidates,
            })
    summary = {"prior": prior.name, "tier": tier, "n_per_category": n, "seed": seed,
               "seconds_per_image": round((time.perf_counter() - start) / max(len(records), 1), 4), "items": records}
    (out / "synthesis.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m methods.uniadc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    syn = sub.add_parser("synthesize", help="repaint normal images into labelled anomalies from a prior")
    syn.add_argument("--prior", required=True)
    syn.add_argument("--images", required=True, help="folder of normal images")
    syn.add_argument("--out", required=True)
    syn.add_argument("--n", type=int, default=16, help=f"images per category (at most {MAX_N})")
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--candidates", type=int, default=4, help="candidates per image for consistency selection")
    syn.add_argument("--tier", choices=("embedded", "full"), default="embedded")
    prev = sub.add_parser("preview", help="write the contact sheets mask_families.png, priors.png and sample_guided.png")
    prev.add_argument("--out", required=True)
    prev.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        if args.command == "synthesize":
            summary = run_synthesis(args.prior, args.images, args.out, args.n, args.seed, args.tier, args.candidates)
            print(f"wrote {len(summary['items'])} images to {args.out} "
                  f"({summary['seconds_per_image']:.2f} s per image); see synthesis.json")
        else:
            from methods.uniadc.preview import write_previews

            for path in write_previews(args.out, args.seed):
                print(path)
    except (PriorError, SynthesisInputError, ImageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

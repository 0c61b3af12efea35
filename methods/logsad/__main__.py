"""python -m methods.logsad mine --data DIR --category C --out rules.yaml

Mines a rule file from a category's normal training images for a person to review,
then prints one line per rule with how many normals it holds on.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from methods.logsad.segmentation import EMBEDDED_SEGMENTERS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m methods.logsad", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mine = sub.add_parser("mine", help="mine interests and rules from normal images")
    mine.add_argument("--data", required=True, help="dataset root (any layout leaderboard reads) or a folder of images")
    mine.add_argument("--category", default=None)
    mine.add_argument("--shots", type=int, default=None, help="use the first N normal images (all by default)")
    mine.add_argument("--segmenter", choices=EMBEDDED_SEGMENTERS, default="colour",
                      help="embedded segmenter, as LogSAD's config `segmenter` names it")
    mine.add_argument("--out", required=True)
    check = sub.add_parser("check", help="parse a rule file and report its errors")
    check.add_argument("rules")
    args = parser.parse_args(argv)

    from methods.logsad import rules as rulefile

    if args.command == "check":
        try:
            rf = rulefile.load(args.rules)
        except rulefile.RuleFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.rules}: {len(rf.interests)} interests, {len(rf.rules)} rules, OK")
        return 0

    from hub.images import to_rgb_array
    from leaderboard.datasets import DatasetError, open_dataset
    from methods.logsad.composition import check_all
    from methods.logsad.mining import mine as mine_rules
    from methods.logsad.rules import rule_interests
    from methods.logsad.prints import find_prints
    from methods.logsad import LogSADConfig
    from methods.logsad.segmentation import learn_embedded, segment_embedded

    try:
        ds = open_dataset(args.data, args.category)
    except (DatasetError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = ds.train[: args.shots] if args.shots else ds.train
    images = [to_rgb_array(p) for p in paths]
    # the embedded segmenter, as LogSAD.fit learns it
    segmenter = learn_embedded(images, args.segmenter, LogSADConfig().segmenter_settings())
    comps = [segment_embedded(img, segmenter)[0] for img in images]
    prints = [find_prints(img)[0] for img in images]
    rf = mine_rules(comps, category=args.category or Path(args.data).name, prints=prints)
    rulefile.dump(rf, args.out)
    print(f"{args.out}: {len(rf.interests)} interests, {len(rf.rules)} rules mined from {len(paths)} normal images "
          f"({segmenter.mode} segmenter)")
    held = [[r.holds for r in check_all(rf, cs, ts)] for cs, ts in zip(comps, prints)]
    for k, rule in enumerate(rf.rules):
        print(f"  rule {k} ({rule.kind}, {', '.join(rule_interests(rule))}): holds on "
              f"{sum(h[k] for h in held)} of {len(held)} normals")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

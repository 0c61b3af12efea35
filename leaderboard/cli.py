"""`python -m leaderboard <command>`: the evaluation CLI other tools and checks call.

Errors that come from the user's input (a bad path, an unknown method or key, a broken
dataset) print one line to stderr and exit 2; tracebacks are for our own bugs.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from hub import UnavailableModelError, UnknownNameError
from leaderboard.board.db import CorruptDatabaseError

# Every input error in the project derives from one of these (ImageError, DatasetError,
# ConfigError, TierError, SubmissionError are ValueErrors); anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, FileNotFoundError, UnknownNameError, UnavailableModelError, CorruptDatabaseError,
)
EXAMPLE_SUBMISSIONS = Path(__file__).resolve().parents[1] / "examples" / "submissions"


def _read_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--config {p}: no such file")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"--config {p}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {p}: expected a mapping of config keys, got {type(data).__name__}")
    return data


def _write_json(path: str, payload: Any) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(out)


def cmd_methods(args: argparse.Namespace) -> int:
    import methods

    print("\n".join(methods.available()))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from leaderboard.evaluate import evaluate, summarise

    result = evaluate(
        args.method,
        data=args.data,
        category=args.category,
        config=_read_config(args.config),
        shots=args.shots,
        tier=args.tier,
        condition=args.condition,
        save_maps=args.save_maps,
        shot_seed=args.shot_seed,
    )
    _write_json(args.out, result)
    print(summarise([result]), file=sys.stderr)
    return 0


def cmd_score_maps(args: argparse.Namespace) -> int:
    from leaderboard.evaluate import summarise
    from leaderboard.score_maps import score_maps

    result = score_maps(args.maps, args.data, args.category, args.condition)
    _write_json(args.out, result)
    print(summarise([result]), file=sys.stderr)
    return 0


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def cmd_make_suite(args: argparse.Namespace) -> int:
    from leaderboard import suites

    suite = suites.get(args.name)
    if suite.source != "generated":
        raise ValueError(f"suite {suite.name!r} is not generated; it reads a --data-root ({suite.where_to_get})")
    categories = _csv(args.scenarios) or sorted({t.category for t in suite.tasks})
    bar = tqdm(total=100, desc=f"make {suite.name}", unit="%")

    def on_progress(fraction: float, desc: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_postfix_str(desc, refresh=True)

    suites.GENERATORS.get(suite.generator)(Path(args.out), seed=args.seed if args.seed is not None else suite.seed,
                                           size=args.size or suite.size, categories=categories, progress=on_progress)
    bar.close()
    print(f"wrote {', '.join(categories)} under {args.out}", file=sys.stderr)
    return 0


def cmd_preview_suite(args: argparse.Namespace) -> int:
    from leaderboard.suites.contact_sheet import conditions_sheet, contact_sheet

    if args.conditions:
        conditions_sheet(Path(args.dir), Path(args.out))
    else:
        contact_sheet(Path(args.dir), Path(args.out), per_kind=args.per_kind)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_run_suite(args: argparse.Namespace) -> int:
    from leaderboard.run_suite import run_suite, summary_table

    rows = run_suite(args.name, args.method, out=args.out, config=_read_config(args.config), data_root=args.data_root,
                     tier=args.tier, categories=_csv(args.categories), conditions=_csv(args.conditions),
                     save_maps=args.save_maps)
    rows = [r for r in rows if r["suite"] == args.name and r["method"] == args.method]
    print(summary_table(rows), file=sys.stderr)
    if any(r["metrics"].get("image_auroc_structural") is not None for r in rows):
        print("\n" + summary_table(rows, "image_auroc_structural"), file=sys.stderr)
    return 0


def cmd_write_test_images(args: argparse.Namespace) -> int:
    from leaderboard.run_suite import write_test_images

    n = write_test_images(args.name, args.out, data_root=args.data_root, categories=_csv(args.categories),
                          conditions=_csv(args.conditions))
    print(f"wrote {n} test images under {args.out}", file=sys.stderr)
    return 0


def _queue(args: argparse.Namespace):
    from leaderboard.board import Queue

    return Queue(args.db)


def _data_roots(pairs: list[str] | None) -> dict[str, str]:
    roots = {}
    for pair in pairs or []:
        suite, sep, path = pair.partition("=")
        if not sep or not suite or not path:
            raise ValueError(f"--data-root {pair!r}: expected SUITE=PATH")
        roots[suite] = path
    return roots


def cmd_submit(args: argparse.Namespace) -> int:
    from leaderboard.board import submission

    sub = submission.load(args.file)
    res = _queue(args).submit(sub)
    print(res.id)
    if res.created:
        print(f"queued {sub.display_name!r} as {res.id}", file=sys.stderr)
    else:
        print(f"identical to submission {res.id} ({res.state}); not queued again", file=sys.stderr)
    return 0


def cmd_submit_maps(args: argparse.Namespace) -> int:
    from leaderboard.board.map_submission import submit_maps_to

    meta = Path(args.meta)
    if not meta.is_file():
        raise FileNotFoundError(f"--meta {meta}: no such file")
    res = submit_maps_to(_queue(args), args.zip, meta.read_text(encoding="utf-8"), args.suite)
    print(res["id"])
    verb = "stored" if res["created"] else "identical to an existing submission, not stored again:"
    print(f"{verb} {res['display_name']!r} ({res['source']}, tier {res['tier']}) on {res['n_tasks']} task(s) of "
          f"{res['suite']}: score {res['score']:.3f}, rank {res['rank']} of {res['of']}", file=sys.stderr)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from leaderboard.board.worker import work

    ran = work(_queue(args), once=args.once, lease_s=args.lease_seconds, poll_s=args.poll_seconds,
               data_roots=_data_roots(args.data_root))
    for job_id, state in ran:
        print(f"{job_id} {state}", file=sys.stderr)
    if args.once and not ran:
        print("queue is empty", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    queue = _queue(args)
    if args.id:
        print(json.dumps(queue.get(args.id), indent=2, default=str))
        return 0
    for r in queue.list():
        reason = f"  {r['reason']}" if r["reason"] else ""
        print(f"{r['id']}  {r['state']:<8}  {r['n_results']:>3} results  {r['method']:<14}  {r['display_name']}{reason}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from leaderboard.board import export

    print(export.render(export.summary(_queue(args), args.suite), args.format))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from leaderboard.board import export

    queue = _queue(args)
    if args.parquet:
        print(f"wrote {export.to_parquet(queue, args.parquet)}", file=sys.stderr)
    if args.repo_id:
        out = export.push_to_hub(queue, args.repo_id, dry_run_dir=args.dry_run_dir)
        print(f"pushed {args.repo_id}: {out}", file=sys.stderr)
    if not args.parquet and not args.repo_id:
        raise ValueError("export: give --parquet PATH and/or --repo-id OWNER/NAME")
    return 0


def cmd_seed_baselines(args: argparse.Namespace) -> int:
    import methods
    from leaderboard.board import Queue, submission

    queue = Queue(args.db, exempt=("baselines",))
    folder = Path(args.examples)
    for name in methods.available():
        path = folder / f"{name}.yaml"
        if not path.is_file():
            print(f"{name}: no example submission at {path}; skipped", file=sys.stderr)
            continue
        res = queue.submit(submission.load(str(path)))
        print(f"{res.id} {name} {'queued' if res.created else 'already ' + res.state}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from leaderboard.board.worker import reproduce

    queue = _queue(args)
    if queue.get(args.id)["spec"].get("kind") == "maps":
        raise ValueError(f"{args.id} was scored from submitted maps; none of its code runs here, so there is nothing "
                         "to rerun")
    problems = reproduce(queue, args.id, tolerance=args.tolerance, data_roots=_data_roots(args.data_root))
    if problems:
        print("\n".join(problems))
        print(f"{args.id}: NOT reproduced within {args.tolerance:g} ({len(problems)} differences)", file=sys.stderr)
        return 1
    print(f"{args.id}: reproduced within {args.tolerance:g}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m leaderboard", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("methods", help="list the registered methods")
    s.set_defaults(func=cmd_methods)

    s = sub.add_parser("evaluate", help="fit on train/good, predict the test set, write metrics JSON")
    s.add_argument("--method", required=True)
    s.add_argument("--config", help="YAML file of method config keys")
    s.add_argument("--data", required=True, help="dataset root or category folder")
    s.add_argument("--category", help="category folder under --data (optional if --data is the category)")
    s.add_argument("--shots", type=int, help="fit on the first N sorted train/good images (default: all)")
    s.add_argument("--shot-seed", type=int, help="with --shots: draw the N images at random with this seed instead")
    s.add_argument("--tier", choices=["auto", "embedded", "full"], help="model tier (default: $ANOMALY_HUB_TIER or auto)")
    s.add_argument("--condition", help="capture condition applied to test images: cable_bg, mesh_bg, blurry, low_light")
    s.add_argument("--save-maps", help="write each test map as float32 TIFF in the official layout under this folder")
    s.add_argument("--out", required=True, help="JSON file to write")
    s.set_defaults(func=cmd_evaluate)

    from leaderboard import score_maps

    s = sub.add_parser("score-maps", help="compute the evaluate JSON from anomaly maps written by any tool",
                       description=score_maps.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--maps", required=True, help="folder holding <category>/test/<defect_type>/<image_id>.tiff")
    s.add_argument("--data", required=True, help="dataset root or category folder")
    s.add_argument("--category", help="category folder under --data (optional if --data is the category)")
    s.add_argument("--condition", help="capture condition the maps were made under, recorded in the JSON "
                   "(default white_bg)")
    s.add_argument("--out", required=True, help="JSON file to write")
    s.set_defaults(func=cmd_score_maps)

    s = sub.add_parser("make-suite", help="write a generated suite's datasets (MVTec LOCO / AD layout)")
    s.add_argument("name")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int)
    s.add_argument("--size", type=int)
    s.add_argument("--scenarios", help="comma-separated categories (default: all)")
    s.set_defaults(func=cmd_make_suite)

    s = sub.add_parser("preview-suite", help="draw a captioned contact sheet of a dataset folder")
    s.add_argument("dir")
    s.add_argument("--out", required=True)
    s.add_argument("--per-kind", type=int, default=4)
    s.add_argument("--conditions", action="store_true", help="show one image per category under the five conditions")
    s.set_defaults(func=cmd_preview_suite)

    s = sub.add_parser("run-suite", help="evaluate a method on every task of a suite (resumable JSON lines)")
    s.add_argument("name")
    s.add_argument("--method", required=True)
    s.add_argument("--config")
    s.add_argument("--data-root", help="dataset root for real-dataset suites; a folder to generate into otherwise "
                   "(what make-suite wrote there with the suite's seed is used as it is; other data is never "
                   "overwritten)")
    s.add_argument("--tier", choices=["auto", "embedded", "full"])
    s.add_argument("--categories", help="comma-separated subset of the suite's categories")
    s.add_argument("--conditions", help="comma-separated subset of the suite's conditions")
    s.add_argument("--save-maps", help="write the maps of the tasks run as <condition>/<category>/test/... under "
                   "this folder, the layout `submit-maps` reads once zipped")
    s.add_argument("--out", required=True, help="JSON-lines results file (appended; finished tasks are skipped)")
    s.set_defaults(func=cmd_run_suite)

    s = sub.add_parser("write-test-images", help="write a suite's test images as evaluation sees them (condition "
                       "applied), in the layout a map submission mirrors")
    s.add_argument("name")
    s.add_argument("--data-root", help="dataset root for real-dataset suites; a folder to generate into otherwise "
                   "(what make-suite wrote there with the suite's seed is used as it is; other data is never "
                   "overwritten)")
    s.add_argument("--categories", help="comma-separated subset of the suite's categories")
    s.add_argument("--conditions", help="comma-separated subset of the suite's conditions")
    s.add_argument("--out", required=True, help="folder to write <condition>/<category>/test/<defect>/<id>.png under")
    s.set_defaults(func=cmd_write_test_images)

    db_help = "queue database (default: $ANOMALY_HUB_DATA/leaderboard.sqlite, /data/anomaly-hub or ./data)"
    root_help = "SUITE=PATH dataset root for a real-dataset suite (repeatable)"
    s = sub.add_parser("submit", help="validate a submission YAML and queue it")
    s.add_argument("file")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_submit)

    s = sub.add_parser("submit-maps", help="score a zip of anomaly maps made elsewhere on a public-test suite and "
                       "rank it (no code runs)")
    s.add_argument("--zip", required=True, help="<condition>/<category>/test/<defect_type>/<image_id>.tiff maps, "
                   "optional <condition>/<category>/scores.csv")
    s.add_argument("--meta", required=True, help="YAML: name, submitter, framework, paper and/or code, "
                   "optional description, categories, conditions")
    s.add_argument("--suite", required=True, help="a suite with public test images (the generated ones)")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_submit_maps)

    s = sub.add_parser("worker", help="run queued submissions, one stored task at a time")
    s.add_argument("--once", action="store_true", help="run at most one job, then exit")
    s.add_argument("--lease-seconds", type=float, default=60.0)
    s.add_argument("--poll-seconds", type=float, default=5.0)
    s.add_argument("--data-root", action="append", help=root_help)
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("status", help="list submissions, or show one in full")
    s.add_argument("id", nargs="?")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("table", help="the leaderboard: mean main metric per submission and suite")
    s.add_argument("--suite")
    s.add_argument("--format", choices=["md", "csv", "json"], default="md")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_table)

    s = sub.add_parser("export", help="write the results as Parquet and/or push them to a Hub dataset repo")
    s.add_argument("--parquet")
    s.add_argument("--repo-id")
    s.add_argument("--dry-run-dir", help="write the files the push would upload here instead")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("seed-baselines", help="submit the example submission of every registered method")
    s.add_argument("--examples", default=str(EXAMPLE_SUBMISSIONS))
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_seed_baselines)

    s = sub.add_parser("reproduce", help="rerun a FINISHED submission and compare its numbers")
    s.add_argument("id")
    s.add_argument("--tolerance", type=float, default=1e-6)
    s.add_argument("--data-root", action="append", help=root_help)
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_reproduce)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

"""The anomaly-detection hub's web app (Gradio 6).

`python app.py` serves it at http://127.0.0.1:7860. Nothing heavy happens at import:
models load on the first request that needs them, once per process.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path

import gradio as gr
import numpy as np
import yaml

import methods
from hub import ImageError, describe_tier, to_rgb_array
from leaderboard import examples
from leaderboard.visualize import heatmap_overlay, outline
from methods.uniadc import prior

log = logging.getLogger("app")

MAX_FILE_SIZE = "20mb"

try:  # On a ZeroGPU Space, heavy events borrow a GPU for their duration; elsewhere this is a no-op.
    import spaces

    on_gpu = spaces.GPU
except ImportError:

    def on_gpu(fn):
        return fn
DEFAULT_METHOD = "patchcore"


OWN = "your normals"
MINED = "mined from the normals"
EXAMPLE_RULES = "bundled example rules"
SAVED = "saved: "  # prefix of a session's saved rule set in the Detect tab's rule choices
RULES_DIR = Path(__file__).parent / "examples" / "rules"
MAX_BATCH = 200
BATCH_CHUNK = 8  # images per predict call: the backbone runs batched, the progress bar still moves
MAX_GALLERY = 24  # heat maps kept per session for the batch gallery
MAX_RULE_MODELS = 4  # logsad refits with rule sets kept per session
CSV_COLUMNS = ["file", "score", "decision", "threshold", "class_name", "explanation"]
PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60)]


def _rgb(image) -> np.ndarray:
    try:
        return to_rgb_array(image)
    except ImageError as exc:
        raise gr.Error(str(exc)) from None


def rule_choices(saved: dict | None) -> list[str]:
    return [MINED, EXAMPLE_RULES, *(SAVED + name for name in sorted(saved or {}))]


def _rule_text(rules: str, category: str, saved: dict | None) -> str:
    """The YAML of the rule set picked in Detect: a bundled example file or one saved in this session."""
    if rules == EXAMPLE_RULES:
        path = RULES_DIR / f"{category}.yaml"
        if not path.is_file():
            have = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.yaml")))
            raise gr.Error(f"No bundled rule file for {category!r}; there is one for: {have}")
        return path.read_text()
    if rules.startswith(SAVED):
        name = rules[len(SAVED):]
        if name not in (saved or {}):
            raise gr.Error(f"No saved rule set {name!r} in this session; save one in the Match-of-thought rules tab.")
        return saved[name]
    raise gr.Error(f"Unknown rule set {rules!r}; choose one of: {', '.join(rule_choices(saved))}")


def _fit_with_rules(category: str, text: str, progress) -> examples.FittedModel:
    """LogSAD fitted on the category's normals with a given rule file instead of mining one."""
    import tempfile

    from methods.logsad import rules as rulefile

    try:
        rulefile.loads(text, "rule set")
    except rulefile.RuleFileError as exc:
        raise gr.Error(str(exc)) from None
    normals = sorted((examples.example_dataset(category) / "train" / "good").glob("*.png"))
    with tempfile.TemporaryDirectory(prefix="rules-") as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(text)
        return examples.fit_calibrated("logsad", normals, config={"rules": str(path)},
                                       progress=lambda f, d: progress(f, desc=f"fitting logsad with your rules: {d}"))


def _fitted_for(method: str, category: str, own, rules: str, saved: dict | None, models: dict | None, progress):
    """The fitted model a detect uses, and this session's rule-set models (a refit is kept for the session)."""
    if method not in methods.available():
        raise gr.Error(f"Unknown method {method!r}; available: {', '.join(methods.available())}")
    if category != OWN and category not in examples.bundled_categories():
        raise gr.Error(f"Unknown category {category!r}; bundled: {', '.join(examples.bundled_categories())}")
    models = dict(models or {})
    with_rules = method == "logsad" and rules and rules != MINED
    if category == OWN:
        if own is None or own.model.name != method:
            raise gr.Error(f"Fit {method} on your normals first (the 'Fit on your own normals' panel).")
        if with_rules:
            raise gr.Error("Rule sets apply to the bundled categories; logsad fitted on your normals mines its own.")
        return own, models
    if with_rules:
        text = _rule_text(rules, category, saved)
        key = f"{category}:{hashlib.sha256(text.encode()).hexdigest()}"
        if key not in models:
            progress(0.0, desc=f"fitting logsad on {category} with the rule set (once per session and rule set)")
            while len(models) >= MAX_RULE_MODELS:  # bounds a session's memory: the oldest refit goes
                models.pop(next(iter(models)))
            models[key] = _fit_with_rules(category, text, progress)
        return models[key], models
    progress(0.0, desc=f"loading {method} for {category}")
    return examples.fitted_model(method, category, progress=lambda f, d: progress(f, desc=f"fitting: {d}")), models


def _row(name: str, pred) -> dict:
    return {"file": name, "score": round(float(pred.score), 4), "class_name": pred.class_name or "",
            "explanation": pred.explanation}


def _shown(fitted, method: str, rows: list[dict], **views) -> dict:
    """What a session keeps of its latest detection, so the threshold re-decides without the model."""
    return {"method": method, "threshold": fitted.threshold, "normal_scores": list(fitted.normal_scores),
            "rows": rows, **views}


def _decision(shown: dict, row: dict, threshold: float) -> str:
    if row["score"] is None:
        return f"unreadable: {row['explanation']}"
    verdict = "ANOMALOUS" if row["score"] > threshold else "normal"
    default = shown["threshold"]
    origin = (f"the highest of {len(shown['normal_scores'])} held-out normal images" if threshold == default
              else f"set by you; the default is {default:.3f}")
    return f"{verdict}: score {row['score']:.3f} (threshold {threshold:.3f}, {origin}). {row['explanation']}".strip()


@on_gpu
def detect(image, method: str, category: str, own=None, rules: str = MINED, saved=None, models=None,
           progress=gr.Progress()):
    """Score one image with `method` fitted on the bundled `category`: (score, heat map, decision)."""
    if image is None:
        raise gr.Error("Upload an image or click an example first.")
    rgb = _rgb(image)
    fitted, models = _fitted_for(method, category, own, rules, saved, models, progress)
    pred = fitted.model.predict([rgb])[0]
    overlay = heatmap_overlay(rgb, pred.anomaly_map, *fitted.map_range)
    row = _row("this image", pred)
    shown = _shown(fitted, method, [row], image=rgb, class_map=pred.class_map,
                   class_names=pred.details.get("class_names"))
    return row["score"], overlay, _decision(shown, row, fitted.threshold), shown, models


@on_gpu
def detect_batch(files, method: str, category: str, own=None, rules: str = MINED, saved=None, models=None,
                 progress=gr.Progress()):
    """Score many images: (results table, CSV); an unreadable file is a row saying why, not a failed batch."""
    paths = [str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files] if files else [])]
    if not paths:
        raise gr.Error("Upload one or more images.")
    if len(paths) > MAX_BATCH:
        raise gr.Error(f"{len(paths)} files, over the limit of {MAX_BATCH} per batch; use the CLI for more.")
    fitted, models = _fitted_for(method, category, own, rules, saved, models, progress)
    rows, gallery = [], []
    for start in range(0, len(paths), BATCH_CHUNK):
        progress(start / len(paths), desc=f"scoring images {start + 1}-{min(start + BATCH_CHUNK, len(paths))}")
        chunk = []  # (name, image or None, why not)
        for path in paths[start:start + BATCH_CHUNK]:
            try:
                chunk.append((Path(path).name, to_rgb_array(path), ""))
            except ImageError as exc:
                chunk.append((Path(path).name, None, str(exc)))
        readable = [rgb for _, rgb, _ in chunk if rgb is not None]
        preds = iter(fitted.model.predict(readable) if readable else [])
        for name, rgb, why in chunk:
            if rgb is None:
                rows.append({"file": name, "score": None, "class_name": "", "explanation": why})
                continue
            pred = next(preds)
            rows.append(_row(name, pred))
            if len(gallery) < MAX_GALLERY:
                gallery.append((heatmap_overlay(rgb, pred.anomaly_map, *fitted.map_range), f"{name}: {pred.score:.3f}"))
    if all(r["score"] is None for r in rows):
        raise gr.Error(f"None of the {len(rows)} files is a readable image; first: {rows[0]['explanation']}")
    shown = _shown(fitted, method, rows, gallery=gallery)
    table, csv_path = _batch_outputs(shown, fitted.threshold)
    return table, csv_path, shown, models


def _batch_outputs(shown: dict, threshold: float):
    """The detections as a table and a CSV file, decided at `threshold`."""
    import tempfile

    import pandas as pd

    table = pd.DataFrame([{**r, "decision": ("unreadable" if r["score"] is None else
                                             "ANOMALOUS" if r["score"] > threshold else "normal"),
                           "threshold": round(threshold, 4)} for r in shown["rows"]], columns=CSV_COLUMNS)
    out = tempfile.NamedTemporaryFile(prefix="detections-", suffix=".csv", delete=False)
    table.to_csv(out, index=False)
    out.close()
    return table, out.name


def _scored(shown: dict) -> list[tuple[str, float]]:
    return [(r["file"], r["score"]) for r in shown["rows"] if r["score"] is not None]


def _histogram(shown: dict, threshold: float):
    from leaderboard.visualize import score_histogram

    return score_histogram(shown["normal_scores"], _scored(shown), threshold)


def _batch_summary(shown: dict, threshold: float) -> str:
    scores = [s for _, s in _scored(shown)]
    flagged = sum(s > threshold for s in scores)
    unreadable = len(shown["rows"]) - len(scores)
    return (f"{flagged} of {len(scores)} images ANOMALOUS at threshold {threshold:.3f}"
            + (f"; {unreadable} unreadable" if unreadable else "") + " (table and CSV below).")


def _decision_text(shown: dict, threshold: float) -> str:
    return _decision(shown, shown["rows"][0], threshold) if "image" in shown else _batch_summary(shown, threshold)


def _class_views(shown: dict):
    """The class map with a legend where the method classifies; otherwise a note saying it does not."""
    class_map, rows = shown.get("class_map"), shown["rows"]
    names = [r["class_name"] for r in rows if r["class_name"]]
    label = f"**Class: {names[0]}**" if len(rows) == 1 and names else ""
    if class_map is None:
        if "image" in shown:
            note = f"{shown['method']} gives no class map (it does not classify pixels). {label}".strip()
        else:
            note = "Classes per image: see the class_name column." if names else ""
        return gr.update(value=None, visible=False), note
    given = list(shown.get("class_names") or [])  # the Prediction contract: class_map indexes it, 0 = normal
    layers, colours = [], {}
    for k in sorted(int(v) for v in np.unique(class_map) if v > 0):
        name = given[k] if k < len(given) else f"class {k}"
        layers.append((class_map == k, name))
        colours[name] = "#%02x%02x%02x" % PALETTE[(k - 1) % len(PALETTE)]
    note = label + ("" if layers else " (no anomalous pixels classified)")
    return gr.update(value=(shown["image"], layers), color_map=colours, visible=True), note


def show_detection(shown: dict | None):
    """Everything a detection shows besides score, heat map and decision: threshold, classes, histogram, table."""
    if not shown:
        raise gr.Error("Detect first.")
    threshold = shown["threshold"]
    values = shown["normal_scores"] + [s for _, s in _scored(shown)]
    lo, hi = min(values), max(values)
    pad = max(hi - lo, 1e-3) * 0.1
    slider = gr.update(minimum=round(lo - pad, 4), maximum=round(hi + pad, 4), value=round(threshold, 4),
                       step=round((hi - lo + 2 * pad) / 200, 6))
    class_map, class_note = _class_views(shown)
    table, csv_path = _batch_outputs(shown, threshold)
    gallery = gr.update(value=shown.get("gallery") or None, visible=bool(shown.get("gallery")))
    return (slider, _decision_text(shown, threshold), class_map, class_note, _histogram(shown, threshold), table,
            csv_path, gallery)


def clear_single():
    """After a batch, the single image's score and heat map belong to an older run: empty them."""
    return None, None


def decide(threshold: float, shown: dict | None):
    """Re-decide the latest detection at another threshold, without running the model again."""
    if not shown:
        raise gr.Error("Detect first: the threshold decides the latest detection of this session.")
    table, csv_path = _batch_outputs(shown, float(threshold))
    return _decision_text(shown, float(threshold)), _histogram(shown, float(threshold)), table, csv_path


@functools.lru_cache(maxsize=1)
def scenarios() -> list[str]:
    """The synthetic-logic scenarios, in the order of the suite file (the one place that lists them)."""
    from leaderboard import suites

    return list(dict.fromkeys(t.category for t in suites.get("synthetic-logic").tasks))


def _check_scenario(category: str) -> None:
    if category not in scenarios():
        raise gr.Error(f"Unknown scenario {category!r}; choose one of: {', '.join(scenarios())}")


def _caption_model(category: str, progress):
    _check_scenario(category)
    progress(0.0, desc=f"loading caption_knn for {category} (first use fits it: about a minute)")
    return examples.fitted_model("caption_knn", category, progress=lambda f, d: progress(f, desc=f"fitting: {d}"))


def _caption_outputs(pred) -> tuple:
    d = pred.details
    return (d["caption"], round(float(pred.score), 4), d["nearest_normal_caption"],
            ", ".join(d["differences"]) or "none")


@on_gpu
def caption(image, category: str, progress=gr.Progress()):
    """Image → structured caption, logical score, nearest normal caption, differing attributes."""
    if image is None:
        raise gr.Error("Upload an image or click an example first.")
    return _caption_outputs(_caption_model(category, progress).model.predict([_rgb(image)])[0])


def score_text(text: str, category: str, progress=gr.Progress()):
    """A typed or edited caption → logical score, nearest normal caption, differing attributes."""
    try:
        pred = _caption_model(category, progress).model.score_text(text)
    except ValueError as exc:
        raise gr.Error(str(exc)) from None
    return _caption_outputs(pred)[1:]


def load_rules(category: str, progress=gr.Progress()) -> str:
    """The rule file LogSAD mined from the scenario's normals, for editing."""
    _check_scenario(category)
    progress(0.0, desc=f"fitting logsad on {category} (first use only)")
    return examples.fitted_model("logsad", category).model.rules_yaml()


def validate_rules(text: str) -> str:
    """'valid: …' or the parser's message with the line and the field."""
    from methods.logsad import rules as rulefile

    try:
        rf = rulefile.loads(text or "", "rules")
    except ValueError as exc:
        return f"❌ {exc}"
    return f"✅ valid: {len(rf.interests)} interests, {len(rf.rules)} rules"


@on_gpu
def check_rules(image, category: str, text: str, progress=gr.Progress()):
    """Apply the edited rule file to an image: interests outlined, each rule passed or failed with its value."""
    from methods.logsad import rules as rulefile

    if image is None:
        raise gr.Error("Upload an image or click an example first.")
    _check_scenario(category)
    try:
        rgb = to_rgb_array(image)
        fitted = examples.fitted_model("logsad", category)
        comps, labels, results = fitted.model.check_rules(rgb, text or None)
    except (ImageError, rulefile.RuleFileError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    import cv2

    shown = rgb.copy()
    names = sorted(set(labels))
    for comp, label in zip(comps, labels):
        colour = (255, 0, 0) if label == "unknown" else PALETTE[names.index(label) % len(PALETTE)]
        shown = outline(shown, comp.mask, colour, 2)
        ys, xs = np.nonzero(comp.mask)
        if len(xs):
            cv2.putText(shown, label, (int(xs.min()), max(10, int(ys.min()) - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        colour, 1, cv2.LINE_AA)
    table = [[r.index, r.kind, "pass" if r.holds else "FAIL", r.text] for r in results]
    broken = sum(not r.holds for r in results)
    return shown, table, f"{len(comps)} components; {broken} of {len(results)} rules broken"


def save_rules(name: str, text: str, saved: dict | None = None):
    """Keep a named rule set in this session (validated first); Detect offers it for logsad."""
    import re as _re

    verdict = validate_rules(text)
    if not verdict.startswith("✅"):
        raise gr.Error(verdict)
    if not _re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name or ""):
        raise gr.Error("Name the rule set with letters, digits, '.', '_' or '-' (at most 64).")
    saved = dict(saved or {})
    saved[name] = text
    return (saved, gr.update(choices=sorted(saved), value=name),
            f"saved {name!r} ({len(saved)} rule sets this session); Detect with logsad offers it as '{SAVED}{name}'",
            gr.update(choices=rule_choices(saved)))


def pick_rules(name: str, saved: dict | None) -> str:
    return (saved or {}).get(name, "")


MAX_NORMALS = 500


@on_gpu
def fit_own(files, method: str, progress=gr.Progress()):
    """Fit `method` on uploaded normal images or a zip of them; the model lives in this session only."""
    from hub.archives import ArchiveError, images_from_zip

    if not files:
        raise gr.Error("Upload normal images, or one zip of them.")
    if method not in methods.available():
        raise gr.Error(f"Unknown method {method!r}; available: {', '.join(methods.available())}")
    paths = [getattr(f, "name", f) for f in (files if isinstance(files, list) else [files])]
    try:
        if len(paths) == 1 and str(paths[0]).lower().endswith(".zip"):
            normals = images_from_zip(paths[0], max_members=MAX_NORMALS)
        elif len(paths) > MAX_NORMALS:
            raise ArchiveError(f"{len(paths)} files, over the limit of {MAX_NORMALS}")
        else:
            normals = [to_rgb_array(p) for p in paths]
        fitted = examples.fit_calibrated(method, normals, progress=lambda f, d: progress(f, desc=f"fitting: {d}"))
    except (ArchiveError, ImageError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    note = (f"Fitted {method} on {len(normals) - len(fitted.normal_scores)} images; "
            f"{len(fitted.normal_scores)} held out set the threshold {fitted.threshold:.3f}. "
            f"Pick '{OWN}' above to use it (this session only).")
    return fitted, note


MAX_CANDIDATES = 16
SHAPES = [prior.UNKNOWN, *prior.SHAPES]
SIZES = [prior.UNKNOWN, *prior.SIZES]


def _candidate_count(candidates) -> int:
    """The app caps a request; the CLI makes large sets."""
    n = int(candidates)
    if not 1 <= n <= MAX_CANDIDATES:
        raise gr.Error(f"Ask for 1 to {MAX_CANDIDATES} candidates (got {n}); use the CLI for large sets.")
    return n


@on_gpu
def synthesize(image, category: str, description: str, shape: str, size: str, candidates: int, seed: int):
    """Repaint a normal image into `candidates` anomalies from a one-category prior; best first, plus a zip."""
    from methods.uniadc.inpaint import synthesize_candidates
    from methods.uniadc.prior import PriorError, parse_prior

    if image is None:
        raise gr.Error("Upload a normal image or click an example first.")
    n = _candidate_count(candidates)
    try:
        rgb = to_rgb_array(image)
        prior = parse_prior(yaml.safe_dump({"name": "app", "categories": {
            category.strip() or "anomaly": {"description": description, "shape": shape, "size": size}}}))
    except (ImageError, PriorError) as exc:
        raise gr.Error(str(exc)) from None
    name, spec = next(iter(prior.categories.items()))
    made = synthesize_candidates(rgb, spec, np.random.default_rng(int(seed)), n)
    order = sorted(range(len(made)), key=lambda i: -made[i].score)
    gallery = []
    for rank, i in enumerate(order):
        c = made[i]
        label = f"{'BEST · ' if rank == 0 else ''}{c.shape} {c.size} · {c.operator} · consistency {c.score:.2f}"
        gallery.append((outline(c.image, c.mask, (255, 215, 0), 1), label))
    return gallery, _zip_mvtec(name, [made[i] for i in order])


@on_gpu
def synthesize_samples(image, sample_image, sample_mask, category: str, candidates: int, seed: int):
    """Few-shot synthesis: paste the sample's masked anomaly into the normal image; best SSIM to its context first."""
    from methods.base import AnomalySample
    from methods.uniadc.sample_guided import synthesize_from_samples

    if image is None or sample_image is None or sample_mask is None:
        raise gr.Error("Give a normal image, an anomaly sample and the sample's mask.")
    n = _candidate_count(candidates)
    name = category.strip() or "anomaly"
    try:
        rgb, sample = to_rgb_array(image), to_rgb_array(sample_image)
        mask = to_rgb_array(sample_mask).max(axis=2) > 127
        made = synthesize_from_samples(rgb, [AnomalySample(sample, mask, name)], np.random.default_rng(int(seed)), n)
    except (ImageError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    gallery = [(outline(c.image, c.mask, (255, 215, 0), 1),
                f"{'BEST · ' if rank == 0 else ''}{c.operator} · context SSIM {c.score:.2f}")
               for rank, c in enumerate(made)]
    return gallery, _zip_mvtec(name, made)


def _zip_mvtec(category: str, made: list) -> str:
    """The candidates as a zip in the MVTec AD layout (test/<category>, ground_truth/<category>)."""
    import io
    import tempfile
    import zipfile

    from PIL import Image

    out = tempfile.NamedTemporaryFile(prefix=f"synthesized-{category}-", suffix=".zip", delete=False)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, c in enumerate(made):
            for arr, path in ((c.image, f"test/{category}/{i:03d}.png"),
                              (c.mask.astype(np.uint8) * 255, f"ground_truth/{category}/{i:03d}_mask.png")):
                buf = io.BytesIO()
                Image.fromarray(arr).save(buf, format="PNG")
                zf.writestr(path, buf.getvalue())
    out.close()
    return out.name


def leaderboard_table(suite: str = "", method: str = "", tier: str = "", search: str = ""):
    """The ranked leaderboard rows, filtered by suite, method, tier and a free-text search."""
    from leaderboard.board import export

    table = export.summary(_queue(), suite or None)
    if method:
        table = table[table["method"] == method]
    if tier:
        table = table[table["tier"] == tier]
    if search:
        table = table[table.apply(lambda r: search.lower() in " ".join(map(str, r.values)).lower(), axis=1)]
    return table.round(4)


def leaderboard_charts(suite: str = "", method: str = "", tier: str = "", search: str = ""):
    """Per-condition robustness and logical vs structural, over the runs the filtered table shows."""
    from leaderboard.board import export
    from leaderboard.visualize import logical_vs_structural_chart, robustness_chart

    shown = leaderboard_table(suite, method, tier, search)[["submission_id", "suite"]].drop_duplicates()
    frame = export.to_frame(_queue()).merge(shown, on=["submission_id", "suite"])
    return robustness_chart(frame), logical_vs_structural_chart(frame)


def run_detail(submission_id: str):
    """One run: its mean metrics and provenance, its per-task rows, and the submission (config) it ran."""
    import pandas as pd

    from leaderboard.board import export, store

    queue = _queue()
    try:
        info = queue.get(submission_id.strip())
    except (KeyError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    rows = store.results(queue, info["id"], finished_only=False)
    tasks = pd.DataFrame([{"suite": r["suite"], "task": r["task"], "condition": r["condition"], "tier": r["tier"],
                           **{m: r["metrics"].get(m) for m in export.METRICS},
                           "fit_s": r["timing"].get("fit_s"), "predict_ms": r["timing"].get("predict_ms_per_image")}
                          for r in rows], columns=_task_columns())
    metrics = {
        "submission_id": info["id"], "display_name": info["display_name"], "method": info["method"],
        "state": info["state"], "n_tasks": len(rows),
        "mean": {m: (round(float(tasks[m].mean()), 4) if tasks[m].notna().any() else None) for m in export.METRICS},
        "suites": sorted({f"{r['suite']}@v{r['suite_version']}" for r in rows}),
        "git_commits": sorted({r["git_commit"] for r in rows}),
        "config_hashes": sorted({r["config_hash"] for r in rows}),
    }
    return metrics, tasks.round(4), yaml.safe_dump(info["spec"], sort_keys=False, allow_unicode=True)


def _task_columns() -> list[str]:
    from leaderboard.board.export import METRICS

    return ["suite", "task", "condition", "tier", *METRICS, "fit_s", "predict_ms"]


def pick_run(table, evt: gr.SelectData):
    """A click on a leaderboard row opens that run's detail."""
    import pandas as pd

    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table["data"], columns=table["headers"])
    if frame.empty or "submission_id" not in frame:
        raise gr.Error("No run in the table yet.")
    run = str(frame.iloc[evt.index[0]]["submission_id"])
    return (run, *run_detail(run))


def submit(yaml_text: str):
    """Queue a declarative submission (YAML); returns its id and state."""
    from leaderboard.board import submission

    try:
        sub = submission.parse(yaml_text)
        res = _queue().submit(sub)
    except ValueError as exc:
        raise gr.Error(str(exc)) from None
    verb = "queued" if res.created else "identical to an existing submission,"
    return f"{verb} {res.id} ({res.state})"


def submit_maps(zip_file, meta_yaml: str, suite: str):
    """Rank a zip of anomaly maps made elsewhere: checked before extraction, scored here, no code run."""
    from leaderboard.board.map_submission import MapSubmissionError, submit_maps_to

    if zip_file is None:
        raise gr.Error("Upload a zip of anomaly maps (the layout `run-suite --save-maps` writes).")
    try:
        res = submit_maps_to(_queue(), zip_file, meta_yaml, suite)
    except MapSubmissionError as exc:
        raise gr.Error(str(exc)) from None
    verb = "ranked" if res["created"] else "identical to an existing map submission,"
    return (f"{verb} {res['id']}: {res['display_name']} on {res['suite']}, {res['n_tasks']} tasks, "
            f"score {res['score']:.4f}, rank {res['rank']} of {res['of']} (maps submitted)")


def public_suites() -> list[str]:
    from leaderboard import suites

    return [name for name in suites.available() if suites.get(name).public_test]


def submission_status(job_id: str = ""):
    """One submission's state, or all of them."""
    queue = _queue()
    if job_id.strip():
        try:
            row = queue.get(job_id.strip())
        except (KeyError, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        return [[row["id"], row["state"], row["method"], row["display_name"], row.get("reason") or ""]]
    return [[r["id"], r["state"], r["method"], r["display_name"], r.get("reason") or ""] for r in queue.list()]


_queue_instance = None


def _queue():
    global _queue_instance
    if _queue_instance is None:
        from leaderboard.board import Queue

        _queue_instance = Queue()
    return _queue_instance


def about() -> str:
    """Which tier runs and why, which weights are loaded, versions."""
    import platform

    import torch

    from hub import loaded_cards

    tier, why = describe_tier()
    cards = loaded_cards()
    weights = "\n".join(
        f"| {c['role']} | {c['name']} | {c['source']} | {c['revision'] or 'packaged'} |" for c in cards
    ) or "| – | nothing loaded yet (models load on first use) | | |"
    return (
        f"### Tier: {tier}\n{why}.\n\n| role | model | source | revision |\n|---|---|---|---|\n{weights}\n\n"
        f"Python {platform.python_version()} · torch {torch.__version__} · gradio {gr.__version__} · "
        f"CUDA {'yes' if torch.cuda.is_available() else 'no'}\n\n"
        "Papers: UniAD (dual-teacher distillation), UniADC (synthesis + classification), VID-AD (caption k-NN under "
        "visual distraction), LogSAD (match-of-thought, training-free). See the repository README for what each "
        "method implements and which numbers are ours."
    )


def build_app() -> gr.Blocks:
    tier, why = describe_tier()
    categories = examples.bundled_categories()
    with gr.Blocks(title="Anomaly detection hub") as demo:
        gr.Markdown(
            f"# Anomaly detection hub\nStructural and logical anomaly detection for visual inspection. "
            f"**Tier: {tier}** ({why})."
        )
        own_model = gr.State(None)  # per visitor: one session's model never reaches another
        rule_sets = gr.State({})  # this session's saved rule sets: name -> YAML
        rule_models = gr.State({})  # logsad fitted with this session's rule sets
        shown = gr.State(None)  # the latest detection, for the threshold slider
        with gr.Tab("Detect"):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(label="Image", type="numpy", image_mode="RGB")
                    method = gr.Dropdown(methods.available(), value=DEFAULT_METHOD, label="Method")
                    category = gr.Dropdown(categories + [OWN], value=categories[0], label="Fitted on")
                    d_rules = gr.Dropdown(rule_choices({}), value=MINED, allow_custom_value=True,
                                          label="Rule set (logsad only; save your own in the rules tab)")
                    run = gr.Button("Detect", variant="primary")
                    with gr.Accordion("Many images", open=False):
                        batch_files = gr.File(label="Images to score", file_count="multiple", file_types=["image"])
                        run_batch = gr.Button("Detect all")
                    with gr.Accordion("Fit on your own normals", open=False):
                        own_files = gr.File(label="Normal images, or one zip of them", file_count="multiple",
                                            file_types=["image", ".zip"])
                        own_fit = gr.Button("Fit")
                        own_note = gr.Markdown()
                with gr.Column():
                    score = gr.Number(label="Anomaly score (higher is more anomalous)")
                    heat = gr.Image(label="Anomaly map", type="numpy")
                    explanation = gr.Textbox(label="Decision", lines=3)
                    threshold = gr.Slider(0, 1, value=0.5, label="Threshold (default: the highest held-out normal "
                                                                 "score; slide to re-decide)")
                    class_map = gr.AnnotatedImage(label="Class map", format="png", visible=False)
                    class_note = gr.Markdown()
                    histogram = gr.Plot(label="Held-out normal scores and this detection")
            with gr.Row():
                batch_table = gr.DataFrame(label="Detections", headers=CSV_COLUMNS, wrap=True)
            with gr.Row():
                batch_csv = gr.File(label="Download (CSV)")
                batch_gallery = gr.Gallery(label=f"Heat maps (first {MAX_GALLERY})", columns=6, height=260,
                                           visible=False)
            gr.Examples(
                examples=[[str(p)] for p in _example_paths(categories[0])],
                inputs=[image],
                label="Examples (click one, then Detect)",
            )
            views = [threshold, explanation, class_map, class_note, histogram, batch_table, batch_csv, batch_gallery]
            run.click(detect, [image, method, category, own_model, d_rules, rule_sets, rule_models],
                      [score, heat, explanation, shown, rule_models], api_name="detect", concurrency_limit=2
                      ).success(show_detection, shown, views, api_name="detect_views")
            run_batch.click(detect_batch, [batch_files, method, category, own_model, d_rules, rule_sets, rule_models],
                            [batch_table, batch_csv, shown, rule_models], api_name="detect_batch", concurrency_limit=1
                            ).success(show_detection, shown, views, api_visibility="private"
                                      ).success(clear_single, None, [score, heat], api_visibility="private")
            threshold.release(decide, [threshold, shown], [explanation, histogram, batch_table, batch_csv],
                              api_name="decide")
            own_fit.click(fit_own, [own_files, method], [own_model, own_note], api_name="fit", concurrency_limit=1)

        with gr.Tab("Synthesize"):
            gr.Markdown("Repaint a normal image into labelled anomalies from a text prior (UniADC's Table S1 format: "
                        "category, description, shape, size). Embedded tier: a procedural inpainter driven by the "
                        "description; full tier: Stable Diffusion inpainting.")
            with gr.Row():
                with gr.Column():
                    s_image = gr.Image(label="Normal image", type="numpy", image_mode="RGB")
                    s_category = gr.Textbox(label="Anomaly category", value="scratch")
                    s_description = gr.Textbox(label="Description", value="a thin bright scratch on the surface")
                    with gr.Row():
                        s_shape = gr.Dropdown(SHAPES, value="Line", label="Shape")
                        s_size = gr.Dropdown(SIZES, value="Medium", label="Size")
                    with gr.Row():
                        s_n = gr.Slider(1, MAX_CANDIDATES, value=4, step=1, label="Candidates")
                        s_seed = gr.Number(value=0, precision=0, label="Seed")
                    s_run = gr.Button("Synthesize", variant="primary")
                with gr.Column():
                    s_gallery = gr.Gallery(label="Candidates (best first, mask outlined)", columns=2)
                    s_zip = gr.File(label="Download (MVTec layout)")
            gr.Examples(examples=[[str(p)] for p in _example_paths(categories[0])[:2]], inputs=[s_image])
            with gr.Accordion("Few-shot: from an anomaly sample and its mask", open=False):
                gr.Markdown("UniADC's sample-guided synthesis: the sample's anomaly is cut out by its mask, "
                            "transformed, pasted onto the normal image's foreground and blended; candidates are "
                            "ranked by SSIM to the anomaly's original context. Uses the category name above.")
                with gr.Row():
                    s_sample = gr.Image(label="Anomaly sample", type="numpy", image_mode="RGB")
                    s_mask = gr.Image(label="Its mask (white = anomaly)", type="numpy", image_mode="RGB")
                s_sample_run = gr.Button("Synthesize from the sample")
            s_run.click(synthesize, [s_image, s_category, s_description, s_shape, s_size, s_n, s_seed],
                        [s_gallery, s_zip], api_name="synthesize", concurrency_limit=2)
            s_sample_run.click(synthesize_samples, [s_image, s_sample, s_mask, s_category, s_n, s_seed],
                               [s_gallery, s_zip], api_name="synthesize_samples", concurrency_limit=2)

        with gr.Tab("Caption → logical score"):
            gr.Markdown("VID-AD's language-based detector: the image becomes a structured caption, a text encoder "
                        "fine-tuned on the scenario's normal captions scores it by its k nearest normal captions. "
                        "Edit the caption and score the text alone to see which attributes matter.")
            with gr.Row():
                with gr.Column():
                    c_image = gr.Image(label="Image", type="numpy", image_mode="RGB")
                    c_category = gr.Dropdown(scenarios(), value="Fruits", label="Scenario (fitted on its normals)")
                    c_run = gr.Button("Caption and score", variant="primary")
                with gr.Column():
                    c_caption = gr.Textbox(label="Caption (edit it, then score the text)", lines=4)
                    c_text_run = gr.Button("Score this text")
                    c_score = gr.Number(label="Logical anomaly score (1 − 1/(1 + mean k-NN distance))")
                    c_nearest = gr.Textbox(label="Nearest normal caption", lines=3)
                    c_diff = gr.Textbox(label="Differing attributes")
            gr.Examples(examples=[[str(p)] for p in _example_paths("Fruits")], inputs=[c_image])
            c_run.click(caption, [c_image, c_category], [c_caption, c_score, c_nearest, c_diff], api_name="caption",
                        concurrency_limit=1)
            c_text_run.click(score_text, [c_caption, c_category], [c_score, c_nearest, c_diff],
                             api_name="score_text", concurrency_limit=2)

        with gr.Tab("Match-of-thought rules"):
            gr.Markdown("LogSAD's rule file for a scenario: interests (named components) and rules (counts, sizes, "
                        "ratios, pairings, order, regions, labels), mined from the normals. Edit it, validate it, "
                        "apply it to an image. Saved rule sets live in your session only.")
            with gr.Row():
                with gr.Column():
                    r_category = gr.Dropdown(scenarios(), value="Fruits", label="Scenario")
                    r_load = gr.Button("Load the mined rules")
                    r_text = gr.Code(language="yaml", label="Rule file", lines=22)
                    r_valid = gr.Markdown()
                    with gr.Row():
                        r_name = gr.Textbox(label="Save as", placeholder="fruits-strict")
                        r_save = gr.Button("Save")
                        r_saved_pick = gr.Dropdown([], label="Saved rule sets")
                    r_saved_note = gr.Markdown()
                with gr.Column():
                    r_image = gr.Image(label="Image", type="numpy", image_mode="RGB")
                    r_apply = gr.Button("Apply the rules", variant="primary")
                    r_shown = gr.Image(label="Interests (unknown components in red)", type="numpy")
                    r_summary = gr.Markdown()
                    r_table = gr.DataFrame(headers=["rule", "kind", "result", "measured"], label="Rules")
            gr.Examples(examples=[[str(p)] for p in _example_paths("Fruits")], inputs=[r_image])
            r_load.click(load_rules, r_category, r_text, api_name="load_rules", concurrency_limit=1)
            r_text.change(validate_rules, r_text, r_valid, api_name="validate_rules")
            r_apply.click(check_rules, [r_image, r_category, r_text], [r_shown, r_table, r_summary],
                          api_name="check_rules", concurrency_limit=1)
            r_save.click(save_rules, [r_name, r_text, rule_sets], [rule_sets, r_saved_pick, r_saved_note, d_rules],
                         api_name="save_rules")
            r_saved_pick.change(pick_rules, [r_saved_pick, rule_sets], r_text, api_visibility="private")

        with gr.Tab("Leaderboard"):
            with gr.Row():
                l_suite = gr.Textbox(label="Suite", placeholder="e.g. real-textures")
                l_method = gr.Textbox(label="Method")
                l_tier = gr.Dropdown(["", "embedded", "full", "external"], value="", label="Tier")
                l_search = gr.Textbox(label="Search")
            l_table = gr.DataFrame(label="Ranked within each suite and setting (few-shot and one-split runs apart) "
                                         "by mean logical AUROC (image AUROC where no logical split); click a row "
                                         "for its detail", elem_id="leaderboard-table")
            l_refresh = gr.Button("Refresh")
            with gr.Row():
                l_robust = gr.Plot(label="Per-condition robustness")
                l_scatter = gr.Plot(label="Logical vs structural")
            with gr.Accordion("Run detail", open=True):
                l_run = gr.Textbox(label="Run (submission id; click a table row or type one, then Enter)")
                with gr.Row():
                    l_metrics = gr.JSON(label="Metrics (mean over tasks) and provenance")
                    l_config = gr.Code(language="yaml", label="Submission it ran (method config included)")
                l_tasks = gr.DataFrame(label="Per-task results", headers=_task_columns())
            filters = [l_suite, l_method, l_tier, l_search]
            l_refresh.click(leaderboard_table, filters, l_table, api_name="leaderboard_table").then(
                leaderboard_charts, filters, [l_robust, l_scatter], api_name="leaderboard_charts")
            demo.load(leaderboard_table, filters, l_table, api_visibility="private").then(
                leaderboard_charts, filters, [l_robust, l_scatter], api_visibility="private")
            l_table.select(pick_run, l_table, [l_run, l_metrics, l_tasks, l_config], api_visibility="private")
            l_run.submit(run_detail, l_run, [l_metrics, l_tasks, l_config], api_name="run_detail")
            gr.Markdown("#### Submit\nA declarative YAML: a registered method, its config, the suites to run. "
                        "No submitted code runs. Examples: `examples/submissions/`.")
            with gr.Row():
                l_yaml = gr.Code(language="yaml", label="Submission", value=_example_submission())
                with gr.Column():
                    l_submit = gr.Button("Submit", variant="primary")
                    l_result = gr.Textbox(label="Result")
                    l_id = gr.Textbox(label="Submission id (empty: all)")
                    l_status_btn = gr.Button("Status")
                    l_status = gr.DataFrame(headers=["id", "state", "method", "display name", "reason"])
            l_submit.click(submit, l_yaml, l_result, api_name="submit")
            l_status_btn.click(submission_status, l_id, l_status, api_name="status")
            with gr.Accordion("Submit anomaly maps made elsewhere", open=False):
                gr.Markdown("For suites whose test images are public: a zip of float TIFF maps in the layout "
                            "`run-suite --save-maps` writes (`<condition>/<category>/test/<defect>/<id>.tiff`, "
                            "optional `scores.csv`) and a YAML about the method. The zip is checked before "
                            "extraction; the maps are scored here and ranked as *maps submitted* (tier external).")
                with gr.Row():
                    m_zip = gr.File(label="Maps (zip)", file_types=[".zip"], type="filepath")
                    m_meta = gr.Code(language="yaml", label="Method", value=_example_maps_meta())
                    with gr.Column():
                        m_suite = gr.Dropdown(public_suites(), value="synthetic-logic", label="Suite")
                        m_submit = gr.Button("Submit maps", variant="primary")
                        m_result = gr.Textbox(label="Result")
            m_submit.click(submit_maps, [m_zip, m_meta, m_suite], m_result, api_name="submit_maps",
                           concurrency_limit=1)

        with gr.Tab("About"):
            about_md = gr.Markdown()
            demo.load(about, None, about_md, api_name="about")
    return demo


def _example_submission() -> str:
    from pathlib import Path

    path = Path(__file__).parent / "examples" / "submissions" / "pixel_zscore.yaml"
    return path.read_text() if path.exists() else ""


def _example_maps_meta() -> str:
    from pathlib import Path

    path = Path(__file__).parent / "examples" / "submissions" / "maps" / "anomalib-patchcore-maps.yaml"
    return path.read_text() if path.exists() else ""


def _example_paths(category: str) -> list:
    try:
        return examples.example_images(category)
    except (OSError, ValueError) as exc:
        log.warning("could not prepare example images: %s", exc)
        return []


def start_worker() -> None:
    """Run queued submissions in a background thread (set ANOMALY_HUB_WORKER=0 to leave it to a separate worker)."""
    import threading

    from leaderboard.board.worker import work

    if os.environ.get("ANOMALY_HUB_WORKER", "1") == "0":
        return
    threading.Thread(target=work, args=(_queue(),), kwargs={"poll_s": 10.0}, name="leaderboard-worker",
                     daemon=True).start()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    start_worker()
    build_app().queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_FILE_SIZE,
        show_error=True,
    )

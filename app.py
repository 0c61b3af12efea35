"""The anomaly-detection hub's web app (Gradio 6).

`python app.py` serves it at http://127.0.0.1:7860. Nothing heavy happens at import:
models load on the first request that needs them, once per process.
"""
from __future__ import annotations

import functools
import logging
import os

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


@on_gpu
def detect(image, method: str, category: str, own=None, progress=gr.Progress()):
    """Score one image with `method` fitted on the bundled `category`: (score, heat map, explanation)."""
    if image is None:
        raise gr.Error("Upload an image or click an example first.")
    if method not in methods.available():
        raise gr.Error(f"Unknown method {method!r}; available: {', '.join(methods.available())}")
    if category != OWN and category not in examples.bundled_categories():
        raise gr.Error(f"Unknown category {category!r}; bundled: {', '.join(examples.bundled_categories())}")
    try:
        rgb = to_rgb_array(image)
    except ImageError as exc:
        raise gr.Error(str(exc)) from None
    if category == OWN:
        if own is None or own.model.name != method:
            raise gr.Error(f"Fit {method} on your normals first (the 'Fit on your own normals' panel).")
        fitted = own
    else:
        progress(0.0, desc=f"loading {method} for {category}")
        fitted = examples.fitted_model(method, category, progress=lambda f, d: progress(f, desc=f"fitting: {d}"))
    pred = fitted.model.predict([rgb])[0]
    overlay = heatmap_overlay(rgb, pred.anomaly_map, *fitted.map_range)
    verdict = "ANOMALOUS" if pred.score > fitted.threshold else "normal"
    text = (
        f"{verdict}: score {pred.score:.3f} (threshold {fitted.threshold:.3f}, the highest of "
        f"{len(fitted.normal_scores)} held-out normal images). {pred.explanation}".strip()
    )
    return round(float(pred.score), 4), overlay, text


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
    try:
        rgb = to_rgb_array(image)
    except ImageError as exc:
        raise gr.Error(str(exc)) from None
    return _caption_outputs(_caption_model(category, progress).model.predict([rgb])[0])


def score_text(text: str, category: str, progress=gr.Progress()):
    """A typed or edited caption → logical score, nearest normal caption, differing attributes."""
    try:
        pred = _caption_model(category, progress).model.score_text(text)
    except ValueError as exc:
        raise gr.Error(str(exc)) from None
    return _caption_outputs(pred)[1:]


RULE_COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
                (240, 50, 230), (210, 245, 60)]


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
        colour = (255, 0, 0) if label == "unknown" else RULE_COLOURS[names.index(label) % len(RULE_COLOURS)]
        shown = outline(shown, comp.mask, colour, 2)
        ys, xs = np.nonzero(comp.mask)
        if len(xs):
            cv2.putText(shown, label, (int(xs.min()), max(10, int(ys.min()) - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        colour, 1, cv2.LINE_AA)
    table = [[r.index, r.kind, "pass" if r.holds else "FAIL", r.text] for r in results]
    broken = sum(not r.holds for r in results)
    return shown, table, f"{len(comps)} components; {broken} of {len(results)} rules broken"


def save_rules(name: str, text: str, saved: dict | None):
    """Keep a named rule set in this session (validated first)."""
    import re as _re

    verdict = validate_rules(text)
    if not verdict.startswith("✅"):
        raise gr.Error(verdict)
    if not _re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name or ""):
        raise gr.Error("Name the rule set with letters, digits, '.', '_' or '-' (at most 64).")
    saved = dict(saved or {})
    saved[name] = text
    return saved, gr.update(choices=sorted(saved), value=name), f"saved {name!r} ({len(saved)} rule sets this session)"


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


@on_gpu
def synthesize(image, category: str, description: str, shape: str, size: str, candidates: int, seed: int):
    """Repaint a normal image into `candidates` anomalies from a one-category prior; best first, plus a zip."""
    from methods.uniadc.inpaint import synthesize_candidates
    from methods.uniadc.prior import PriorError, parse_prior

    if image is None:
        raise gr.Error("Upload a normal image or click an example first.")
    n = int(candidates)
    if not 1 <= n <= MAX_CANDIDATES:
        raise gr.Error(f"Ask for 1 to {MAX_CANDIDATES} candidates (got {n}); use the CLI for large sets.")
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
        with gr.Tab("Detect"):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(label="Image", type="numpy", image_mode="RGB")
                    method = gr.Dropdown(methods.available(), value=DEFAULT_METHOD, label="Method")
                    category = gr.Dropdown(categories + [OWN], value=categories[0], label="Fitted on")
                    run = gr.Button("Detect", variant="primary")
                    with gr.Accordion("Fit on your own normals", open=False):
                        own_files = gr.File(label="Normal images, or one zip of them", file_count="multiple",
                                            file_types=["image", ".zip"])
                        own_fit = gr.Button("Fit")
                        own_note = gr.Markdown()
                with gr.Column():
                    score = gr.Number(label="Anomaly score (higher is more anomalous)")
                    heat = gr.Image(label="Anomaly map", type="numpy")
                    explanation = gr.Textbox(label="Decision", lines=3)
            gr.Examples(
                examples=[[str(p)] for p in _example_paths(categories[0])],
                inputs=[image],
                label="Examples (click one, then Detect)",
            )
            own_model = gr.State(None)  # per visitor: one session's model never reaches another
            run.click(detect, [image, method, category, own_model], [score, heat, explanation], api_name="detect",
                      concurrency_limit=2)
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
            s_run.click(synthesize, [s_image, s_category, s_description, s_shape, s_size, s_n, s_seed],
                        [s_gallery, s_zip], api_name="synthesize", concurrency_limit=2)

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
                        "ratios, pairings, order, regions), mined from the normals. Edit it, validate it, apply it "
                        "to an image. Saved rule sets live in your session only.")
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
            r_saved = gr.State({})
            r_load.click(load_rules, r_category, r_text, api_name="load_rules", concurrency_limit=1)
            r_text.change(validate_rules, r_text, r_valid, api_name="validate_rules")
            r_apply.click(check_rules, [r_image, r_category, r_text], [r_shown, r_table, r_summary],
                          api_name="check_rules", concurrency_limit=1)
            r_save.click(save_rules, [r_name, r_text, r_saved], [r_saved, r_saved_pick, r_saved_note],
                         api_name=False)
            r_saved_pick.change(pick_rules, [r_saved_pick, r_saved], r_text, api_name=False)

        with gr.Tab("Leaderboard"):
            with gr.Row():
                l_suite = gr.Textbox(label="Suite", placeholder="e.g. real-textures")
                l_method = gr.Textbox(label="Method")
                l_tier = gr.Dropdown(["", "embedded", "full"], value="", label="Tier")
                l_search = gr.Textbox(label="Search")
            l_table = gr.DataFrame(label="Ranked by mean logical AUROC (image AUROC where no logical split)")
            l_refresh = gr.Button("Refresh")
            l_refresh.click(leaderboard_table, [l_suite, l_method, l_tier, l_search], l_table,
                            api_name="leaderboard_table")
            demo.load(leaderboard_table, [l_suite, l_method, l_tier, l_search], l_table)
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

        with gr.Tab("About"):
            about_md = gr.Markdown()
            demo.load(about, None, about_md, api_name="about")
    return demo


def _example_submission() -> str:
    from pathlib import Path

    path = Path(__file__).parent / "examples" / "submissions" / "pixel_zscore.yaml"
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

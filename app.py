"""The anomaly-detection hub's web app (Gradio 6).

`python app.py` serves it at http://127.0.0.1:7860. Nothing heavy happens at import:
models load on the first request that needs them, once per process.
"""
from __future__ import annotations

import logging
import os

import gradio as gr
import numpy as np

import methods
from hub import ImageError, describe_tier, to_rgb_array
from leaderboard import examples
from leaderboard.visualize import heatmap_overlay

log = logging.getLogger("app")

MAX_FILE_SIZE = "20mb"
DEFAULT_METHOD = "patchcore"


def detect(image, method: str, category: str, progress=gr.Progress()):
    """Score one image with `method` fitted on the bundled `category`: (score, heat map, explanation)."""
    if image is None:
        raise gr.Error("Upload an image or click an example first.")
    if method not in methods.available():
        raise gr.Error(f"Unknown method {method!r}; available: {', '.join(methods.available())}")
    if category not in examples.bundled_categories():
        raise gr.Error(f"Unknown category {category!r}; bundled: {', '.join(examples.bundled_categories())}")
    try:
        rgb = to_rgb_array(image)
    except ImageError as exc:
        raise gr.Error(str(exc)) from None
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
                    category = gr.Dropdown(categories, value=categories[0], label="Fitted on (bundled category)")
                    run = gr.Button("Detect", variant="primary")
                with gr.Column():
                    score = gr.Number(label="Anomaly score (higher is more anomalous)")
                    heat = gr.Image(label="Anomaly map", type="numpy")
                    explanation = gr.Textbox(label="Decision", lines=3)
            gr.Examples(
                examples=[[str(p)] for p in _example_paths(categories[0])],
                inputs=[image],
                label="Examples (click one, then Detect)",
            )
            run.click(detect, [image, method, category], [score, heat, explanation], api_name="detect")
    return demo


def _example_paths(category: str) -> list:
    try:
        return examples.example_images(category)
    except (OSError, ValueError) as exc:
        log.warning("could not prepare example images: %s", exc)
        return []


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    build_app().queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_FILE_SIZE,
        show_error=True,
    )

"""Pictures of results: heat-map overlays shared by the app, contact sheets and docs."""
from __future__ import annotations

import cv2
import numpy as np


def normalise_map(anomaly_map: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Scale to [0, 1] between vmin and vmax (defaults: the map's own range)."""
    lo = float(anomaly_map.min()) if vmin is None else vmin
    hi = float(anomaly_map.max()) if vmax is None else vmax
    if hi <= lo:
        return np.zeros_like(anomaly_map, dtype=np.float32)
    return np.clip((anomaly_map.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)


def heatmap_overlay(
    image: np.ndarray, anomaly_map: np.ndarray, vmin: float | None = None, vmax: float | None = None, alpha: float = 0.5
) -> np.ndarray:
    """(H, W, 3) uint8 image with a jet-coloured map blended over it.

    Pass vmin/vmax from normal images so a normal image looks calm instead of
    having its own noise stretched to full red.
    """
    norm = normalise_map(anomaly_map, vmin, vmax)
    if norm.shape != image.shape[:2]:
        norm = cv2.resize(norm, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    weight = (alpha * (0.3 + 0.7 * norm))[..., None]
    return (image.astype(np.float32) * (1 - weight) + colour.astype(np.float32) * weight).round().astype(np.uint8)


def outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (255, 0, 0), thickness: int = 2) -> np.ndarray:
    """Draw the contour of a boolean mask on a copy of the image."""
    out = np.ascontiguousarray(image.copy())
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, colour, thickness)
    return out


# Plotly figures for the app and notebooks: built from plain lists and the results table, never from the UI.
NORMAL_COLOUR, SCORED_COLOUR, THRESHOLD_COLOUR = "#4c78a8", "#e45756", "#222222"


def _empty_figure(message: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(xaxis_visible=False, yaxis_visible=False, height=320, margin=dict(l=20, r=20, t=40, b=20))
    return fig


def score_histogram(normal_scores: list[float], scored: list[tuple[str, float]], threshold: float):
    """Held-out normal scores as a histogram, the scored images on top, the decision threshold as a line.

    One scored image is a labelled line; a batch is a second histogram, so a hundred images stay readable.
    """
    import plotly.graph_objects as go

    values = [*normal_scores, *(v for _, v in scored), threshold]
    lo, span = min(values), max(max(values) - min(values), 1e-6)
    bins = dict(start=lo, end=lo + span, size=span / 24)  # shared by both histograms
    fig = go.Figure(go.Histogram(x=list(normal_scores), name=f"held-out normals ({len(normal_scores)})", xbins=bins,
                                 marker_color=NORMAL_COLOUR, opacity=0.75))
    outer = "top right"  # the threshold's label goes on the side away from the image's
    if len(scored) == 1:
        name, value = scored[0]
        outer = "top left" if value >= threshold else "top right"
        fig.add_vline(x=value, line_color=SCORED_COLOUR, line_width=3, annotation_text=f"{name}: {value:.3f}",
                      annotation_position="top right" if value >= threshold else "top left")
    elif scored:
        fig.add_trace(go.Histogram(x=[v for _, v in scored], name=f"scored images ({len(scored)})", xbins=bins,
                                   marker_color=SCORED_COLOUR, opacity=0.6))
    fig.add_vline(x=threshold, line_dash="dash", line_color=THRESHOLD_COLOUR,
                  annotation_text=f"threshold {threshold:.3f}", annotation_position=outer)
    fig.update_layout(barmode="overlay", height=340, margin=dict(l=40, r=20, t=60, b=40), yaxis_title="images",
                      xaxis=dict(title="anomaly score", range=[lo - 0.3 * span, lo + 1.3 * span]),  # room for labels
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig


def _main_score(frame):
    """The leaderboard's main metric per task row: logical AUROC where the suite has a logical split."""
    return frame["image_auroc_logical"].fillna(frame["image_auroc"])


def _run_labels(frame):
    """Per submission: a legend label (its display name, with the id where two share a name) and a colour.

    Colours follow the sorted submission ids, so a run keeps its colour in both charts.
    """
    import plotly.colors

    names = frame.drop_duplicates("submission_id").set_index("submission_id")["display_name"].sort_index()
    repeated = set(names[names.duplicated(keep=False)])
    palette = plotly.colors.qualitative.Plotly
    return {sid: (f"{name} ({sid[:8]})" if name in repeated else name, palette[i % len(palette)])
            for i, (sid, name) in enumerate(names.items())}


def robustness_chart(frame):
    """Grouped bars: the main metric per capture condition, one colour per run (mean over its tasks)."""
    import plotly.graph_objects as go

    from leaderboard.suites.conditions import CONDITIONS

    if frame.empty:
        return _empty_figure("no finished runs yet")
    frame = frame.assign(score=_main_score(frame))
    labels = _run_labels(frame)
    order = [c for c in CONDITIONS if c in set(frame["condition"])]
    order += sorted(set(frame["condition"]) - set(order))
    means = frame.groupby(["submission_id", "condition"])["score"].mean()
    fig = go.Figure()
    for sid, (label, colour) in labels.items():
        fig.add_trace(go.Bar(x=order, y=[means.get((sid, c)) for c in order], name=label, marker_color=colour))
    fig.update_layout(barmode="group", height=420, margin=dict(l=50, r=20, t=40, b=40),
                      title="Robustness per condition",
                      yaxis=dict(title="logical AUROC (else image AUROC)", range=[0, 1.02]),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def logical_vs_structural_chart(frame):
    """One point per run: mean logical AUROC against mean structural AUROC, the diagonal for reference."""
    import plotly.graph_objects as go

    split = frame.dropna(subset=["image_auroc_logical", "image_auroc_structural"]) if not frame.empty else frame
    if split.empty:
        return _empty_figure("no run on a suite with a logical/structural split yet")
    labels = _run_labels(split)
    means = split.groupby("submission_id")[["image_auroc_logical", "image_auroc_structural"]].mean()
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#999999"),
                               hoverinfo="skip", showlegend=False))
    for sid, row in means.iterrows():
        label, colour = labels[sid]
        fig.add_trace(go.Scatter(x=[row["image_auroc_structural"]], y=[row["image_auroc_logical"]], mode="markers",
                                 marker=dict(size=13, color=colour), name=label))
    fig.update_layout(height=420, margin=dict(l=50, r=20, t=40, b=40), title="Logical vs structural, one point per run",
                      xaxis=dict(title="structural image AUROC", range=[0, 1.02]),
                      yaxis=dict(title="logical image AUROC", range=[0, 1.02]), legend=dict(orientation="h", y=-0.15))
    return fig

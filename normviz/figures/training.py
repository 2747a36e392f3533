"""Training figures: test error against batch size, learning curves, and BatchNorm's eval mode
against its batch statistics — pure builders over the rows of ``normviz.train.results``."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..train.results import Row, Summary

#: One colour per normalization, in the order they are listed (Tableau 10).
PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac")
_LAYOUT = {"template": "plotly_white", "margin": {"l": 55, "r": 20, "t": 70, "b": 40}}


def _colors(labels) -> dict[str, str]:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(labels))}


def error_vs_batch_figure(summaries: list[Summary], pooling: set[str]) -> go.Figure:
    """Mean test error (%) over seeds against batch size (log axis, largest batch left as in the
    GN paper's Figure 1), one line per normalization; the band spans the lowest to the highest
    seed. Normalizations that do not pool over images are dashed (one run serves every batch)."""
    fig = go.Figure()
    colors = _colors(s.label for s in summaries)
    batches = sorted({s.batch for s in summaries})
    for label, color in colors.items():
        points = sorted((s for s in summaries if s.label == label), key=lambda s: s.batch)
        x = [s.batch for s in points]
        mean = [100 * s.mean for s in points]
        low, high = [100 * s.low for s in points], [100 * s.high for s in points]
        fig.add_scatter(
            x=x + x[::-1], y=high + low[::-1], fill="toself", fillcolor=color, opacity=0.15, mode="none",
            legendgroup=label, showlegend=False, hoverinfo="skip",
        )  # fmt: skip
        fig.add_scatter(
            x=x, y=mean, mode="lines+markers", name=label, legendgroup=label,
            line={"color": color, "width": 3, "dash": "solid" if label in pooling else "dash"},
            customdata=np.c_[low, high, [s.seeds for s in points]],
            hovertemplate=(
                f"{label}, batch %{{x}}: %{{y:.1f}} % (seeds: %{{customdata[0]:.1f}}–%{{customdata[1]:.1f}} %, "
                "n = %{customdata[2]})<extra></extra>"
            ),
        )  # fmt: skip
    fig.update_xaxes(type="log", tickvals=batches, title_text="batch size B (images per normalization batch)")
    fig.update_xaxes(autorange="reversed")
    fig.update_yaxes(title_text="test error (%)", rangemode="tozero")
    fig.update_layout(
        title={"text": "Test error against batch size<br><sup>mean over seeds; the band spans the lowest and "
                       "highest seed; dashed: statistics per image, so B does not matter</sup>", "x": 0.01},
        height=420, legend={"orientation": "h", "y": -0.2}, **_LAYOUT,
    )  # fmt: skip
    return fig


def learning_curves_figure(table: list[Row], batch: int) -> go.Figure:
    """Per epoch, at batch size ``batch``, averaged over seeds: the training loss (left) and the
    eval-mode test error (right), one colour per normalization."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("training loss (cross-entropy)", "test error (%), eval mode"))  # fmt: skip
    chosen = [r for r in table if r.batch == batch]
    colors = _colors(r.norm.label for r in chosen)
    for label, color in colors.items():
        runs = [r.run for r in chosen if r.norm.label == label]
        loss = np.mean([run.epoch_loss for run in runs], axis=0)
        test = 100 * np.mean([run.epoch_test_error for run in runs], axis=0)
        epochs = np.arange(1, len(loss) + 1)
        fig.add_scatter(
            x=epochs, y=loss, mode="lines+markers", name=label, legendgroup=label, row=1, col=1,
            line={"color": color, "width": 2.5}, hovertemplate=f"{label}, epoch %{{x}}: loss %{{y:.3f}}<extra></extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=epochs, y=test, mode="lines+markers", name=label, legendgroup=label, showlegend=False, row=1, col=2,
            line={"color": color, "width": 2.5},
            hovertemplate=f"{label}, epoch %{{x}}: test error %{{y:.1f}} %<extra></extra>",
        )  # fmt: skip
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(
        title={"text": f"Learning curves at batch size {batch}<br><sup>mean over seeds; the test error is "
                       "measured after each epoch</sup>", "x": 0.01},
        height=400, legend={"orientation": "h", "y": -0.22}, **_LAYOUT,
    )  # fmt: skip
    fig.update_layout(margin={"t": 100})
    return fig


def train_eval_figure(summaries: list[Summary], pooling: set[str]) -> go.Figure:
    """For each normalization that pools over images: the test error in eval mode (running
    statistics) and with each test batch of B normalized by its own statistics, against B."""
    fig = go.Figure()
    chosen = [s for s in summaries if s.label in pooling]
    colors = _colors(s.label for s in chosen)
    for label, color in colors.items():
        points = sorted((s for s in chosen if s.label == label), key=lambda s: s.batch)
        x = [s.batch for s in points]
        fig.add_scatter(
            x=x, y=[100 * s.mean for s in points], mode="lines+markers",
            name=f"{label}: eval mode (running statistics)",
            line={"color": color, "width": 3}, hovertemplate="batch %{x}: %{y:.1f} %<extra>eval mode</extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=x, y=[100 * s.mean_batch_stats for s in points], mode="lines+markers",
            name=f"{label}: batch statistics (training mode)", line={"color": color, "width": 2, "dash": "dash"},
            marker={"symbol": "x"}, hovertemplate="batch %{x}: %{y:.1f} %<extra>batch statistics</extra>",
        )  # fmt: skip
    batches = sorted({s.batch for s in chosen})
    fig.update_xaxes(type="log", tickvals=batches, autorange="reversed", title_text="batch size B")
    fig.update_yaxes(title_text="test error (%)", rangemode="tozero")
    fig.update_layout(
        title={"text": "Eval mode against batch statistics<br><sup>the same trained network; test images "
                       "normalized with the running statistics, or in batches of B with their own</sup>", "x": 0.01},
        height=400, legend={"orientation": "h", "y": -0.22}, **_LAYOUT,
    )  # fmt: skip
    return fig

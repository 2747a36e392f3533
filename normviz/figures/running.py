"""Train vs eval mode figures: running statistics converging, and the train/eval output difference."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from ..running import CONVENTIONS, RunningStats

#: At most this many channels get their own lines.
MAX_CHANNELS = 8
#: At most this many (train, eval) value pairs in the scatter.
MAX_POINTS = 4000


def _channels(run: RunningStats, channels) -> list[int]:
    total = run.running_mean.shape[1]
    chosen = range(min(total, MAX_CHANNELS)) if channels is None else channels
    return [int(c) for c in chosen if 0 <= int(c) < total][:MAX_CHANNELS]


def running_stats_figure(run: RunningStats, channels=None, title: str | None = None) -> go.Figure:
    """Running mean and variance per channel after each step (lines), each batch's statistics
    (dots), and the statistics of the whole input (dotted) — two panels side by side.

    run: from ``normviz.running.simulate_running_stats``. channels: channel indices to draw (default
    the first ``MAX_CHANNELS``).
    """
    conv = CONVENTIONS[run.convention]
    var_label = "running variance (unbiased)" if conv.unbiased else "running variance (biased)"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("running mean", var_label), horizontal_spacing=0.1)
    steps = np.arange(run.steps + 1)
    palette = qualitative.Plotly
    for i, c in enumerate(_channels(run, channels)):
        color = palette[i % len(palette)]
        for col, running, batch, whole in (
            (1, run.running_mean, run.batch_mean, run.input_mean),
            (2, run.running_var, run.batch_var, run.input_var),
        ):
            fig.add_scatter(
                x=steps,
                y=running[:, c],
                mode="lines+markers",
                name=f"channel {c}",
                legendgroup=f"c{c}",
                showlegend=col == 1,
                line={"color": color},
                marker={"size": 5},
                row=1,
                col=col,
                hovertemplate=f"channel {c}, after step %{{x}}: %{{y:.5g}}<extra></extra>",
            )
            fig.add_scatter(
                x=steps[1:],
                y=batch[:, c],
                mode="markers",
                name=f"channel {c}: batch",
                legendgroup=f"c{c}",
                showlegend=False,
                marker={"color": color, "symbol": "circle-open", "size": 8},
                row=1,
                col=col,
                hovertemplate=f"channel {c}, batch of step %{{x}}: %{{y:.5g}}<extra></extra>",
            )
            fig.add_scatter(
                x=[0, run.steps],
                y=[whole[c], whole[c]],
                mode="lines",
                legendgroup=f"c{c}",
                showlegend=False,
                line={"color": color, "dash": "dot", "width": 1},
                row=1,
                col=col,
                hoverinfo="skip",
            )
    for col in (1, 2):
        fig.update_xaxes(title_text="training step (0 = initial)", row=1, col=col)
    momentum = "cumulative average" if run.momentum is None else f"momentum {run.momentum:g}"
    subtitle = (
        f"{conv.label}, {momentum}, batch size {run.batch_size}, {run.steps} step{'s' if run.steps != 1 else ''}. "
        "Open circles: each batch's statistics; dotted: the whole input."
    )
    fig.update_layout(
        title={"text": f"{title or 'Running statistics'}<br><sup>{subtitle}</sup>", "x": 0.01},
        height=380, template="plotly_white", margin={"l": 50, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return fig


def train_eval_figure(run: RunningStats, title: str | None = None) -> go.Figure:
    """Left: eval-mode output against train-mode output for the same values (on the diagonal when
    they agree). Right: mean |eval − train| per sample, coloured by batch."""
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.12,
        subplot_titles=("eval-mode vs train-mode output", "mean |eval − train| per sample"),
    )  # fmt: skip
    train = run.train_output.reshape(-1)
    evals = run.eval_output[: run.fed].reshape(-1)
    keep = np.linspace(0, train.size - 1, min(train.size, MAX_POINTS)).astype(np.int64)
    fig.add_scattergl(
        x=train[keep], y=evals[keep], mode="markers", marker={"size": 3, "color": "#4c78a8", "opacity": 0.5},
        name="values", showlegend=False, row=1, col=1,
        hovertemplate="train %{x:.4g}<br>eval %{y:.4g}<extra></extra>",
    )  # fmt: skip
    lo = float(min(train.min(), evals.min()))
    hi = float(max(train.max(), evals.max()))
    fig.add_scatter(
        x=[lo, hi],
        y=[lo, hi],
        mode="lines",
        line={"color": "#888", "dash": "dash"},
        name="eval = train",
        showlegend=False,
        row=1,
        col=1,
        hoverinfo="skip",
    )
    per_sample = np.abs(run.difference).reshape(run.fed, -1).mean(axis=1)
    palette = qualitative.Plotly
    for k, (start, stop) in enumerate(run.batches):
        fig.add_bar(
            x=np.arange(start, stop), y=per_sample[start:stop], row=1, col=2, name=f"batch {k}",
            marker={"color": palette[k % len(palette)]}, showlegend=len(run.batches) <= MAX_CHANNELS,
            hovertemplate=f"sample %{{x}} (batch {k}): %{{y:.4g}}<extra></extra>",
        )  # fmt: skip
    fig.update_xaxes(title_text="train mode (batch statistics)", row=1, col=1)
    fig.update_yaxes(title_text="eval mode (running statistics)", row=1, col=1)
    fig.update_xaxes(title_text="sample", row=1, col=2)
    dropped = f"; {run.dropped} sample(s) of a dropped last batch only in eval mode" if run.dropped else ""
    subtitle = f"largest |eval − train| = {run.max_abs_difference:.3g}{dropped}"
    fig.update_layout(
        title={"text": f"{title or 'Train vs eval mode'}<br><sup>{subtitle}</sup>", "x": 0.01},
        height=380, template="plotly_white", margin={"l": 50, "r": 20, "t": 80, "b": 40}, barmode="overlay",
    )  # fmt: skip
    return fig

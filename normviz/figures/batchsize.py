"""Batch-size experiment figures: the spread of BatchNorm's statistics against GroupNorm's, each
draw's BatchNorm mean, and the GN paper's ImageNet numbers (quoted, not computed)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..experiment import GN_PAPER_IMAGENET, BatchSizeExperiment, PaperNumbers

BN_COLOR = "#4c78a8"
GN_COLOR = "#f58518"


def spread_figure(exp: BatchSizeExperiment, title: str | None = None) -> go.Figure:
    """Std across draws of the mean (left) and of σ (right) against batch size, log–log: BatchNorm's
    (averaged over channels), GroupNorm's (averaged over groups), and a 1/√B guide through
    BatchNorm's first point."""
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.1,
        subplot_titles=("spread of the mean μ", "spread of the standard deviation σ"),
    )  # fmt: skip
    sizes = np.array(exp.batch_sizes, dtype=float)
    panels = ((1, exp.bn_mean_spread, exp.gn_mean_spread), (2, exp.bn_std_spread, exp.gn_std_spread))
    for col, bn, gn in panels:
        bn_avg, gn_avg = bn.mean(axis=1), gn.mean(axis=1)
        fig.add_scatter(
            x=sizes, y=bn_avg, mode="lines+markers", name="BatchNorm (per channel, over the batch)",
            legendgroup="bn", showlegend=col == 1, line={"color": BN_COLOR, "width": 3}, row=1, col=col,
            hovertemplate="batch %{x}: %{y:.4g}<extra>BatchNorm</extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=sizes, y=gn_avg, mode="lines+markers", name=f"GroupNorm, G = {exp.groups} (per sample)",
            legendgroup="gn", showlegend=col == 1, line={"color": GN_COLOR, "width": 3}, row=1, col=col,
            hovertemplate="batch %{x}: %{y:.4g}<extra>GroupNorm</extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=sizes, y=bn_avg[0] * np.sqrt(sizes[0] / sizes), mode="lines", name="∝ 1/√B",
            legendgroup="guide", showlegend=col == 1, line={"color": "#999", "dash": "dot"}, row=1, col=col,
            hoverinfo="skip",
        )  # fmt: skip
        fig.update_xaxes(type="log", title_text="batch size B", tickvals=sizes, row=1, col=col)
        fig.update_yaxes(type="log", row=1, col=col)
    pool = "whole samples" if exp.crop is None else f"random {exp.crop[0]}×{exp.crop[1]} crops"
    subtitle = (
        f"Std across {exp.draws} random batches ({pool}) of the statistics that normalize a batch's first sample. "
        "At B = 1 BatchNorm is InstanceNorm."
    )
    fig.update_layout(
        title={"text": f"{title or 'How much the statistics move with the batch'}<br><sup>{subtitle}</sup>",
               "x": 0.01},
        height=400, template="plotly_white", margin={"l": 50, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.22},
    )  # fmt: skip
    return fig


def draws_figure(exp: BatchSizeExperiment, channel: int = 0, title: str | None = None) -> go.Figure:
    """BatchNorm's mean for one channel in every draw, one box per batch size, with the mean over the
    whole input as a dashed line."""
    channels = exp.bn_mean.shape[2]
    channel = int(np.clip(channel, 0, channels - 1))
    fig = go.Figure()
    for k, size in enumerate(exp.batch_sizes):
        fig.add_box(
            y=exp.bn_mean[k, :, channel], name=f"B = {size}", boxpoints="all", jitter=0.4, pointpos=0,
            marker={"size": 3, "color": BN_COLOR}, line={"color": BN_COLOR}, showlegend=False,
        )  # fmt: skip
    fig.add_scatter(
        x=[f"B = {exp.batch_sizes[0]}", f"B = {exp.batch_sizes[-1]}"], y=[exp.pool_mean[channel]] * 2,
        mode="lines", line={"dash": "dash", "color": "#555"}, name="mean over the whole input", hoverinfo="skip",
    )  # fmt: skip
    fig.update_layout(
        title={"text": title or f"BatchNorm's mean of channel {channel} in each random batch", "x": 0.01},
        yaxis_title="batch mean μ", height=360, template="plotly_white", legend={"orientation": "h", "y": -0.15},
        margin={"l": 50, "r": 20, "t": 60, "b": 40},
    )  # fmt: skip
    return fig


def paper_figure(paper: PaperNumbers = GN_PAPER_IMAGENET) -> go.Figure:
    """The GN paper's ResNet-50 ImageNet validation error against images per GPU, BatchNorm vs
    GroupNorm — labelled as the paper's numbers."""
    fig = go.Figure()
    bn_above = [b > g for b, g in zip(paper.batchnorm, paper.groupnorm)]
    series = (
        ("BatchNorm", paper.batchnorm, BN_COLOR, ["top center" if a else "bottom center" for a in bn_above]),
        ("GroupNorm", paper.groupnorm, GN_COLOR, ["bottom center" if a else "top center" for a in bn_above]),
    )
    for name, values, color, where in series:
        fig.add_scatter(
            x=list(paper.batch_sizes), y=list(values), mode="lines+markers+text", name=name,
            text=[f"{v:.1f}" for v in values], textposition=where, line={"color": color, "width": 3},
            hovertemplate=f"{name}, %{{x}} images per GPU: %{{y:.1f}} %<extra>paper</extra>",
        )  # fmt: skip
    fig.update_xaxes(type="log", tickvals=list(paper.batch_sizes), title_text="images per GPU", autorange="reversed")
    low = min(paper.batchnorm + paper.groupnorm)
    fig.update_yaxes(title_text="ImageNet validation error (%)", range=[low - 2, max(paper.batchnorm) + 2])
    fig.update_layout(
        title={"text": "The paper's numbers, not computed here<br>"
                       f"<sup>{paper.source}</sup>", "x": 0.01},
        height=360, template="plotly_white", margin={"l": 50, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip
    return fig

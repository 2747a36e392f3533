"""Histograms of input and output values: all values, and the selected group's on top."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .colors import HIGHLIGHT_CSS

BINS = 60
#: At most this many evenly spaced values are binned for the "all values" histogram.
SAMPLE_LIMIT = 2_000_000


def _values(a: np.ndarray) -> np.ndarray:
    flat = a.reshape(-1)
    return flat[:: max(1, flat.size // SAMPLE_LIMIT)]


def density(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram of ``values`` over ``edges`` as a probability density (area 1)."""
    counts, _ = np.histogram(values, bins=edges)
    total = counts.sum()
    return counts / (total * np.diff(edges)) if total else counts.astype(float)


def histogram_figure(x: np.ndarray, y: np.ndarray, box=None, center: bool = True) -> go.Figure:
    """Two panels — input x and output y (both (N, C, H, W)) — each with all values and the selected
    group's values (``box`` = four ranges over N, C, H, W, or None) as densities. The output panel
    also shows the standard normal density that a centred group's values approach."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("input x", "output y"), horizontal_spacing=0.08)
    for col, arr in ((1, x), (2, y)):
        every = _values(arr).astype(np.float64)
        lo, hi = np.percentile(every, [0.1, 99.9]) if every.size > 1 else (every.min() - 1, every.max() + 1)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, BINS + 1)
        mids = (edges[:-1] + edges[1:]) / 2
        fig.add_bar(
            x=mids,
            y=density(np.clip(every, lo, hi), edges),
            width=np.diff(edges),
            name="all values",
            marker_color="#9db4cf",
            showlegend=col == 1,
            legendgroup="all",
            hovertemplate="%{x:.3g}: density %{y:.3g}<extra>all values</extra>",
            row=1,
            col=col,
        )
        if box is not None:
            group = arr[np.ix_(*box)].reshape(-1).astype(np.float64)
            fig.add_scatter(
                x=mids,
                y=density(np.clip(group, lo, hi), edges),
                mode="lines",
                line_shape="hvh",
                line={"color": HIGHLIGHT_CSS, "width": 2.5},
                name="selected group",
                showlegend=col == 1,
                legendgroup="sel",
                hovertemplate="%{x:.3g}: density %{y:.3g}<extra>selected group</extra>",
                row=1,
                col=col,
            )
        if col == 2 and center:
            grid = np.linspace(lo, hi, 200)
            fig.add_scatter(
                x=grid,
                y=np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi),
                mode="lines",
                name="N(0, 1)",
                line={"color": "#555", "dash": "dot", "width": 1.5},
                hoverinfo="skip",
                row=1,
                col=2,
            )
        fig.update_xaxes(title_text="value", row=1, col=col)
    fig.update_yaxes(title_text="density", row=1, col=1)
    fig.update_layout(
        height=300,
        bargap=0,
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig

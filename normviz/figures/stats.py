"""Every group's statistics: a table, a CSV, and a chart over the statistics grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core import NormResult
from .colors import HIGHLIGHT_CSS

if TYPE_CHECKING:
    import pandas as pd

#: At most this many small heatmaps when the grid has more than two non-trivial axes.
MAX_FACETS = 8
#: Pixels under the heatmaps for the horizontal colour bars.
COLORBAR_ROOM = 50


def _axis_ranges(res: NormResult, index: np.ndarray) -> list[np.ndarray]:
    """For group indices (k, 4), the first and last cell along N, C, H, W: four (k, 2) arrays."""
    n, c, h, w = res.shape
    per_group = c // res.spec.groups if "C" in res.spec.axes else 1
    out = []
    for ax, (letter, size) in enumerate(zip("NCHW", (n, c, h, w))):
        if letter == "C":
            first = index[:, 1] * per_group
            out.append(np.stack([first, first + per_group - 1], axis=1))
        elif letter in res.spec.axes:
            out.append(np.tile([0, size - 1], (len(index), 1)))
        else:
            out.append(np.stack([index[:, ax], index[:, ax]], axis=1))
    return out


def _range_text(pairs: np.ndarray) -> np.ndarray:
    lo, hi = pairs[:, 0].astype(str), pairs[:, 1].astype(str)
    return np.where(pairs[:, 0] == pairs[:, 1], lo, np.char.add(np.char.add(lo, "–"), hi))


def stats_table(res: NormResult, selected=None, limit: int | None = None) -> pd.DataFrame:
    """One row per group (in grid order): its grid index, the cells it covers, count, μ, σ².

    selected: a grid index (4-tuple) to flag, or None. limit: keep the first ``limit`` rows, plus the
    selected group's row if it falls beyond them.
    """
    total = res.n_groups
    flat = np.arange(total if limit is None else min(limit, total))
    if selected is not None and limit is not None:
        chosen = int(np.ravel_multi_index(selected, res.stats_shape))
        if chosen >= len(flat):
            flat = np.append(flat, chosen)
    index = np.stack(np.unravel_index(flat, res.stats_shape), axis=1)
    ranges = _axis_ranges(res, index)
    table = {
        "group": [str(tuple(int(v) for v in row)) for row in index],
        **{letter: _range_text(r) for letter, r in zip("nchw", ranges)},
        "count": np.full(len(flat), res.count),
        "mean μ": res.mean.reshape(-1)[flat],
        "variance σ²": res.var.reshape(-1)[flat],
        "std σ": np.sqrt(res.var.reshape(-1)[flat]),
    }
    if not res.spec.center:
        table["mean square"] = res.mean_square.reshape(-1)[flat]
    import pandas as pd  # on first use: pandas takes ~0.4 s to import, and only this table needs it

    frame = pd.DataFrame(table)
    if selected is not None:
        frame.insert(0, "selected", flat == int(np.ravel_multi_index(selected, res.stats_shape)))
    return frame


def stats_csv(res: NormResult) -> str:
    """All groups as CSV text (full precision)."""
    return stats_table(res).to_csv(index=False, float_format="%.17g")


def _grid_axes(shape) -> list[int]:
    return [ax for ax, size in enumerate(shape) if size > 1]


def stats_figure(res: NormResult, selected=None, title: str | None = None) -> go.Figure | None:
    """Mean and variance over the statistics grid, side by side; None for a single group.

    One varying axis → bars; two → heatmaps; more → heatmaps over the last two axes, one per index of
    the leading ones (at most MAX_FACETS). The selected group is outlined.
    """
    axes = _grid_axes(res.stats_shape)
    if not axes:
        return None
    names = ["N (sample)", "C (channel)" if "C" not in res.spec.axes else "G (group)", "H", "W"]
    mean, var = res.mean, res.var
    if len(axes) == 1:
        ax = axes[0]
        k = np.arange(res.stats_shape[ax])
        fig = make_subplots(rows=1, cols=2, subplot_titles=("mean μ", "variance σ²"), horizontal_spacing=0.1)
        sel = selected[ax] if selected is not None else None
        line = ["rgba(0,0,0,0)"] * len(k)
        if sel is not None:
            line[sel] = HIGHLIGHT_CSS
        for col, values in ((1, mean.reshape(-1)), (2, var.reshape(-1))):
            fig.add_bar(
                x=k,
                y=values,
                row=1,
                col=col,
                marker={"color": "#4c78a8", "line": {"color": line, "width": 3}},
                hovertemplate=f"{names[ax][0]} %{{x}}: %{{y:.6g}}<extra></extra>",
                showlegend=False,
            )
            fig.update_xaxes(title_text=names[ax], row=1, col=col)
        return _finish(fig, title, height=320)
    row_ax, col_ax = axes[-2], axes[-1]
    lead = axes[:-2]
    facets = list(np.ndindex(*[res.stats_shape[a] for a in lead]))
    shown = facets[:MAX_FACETS]
    fig = make_subplots(
        rows=len(shown),
        cols=2,
        horizontal_spacing=0.08,
        vertical_spacing=0.06 if len(shown) > 1 else 0.1,
        subplot_titles=[f"{t}{_facet_label(lead, f, names)}" for f in shown for t in ("mean μ", "variance σ²")],
    )
    for r, facet in enumerate(shown, start=1):
        index = [0, 0, 0, 0]
        for a, v in zip(lead, facet):
            index[a] = v
        sl = tuple(slice(None) if a in (row_ax, col_ax) else index[a] for a in range(4))
        for col, grid in ((1, mean[sl]), (2, var[sl])):
            fig.add_heatmap(
                z=grid,
                row=r,
                col=col,
                coloraxis="coloraxis" if col == 1 else "coloraxis2",
                hovertemplate=f"{names[row_ax][0]} %{{y}}, {names[col_ax][0]} %{{x}}: %{{z:.6g}}<extra></extra>",
            )
            fig.update_yaxes(title_text=names[row_ax] if col == 1 else None, autorange="reversed", row=r, col=col)
            fig.update_xaxes(title_text=names[col_ax] if r == len(shown) else None, row=r, col=col)
            if selected is not None and all(selected[a] == index[a] for a in lead):
                y0, x0 = selected[row_ax], selected[col_ax]
                for color, width in (("black", 5), (HIGHLIGHT_CSS, 2)):  # visible on any cell colour
                    fig.add_shape(
                        type="rect",
                        x0=x0 - 0.5,
                        x1=x0 + 0.5,
                        y0=y0 - 0.5,
                        y1=y0 + 0.5,
                        row=r,
                        col=col,
                        line={"color": color, "width": width},
                    )
    # one colour scale per statistic, shared by every panel, as a bar under its column: beside the
    # panels a bar and its tick labels overlap the next column once the chart is narrow
    fig.update_yaxes(showticklabels=False, col=2)
    for name, domain in (("coloraxis", fig.layout.xaxis.domain), ("coloraxis2", fig.layout.xaxis2.domain)):
        bar = {
            "orientation": "h",
            "x": (domain[0] + domain[1]) / 2,
            "xanchor": "center",
            "len": domain[1] - domain[0],
            "y": 0,
            "yref": "container",
            "yanchor": "bottom",
            "ypad": 8,
            "thickness": 10,
            "nticks": 5,
            "tickangle": 0,
            "tickfont": {"size": 10},
        }
        fig.update_layout({name: {"colorscale": "Viridis", "colorbar": bar}})
    if len(facets) > len(shown):
        title = (title + " — " if title else "") + f"first {len(shown)} of {len(facets)} panels"
    return _finish(fig, title, height=max(320, 260 * len(shown)) + COLORBAR_ROOM, bottom=40 + COLORBAR_ROOM)


def _facet_label(lead, facet, names) -> str:
    return "".join(f", {names[a][0]} = {v}" for a, v in zip(lead, facet))


def _finish(fig: go.Figure, title, height: int, bottom: int = 40) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 50, "r": 20, "t": 60 if title else 40, "b": bottom},
        template="plotly_white",
    )
    return fig

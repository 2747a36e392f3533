"""How the tensor cube looks and reads: colours, hover text, axes and camera for each view."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from plotly.colors import sequential

from . import cube_geometry as geo
from .colors import DIVERGING_SCALE, GROUP_COLORS

#: The layout's fixed uirevision: the browser keeps the user's camera across every new figure.
UIREVISION = "normviz-cube"
_UP = {"x": 0, "y": 0, "z": 1}
#: Footprint (x + y of the aspect ratio) of the paper view's box: a little under that of N = 2C,
#: which the default camera frames with room for the axis labels; every N and C is brought to it.
PAPER_FOOTPRINT = 0.95 * 1.5
#: Default cameras: each shows three faces of the tensor (front, side and top).
CAMERAS = {
    "paper": {"eye": {"x": 1.4, "y": -1.3, "z": 0.7}, "up": _UP, "center": {"x": 0.02, "y": 0, "z": -0.05}},
    "exact": {"eye": {"x": 0.6, "y": -1.35, "z": 0.85}, "up": _UP, "center": {"x": 0, "y": 0, "z": -0.1}},
}
#: Gap between neighbouring boxes, as a fraction of a unit of displayed length.
BOX_GAP = 0.012
#: Categorical colours for ``color_by="group"`` (readable with colour-vision deficiencies, see colors.py).
GROUP_PALETTE = GROUP_COLORS
_NEIGHBOUR_STEPS = np.array([1, 3, 5, 7])
_MEAN_SEQUENTIAL = sequential.Viridis
_VARIANCE_SEQUENTIAL = sequential.Plasma
#: Per view: for N, C, H, W, which corner bit (x 1, y 2, z 4) marks a box's high end, and whether flipped.
_CORNER_AXES = {
    "paper": ((0, False), (1, False), (2, False), (2, False)),
    "exact": ((None, False), (1, False), (2, True), (0, False)),
}


@dataclass(frozen=True)
class TraceColors:
    """Colour of each box: values (B,) for the trace's intensity, style: colorscale, cmin, cmax…"""

    values: np.ndarray
    style: dict


@dataclass(frozen=True)
class CubeColors:
    faded: TraceColors
    selected: TraceColors | None


def trace_colors(color_by: str, boxes: geo.BoxSet, chosen: geo.BoxSet | None, tile) -> CubeColors:
    """Colours for the faded boxes and the selected group, on one shared scale.

    tile: statistics-grid units per drawn box along N, C, H, W (all 1 when boxes are groups).
    """
    if color_by == "group":
        scale = _stepped(GROUP_PALETTE)
        style = {"colorscale": scale, "cmin": 0, "cmax": len(GROUP_PALETTE), "showscale": False}
        faded = TraceColors(_category(boxes, tile) + 0.5, style)
        selected = TraceColors(_category(chosen, (1, 1, 1, 1)) + 0.5, style) if chosen is not None else None
        return CubeColors(faded, selected)
    field = "mean" if color_by == "mean" else "var"
    values = [getattr(b, field) for b in (boxes, chosen) if b is not None and len(b)]
    both = np.concatenate(values) if values else np.zeros(1)
    low, high = float(both.min()), float(both.max())
    if field == "mean" and low < 0 < high:
        bound = max(-low, high)
        scale, low, high = [list(stop) for stop in DIVERGING_SCALE], -bound, bound
    else:
        scale = _MEAN_SEQUENTIAL if field == "mean" else _VARIANCE_SEQUENTIAL
        scale = [[i / (len(scale) - 1), c] for i, c in enumerate(scale)]
    symbol = "μ" if field == "mean" else "σ²"
    label = f"{symbol}<br>block avg" if tuple(tile) != (1, 1, 1, 1) else symbol
    colorbar = {"title": {"text": label}, "thickness": 14, "len": 0.7, "x": 1.0, "tickformat": _tick_format(low, high)}
    if high - low <= 1e-12 * max(1.0, abs(high)):
        colorbar.update(tickvals=[low], ticktext=[f"{low:.4g}<br>(all equal)"])
        pad = max(abs(high) * 1e-3, 1e-9)
        low, high = low - pad, high + pad
    base = {"colorscale": scale, "cmin": low, "cmax": high}
    faded_style = dict(base, showscale=chosen is None, colorbar=colorbar)
    selected_style = dict(base, showscale=True, colorbar=colorbar)
    faded = TraceColors(getattr(boxes, field), faded_style)
    selected = TraceColors(getattr(chosen, field), selected_style) if chosen is not None else None
    return CubeColors(faded, selected)


def _category(boxes: geo.BoxSet, tile) -> np.ndarray:
    """A palette index per box; boxes next to each other along any axis get different colours."""
    position = boxes.grid_lo // np.maximum(np.asarray(tile), 1)
    return (position @ _NEIGHBOUR_STEPS) % len(GROUP_PALETTE)


def _stepped(palette) -> list:
    count = len(palette)
    return [[(i + edge) / count, color] for i, color in enumerate(palette) for edge in (0, 1)]


def hover_columns(boxes: geo.BoxSet, spec, shape, view: str, role: str):
    """Hover text for the boxes of one trace.

    Returns (columns, template, cells): columns float32 (B, k), one row per box (repeated for its 8
    vertices); template, a plotly hovertemplate reading ``customdata``; cells, per axis N, C, H, W
    where the first and last index of the drawn box come from (a column or a constant) and which
    corner bit picks the last one — enough to turn a clicked vertex into a cell. The text names the
    ranges the group covers: in the exact view a group reduced over N is drawn once per sample.
    """
    columns: list[np.ndarray] = []

    def source(values) -> dict:
        """A constant when all boxes agree, else a new customdata column."""
        values = np.asarray(values)
        if not len(values) or np.all(values == values[0]):
            return {"value": int(values[0]) if len(values) else 0}
        columns.append(values.astype(np.float64))
        return {"col": len(columns) - 1}

    def shown(where, fmt="") -> str:
        if "col" in where:
            return f"%{{customdata[{where['col']}]{fmt}}}"
        return f"{where['value']:,}" if fmt == ":," else str(where["value"])

    def span(letter, lo, hi) -> str:
        return f"{letter} {shown(lo)}" if lo == hi else f"{letter} {shown(lo)}–{shown(hi)}"

    stats = spec.stats_shape(shape)
    unit = [d // s for d, s in zip(shape, stats)]
    cells, ranges, group = [], [], []
    for axis, letter in enumerate("nchw"):
        first, last = boxes.lo[:, axis], boxes.hi[:, axis] - 1
        lo = source(first)
        hi = lo if np.array_equal(first, last) else source(last)
        bit, flip = _CORNER_AXES[view][axis]
        cells.append({"lo": lo, "hi": hi, "bit": bit, "flip": flip})
        if axis == 0 and view == "exact" and "N" in spec.axes:
            ranges.append(span(letter, {"value": 0}, {"value": shape[0] - 1}))
        else:
            ranges.append(span(letter, lo, hi))
        if stats[axis] == 1:
            group.append("0")
        elif unit[axis] == 1:
            group.append(shown(lo))
        else:
            group.append(shown(source(boxes.grid_lo[:, axis])))
    count = spec.group_size(shape)
    values = f"{count:,} value{'s' if count != 1 else ''}"
    if role == "block":
        head = f"<b>block of {shown(source(boxes.members), ':,')} groups</b>"
        size, mu, var = f"{values} per group", "mean of μ", "mean of σ²"
        tail = "<br><i>click to select a group here</i>"
    else:
        head = f"<b>{'selected group' if role == 'selected' else 'group'} ({', '.join(group)})</b>"
        size, mu, var, tail = values, "μ", "σ²", ""
    columns.append(np.asarray(boxes.mean, np.float64))
    columns.append(np.asarray(boxes.var, np.float64))
    mean_col, var_col = len(columns) - 2, len(columns) - 1
    template = (
        f"{head}<br>{' · '.join(ranges)}<br>{size}<br>"
        f"{mu} = %{{customdata[{mean_col}]:.4~g}}<br>{var} = %{{customdata[{var_col}]:.4~g}}{tail}<extra></extra>"
    )
    table = np.stack(columns, axis=1) if len(boxes) else np.zeros((0, len(columns)))
    return table.astype(np.float32), template, cells


@dataclass(frozen=True)
class SceneStyle:
    """The figure layout for a view, and the gap between boxes in scene units (3,)."""

    layout: dict
    gap: np.ndarray


def _tick_format(low: float, high: float) -> str:
    """A d3 format with enough significant digits that ticks between ``low`` and ``high`` differ
    (−1.534 … −1.526 needs four, not three)."""
    magnitude = max(abs(low), abs(high))
    spread = high - low
    if magnitude == 0 or spread <= 0:
        return ".3~g"
    return f".{min(9, max(3, math.ceil(math.log10(magnitude / spread)) + 2))}~g"


def scene_layout(shape, spec, view: str, grid: geo.SampleGrid | None) -> SceneStyle:
    """Axes, aspect ratio, camera and labels for the paper or the exact view."""
    n, c, height, width = shape
    annotations = []
    if view == "paper":
        extent = np.array([n, c, height * width], np.float64)
        longer = max(n, c)
        aspect = np.array([max(0.45, n / longer), max(0.45, c / longer), 1.05])
        aspect *= PAPER_FOOTPRINT / (aspect[0] + aspect[1])  # as wide on screen whatever N and C are
        if geo.spatial_order(spec) == "H":
            title, outer, run, rows = "H·W  (s = h·W + w)", "h", width, _ticks(height)
        else:
            title, outer, run, rows = "W·H  (s = w·H + h)", "w", height, _ticks(width)
        axes = [
            _axis("N (sample)", extent[0], *_index_ticks(n)),
            _axis("C (channel)", extent[1], *_index_ticks(c)),
            _axis(title, extent[2], [r * run for r in rows], [f"{outer} {r}" for r in rows]),
        ]
    else:
        x_len, top = grid.size
        top += 0.2 * height + 1
        extent = np.array([x_len, c, top], np.float64)
        depth = geo.channel_depth(shape)
        longer, shorter = max(x_len, top), min(x_len, top)
        aspect = np.array([x_len, depth, top]) / longer * (1.0 + 0.5 * (1 - shorter / longer))
        heights = _ticks(height) if grid.rows == 1 else []
        axes = [
            _axis("W  (samples side by side)", extent[0], [], []),
            _axis("C (channel)", extent[1], *_index_ticks(c, limit=4, count=2)),
            _axis("H  (h = 0 at the top)", extent[2], [height - h - 0.5 for h in heights], [f"h {h}" for h in heights]),
        ]
        for block, (x0, z0) in enumerate(grid.origin):
            first = block * grid.per_block
            last = min(n, first + grid.per_block) - 1
            label = f"n {first}" if first == last else f"n {first}–{last}"
            annotations.append(
                {
                    "x": x0 + width / 2,
                    "y": 0,
                    "z": z0 + height + 0.1 * height + 0.5,
                    "text": label,
                    "showarrow": False,
                    "font": {"size": 12, "color": "#333"},
                }
            )
    gap = BOX_GAP * extent / aspect
    scene = {
        "xaxis": axes[0],
        "yaxis": axes[1],
        "zaxis": axes[2],
        "aspectmode": "manual",
        "aspectratio": dict(zip("xyz", (round(float(a), 4) for a in aspect))),
        "camera": copy.deepcopy(CAMERAS[view]),
        "dragmode": "turntable",
        "annotations": annotations,
    }
    layout = {
        "scene": scene,
        "uirevision": UIREVISION,
        "margin": {"l": 0, "r": 0, "t": 56, "b": 0},
        "paper_bgcolor": "white",
        "hovermode": "closest",
        "hoverlabel": {"bgcolor": "white", "font": {"size": 12}, "align": "left"},
        "showlegend": False,
    }
    return SceneStyle(layout, gap)


def _axis(title: str, extent: float, tickvals, ticktext) -> dict:
    pad = 0.02 * extent
    return {
        "title": {"text": title, "font": {"size": 13}},
        "range": [-pad, extent + pad],
        "tickvals": list(tickvals),
        "ticktext": list(ticktext),
        "showticklabels": bool(len(tickvals)),
        "tickfont": {"size": 10},
        "showbackground": True,
        "backgroundcolor": "rgb(246,247,250)",
        "gridcolor": "rgb(222,226,233)",
        "showspikes": False,
        "zeroline": False,
    }


def _index_ticks(size: int, limit: int = 16, count: int = 8):
    """Ticks at cell centres labelled with their index: every cell up to ``limit`` cells, else ``count``."""
    chosen = range(size) if size <= limit else _ticks(size, count)
    return [i + 0.5 for i in chosen], [str(i) for i in chosen]


def _ticks(size: int, count: int = 5) -> list[int]:
    return sorted({int(round(v)) for v in np.linspace(0, size - 1, min(size, count))})

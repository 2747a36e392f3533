"""The 3D tensor cube: which cells of x[N, C, H, W] share a mean and a variance.

``build_cube`` turns a normalization's statistics into a plotly figure (as a plain dict) in one of
two views, like Figure 2 of Wu & He's Group Normalization paper:

- ``"paper"``: N × C × spatial, with (h, w) flattened to one axis s in the order that keeps every
  group one contiguous run (s = h·W + w, or s = w·H + h when H is reduced and W kept);
- ``"exact"``: N blocks of C × H × W side by side (h = 0 at the top), exact for every axis subset.

Groups are boxes of one ``Mesh3d`` trace; the selected group is a second, opaque ``Mesh3d`` with an
outline. Every vertex carries ``customdata`` for its hover text, and the trace's ``meta["cells"]``
tells how a vertex maps back to a cell (see ``cell_at_vertex``). Too many groups are merged into
blocks (whole groups per block) and the returned note says so; the selected group stays exact.

>>> import normviz
>>> x = np.random.default_rng(0).normal(size=(4, 3, 8, 8))
>>> res = normviz.normalize(x, "NHW")
>>> cube = cube_from_result(res, selected_cell=(0, 1, 0, 0))
>>> [trace["type"] for trace in cube.figure["data"]]
['mesh3d', 'mesh3d', 'scatter3d']
>>> cube.selected_group, cube.note is None
((0, 1, 0, 0), True)
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import numpy as np

from ..core import NormResult, group_of
from ..errors import NormvizError
from ..spec import NormSpec
from . import cube_geometry as geo
from .cube_style import hover_columns, scene_layout, trace_colors

VIEWS = ("paper", "exact")
COLOR_BY = ("mean", "variance", "group")
#: Boxes drawn in the paper view before groups are merged into blocks.
PAPER_MAX_BOXES = 240
#: The exact view allows this many boxes per sample block, from EXACT_MIN_BOXES to EXACT_MAX_BOXES.
EXACT_BOXES_PER_SAMPLE = 40
EXACT_MIN_BOXES = 400
EXACT_MAX_BOXES = 1200
#: Beyond this many samples the exact view draws blocks of consecutive samples.
MAX_SAMPLE_BLOCKS = 64
#: Opacity of the groups that are not selected (all groups are opaque-ish when nothing is selected).
FADED_OPACITY = 0.18
UNSELECTED_OPACITY = 0.75
#: The selected group's outline: dark, so it stands out against every colour scale.
OUTLINE_COLOR = "rgb(20,20,28)"

_TYPED_CODES = {"float32": "f4", "float64": "f8", "uint16": "u2", "uint32": "u4", "int32": "i4"}
_TYPED_DTYPES = {code: np.dtype(name) for name, code in _TYPED_CODES.items()}


@dataclass(frozen=True)
class CubeFigure:
    """What ``build_cube`` returns.

    figure: the plotly figure as a JSON-ready dict ({"data": [...], "layout": {...}}), arrays as
    base64 typed arrays. note: a sentence for the page when groups were merged into blocks, else None.
    boxes: boxes drawn. block: cells per block along N, C, H, W when groups were merged, else None.
    selected_group: statistics-grid index of the highlighted group, or None.
    """

    figure: dict
    note: str | None
    view: str
    color_by: str
    boxes: int
    block: tuple[int, int, int, int] | None
    selected_group: tuple[int, int, int, int] | None

    def to_plotly(self):
        """The figure as a ``plotly.graph_objects.Figure``."""
        import plotly.graph_objects as go

        return go.Figure(self.figure)

    def to_json(self) -> str:
        """The figure as compact JSON (what travels to the browser)."""
        return json.dumps(self.figure, separators=(",", ":"))


def build_cube(
    shape,
    spec: NormSpec,
    mean,
    var,
    selected_cell=None,
    *,
    view: str = "paper",
    color_by: str = "mean",
    max_boxes: int | None = None,
) -> CubeFigure:
    """Draw which cells share a mean and a variance.

    Parameters
    ----------
    shape : (N, C, H, W) of the tensor.
    spec : the normalization (``NormSpec``).
    mean, var : ndarrays on the statistics grid, shape ``spec.stats_shape(shape)``.
    selected_cell : (n, c, h, w) whose group is highlighted (others faded), or None.
    view : ``"paper"`` (N × C × flattened H·W) or ``"exact"`` (N blocks of C × H × W).
    color_by : ``"mean"``, ``"variance"`` (with a colour bar) or ``"group"`` (categorical).
    max_boxes : boxes allowed before groups are merged into blocks (default: 240 in the paper view;
        40 per sample, from 400 to 1,200, in the exact view).
    """
    shape, mean, var = _check_inputs(shape, spec, mean, var, view, color_by, max_boxes)
    selected = group_of(spec, shape, selected_cell) if selected_cell is not None else None
    if view == "paper":
        lattice = geo.group_lattice(spec, shape)
        limit = max_boxes or PAPER_MAX_BOXES
        tile = geo.choose_tile(lattice, limit, rows_first=True)
        per_block, grid = None, None
    else:
        per_block = -(-shape[0] // MAX_SAMPLE_BLOCKS)
        lattice = geo.group_lattice(spec, shape, per_sample=True)
        grid = geo.sample_grid(shape, per_block)
        limit = max_boxes or int(np.clip(EXACT_BOXES_PER_SAMPLE * grid.blocks, EXACT_MIN_BOXES, EXACT_MAX_BOXES))
        cell_size = (1.0, geo.channel_depth(shape) / shape[1], 1.0, 1.0)
        tile = geo.choose_tile(lattice, limit, n_tile=per_block, cell_size=cell_size)
    coarse = tile != (1, 1, 1, 1)
    boxes = geo.tile_boxes(lattice, tile, shape, mean, var)
    chosen = None
    if selected is not None:
        chosen = geo.group_boxes(spec, shape, mean, var, selected, sample_block=per_block)
        if not coarse:
            boxes = boxes.subset(~np.all(boxes.grid_lo == np.array(selected), axis=1))
    block = tuple(min(t * u, d) for t, u, d in zip(tile, lattice.unit, shape)) if coarse else None
    note = _coarse_note(spec, shape, len(boxes), block) if coarse else None

    scene = scene_layout(shape, spec, view, grid)
    canvas = _Canvas(spec, shape, view, grid, scene.gap)
    colors = trace_colors(color_by, boxes, chosen, tile)
    faded_opacity = FADED_OPACITY if chosen is not None else UNSELECTED_OPACITY
    data = [_mesh(canvas, boxes, "block" if coarse else "group", faded_opacity, colors.faded)]
    if chosen is not None:
        data += [_mesh(canvas, chosen, "selected", 1.0, colors.selected), _outline(canvas, chosen)]
    title, meta = _title(spec, shape, view, note), _geometry(shape, spec, view, grid, scene.gap)
    layout = dict(scene.layout, title=title, meta=meta)
    return CubeFigure(
        figure={"data": data, "layout": layout},
        note=note,
        view=view,
        color_by=color_by,
        boxes=len(boxes) + (len(chosen) if chosen is not None else 0),
        block=block,
        selected_group=selected,
    )


def cube_from_result(result: NormResult, selected_cell=None, **options) -> CubeFigure:
    """``build_cube`` for a ``NormResult`` (options: view, color_by, max_boxes)."""
    return build_cube(result.shape, result.spec, result.mean, result.var, selected_cell, **options)


def cell_at_vertex(trace: dict, vertex: int) -> tuple[int, int, int, int]:
    """The cell (n, c, h, w) a click on mesh vertex ``vertex`` of ``trace`` selects.

    The cell is the corner of the picked box nearest to that vertex; the component's JavaScript
    does the same with the same ``meta["cells"]`` table.
    """
    columns = decode_array(trace["customdata"])
    row = columns.reshape(len(columns), -1)[vertex]
    corner = vertex % 8
    cell = []
    for axis in trace["meta"]["cells"]:
        high = axis["bit"] is not None and bool((corner >> axis["bit"]) & 1) != axis["flip"]
        source = axis["hi"] if high else axis["lo"]
        cell.append(int(row[source["col"]]) if "col" in source else int(source["value"]))
    return tuple(cell)


def decode_array(value) -> np.ndarray:
    """A plotly array as numpy: a list, or a base64 typed array {"dtype", "bdata", "shape"?}."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=_TYPED_DTYPES[value["dtype"]])
        if "shape" in value:
            return flat.reshape([int(s) for s in str(value["shape"]).split(",")])
        return flat
    return np.asarray(value)


def typed_array(values, dtype) -> dict:
    """``values`` as a plotly base64 typed array of ``dtype`` (float32, uint16, uint32…)."""
    array = np.ascontiguousarray(values, dtype=dtype)
    spec = {"dtype": _TYPED_CODES[array.dtype.name], "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(s) for s in array.shape)
    return spec


def _check_inputs(shape, spec, mean, var, view, color_by, max_boxes):
    if view not in VIEWS:
        raise NormvizError(f"view must be one of {', '.join(VIEWS)}; got {view!r}.")
    if color_by not in COLOR_BY:
        raise NormvizError(f"color_by must be one of {', '.join(COLOR_BY)}; got {color_by!r}.")
    if max_boxes is not None and (isinstance(max_boxes, bool) or int(max_boxes) < 1):
        raise NormvizError(f"max_boxes must be a whole number ≥ 1 (or None for the default); got {max_boxes!r}.")
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4 or min(shape) < 1:
        raise NormvizError(f"shape must be (N, C, H, W) with every size ≥ 1; got {shape}.")
    spec.check_shape(shape)
    expected = spec.stats_shape(shape)
    mean, var = np.asarray(mean, np.float64), np.asarray(var, np.float64)
    for name, arr in (("mean", mean), ("var", var)):
        if arr.shape != expected:
            raise NormvizError(
                f"{name} must lie on the statistics grid of shape {expected} for x of shape {shape} "
                f"and axes {spec.axes or 'none'}; got shape {arr.shape}."
            )
    return shape, mean, var


@dataclass(frozen=True)
class _Canvas:
    """Where one figure draws: the tensor, the view, its sample grid (exact view) and box gap."""

    spec: NormSpec
    shape: tuple[int, int, int, int]
    view: str
    grid: geo.SampleGrid | None
    gap: np.ndarray

    def corners(self, boxes: geo.BoxSet) -> tuple[np.ndarray, np.ndarray]:
        """Scene corners (B, 3) of ``boxes``."""
        if self.view == "paper":
            return geo.paper_corners(boxes, self.shape, geo.spatial_order(self.spec))
        return geo.exact_corners(boxes, self.shape, self.grid)


def _mesh(canvas: _Canvas, boxes: geo.BoxSet, role: str, opacity: float, colors) -> dict:
    """One Mesh3d trace drawing ``boxes``: 8 vertices and 12 triangles per box."""
    lo, hi = canvas.corners(boxes)
    vertices = geo.box_vertices(lo, hi, canvas.gap)
    faces = geo.box_faces(len(boxes))
    index_type = np.uint16 if len(vertices) <= np.iinfo(np.uint16).max else np.uint32
    columns, template, cells = hover_columns(boxes, canvas.spec, canvas.shape, canvas.view, role)
    return {
        "type": "mesh3d",
        "name": {"selected": "selected group", "block": "blocks of groups", "group": "groups"}[role],
        "x": typed_array(vertices[:, 0], np.float32),
        "y": typed_array(vertices[:, 1], np.float32),
        "z": typed_array(vertices[:, 2], np.float32),
        "i": typed_array(faces[:, 0], index_type),
        "j": typed_array(faces[:, 1], index_type),
        "k": typed_array(faces[:, 2], index_type),
        "intensity": typed_array(np.repeat(colors.values, 8), np.float32),
        "customdata": typed_array(np.repeat(columns, 8, axis=0), np.float32),
        "hovertemplate": template,
        "meta": {"cells": cells, "role": role},
        "opacity": opacity,
        "flatshading": True,
        "lighting": {"ambient": 0.72, "diffuse": 0.5, "specular": 0.05, "roughness": 0.9, "fresnel": 0.05},
        "lightposition": {"x": 1000, "y": -2000, "z": 3000},
        "showlegend": False,
        **colors.style,
    }


def _outline(canvas: _Canvas, boxes: geo.BoxSet) -> dict:
    """A Scatter3d tracing the edges of ``boxes`` (the selected group), just outside its faces."""
    lo, hi = canvas.corners(boxes)
    path = geo.box_edges(lo, hi, np.asarray(canvas.gap) * 0.15)
    coords = [[None if np.isnan(v) else round(float(v), 4) for v in path[:, a]] for a in range(3)]
    return {
        "type": "scatter3d",
        "mode": "lines",
        "name": "selected group outline",
        "x": coords[0],
        "y": coords[1],
        "z": coords[2],
        "line": {"color": OUTLINE_COLOR, "width": 6},
        "hoverinfo": "skip",
        "showlegend": False,
    }


def _geometry(shape, spec, view, grid, gap) -> dict:
    """How scene coordinates map to cells, for readers of the figure (``layout.meta``).

    Each box is drawn pulled in by min(gap / 2, side / 4) per face along x, y, z (``gap``).
    paper: x = n, y = c, z = s with s = h·W + w (``spatial_order`` "H") or w·H + h ("W").
    exact: block i holds samples [first, stop) with its corner at scene (x0, z0); inside it
    x = x0 + w, y = c, z = z0 + H − h.
    """
    meta = {
        "view": view,
        "shape": list(shape),
        "axes": spec.axes,
        "groups": spec.groups,
        "gap": [float(g) for g in gap],
    }
    if view == "paper":
        meta["spatial_order"] = geo.spatial_order(spec)
    else:
        first = np.arange(grid.blocks) * grid.per_block
        stop = np.minimum(first + grid.per_block, shape[0])
        meta["blocks"] = [[int(a), int(b), float(x0), float(z0)] for a, b, (x0, z0) in zip(first, stop, grid.origin)]
    return meta


def _coarse_note(spec, shape, boxes, block) -> str:
    groups = int(np.prod(spec.stats_shape(shape)))
    size = " × ".join(f"{b:,}" for b in block)
    return (
        f"{groups:,} groups are too many to draw one by one: the cube shows {boxes:,} blocks of up to "
        f"{size} cells (n × c × h × w), each holding whole groups and coloured by their average. "
        "The selected group is drawn exactly; hover a block for its range, click it to select a group there."
    )


def _title(spec, shape, view, note) -> dict:
    groups = int(np.prod(spec.stats_shape(shape)))
    size = spec.group_size(shape)
    head = "N × C × H·W (the GN paper's view)" if view == "paper" else "N samples of C × H × W"
    sub = f"{groups:,} group{'s' if groups != 1 else ''} of {size:,} value{'s' if size != 1 else ''}"
    if note:
        sub += " · drawn in blocks (see note)"
    return {"text": f"{head}<br><sup>{sub}</sup>", "x": 0.01, "xanchor": "left", "font": {"size": 15}}

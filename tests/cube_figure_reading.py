"""Reading a tensor-cube figure back without rendering it: its boxes as cells, its hover labels.

Everything here is derived from the figure dict alone (vertices, ``layout.meta``, ``customdata`` and
the hovertemplate), so tests compare what is drawn with what the core computes.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from normviz.figures.cube import decode_array


def meshes(cube) -> dict:
    """The Mesh3d traces by role ("group", "block", "selected")."""
    return {t["meta"]["role"]: t for t in cube.figure["data"] if t["type"] == "mesh3d"}


def scene_boxes(cube, trace) -> tuple[np.ndarray, np.ndarray]:
    """Each box's scene extent, (B, 3) low and high corners, from its 8 vertices.

    Boxes are drawn pulled in by min(gap / 2, side / 4) per face (the figure states ``gap``): undone here.
    """
    points = np.stack([decode_array(trace[a]) for a in "xyz"], axis=1).reshape(-1, 8, 3).astype(np.float64)
    lo, hi = points.min(axis=1), points.max(axis=1)
    gap = np.array(cube.figure["layout"]["meta"]["gap"])
    drawn = hi - lo
    side = np.where(drawn >= gap * (1 - 1e-5), drawn + gap, 2 * drawn)
    middle = (lo + hi) / 2
    return middle - side / 2, middle + side / 2


def cell_boxes(cube, trace) -> np.ndarray:
    """Each box's cell ranges (B, 4, 2) [first, stop) along N, C, H, W, read back from the scene."""
    meta = cube.figure["layout"]["meta"]
    _, _, height, width = meta["shape"]
    lo, hi = scene_boxes(cube, trace)
    out = np.zeros((len(lo), 4, 2), np.int64)
    out[:, 1] = np.rint(np.stack([lo[:, 1], hi[:, 1]], axis=1))
    if meta["view"] == "paper":
        out[:, 0] = np.rint(np.stack([lo[:, 0], hi[:, 0]], axis=1))
        out[:, 2] = np.rint(np.stack([lo[:, 2], hi[:, 2]], axis=1))  # s range, resolved in paper_cells
        return out
    blocks = np.array(meta["blocks"], np.float64)
    middle = (lo + hi) / 2
    inside = (
        (blocks[None, :, 2] <= middle[:, None, 0])
        & (middle[:, None, 0] < blocks[None, :, 2] + width)
        & (blocks[None, :, 3] <= middle[:, None, 2])
        & (middle[:, None, 2] < blocks[None, :, 3] + height)
    )
    assert np.all(inside.sum(axis=1) == 1), "every box must sit inside exactly one sample block"
    block = blocks[inside.argmax(axis=1)]
    out[:, 0] = block[:, :2]
    out[:, 3] = np.rint(np.stack([lo[:, 0] - block[:, 2], hi[:, 0] - block[:, 2]], axis=1))
    out[:, 2] = np.rint(np.stack([height - (hi[:, 2] - block[:, 3]), height - (lo[:, 2] - block[:, 3])], axis=1))
    return out


def cells_of(cube, box) -> list[tuple[int, int, int, int]]:
    """All cells of one box from ``cell_boxes`` (the paper view's s range unflattened)."""
    meta = cube.figure["layout"]["meta"]
    _, _, height, width = meta["shape"]
    if meta["view"] == "exact":
        return list(itertools.product(*(range(a, b) for a, b in box)))
    cells = []
    for n, c, s in itertools.product(range(*box[0]), range(*box[1]), range(*box[2])):
        h, w = (s // width, s % width) if meta["spatial_order"] == "H" else (s % height, s // height)
        cells.append((n, c, h, w))
    return cells


def hover_text(trace, box: int) -> str:
    """The hover label plotly shows for a box, with its hovertemplate filled in from customdata."""
    columns = decode_array(trace["customdata"])
    row = columns.reshape(len(columns), -1)[8 * box]

    def fill(match):
        value, fmt = float(row[int(match.group(1))]), match.group(2) or ""
        if fmt == ".4~g":
            return f"{value:.4g}"
        if fmt == ",":
            return f"{round(value):,}"
        return str(int(value)) if value.is_integer() else str(value)

    text = re.sub(r"%\{customdata\[(\d+)\](?::([^}]*))?\}", fill, trace["hovertemplate"])
    text = text.replace("<extra></extra>", "").replace("<br>", "\n")
    return re.sub(r"</?[bi]>", "", text)


def hovered_group(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.search(r"group \(([-\d, ]+)\)", text).group(1).split(","))


def hovered_stat(text: str, symbol: str) -> float:
    return float(re.search(rf"^(?:mean of )?{symbol} = (\S+)$", text, re.M).group(1))


def cell_at_point(cube, point) -> tuple[int, int, int, int]:
    """The cell drawn at a scene point, by the geometry the figure states in ``layout.meta``."""
    meta = cube.figure["layout"]["meta"]
    _, _, height, width = meta["shape"]
    x, y, z = point
    if meta["view"] == "paper":
        s = int(np.floor(z))
        h, w = (s // width, s % width) if meta["spatial_order"] == "H" else (s % height, s // height)
        return int(np.floor(x)), int(np.floor(y)), h, w
    for first, _stop, x0, z0 in meta["blocks"]:
        if x0 <= x < x0 + width and z0 <= z < z0 + height:
            return first, int(np.floor(y)), height - 1 - int(np.floor(z - z0)), int(np.floor(x - x0))
    raise AssertionError(f"{point} lies in no sample block")

"""The tensor cube as a Streamlit component that keeps the user's camera and reports clicked cells.

The cube is drawn by a small component: an iframe whose renderer (``cube3d.js``, beside this file)
paints the figure of each rerun on a 2D canvas: boxes in perspective, far ones first, the axes, the
colour bar and a hover label, with a turntable drag and wheel zoom. It keeps the camera the user
dragged to while the figure's default camera stays the same, and sends a clicked cell back with the
component message protocol. The figure is plotly's (``CubeFigure.to_plotly()`` opens it in
plotly.py), but the page needs no WebGL: nothing to download beyond a few kilobytes and no shader to
compile before the first draw.

    cube = cube_from_result(res, selected_cell, view="paper")
    clicked = cube_chart(cube.figure, key="cube")      # (n, c, h, w) once per click, else None
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

#: The component's folder, served as it is: index.html and the renderer it loads (never written at
#: run time).
FOLDER = Path(__file__).resolve().parent
#: The renderer: draws a figure of ``normviz.figures.cube`` on a canvas (see its header); its
#: stateless helpers are in cube_parts.js beside it.
RENDERER = FOLDER / "cube3d.js"

_cube_component = components.declare_component("cube_chart", path=str(FOLDER))


def cube_chart(
    figure, *, key: str, height: int = 600, description: str | None = None
) -> tuple[int, int, int, int] | None:
    """Draw the cube and return the cell (n, c, h, w) the user has just clicked, else None.

    figure: ``CubeFigure.figure`` (a plotly figure dict), the same as a JSON string (``figure_json``:
    make it once and pass it on every rerun), or the ``CubeFigure`` itself. key: a fixed
    key, so the chart (and its camera) persists across reruns. description: the cube in words, its
    label for screen readers (``cube_text.cube_description``). The cube follows the page's light or
    dark theme. Each click is returned once, on the rerun it causes; clicking the same cell again
    returns it again.
    """
    figure = getattr(figure, "figure", figure)
    # a string goes to the frame as it is: a dict would be walked on every rerun (Streamlit checks
    # whether it is a dataframe, which also imports pandas, then encodes it)
    spec = figure if isinstance(figure, str) else figure_json(figure)
    value = _cube_component(figure=spec, height=int(height), description=description, key=key, default=None)
    return take_click(st.session_state, key, value)


def figure_json(figure: dict) -> str:
    """A plotly figure dict as the compact JSON string the frame reads."""
    return json.dumps(figure, separators=(",", ":"))


def pending_click(key: str) -> tuple[int, int, int, int] | None:
    """The click waiting in chart ``key``, read before the chart is drawn in this run (returned once).

    Lets the page apply a click to its selection before building the figure, so the highlight
    follows the click in the same rerun.
    """
    return take_click(st.session_state, key, st.session_state.get(key))


def take_click(state: MutableMapping, key: str, value) -> tuple[int, int, int, int] | None:
    """The cell in a component ``value`` ({"cell": [n, c, h, w], "point": [trace, vertex], "nonce": …})
    if not taken before.

    The nonce of the last click taken is kept in ``state`` beside ``key``.
    """
    if not isinstance(value, dict) or "nonce" not in value:
        return None
    seen = f"{key}__taken_click"
    if state.get(seen) == value["nonce"]:
        return None
    state[seen] = value["nonce"]
    cell = value.get("cell")
    if not isinstance(cell, (list, tuple)) or len(cell) != 4:
        return None
    try:
        return tuple(int(v) for v in cell)
    except (TypeError, ValueError):
        return None

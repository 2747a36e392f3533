"""The 3D tensor cube on the page: view and colour choices, the chart, and clicks → selection."""

from __future__ import annotations

import streamlit as st

from ..core import NormResult
from ..figures.cube import CubeFigure, cube_from_result
from ..figures.cube_text import cube_description
from . import compute, session, widgets
from .cube_component import cube_chart, figure_json, pending_click

CHART_KEY = "cube"


def apply_pending_click(shape) -> None:
    """Before the selection widgets are drawn: make a click on the cube the selected cell."""
    clicked = pending_click(CHART_KEY)
    if clicked is not None and all(0 <= v < s for v, s in zip(clicked, shape)):
        session.put("cell", clicked)


@st.cache_resource(max_entries=32, show_spinner=False)
def _figure(digest: str, key: str, _res: NormResult, cell, view: str, color: str) -> tuple[CubeFigure, str]:
    """The cube's figure and its JSON, made once per setting and shared read-only (no copy per rerun)."""
    fig = cube_from_result(_res, cell, view=view, color_by=color)
    return fig, figure_json(fig.figure)


def cube(inp, res: NormResult, cell) -> None:
    """The cube with its view and colour choices; the user's camera survives every rerun."""
    row = st.container(horizontal=True, gap="large")
    view = widgets.draw("view", row)
    color = widgets.draw("color", row)
    fig, spec = _figure(inp.digest, compute.result_key(res), res, tuple(cell), view, color)
    description = cube_description(res, cell, view=view, color_by=color, note=fig.note)
    cube_chart(spec, key=CHART_KEY, height=540, description=description)
    st.caption(
        "Each box is one group: its cells share one mean and one variance. Drag to turn, scroll to zoom, "
        "hover a box for its μ and σ², click a cell to select its group." + (f" {fig.note}" if fig.note else "")
    )

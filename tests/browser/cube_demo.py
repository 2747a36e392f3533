"""The cube component alone, with a few controls: the app the cube's browser tests drive.

streamlit run tests/browser/cube_demo.py
"""

import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import normviz  # noqa: E402
from normviz.figures.cube import cube_from_result  # noqa: E402
from normviz.ui.cube_component import cube_chart, pending_click  # noqa: E402

SHAPE = (4, 6, 16, 16)
LAYERS = {
    "BatchNorm": ("NHW", 1),
    "InstanceNorm": ("HW", 1),
    "LayerNorm": ("CHW", 1),
    "GroupNorm": ("CHW", 3),
    "PixelNorm": ("C", 1),
}

st.set_page_config(page_title="cube demo", layout="wide")
st.session_state.setdefault("cell", (0, 0, 0, 0))
st.session_state.setdefault("clicks", 0)

clicked = pending_click("cube")
if clicked is not None:
    st.session_state.cell = clicked
    st.session_state.clicks += 1

with st.sidebar:
    layer = st.radio("normalization", list(LAYERS))
    view = st.radio("view", ["paper", "exact"])
    color_by = st.radio("colour by", ["mean", "variance", "group"])
    seed = st.number_input("seed", min_value=0, max_value=1000, value=0)

rng = np.random.default_rng(int(seed))
x = rng.normal(loc=rng.normal(size=(SHAPE[0], SHAPE[1], 1, 1)), size=SHAPE).astype(np.float32)
axes, groups = LAYERS[layer]
result = normviz.normalize(x, axes, groups=groups)
cube = cube_from_result(result, st.session_state.cell, view=view, color_by=color_by)

st.markdown(
    f"selected cell: `{st.session_state.cell}` · group: `{cube.selected_group}` · clicks: `{st.session_state.clicks}`"
)
if cube.note:
    st.caption(cube.note)
late = cube_chart(cube.figure, key="cube", height=520)
if late is not None:
    st.error(f"a click reached cube_chart after pending_click took it: {late}")

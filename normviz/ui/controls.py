"""Sidebar controls for the normalization and the selected cell; they return plain values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from .. import state
from ..spec import AXIS_NAMES, divisors
from . import session, widgets


@dataclass(frozen=True)
class NormSettings:
    """What the user chose: reduced axes, G, ε, centering, and γ, β as (C,) arrays or None."""

    axes: str
    groups: int
    eps: float
    center: bool
    gamma: np.ndarray | None
    beta: np.ndarray | None


def fit_to_shape(shape) -> list[str]:
    """Before the widgets exist: make G and the cell valid for this input shape; say what changed."""
    n, c, h, w = shape
    notices = session.fit_groups_to(c)
    for key, symbol in (("gamma", "γ"), ("beta", "β")):
        values = session.get(key)
        if values and len(values) != c:
            fix = "the extra ones are dropped"
            if len(values) < c:
                fix = f"the missing ones take “{symbol} for all channels”"
            notices.append(
                f"{symbol} per channel has {len(values)} values for C = {c} channels: {fix}. "
                "Open “γ, β” in the sidebar to set each channel."
            )
    cell = session.get("cell")
    fixed = tuple(min(v, size - 1) for v, size in zip(cell, shape))
    if fixed != cell:
        session.put("cell", fixed)
    return notices


#: Widths (pixels) of the preset and G boxes beside the axis pills.
PRESET_WIDTH, GROUPS_WIDTH = 220, 100


def layer_controls(channels: int) -> tuple[str, int]:
    """The question itself, in one row: a preset, the axes to reduce over (kept in step both ways), G."""
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    widgets.draw("preset", row, on_change=session.apply_preset, args=("main", channels), width=PRESET_WIDTH)
    axes = axis_pills("axes", row, "main")
    groups = 1
    if "C" in axes:
        groups = widgets.draw(
            "groups", row, options=divisors(channels), on_change=session.follow_toggles, args=("main",),
            width=GROUPS_WIDTH,
        )  # fmt: skip
    return axes, int(groups)


def axis_pills(key: str, where, config: str) -> str:
    """The multi-select pills of an axes setting (N, C, H, W); returns the axes as a string."""
    field = state.BY_KEY[key]
    where.pills(
        field.label,
        list("NCHW"),
        selection_mode="multi",
        key=session.AXIS_WIDGETS[key],
        on_change=session.follow_toggles,
        args=(config,),
        format_func=lambda ax: f"{ax} · {AXIS_NAMES[ax]}",
        help=field.help,
        persist_state=widgets.PERSIST,
    )
    return session.get(key)


def detail_controls(channels: int) -> tuple[float, bool, np.ndarray | None, np.ndarray | None]:
    """ε, centering, γ and β."""
    eps = widgets.draw("eps")
    center = widgets.draw("center", on_change=session.follow_toggles, args=("main",))
    gamma, beta = _affine_controls(channels)
    return float(eps), bool(center), gamma, beta


def _affine_controls(channels: int):
    """γ and β: one scale and shift for all channels, or one per channel in a small table."""
    with st.expander("γ, β (per-channel scale and shift)"):
        widgets.draw("gscale")
        widgets.draw("bshift")
        if "affine_each" not in st.session_state:
            st.session_state["affine_each"] = bool(session.get("gamma"))
        per_channel = st.toggle("Set each channel", key="affine_each", persist_state=widgets.PERSIST)
        gamma = np.full(channels, float(session.get("gscale")))
        beta = np.full(channels, float(session.get("bshift")))
        if per_channel:
            import pandas as pd

            stored_g, stored_b = session.get("gamma"), session.get("beta")
            table = pd.DataFrame(
                {
                    "γ": [stored_g[i] if i < len(stored_g) else gamma[i] for i in range(channels)],
                    "β": [stored_b[i] if i < len(stored_b) else beta[i] for i in range(channels)],
                },
                index=pd.Index([f"c{i}" for i in range(channels)], name="channel"),
            )
            edited = st.data_editor(table, key=f"affine_table_{channels}", width="stretch")
            values = edited.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isfinite(values)
            if bad.any():
                st.error("Every γ and β must be a number; empty or invalid cells are treated as γ = 1, β = 0.")
                values[:, 0][bad[:, 0]] = 1.0
                values[:, 1][bad[:, 1]] = 0.0
            gamma, beta = values[:, 0], values[:, 1]
        session.put("gamma", tuple(gamma) if per_channel else ())
        session.put("beta", tuple(beta) if per_channel else ())
    identity = np.all(gamma == 1) and np.all(beta == 0)
    return (None, None) if identity else (gamma, beta)


def selection_controls(shape) -> tuple[int, int, int, int]:
    """Four index inputs choosing the cell (n, c, h, w) whose group is studied."""
    st.caption("Selected cell — its group is highlighted everywhere. Click a cube cell to choose it too.")
    row = st.container(horizontal=True, wrap=False)
    for key, letter, size in zip(session.CELL_KEYS, "nchw", shape):
        row.number_input(
            letter,
            min_value=0,
            max_value=int(size) - 1,
            step=1,
            key=key,
            help=f"0 … {size - 1}",
            persist_state=widgets.PERSIST,
        )
    return session.get("cell")

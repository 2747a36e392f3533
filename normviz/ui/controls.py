"""Sidebar controls for the normalization and the selected cell; they return plain values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from .. import state
from ..spec import AXIS_NAMES, divisors
from . import session


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
    st.session_state["_channels"] = c
    notices = []
    for config, (preset_key, axes_key, groups_key, _) in session.CONFIGS.items():
        if "C" not in session.get(axes_key):
            st.session_state[groups_key] = 1
            continue
        g = int(st.session_state.get(groups_key, 1))
        wanted = st.session_state.get(session.wanted_groups_key(groups_key), g)
        new = state.fit_groups(wanted, c)
        if new == g:
            continue
        if config == "main" and wanted != "auto" and c % int(wanted):
            notices.append(f"G = {wanted} does not divide C = {c}; using G = {new}, the nearest divisor below.")
        st.session_state[groups_key] = new
        if st.session_state.get(preset_key) != state.CUSTOM:  # the preset box names what is shown
            st.session_state[preset_key] = session.matching_preset(config)
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


def layer_controls(channels: int) -> tuple[str, int]:
    """The question itself, in one row: a preset, the axes to reduce over (kept in step both ways), G."""
    cols = st.columns([2, 4, 1.3], vertical_alignment="bottom")
    cols[0].selectbox(
        "Preset",
        state.PRESET_CHOICES,
        key="preset",
        on_change=session.apply_preset,
        help="A named layer sets the axes; changing an axis shows the layer it amounts to.",
    )
    cols[1].pills(
        "Reduce over",
        list("NCHW"),
        selection_mode="multi",
        key=session.AXIS_WIDGETS["axes"],
        on_change=session.follow_toggles,
        format_func=lambda ax: f"{ax} · {AXIS_NAMES[ax]}",
        help="The values that share one mean and one variance: all cells that differ only along these axes.",
    )
    axes = session.get("axes")
    groups = 1
    if "C" in axes:
        groups = cols[2].selectbox(
            "Groups G",
            divisors(channels),
            key="groups",
            on_change=session.follow_toggles,
            help="GroupNorm splits the C channels into G groups of C/G; only divisors of C are offered.",
        )
    return axes, int(groups)


def detail_controls(channels: int) -> tuple[float, bool, np.ndarray | None, np.ndarray | None]:
    """ε, centering, γ and β."""
    eps = _eps_control()
    center = st.toggle(
        "Subtract the mean (centering)",
        key="center",
        on_change=session.follow_toggles,
        help="Off gives RMS normalization: x / √(mean(x²) + ε).",
    )
    gamma, beta = _affine_controls(channels)
    return eps, bool(center), gamma, beta


def _eps_control() -> float:
    """ε as a number ≥ 1e-12; the help names the frameworks' defaults."""
    eps = st.number_input(
        "ε (added to the variance)",
        min_value=1e-12,
        max_value=10.0,
        step=1e-5,
        format="%g",
        key="eps",
        help="Defaults: 1e-5 in PyTorch, 1e-3 in Keras, 1e-6 in Flax.",
    )
    return float(eps)


def _affine_controls(channels: int):
    """γ and β: one scale and shift for all channels, or one per channel in a small table."""
    with st.expander("γ, β (per-channel scale and shift)"):
        st.number_input("γ for all channels", -100.0, 100.0, key="gscale", step=0.1, format="%g")
        st.number_input("β for all channels", -100.0, 100.0, key="bshift", step=0.1, format="%g")
        per_channel = st.toggle("Set each channel", key="affine_each", value=bool(session.get("gamma")))
        gamma = np.full(channels, float(st.session_state["gscale"]))
        beta = np.full(channels, float(st.session_state["bshift"]))
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
            st.session_state["gamma"], st.session_state["beta"] = tuple(gamma), tuple(beta)
        else:
            st.session_state["gamma"], st.session_state["beta"] = (), ()
    identity = np.all(gamma == 1) and np.all(beta == 0)
    return (None, None) if identity else (gamma, beta)


def selection_controls(shape) -> tuple[int, int, int, int]:
    """Four index inputs choosing the cell (n, c, h, w) whose group is studied."""
    st.caption("Selected cell — its group is highlighted everywhere. Click a cube cell to choose it too.")
    cols = st.columns(4)
    for col, key, letter, size in zip(cols, session.CELL_KEYS, "nchw", shape):
        col.number_input(letter, min_value=0, max_value=int(size) - 1, step=1, key=key, help=f"0 … {size - 1}")
    return session.get("cell")

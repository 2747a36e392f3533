"""Session state ⇄ the URL: seed every widget from the link on a session's first run, keep the
preset and the axis toggles in step, and write the current settings back to the query string."""

from __future__ import annotations

import streamlit as st

from .. import state
from ..spec import PRESETS

#: Axis settings and the multi-select pills that show them (a list of letters).
AXIS_WIDGETS = {"axes": "axes_pick", "caxes": "caxes_pick"}
CELL_KEYS = ("cell_n", "cell_c", "cell_h", "cell_w")
URL_NOTICES = "_url_notices"


def start() -> None:
    """On a session's first run, put every setting into session state (from the link, else the
    default) and remember notices about link values that were ignored."""
    if "_started" in st.session_state:
        return
    values, notices = state.from_query(st.query_params.to_dict())
    for key, value in (state.defaults() | values).items():
        put(key, value)
    if "preset" not in values and ("axes" in values or "groups" in values or "center" in values):
        st.session_state["preset"] = state.match_preset(get("axes"), get("groups"), get("center"))
    st.session_state[URL_NOTICES] = notices
    st.session_state["_started"] = True


def put(key: str, value) -> None:
    """Set a setting's widget state (the axes and the cell are spread over four widgets)."""
    if key in AXIS_WIDGETS:
        st.session_state[AXIS_WIDGETS[key]] = [ax for ax in "NCHW" if ax in value]
    elif key == "cell":
        for wkey, v in zip(CELL_KEYS, value):
            st.session_state[wkey] = int(v)
    else:
        st.session_state[key] = value


def get(key: str):
    """A setting's current value from widget state."""
    if key in AXIS_WIDGETS:
        return "".join(ax for ax in "NCHW" if ax in (st.session_state.get(AXIS_WIDGETS[key]) or ()))
    if key == "cell":
        return tuple(int(st.session_state.get(wkey, 0)) for wkey in CELL_KEYS)
    value = st.session_state.get(key, state.BY_KEY[key].default)
    return tuple(value) if isinstance(value, list) else value


def current() -> dict:
    """Every setting's current value."""
    return {field.key: get(field.key) for field in state.FIELDS}


def write_url(values: dict, *, keep_source: bool = True) -> None:
    """Make the query string hold exactly the non-default settings."""
    wanted = state.to_query(values)
    if not keep_source and wanted.get("source") == "upload":
        wanted.pop("source")
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# -- callbacks keeping the preset and the toggles in step ------------------------------------------
#: For the main and the compare configuration: (preset key, axes setting, groups key, centering key).
CONFIGS = {"main": ("preset", "axes", "groups", "center"), "compare": ("cpreset", "caxes", "cgroups", None)}


def apply_preset(config: str = "main") -> None:
    """Callback of a preset selector: set the axis toggles, G and centering from the preset."""
    preset_key, axes_key, groups_key, center_key = CONFIGS[config]
    name = st.session_state[preset_key]
    if name == state.CUSTOM:
        return
    preset = PRESETS[name]
    put(axes_key, preset.axes)
    st.session_state[groups_key] = preset.groups_for(st.session_state.get("_channels", 1))
    if center_key:
        st.session_state[center_key] = preset.center


def follow_toggles(config: str = "main") -> None:
    """Callback of the axis toggles, G and centering: show the preset they amount to, or Custom."""
    preset_key, axes_key, groups_key, center_key = CONFIGS[config]
    axes = get(axes_key)
    if "C" not in axes:
        st.session_state[groups_key] = 1
    center = st.session_state.get(center_key, True) if center_key else True
    st.session_state[preset_key] = state.match_preset(axes, st.session_state.get(groups_key, 1), center)

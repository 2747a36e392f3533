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


#: Widgets outside the URL table whose choice must also survive while they are not drawn.
EXTRA_WIDGETS = ("affine_each", "npy_key")


def widget_keys() -> list[str]:
    """Session-state keys of every widget that holds a setting."""
    keys = []
    for field in state.FIELDS:
        if field.key in AXIS_WIDGETS:
            keys.append(AXIS_WIDGETS[field.key])
        elif field.key == "cell":
            keys.extend(CELL_KEYS)
        else:
            keys.append(field.key)
    return keys + list(EXTRA_WIDGETS)


def start() -> None:
    """On a session's first run, put every setting into session state (from the link, else the
    default) and remember notices about link values that were ignored. On every run, keep the
    settings of widgets that this run does not draw (another input source, a closed tab)."""
    if "_started" in st.session_state:
        keep_undrawn_settings()
        return
    values, notices = state.from_query(st.query_params.to_dict())
    for key, value in (state.defaults() | values).items():
        put(key, value)
    for preset_key, axes_key, groups_key, center_key in CONFIGS.values():
        preset = PRESETS.get(values.get(preset_key, ""))
        if preset is not None and axes_key not in values:  # a preset without axes in the link sets them
            put(axes_key, preset.axes)
            if center_key and center_key not in values:
                put(center_key, preset.center)
        grouped = preset is not None and preset.grouped and groups_key not in values
        st.session_state[wanted_groups_key(groups_key)] = "auto" if grouped else get(groups_key)
    if "preset" not in values and ("axes" in values or "groups" in values or "center" in values):
        st.session_state["preset"] = state.match_preset(get("axes"), get("groups"), get("center"))
    st.session_state[URL_NOTICES] = notices
    st.session_state["_started"] = True


def keep_undrawn_settings() -> None:
    """Streamlit forgets a widget's value after a run that does not draw it; a value assigned
    through session state at the top of the run is kept instead."""
    for key in widget_keys():
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


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


def wanted_groups_key(groups_key: str) -> str:
    """Where the G the user asked for is kept: an int, or "auto" for the GroupNorm preset's choice.
    The G in use can differ when the input's C changes; the wish is kept for the next input."""
    return f"_wanted_{groups_key}"


def apply_preset(config: str = "main") -> None:
    """Callback of a preset selector: set the axis toggles, G and centering from the preset."""
    preset_key, axes_key, groups_key, center_key = CONFIGS[config]
    name = st.session_state[preset_key]
    if name == state.CUSTOM:
        return
    preset = PRESETS[name]
    put(axes_key, preset.axes)
    st.session_state[wanted_groups_key(groups_key)] = "auto" if preset.grouped else 1
    channels = st.session_state.get("_channels", 1)
    st.session_state[groups_key] = state.fit_groups("auto", channels) if preset.grouped else 1
    if center_key:
        st.session_state[center_key] = preset.center


def follow_toggles(config: str = "main") -> None:
    """Callback of the axis toggles, G and centering: show the preset they amount to, or Custom."""
    preset_key, axes_key, groups_key, center_key = CONFIGS[config]
    axes = get(axes_key)
    if "C" not in axes:
        st.session_state[groups_key] = 1
    st.session_state[wanted_groups_key(groups_key)] = int(st.session_state.get(groups_key, 1))
    st.session_state[preset_key] = matching_preset(config)


def matching_preset(config: str = "main") -> str:
    """The preset that a configuration's current axes, G and centering amount to, or Custom."""
    _, axes_key, groups_key, center_key = CONFIGS[config]
    center = st.session_state.get(center_key, True) if center_key else True
    return state.match_preset(get(axes_key), st.session_state.get(groups_key, 1), center)

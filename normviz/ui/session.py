"""One visitor's session: the settings (seeded from the link on the first run, written back to it on
every run), the preset and axis toggles kept in step, and what the page remembers besides its
widgets' values — all of it in one typed ``PageState``.

Widget values live in ``st.session_state`` under the settings' keys (Streamlit keeps them there);
``persist_state="session"`` on every widget keeps them while the widget is not drawn (see
``normviz.ui.widgets``). Everything else the page remembers is a field of ``PageState``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from .. import state
from ..spec import PRESETS, fit_groups

#: Axis settings and the multi-select pills that show them (a list of letters).
AXIS_WIDGETS = {"axes": "axes_pick", "caxes": "caxes_pick"}
CELL_KEYS = ("cell_n", "cell_c", "cell_h", "cell_w")
#: For the main and the compare configuration: (preset key, axes setting, groups key, centering key).
CONFIGS = {"main": ("preset", "axes", "groups", "center"), "compare": ("cpreset", "caxes", "cgroups", None)}
_STATE_KEY = "normviz_page_state"


@dataclass
class PageState:
    """What the page keeps for one visitor besides its widgets' values.

    link_notices: link values that were ignored, shown once. wanted_groups: per groups key, the G
    the user asked for (an int) or "auto" (the GroupNorm preset's) — the G in use can differ when
    the input's C changes, and the wish is kept for the next input. wishes: a number asked for where
    the input caps what is shown (crop size, training batch size). last_good_input/settings: what
    the page falls back to after an error. last_view: the input and result last shown, kept for when
    the server has no memory for a new one (``normviz.budget``). layout_for: the uploaded array
    whose layout was guessed.
    uploads: files kept while their uploader is not drawn (``normviz.ui.uploads``). whole_page_run:
    a callback changed a widget drawn outside the page's fragment (a preset's centering), so the
    fragment's run asks for a whole-page run that redraws it.
    """

    link_notices: list[str] = field(default_factory=list)
    wanted_groups: dict[str, int | str] = field(default_factory=dict)
    wishes: dict[str, Any] = field(default_factory=dict)
    last_good_input: Any = None
    last_good_settings: Any = None
    last_view: tuple | None = None
    layout_for: tuple | None = None
    uploads: Any = None  # a normviz.ui.uploads.KeptUploads once an uploader was drawn
    whole_page_run: bool = False


def page_state() -> PageState:
    """This session's PageState (made by ``start``)."""
    if _STATE_KEY not in st.session_state:
        st.session_state[_STATE_KEY] = PageState()
    return st.session_state[_STATE_KEY]


def start() -> None:
    """On a session's first run, put every setting into session state (from the link, else the
    default) and remember notices about link values that were ignored."""
    if _STATE_KEY in st.session_state:
        return
    values, notices = state.from_query(st.query_params.to_dict())
    for key, value in (state.defaults() | values).items():
        put(key, value)
    page = PageState(link_notices=notices)
    for config, (preset_key, axes_key, groups_key, center_key) in CONFIGS.items():
        preset = PRESETS.get(values.get(preset_key, ""))
        if preset is not None and axes_key not in values:  # a preset without axes in the link sets them
            put(axes_key, preset.axes)
            if center_key and center_key not in values:
                put(center_key, preset.center)
        grouped = preset is not None and preset.grouped and groups_key not in values
        page.wanted_groups[groups_key] = "auto" if grouped else get(groups_key)
        if preset_key not in values and {axes_key, groups_key, center_key} & values.keys():
            st.session_state[preset_key] = matching_preset(config)  # toggles without a preset name it
    st.session_state[_STATE_KEY] = page


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
    """Every setting's value as the user chose it (a capped number: what they asked for)."""
    wishes = page_state().wishes
    return {field.key: wishes.get(field.key, get(field.key)) for field in state.FIELDS}


def write_url(values: dict, *, keep_source: bool = True) -> None:
    """Make the query string hold exactly the non-default settings."""
    wanted = state.to_query(values)
    if not keep_source and wanted.get("source") == "upload":
        wanted.pop("source")
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# -- numbers the input caps ------------------------------------------------------------------------
def show_within(key: str, top) -> None:
    """Before drawing ``key``'s number input with upper bound ``top``: show the value asked for, or
    ``top`` if it is larger (Streamlit would reset an out-of-range value to the minimum)."""
    wishes = page_state().wishes
    wish = wishes.setdefault(key, st.session_state.get(key, state.BY_KEY[key].default))
    shown = min(wish, top)
    if st.session_state.get(key) != shown:
        st.session_state[key] = shown


def record_wish(key: str, then=None, args=None) -> None:
    """Callback of a capped number input: what the user typed is the new value asked for."""
    page_state().wishes[key] = st.session_state[key]
    if then is not None:
        then(*(args or ()))


# -- callbacks keeping the preset and the toggles in step ------------------------------------------
def apply_preset(config: str, channels: int) -> None:
    """Callback of a preset selector: set the axis toggles, G and centering from the preset."""
    preset_key, axes_key, groups_key, center_key = CONFIGS[config]
    name = st.session_state[preset_key]
    if name == state.CUSTOM:
        return
    preset = PRESETS[name]
    put(axes_key, preset.axes)
    page_state().wanted_groups[groups_key] = "auto" if preset.grouped else 1
    st.session_state[groups_key] = preset.groups_for(channels)
    if center_key:
        if st.session_state.get(center_key, True) != preset.center:
            page_state().whole_page_run = True  # the centering switch is drawn outside the fragment
        st.session_state[center_key] = preset.center


def follow_toggles(config: str) -> None:
    """Callback of the axis toggles, G and centering: show the preset they amount to, or Custom."""
    preset_key, axes_key, groups_key, center_key = CONFIGS[config]
    if "C" not in get(axes_key):
        st.session_state[groups_key] = 1
    page_state().wanted_groups[groups_key] = int(st.session_state.get(groups_key, 1))
    st.session_state[preset_key] = matching_preset(config)


def matching_preset(config: str) -> str:
    """The preset that a configuration's current axes, G and centering amount to, or Custom."""
    _, axes_key, groups_key, center_key = CONFIGS[config]
    axes = get(axes_key)
    center = st.session_state.get(center_key, True) if center_key else True
    return state.match_preset(axes, st.session_state.get(groups_key, 1) if "C" in axes else 1, center)


def fit_groups_to(channels: int) -> list[str]:
    """Before the widgets exist: make each configuration's G a divisor of C = ``channels`` (the one
    asked for if it divides, else the nearest below; the preset's for "auto"); say what changed."""
    notices = []
    wanted_groups = page_state().wanted_groups
    for config, (preset_key, axes_key, groups_key, _) in CONFIGS.items():
        if "C" not in get(axes_key):
            st.session_state[groups_key] = 1
            continue
        g = int(st.session_state.get(groups_key, 1))
        wanted = wanted_groups.get(groups_key, g)
        new = fit_groups(wanted, channels)
        if new == g:
            continue
        if config == "main" and wanted != "auto" and channels % int(wanted):
            notices.append(f"G = {wanted} does not divide C = {channels}; using G = {new}, the nearest divisor below.")
        st.session_state[groups_key] = new
        if st.session_state.get(preset_key) != state.CUSTOM:  # the preset box names what is shown
            st.session_state[preset_key] = matching_preset(config)
    return notices

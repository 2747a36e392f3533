"""Page frame: header, messages, the selected group's card, tabs, and keeping the last good result."""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

from ..core import NormResult
from ..errors import NormvizError
from ..state import TABS
from . import compute, session
from .controls import NormSettings
from .text import md_escape, show_problem

LAST_GOOD_SETTINGS = "_last_good_settings"
#: The input and result last shown, kept for when the server has no memory for a new one.
LAST_VIEW = "_last_view"


#: Less empty space above the page and the sidebar (static CSS, no user content).
_COMPACT = (
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem}"
    "[data-testid='stSidebarUserContent']{padding-top:1rem}</style>"
)


def header() -> None:
    st.markdown(_COMPACT, unsafe_allow_html=True)
    st.markdown(
        "## normviz <small style='font-weight:400;font-size:0.55em;color:#666'>— which values share a mean "
        "and a variance?</small>",
        unsafe_allow_html=True,
    )
    st.caption(
        "Every normalization layer is a choice of which values of x[N, C, H, W] share one mean and one "
        "variance. Pick the axes to reduce over — or a preset — and see the groups on the cube, their "
        "statistics, and what they do to your images."
    )


def normalize_or_last_good(inp, settings: NormSettings):
    """The input and result to show, and the problem with these settings (a NormvizError) or None.

    If the settings fail on this input, the last settings that worked (or BatchNorm), so the page
    keeps showing something true. If the server has no memory for the result now, the visitor's
    previous view (input and result) stays, kept in the session for that purpose."""
    try:
        res = compute.run(inp, settings)
    except NormvizError as err:
        view = st.session_state.get(LAST_VIEW)
        if err.retry and view is not None:
            return *view, err
        fallback = st.session_state.get(LAST_GOOD_SETTINGS)
        fallback = fallback if fallback is not None else NormSettings("NHW", 1, 1e-5, True, None, None)
        try:
            return inp, compute.run(inp, fallback), err
        except NormvizError:
            try:
                return inp, compute.run(inp, NormSettings("NHW", 1, 1e-5, True, None, None)), err
            except NormvizError as busy:  # nothing earlier to show and no memory now
                show_problem(busy)
                st.stop()
    st.session_state[LAST_GOOD_SETTINGS] = settings
    st.session_state[LAST_VIEW] = (inp, res)
    return inp, res, None


def notices(input_messages, shape_notices, run_error) -> None:
    """Everything the page has to tell before the results: link problems (once), input fallbacks,
    settings adjusted to the input, a setting that failed."""
    for text in st.session_state.pop(session.URL_NOTICES, []):
        st.warning(md_escape(text), icon="🔗")
    for text in [*input_messages, *shape_notices]:
        st.info(md_escape(text), icon="ℹ️")
    if run_error and getattr(run_error, "retry", False):
        st.warning(
            md_escape(str(run_error)) + "  \nShowing your previous view; your choices above are kept.", icon="⏳"
        )
    elif run_error:
        st.error(
            md_escape(str(run_error)) + "  \nShowing the last settings that worked; your choices above are kept.",
            icon="🚫",
        )


def selected_group(res: NormResult, cell, group, box) -> None:
    """A card naming the selected group: its index, the cells it spans, count, μ, σ²."""
    spans = " · ".join(
        f"{letter} {r.start}–{r.stop - 1}" if len(r) > 1 else f"{letter} {r.start}" for letter, r in zip("nchw", box)
    )
    index = ", ".join(str(int(v)) for v in group)
    st.markdown(
        f"**Selected group ({index})** of the statistics grid {tuple(res.stats_shape)}  \n"
        f"covers {spans} — {res.count:,} values  \n"
        f"μ = {float(res.mean[group]):.6g} · σ² = {float(res.var[group]):.6g} · σ = {float(res.var[group]) ** 0.5:.6g}"
    )


def tabs() -> dict[str, SimpleNamespace]:
    """The lower part of the page; only the open tab's content is computed."""
    if st.session_state.get("tab") not in TABS:
        st.session_state["tab"] = TABS[0]
    containers = st.tabs(list(TABS), key="tab", on_change="rerun")
    return {name: SimpleNamespace(container=c, open=c.open) for name, c in zip(TABS, containers)}

"""Page frame: header, messages, the selected group's card, tabs, and keeping the last good result."""

from __future__ import annotations

import gc
import threading
from types import SimpleNamespace

import streamlit as st

from .. import state
from ..core import NormResult
from ..errors import NormvizError
from ..state import TABS
from . import compute, session
from .controls import NormSettings
from .text import md_escape, show_problem

#: Less empty space above the page and the sidebar; the summary (a level-3 heading, after the page's
#: level-2 title) at the size it reads best; a selected pill's text in the text colour on its tint of
#: the accent (the accent on its own tint is 3.6:1 in the dark theme, under WCAG AA's 4.5:1); an image
#: never wider than its column (a gallery strip shrinks in a narrow window). Static CSS, no user content.
_COMPACT = (
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem}"
    "[data-testid='stSidebarUserContent']{padding-top:1rem}"
    "[data-testid='stImageContainer']{max-width:100%;min-width:0}"
    ".st-key-summary h3{font-size:1.25rem;padding-top:0.5rem}"
    ".stButtonGroup button[data-variant='pills'][data-selected]{color:inherit}</style>"
)


def header() -> None:
    st.markdown(_COMPACT, unsafe_allow_html=True)
    st.markdown(
        "## normviz <small style='font-weight:400;font-size:0.55em;opacity:0.72'>— which values share a mean "
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
        page = session.page_state()
        if err.retry and page.last_view is not None:
            return *page.last_view, err
        defaults = NormSettings(*(state.BY_KEY[k].default for k in ("axes", "groups", "eps", "center")), None, None)
        fallback = page.last_good_settings or defaults
        try:
            return inp, compute.run(inp, fallback), err
        except NormvizError:
            try:
                return inp, compute.run(inp, defaults), err
            except NormvizError as busy:  # nothing earlier to show and no memory now
                show_problem(busy)
                st.stop()
    page = session.page_state()
    page.last_good_settings = settings
    page.last_view = (inp, res)
    return inp, res, None


def notices(input_messages, shape_notices, run_error) -> None:
    """Everything the page has to tell before the results: link problems (once), input fallbacks,
    settings adjusted to the input, a setting that failed."""
    page = session.page_state()
    for text in page.link_notices:
        st.warning(md_escape(text), icon="🔗")
    page.link_notices = []
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
    containers = st.tabs(list(TABS), key="tab", on_change="rerun")
    return {name: SimpleNamespace(container=c, open=c.open) for name, c in zip(TABS, containers)}


#: Seconds after the first run before the process freezes what it holds: the first visitor's page
#: (its frame and images, fetched from this process) loads without waiting for the collection.
FREEZE_DELAY_S = 5.0


@st.cache_resource(show_spinner=False)
def freeze_long_lived() -> bool:
    """Once per process, a few seconds after the first run: collect, then move every object alive
    into the collector's permanent generation (``gc.freeze``), so later collections skip the
    libraries and warm caches. Objects still die by reference count as before."""

    def freeze() -> None:
        gc.collect()
        gc.freeze()

    timer = threading.Timer(FREEZE_DELAY_S, freeze)
    timer.daemon = True
    timer.start()
    return True

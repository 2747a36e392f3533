"""Page sections: summary, statistics, channel gallery, histograms, worked arithmetic, downloads."""

from __future__ import annotations

import io
import math

import numpy as np
import streamlit as st

from ..arithmetic import worked_cell
from ..core import NormResult
from ..explain import ASIDE, WARNING, remarks_for
from ..figures import gallery as gallery_fig
from ..figures.alt_text import colorbar_alt
from ..figures.stats import stats_csv
from ..summary import summary_sentence
from . import compute
from .text import md_escape

#: Rows of the statistics table shown on the page (the CSV has them all).
TABLE_ROWS = 2000
#: Samples and channels shown at once in the gallery.
PAGE_SAMPLES, PAGE_CHANNELS = 8, 8
#: Width of a gallery image on screen, in pixels.
TILE_WIDTH = 112


def box_key(box) -> tuple:
    """A group box (four ranges) as a hashable tuple of (start, stop)."""
    return tuple((r.start, r.stop) for r in box)


def summary(res: NormResult, notices=()) -> None:
    with st.container(key="summary"):
        st.markdown(f"### {summary_sentence(res)}")
    remarks = remarks_for(res.spec, res.shape)
    for text in [*notices, *(r.text for r in remarks if r.severity == WARNING)]:
        st.warning(text, icon="⚠️")
    for remark in remarks:
        if remark.severity == ASIDE:
            st.caption(f"ℹ️ {remark.text}")


def statistics(inp, res: NormResult, group) -> None:
    """Every group's μ, σ², count: a chart over the statistics grid, a table, and a CSV download."""
    key = compute.result_key(res)
    fig = compute.stats_figure_for(inp.digest, key, res, group, None)
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key="stats_chart", config={"displaylogo": False})
    table = compute.stats_table_for(inp.digest, key, res, group, TABLE_ROWS)
    if res.n_groups > TABLE_ROWS:
        st.caption(
            f"The table shows the first {TABLE_ROWS:,} of {res.n_groups:,} groups (and the selected one); "
            "the CSV has them all."
        )
    st.dataframe(
        table,
        width="stretch",
        height=min(420, 38 + 35 * len(table)),
        hide_index=True,
        column_config={"selected": st.column_config.CheckboxColumn("selected", width="small")},
    )


def downloads(inp, res: NormResult) -> None:
    def npy_bytes() -> bytes:
        buf = io.BytesIO()
        np.save(buf, res.y)
        return buf.getvalue()

    row = st.container(horizontal=True)
    row.download_button(
        f"Normalized tensor (.npy, {4 * math.prod(res.shape) / 1e6:.1f} MB)",  # float32; formed on click
        npy_bytes,
        file_name="normalized.npy",
        mime="application/octet-stream",
        on_click="ignore",
        key="dl_npy",
    )
    row.download_button(
        f"Statistics of all {res.n_groups:,} groups (.csv)" if res.n_groups > 1 else "Statistics of the group (.csv)",
        lambda: stats_csv(res),
        file_name="statistics.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_csv",
    )


def _page(label: str, total: int, per_page: int, key: str) -> range:
    if total <= per_page:
        return range(total)
    pages = math.ceil(total / per_page)
    page = st.number_input(
        f"{label} page (of {pages})",
        min_value=1,
        max_value=pages,
        step=1,
        key=key,
        help=f"{total} {label.lower()}s, {per_page} at a time",
    )
    start = (int(page) - 1) * per_page
    return range(start, min(total, start + per_page))


def gallery(inp, res: NormResult, box) -> None:
    """Input beside output for each shown sample and channel; colour recomposition for 3 channels.

    Each row is one image (a strip of tiles, with every tile named in its text alternative): a few
    images per rerun instead of one per tile."""
    n, c, h, w = res.shape
    samples, channels = range(n), range(c)
    if n > PAGE_SAMPLES or c > PAGE_CHANNELS:  # page selectors, side by side, only when needed
        cols = st.columns(2)
        with cols[0]:
            samples = _page("Sample", n, PAGE_SAMPLES, "gallery_samples")
        with cols[1]:
            channels = _page("Channel", c, PAGE_CHANNELS, "gallery_channels")
    key = compute.result_key(res)
    span = compute.output_span(inp.digest, key, res)
    gal, strips = compute.gallery_strips_for(
        inp.digest, key, inp.x, res, tuple(samples), tuple(channels), box_key(box), inp.is_image, tuple(inp.labels),
        span, _page_background(),
    )  # fmt: skip
    _legend(gal, inp.is_image)
    if gal.note:
        st.caption(gal.note)
    captions = iter(md_escape(text) for text in strips.captions)
    if strips.whole:
        st.markdown("**Whole images** — the inputs, and below them the outputs recomposed as colour")
        for one in strips.whole:
            _show(one, next(captions))
    st.markdown("**Channels** — each input channel (grey) beside its normalized output (colour scale above)")
    for one in strips.rows:
        _show(one, next(captions))


#: The page's background in the light and dark themes (Streamlit 1.67's #FFFFFF and #171614), behind a strip's tiles.
_BACKGROUNDS = {"light": (255, 255, 255), "dark": (23, 22, 20)}


def _page_background() -> tuple[int, int, int]:
    theme = getattr(st.context.theme, "type", None)
    return _BACKGROUNDS.get(theme, _BACKGROUNDS["light"])


def _show(one, caption: str) -> None:
    """One strip, sent as JPEG bytes encoded once (the same bytes keep the same URL, so the browser
    fetches an unchanged strip only once); a tile shown at least TILE_WIDTH pixels wide."""
    width = one.image.shape[1]
    shown = max(width, round(width * TILE_WIDTH / one.tile_width))
    st.image(one.jpeg, caption=caption, width=shown, output_format="JPEG", alt=one.alt)


def _legend(gal, is_image: bool) -> None:
    lo, hi = gal.input_range
    span = gal.output_range
    row = st.container(horizontal=True, gap="large")
    row.image(
        compute.colorbar_jpeg(lo, hi, False),
        caption=f"input: {lo:.3g} … {hi:.3g}" + (" (pixel values)" if is_image else ""),
        width=240,
        output_format="JPEG",
        alt=colorbar_alt(lo, hi, diverging=False, unit="pixel values" if is_image else ""),
    )
    row.image(
        compute.colorbar_jpeg(-span, span, True),
        caption=f"output: −{span:g} … 0 … +{span:g}",
        width=240,
        output_format="JPEG",
        alt=colorbar_alt(-span, span, diverging=True),
    )
    st.caption(
        f"Outputs share one scale, so groups can be compared. The colour recomposition shows 0.5 + y / "
        f"{2 * gallery_fig.RGB_SPAN:g} per channel (y = ±{gallery_fig.RGB_SPAN:g} is black or full colour); "
        "◆ and the yellow outline mark the selected group."
    )


def histograms(inp, res: NormResult, box) -> None:
    fig = compute.histogram_for(inp.digest, compute.result_key(res), inp.x, res, box_key(box))
    st.plotly_chart(fig, width="stretch", key="histograms", config={"displaylogo": False})


def arithmetic(inp, res: NormResult, cell) -> None:
    """The formula at the selected cell with its numbers, and normalize's own output beside it."""
    worked = worked_cell(res, inp.x, cell)
    n, c, h, w = cell
    st.markdown(
        f"Cell **x[{n}, {c}, {h}, {w}]** belongs to group **{worked.group}** ({res.count:,} values share μ and σ²)."
    )
    st.latex(worked.latex())
    st.caption(
        f"normviz computed y = {worked.y:.7g} (float32); the formula in float64 gives {worked.y_from_formula:.7g}."
    )

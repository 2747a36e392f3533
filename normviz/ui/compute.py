"""Cached computations for the page, keyed by the input's content digest and the settings.

Every cache of the page is here. Results are held under the server's memory budget
(``normviz.budget``); they, gallery tiles (with their encoded images) and colour bars are shared,
read-only, between reruns and visitors (no copy per read); figure builders are cached on the same
keys, so an unchanged setting redoes no work.
"""

from __future__ import annotations

import streamlit as st

from .. import budget, normalize
from ..core import NormResult
from ..figures import gallery, histograms, stats
from ..figures.alt_text import layer_phrase


def _freeze(res: NormResult) -> NormResult:
    for arr in (res.mean, res.var):  # (y is read-only when it is formed)
        arr.flags.writeable = False
    return res


def normalized(digest: str, x, axes: str, groups: int, eps: float, center: bool, gamma, beta) -> NormResult:
    """normalize(x, …) for the input with content ``digest``, read-only, held under the memory
    budget; gamma/beta as tuples or None. The output is deferred: a page shows a few planes of it,
    formed alone; all of y is formed when something reads it (the histograms, a download)."""
    return budget.held(
        ("normalized", digest, axes, groups, eps, center, gamma, beta),
        lambda: _freeze(
            normalize(x, axes, groups=groups, eps=eps, center=center, gamma=gamma, beta=beta, defer_output=True)
        ),
        need=x.nbytes * 3 // 2,  # y (counted whether formed or not), and the kernel's blocks in flight
        what=f"normalizing the {'×'.join(map(str, x.shape))} input",
    )


def run(inp, settings) -> NormResult:
    """The cached result for a TensorInput and NormSettings."""
    as_tuple = lambda a: None if a is None else tuple(float(v) for v in a)  # noqa: E731
    return normalized(
        inp.digest, inp.x, settings.axes, settings.groups, settings.eps, settings.center,
        as_tuple(settings.gamma), as_tuple(settings.beta),
    )  # fmt: skip


def result_key(res: NormResult) -> str:
    """A key naming a result (used by the cached figure builders): one string, so the caches hash
    it in one step rather than field by field on every rerun."""
    g = None if res.gamma is None else tuple(float(v) for v in res.gamma)
    b = None if res.beta is None else tuple(float(v) for v in res.beta)
    return repr((res.spec, tuple(res.shape), g, b))


def _ranges(box):
    """A box given as ((start, stop) × 4) back as four ranges."""
    return None if box is None else tuple(range(a, b) for a, b in box)


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def gallery_for(digest: str, key: str, _x, _res: NormResult, samples, channels, box, is_image, labels, span):
    """The gallery tiles (shared, read-only); ``box`` is the selected group as ((start, stop) × 4) or None."""
    return gallery.build_gallery(
        _x,
        _res,
        samples=samples,
        channels=channels,
        box=_ranges(box),
        is_image=is_image,
        labels=labels,
        out_range=span,
        in_range=input_span(digest, _x, is_image),
        layer=layer_phrase(_res.spec, _res.shape),
    )


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def gallery_strips_for(digest: str, key: str, _x, _res: NormResult, samples, channels, box, is_image, labels, span,
                       background):  # fmt: skip
    """The gallery laid out as a few strips on ``background`` (the page's RGB colour), shared, read-only;
    the other arguments as for ``gallery_for``. Returns (Gallery, GalleryStrips)."""
    gal = gallery_for(digest, key, _x, _res, samples, channels, box, is_image, labels, span)
    return gal, gallery.gallery_strips(gal, background)


@st.cache_resource(max_entries=16, show_spinner=False)
def colorbar_jpeg(lo: float, hi: float, diverging: bool) -> bytes:
    """A colour bar for [lo, hi] as JPEG bytes."""
    return gallery.encode_jpeg(gallery.colorbar(lo, hi, diverging=diverging))


@st.cache_data(max_entries=32, show_spinner=False)
def input_span(digest: str, _x, is_image: bool) -> tuple[float, float]:
    """The inputs' shared display range: the same for every setting of one input."""
    return gallery.input_range(_x, is_image)


@st.cache_data(max_entries=32, show_spinner=False)
def output_span(digest: str, key: str, _res: NormResult) -> float:
    return gallery.output_range(_res)


@st.cache_data(max_entries=32, show_spinner=False)
def histogram_for(digest: str, key: str, _x, _res: NormResult, box):
    return histograms.histogram_figure(_x, _res.y, _ranges(box), center=_res.spec.center)


@st.cache_data(max_entries=32, show_spinner=False)
def stats_figure_for(digest: str, key: str, _res: NormResult, selected, title):
    return stats.stats_figure(_res, selected, title)


@st.cache_data(max_entries=16, show_spinner=False)
def stats_table_for(digest: str, key: str, _res: NormResult, selected, limit):
    return stats.stats_table(_res, selected, limit)

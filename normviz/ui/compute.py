"""Cached computations for the page, keyed by the input's content digest and the settings.

Every cache of the page is here, each bounded. Results, gallery tiles (with their encoded images)
and colour bars are shared, read-only, between reruns and visitors (``st.cache_resource``: no copy
per read); figure builders are cached on the same keys, so an unchanged setting redoes no work.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

import streamlit as st

from .. import normalize
from ..core import NormResult
from ..figures import gallery, histograms, stats
from ..figures.alt_text import layer_phrase


def _freeze(res: NormResult) -> NormResult:
    for arr in (res.y, res.mean, res.var):
        arr.flags.writeable = False
    return res


#: Bytes of normalized results kept for reuse by every visitor (the largest input's is 256 MB).
RESULT_BYTES = 1 << 30
#: Seconds a result stays unused before it is dropped.
RESULT_TTL = 1800


class ResultStore:
    """Values by key, dropped least recently used first once they hold more than ``max_bytes``
    (``size(value)``), or when unused for ``ttl`` seconds. Thread-safe; shared by all sessions."""

    def __init__(self, max_bytes: int, ttl: float, size: Callable[[object], int]):
        self.max_bytes, self.ttl, self.size = max_bytes, ttl, size
        self._items: OrderedDict[Hashable, tuple[object, int, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, compute: Callable[[], object]):
        """The value stored under ``key``, computing (outside the lock) and storing it if absent."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if key in self._items:
                value, size, _ = self._items.pop(key)
                self._items[key] = (value, size, now)
                return value
        value = compute()
        with self._lock:
            if key not in self._items:
                size = self.size(value)
                self._items[key] = (value, size, now)
                self._bytes += size
                while self._bytes > self.max_bytes and len(self._items) > 1:
                    self._drop(next(iter(self._items)))
            return self._items[key][0]

    def _expire(self, now: float) -> None:
        for key in [k for k, (_, _, used) in self._items.items() if now - used > self.ttl]:
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        _, size, _ = self._items.pop(key)
        self._bytes -= size


def _result_bytes(res: NormResult) -> int:
    return res.y.nbytes + res.mean.nbytes + res.var.nbytes


@st.cache_resource(show_spinner=False)
def results() -> ResultStore:
    """The process's store of normalized results (cleared with ``st.cache_resource.clear()``)."""
    return ResultStore(RESULT_BYTES, RESULT_TTL, _result_bytes)


def normalized(digest: str, x, axes: str, groups: int, eps: float, center: bool, gamma, beta) -> NormResult:
    """normalize(x, …) for the input with content ``digest``, kept read-only in ``results()``;
    gamma/beta as tuples or None."""
    key = (digest, axes, groups, eps, center, gamma, beta)
    return results().get(
        key, lambda: _freeze(normalize(x, axes, groups=groups, eps=eps, center=center, gamma=gamma, beta=beta))
    )


def run(inp, settings) -> NormResult:
    """The cached result for a TensorInput and NormSettings."""
    as_tuple = lambda a: None if a is None else tuple(float(v) for v in a)  # noqa: E731
    return normalized(
        inp.digest, inp.x, settings.axes, settings.groups, settings.eps, settings.center,
        as_tuple(settings.gamma), as_tuple(settings.beta),
    )  # fmt: skip


def result_key(res: NormResult) -> tuple:
    """A hashable key naming a result (used by the cached figure builders)."""
    g = None if res.gamma is None else tuple(res.gamma)
    b = None if res.beta is None else tuple(res.beta)
    return (res.spec, res.shape, g, b)


def _ranges(box):
    """A box given as ((start, stop) × 4) back as four ranges."""
    return None if box is None else tuple(range(a, b) for a, b in box)


@st.cache_resource(max_entries=32, ttl=1800, show_spinner=False)
def gallery_for(digest: str, key: tuple, _x, _res: NormResult, samples, channels, box, is_image, labels, span):
    """The gallery tiles (shared, read-only); ``box`` is the selected group as ((start, stop) × 4) or None."""
    return gallery.build_gallery(
        _x,
        _res.y,
        samples=samples,
        channels=channels,
        box=_ranges(box),
        is_image=is_image,
        labels=labels,
        out_range=span,
        layer=layer_phrase(_res.spec, _res.shape),
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def colorbar_jpeg(lo: float, hi: float, diverging: bool) -> bytes:
    """A colour bar for [lo, hi] as JPEG bytes."""
    return gallery.encode_jpeg(gallery.colorbar(lo, hi, diverging=diverging))


@st.cache_data(max_entries=32, show_spinner=False)
def output_span(digest: str, key: tuple, _res: NormResult) -> float:
    return gallery.output_range(_res.y)


@st.cache_data(max_entries=32, show_spinner=False)
def histogram_for(digest: str, key: tuple, _x, _res: NormResult, box):
    return histograms.histogram_figure(_x, _res.y, _ranges(box), center=_res.spec.center)


@st.cache_data(max_entries=32, show_spinner=False)
def stats_figure_for(digest: str, key: tuple, _res: NormResult, selected, title):
    return stats.stats_figure(_res, selected, title)


@st.cache_data(max_entries=16, show_spinner=False)
def stats_table_for(digest: str, key: tuple, _res: NormResult, selected, limit):
    return stats.stats_table(_res, selected, limit)

"""The page's server side: rerun time after an axis toggle, split into normalize / figures / the rest,
and the bytes of figure and component data each rerun sends — at the default input and the largest.

Runs the real app.py through Streamlit's AppTest. Each measured rerun toggles the reduced axes to a
set not seen before, so nothing comes from the caches that a real toggle would not also miss.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")
#: Axis sets visited in turn (each new to the caches); the page starts at BatchNorm (NHW).
AXIS_CYCLE = (["H", "W"], ["C", "H", "W"], ["C"], ["N", "C", "H", "W"], ["N"], ["W"], ["N", "C"], ["H"])
#: The largest input the caps allow: 32 × 64 × 181 × 181 = 67,096,576 ≤ 2**26 elements.
LARGEST = {"source": "random", "rn": "32", "rc": "64", "rh": "181", "rw": "181"}
SMOKE = {"source": "random", "rn": "2", "rc": "3", "rh": "8", "rw": "8"}


class Timers:
    """Wall time spent inside wrapped functions, by category."""

    def __init__(self):
        self.seconds = {"normalize": 0.0, "figures": 0.0}

    def wrap(self, category, func):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[category] += time.perf_counter() - start

        return timed


@contextmanager
def instrumented(timers: Timers):
    """Time normalize and every figure builder where the page calls them."""
    from normviz.figures import gallery, histograms, stats
    from normviz.ui import compute, cube_section

    patches = [
        (compute, "normalize", "normalize"),
        (cube_section, "cube_from_result", "figures"),
        (gallery, "build_gallery", "figures"),
        (histograms, "histogram_figure", "figures"),
        (stats, "stats_figure", "figures"),
        (stats, "stats_table", "figures"),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, category in patches:
        setattr(module, name, timers.wrap(category, getattr(module, name)))
    try:
        yield
    finally:
        for module, name, func in originals:
            setattr(module, name, func)


def payload_bytes(at) -> dict:
    """Bytes of figure data in the page: the cube component's arguments and every plotly chart."""
    component = sum(len(node.proto.json_args) for node in at.get("component_instance"))
    charts = sum(len(node.proto.spec) for node in at.get("plotly_chart"))
    return {"cube": component, "charts": charts}


def measure(query: dict, toggles: int, timeout: float) -> dict:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query)
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    shape = tuple(int(query.get(k, 0)) for k in ("rn", "rc", "rh", "rw"))
    totals, parts, payloads = [], [], []
    for axes in AXIS_CYCLE[:toggles]:
        timers = Timers()
        with instrumented(timers):
            at.pills(key="axes_pick").set_value(axes)
            start = time.perf_counter()
            at.run()
            total = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(at.exception[0].message)
        totals.append(total)
        parts.append(timers.seconds)
        payloads.append(payload_bytes(at))
    k = totals.index(statistics.median_low(totals))
    return {
        "shape": shape,
        "total": totals[k],
        "parts": parts[k],
        "payload": max(payloads, key=lambda p: sum(p.values())),
    }


def run(smoke: bool = False) -> list[dict]:
    cases = [("default (sample photos)", {}), ("largest (random 32×64×181×181)", SMOKE if smoke else LARGEST)]
    rows = []
    for label, query in cases:
        m = measure(query, toggles=2 if smoke else len(AXIS_CYCLE), timeout=600)
        normalize_ms = m["parts"]["normalize"] * 1e3
        figures_ms = m["parts"]["figures"] * 1e3
        total_ms = m["total"] * 1e3
        rows.append({
            "group": "rerun", "name": f"axis toggle, {label}", "ours_ms": total_ms,
            "note": f"normalize {normalize_ms:.0f} ms · figures {figures_ms:.0f} ms · "
                    f"rest {total_ms - normalize_ms - figures_ms:.0f} ms (median of {2 if smoke else len(AXIS_CYCLE)})",
        })  # fmt: skip
        budget = 300_000 if not query or smoke else 1_000_000
        size = sum(m["payload"].values())
        rows.append({
            "group": "payload", "name": f"figure data per rerun, {label}", "bytes": size,
            "ratio": size / budget, "budget": f"≤ {budget // 1000:,} KB",
            "note": f"cube {m['payload']['cube'] / 1e3:.0f} KB · charts {m['payload']['charts'] / 1e3:.0f} KB",
        })  # fmt: skip
    return rows

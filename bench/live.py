"""The live server, over its websocket (bench/wsclient.py): server CPU per axis toggle, many visitors
at once, and the largest input — each against an empty one-checkbox app served the same way.

Each case starts a fresh ``streamlit run`` (nothing cached yet) and reads the server's CPU time from
/proc before and after the interactions; latency is from sending the rerun until the run finished
and its new images were fetched, as a browser tab would.
"""

from __future__ import annotations

import contextlib
import urllib.parse

from bench import wsclient
from tests.browser.conftest import start_server, stop_server

APP, EMPTY_APP = "app.py", "bench/empty_app.py"
#: The largest input the caps allow: 32 × 64 × 181 × 181 = 67,096,576 ≤ 2**26 elements.
LARGEST = {"source": "random", "rn": "32", "rc": "64", "rh": "181", "rw": "181"}
SMOKE_LARGEST = {"source": "random", "rn": "2", "rc": "3", "rh": "8", "rw": "8"}


@contextlib.contextmanager
def served(script: str, *args: str):
    """A fresh ``streamlit run script`` for the duration: yields (url, pid)."""
    url, process = start_server(script, *args)
    try:
        yield url, process.pid
    finally:
        stop_server(process)


def measure(script: str, plan, **kwargs) -> wsclient.Stats:
    with served(script) as (url, pid):
        return wsclient.load(url, plan=plan, pids=[pid], **kwargs)


def _cpu_row(name, ours: wsclient.Stats, floor: wsclient.Stats, budget_ms: float, note: str) -> dict:
    cpu, floor_cpu = ours.cpu_per_interaction * 1e3, floor.cpu_per_interaction * 1e3
    return {
        "group": "live", "name": name, "ours_ms": cpu, "ref_ms": floor_cpu, "ratio": cpu / max(floor_cpu, 1e-3),
        "budget": f"≤ {budget_ms:g} ms", "note": note + f"; {_errors(ours)}",
    }  # fmt: skip


def _errors(stats: wsclient.Stats) -> str:
    return f"{len(stats.errors)} error(s)" + (f" (first: {stats.errors[0][:80]})" if stats.errors else "")


def run(smoke: bool = False) -> list[dict]:
    toggles = 2 if smoke else 24
    rows = []

    # 1. one visitor toggling axes on the sample photos (Channels tab open, the default)
    ours = measure(APP, wsclient.toggle_axes, interactions=toggles)
    floor = measure(EMPTY_APP, wsclient.toggle_checkbox, interactions=toggles)
    rows.append(_cpu_row(
        "server CPU per axis toggle, sample photos", ours, floor, 40,
        f"{ours.interactions} toggles from a fresh server; latency p50 {ours.p50 * 1e3:.0f} ms "
        f"(empty app {floor.p50 * 1e3:.0f} ms); baseline: the empty app's checkbox",
    ))  # fmt: skip

    # 2. many visitors at once, each toggling about every 0.5 s, one server process
    visitors, each = (3, 2) if smoke else (20, 8)
    crowd = measure(APP, wsclient.toggle_axes, sessions=visitors, interactions=each, think=0.5)
    crowd_floor = measure(EMPTY_APP, wsclient.toggle_checkbox, sessions=visitors, interactions=each, think=0.5)
    rows.append({
        "group": "live", "name": f"{visitors} visitors toggling every 0.5 s, p95 latency",
        "ours_ms": crowd.p95 * 1e3, "ref_ms": crowd_floor.p95 * 1e3,
        "ratio": crowd.p95 / max(crowd_floor.p95, 1e-6), "budget": "≤ 1000 ms, no error",
        "note": f"p50 {crowd.p50 * 1e3:.0f} ms · {crowd.throughput:.1f} interactions/s · server CPU "
                f"{crowd.cpu_per_interaction * 1e3:.0f} ms each · peak RSS {crowd.peak_rss / 2**20:.0f} MB · "
                f"{_errors(crowd)}",
    })  # fmt: skip

    # 3. the largest input, one visitor
    query = urllib.parse.urlencode(SMOKE_LARGEST if smoke else LARGEST)
    big = measure(APP, wsclient.toggle_axes, interactions=2 if smoke else 8, query=query, timeout=600)
    rows.append({
        "group": "live", "name": "largest input (random 32×64×181×181), per interaction",
        "ours_ms": big.p50 * 1e3, "ref_ms": floor.p50 * 1e3, "ratio": big.p50 / max(floor.p50, 1e-6),
        "budget": "≤ 300 ms",
        "note": f"median latency of {big.interactions} toggles, one visitor; server CPU "
                f"{big.cpu_per_interaction * 1e3:.0f} ms each · peak RSS {big.peak_rss / 2**20:.0f} MB · "
                f"{_errors(big)}" + (" (smoke: 2×3×8×8)" if smoke else ""),
    })  # fmt: skip
    return rows

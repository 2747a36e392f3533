"""Many visitors through ``deploy/serve.sh`` (HAProxy in front of K replicas), over the websocket
(bench/wsclient.py): throughput, p50/p95 latency, errors and peak memory (RSS summed over the
replicas) for K = 1 and K = 2, and twelve visitors on the largest input against the memory budget.

Each case starts serve.sh afresh (nothing cached yet). Visitors toggle the reduced axes with no pause,
so the server is the bottleneck; the client runs on the same machine and takes part of its CPU.
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench import wsclient
from bench.live import LARGEST, SMOKE_LARGEST
from normviz.budget import DEFAULT_MB
from tests.deploy.proxy import HAPROXY, Served

#: Memory a replica may use beyond its budget of tensors: the interpreter, Streamlit, plotly, the
#: figures and images of the visitors' pages, and the temporaries of computations in flight.
OVERHEAD_MB = 1024


@dataclass
class Measured:
    """A load run's Stats, with what the client's own process spent and the budget's refusals."""

    stats: wsclient.Stats
    client_cpu: float
    refusals: int


def measure(replicas: int, *, env: dict | None = None, **kwargs) -> Measured:
    with tempfile.TemporaryDirectory(prefix="normviz-load-") as logs:
        served = Served(replicas, env=env, logs=Path(logs))
        try:
            start = time.process_time()
            stats = wsclient.load(served.url, pids=served.pids(), **kwargs)
            client = time.process_time() - start
        finally:
            served.stop()
        refusals = sum(
            log.read_text(errors="replace").count("memory budget: refused") for log in Path(logs).glob("replica-*.log")
        )
    return Measured(stats, client, refusals)


def _errors(stats: wsclient.Stats) -> str:
    return f"{len(stats.errors)} error(s)" + (f" (first: {stats.errors[0][:80]})" if stats.errors else "")


def _describe(m: Measured) -> str:
    stats = m.stats
    return (
        f"{stats.sessions} visitors × {stats.interactions // max(stats.sessions, 1)} toggles: "
        f"{stats.throughput:.1f}/s, p50 {stats.p50 * 1e3:.0f} ms, p95 {stats.p95 * 1e3:.0f} ms, "
        f"peak RSS {stats.peak_rss / 2**20:.0f} MB, {_errors(stats)}, {m.refusals} busy refusal(s); "
        f"CPU: server {stats.cpu:.1f} s, client {m.client_cpu:.1f} s"
    )


def run(smoke: bool = False) -> list[dict]:
    if HAPROXY is None:
        print("(load: no haproxy — install Debian's haproxy package to run it)", file=sys.stderr)
        return []
    visitors, each = (2, 2) if smoke else (8, 10)
    one = measure(1, sessions=visitors, interactions=each, plan=wsclient.toggle_axes)
    two = measure(2, sessions=visitors, interactions=each, plan=wsclient.toggle_axes)
    per_one, per_two = 1e3 / one.stats.throughput, 1e3 / two.stats.throughput
    rows = [
        {
            "group": "load", "name": "1 replica, visitors toggling axes (sample photos)",
            "ours_ms": one.stats.p50 * 1e3, "note": _describe(one),
        },
        {
            "group": "load", "name": "2 replicas vs 1: wall time per interaction",
            "ours_ms": per_two, "ref_ms": per_one, "ratio": per_two / per_one,
            "budget": "≤ 0.67 (≥ 1.5× throughput), no error",
            "note": f"throughput {per_one / per_two:.2f}× one replica's; " + _describe(two),
        },
    ]  # fmt: skip

    budget_mb = 256 if smoke else DEFAULT_MB
    crowd, steps = (2, 2) if smoke else (12, 4)
    query = urllib.parse.urlencode(SMOKE_LARGEST if smoke else LARGEST)
    big = measure(
        1, env={"NORMVIZ_MEMORY_MB": str(budget_mb)}, sessions=crowd, interactions=steps,
        plan=wsclient.toggle_axes, query=query, timeout=900,
    )  # fmt: skip
    limit = budget_mb + OVERHEAD_MB
    rows.append({
        "group": "load", "name": f"{crowd} visitors on the largest input, peak RSS of one replica",
        "ours_ms": big.stats.p50 * 1e3, "bytes": big.stats.peak_rss, "ratio": big.stats.peak_rss / (limit * 2**20),
        "budget": f"≤ 1 (budget {budget_mb} MB + {OVERHEAD_MB} MB)",
        "note": ("smoke: 2×3×8×8; " if smoke else "random 32×64×181×181; ") + _describe(big),
    })  # fmt: skip
    return rows

"""The benchmarks keep running: a seconds-long smoke run of every suite (numbers are not checked).

The run is a separate process, as a developer runs it (`python -m bench --smoke`): the browser suite
drives Chromium through Playwright's sync API, which cannot start inside a test session whose own
browser fixtures already hold an event loop.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SUITES
from tests.browser.conftest import CHROMIUM
from tests.deploy.proxy import HAPROXY, in_own_thread, run_async

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_smoke_run_produces_rows_for_every_suite(tmp_path):
    pytest.importorskip("torch", reason="the kernel and feature-map benchmarks compare with PyTorch")
    out = tmp_path / "smoke.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(out.read_text())
    groups = {row["group"] for row in report["rows"]}
    assert {"kernel", "features", "rerun", "payload", "live", "browser", "scaling", "uploads", "train"} <= groups
    assert ("load" in groups) == (HAPROXY is not None)  # the load suite runs serve.sh, which needs haproxy
    assert set(SUITES) == {"kernel", "features", "app", "live", "load", "browser", "scaling", "uploads", "train"}
    # the browser's toggle row splits its time at the rerun's WebSocket frames, in the order they happen
    toggles = [row for row in report["rows"] if row["name"].startswith("axis toggle until settled")]
    assert len(toggles) == (1 if CHROMIUM.exists() else 0)
    for phases in [p for row in toggles for p in (row["phases"], row["ref_phases"])]:
        assert 0 < phases["sent"] < phases["first"] <= phases["last"] <= phases["settled"]
    # the main thread's work per toggle, read from Chromium's trace, for both apps
    busy = [row for row in report["rows"] if row["name"].startswith("main thread busy per toggle")]
    assert len(busy) == len(toggles) and all(row["ref_ms"] > 0 for row in busy)
    timed = [row for row in report["rows"] if "ours_ms" in row]
    assert timed and all(row["ours_ms"] > 0 for row in timed)
    assert report["machine"]["cores"] >= 1


def test_websocket_client_finds_widgets_and_reruns_the_script():
    """The client finds the empty app's one checkbox; setting it reruns the script on the server."""

    from bench import wsclient
    from bench.live import served

    async def visit(url):
        async with await wsclient.Session.open(url) as tab:
            runs = [await wsclient.toggle_checkbox(tab, i) for i in range(2)]
            return tab.first_run, dict(tab.widgets), runs

    with served("bench/empty_app.py") as (url, pid):
        # in a thread: a browser test earlier in the run may hold Playwright's loop in this one
        first, widgets, runs = run_async(visit(url))
        # enough reruns that their CPU spans many of /proc's 10 ms ticks: four empty reruns can fit in one
        stats = in_own_thread(
            wsclient.load, url, sessions=2, interactions=40, plan=wsclient.toggle_checkbox, pids=[pid]
        )
    assert not first.errors and first.messages > 0
    assert [w.kind for w in widgets.values()] == ["checkbox"]
    assert all(not run.errors and run.messages > 0 and run.seconds > 0 for run in runs)
    assert stats.interactions == 80 and not stats.errors and len(stats.latencies) == 80
    assert stats.cpu > 0 and stats.peak_rss > 10 * 2**20

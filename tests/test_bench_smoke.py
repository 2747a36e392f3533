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
    assert {"kernel", "features", "rerun", "payload", "browser", "scaling", "train"} <= groups
    assert set(SUITES) == {"kernel", "features", "app", "browser", "scaling", "train"}
    timed = [row for row in report["rows"] if "ours_ms" in row]
    assert timed and all(row["ours_ms"] > 0 for row in timed)
    assert report["machine"]["cores"] >= 1

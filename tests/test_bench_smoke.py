"""The benchmarks keep running: a seconds-long smoke run of every suite (numbers are not checked)."""

import json

import pytest

from bench.__main__ import SUITES, main


def test_benchmark_smoke_run_produces_rows_for_every_suite(tmp_path, capsys):
    pytest.importorskip("torch", reason="the kernel and feature-map benchmarks compare with PyTorch")
    out = tmp_path / "smoke.json"
    assert main(["--smoke", "--json", str(out)]) == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    groups = {row["group"] for row in report["rows"]}
    assert {"kernel", "features", "rerun", "payload", "browser", "scaling"} <= groups
    assert set(SUITES) == {"kernel", "features", "app", "browser", "scaling"}
    timed = [row for row in report["rows"] if "ours_ms" in row]
    assert timed and all(row["ours_ms"] > 0 for row in timed)
    assert report["machine"]["cores"] >= 1

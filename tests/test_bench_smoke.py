"""The benchmarks keep running: a seconds-long smoke run of every suite (numbers are not checked)."""

import json

import pytest

from bench.__main__ import main


def test_benchmark_smoke_run_produces_rows(tmp_path, capsys):
    pytest.importorskip("torch", reason="the kernel benchmark compares with PyTorch")
    out = tmp_path / "smoke.json"
    assert main(["--smoke", "--only", "kernel", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert {row["group"] for row in rows} == {"kernel"}
    assert all(row["ours_ms"] > 0 and row["ref_ms"] > 0 for row in rows)
    assert "GroupNorm(32)" in capsys.readouterr().out

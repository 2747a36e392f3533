"""normalize equals PyTorch's layers: live when torch imports, and always against stored outputs."""

import json
from pathlib import Path

import numpy as np
import pytest

import normviz
from tests.torch_cases import cases, inputs, run_torch

GOLDEN = Path(__file__).parent / "golden" / "torch_parity.npz"
CASES = list(cases())


def _ours(case, x, gamma, beta):
    return normviz.normalize(
        x, case["axes"], groups=case["groups"], eps=case["eps"], center=case["center"], gamma=gamma, beta=beta
    ).y


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_torch_live(case):
    pytest.importorskip("torch", reason="PyTorch is not installed; the stored golden outputs still run")
    x, gamma, beta = inputs(case)
    expected = run_torch(case, x, gamma, beta)
    np.testing.assert_allclose(_ours(case, x, gamma, beta), expected, rtol=0, atol=1e-5)


def _golden():
    with np.load(GOLDEN) as data:
        meta = json.loads(str(data["meta"]))
        for i, case in enumerate(meta["cases"]):
            get = {key: data[f"{i}_{key}"] if f"{i}_{key}" in data else None for key in ("x", "gamma", "beta", "y")}
            yield case, get["x"], get["gamma"], get["beta"], get["y"]


def test_golden_file_covers_every_case():
    stored = [case["name"] for case, *_ in _golden()]
    assert stored == [c["name"] for c in CASES], "regenerate with: python -m tests.golden.make_golden"


@pytest.mark.parametrize("index", range(len(CASES)))
def test_matches_stored_torch_outputs(index):
    case, x, gamma, beta, expected = list(_golden())[index]
    np.testing.assert_allclose(_ours(case, x, gamma, beta), expected, rtol=0, atol=1e-5)

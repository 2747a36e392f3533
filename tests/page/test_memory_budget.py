"""The page under a full memory budget: a refusal is a warning, the previous view stays, and the
same request works once memory is released."""

import gc

import numpy as np
import pytest

from normviz import budget
from tests.page.conftest import open_app, summary

MB = 2**20


@pytest.fixture
def small_budget(monkeypatch):
    """A 64 MB budget for the whole server, with a short wait."""
    small = budget.MemoryBudget(64 * MB, wait_seconds=0.3)
    monkeypatch.setattr(budget, "_SHARED", small)
    return small


def other_visitors(small: budget.MemoryBudget, megabytes: int) -> np.ndarray:
    """Data held by other visitors' sessions (counted, not in any cache, so it cannot be evicted)."""
    hog = np.ones(megabytes * MB // 4, np.float32)
    small.track(hog)
    return hog


def busy_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "The server is busy" in w.value]


def test_a_tensor_that_does_not_fit_is_refused_with_a_warning_and_the_previous_tensor_stays(small_budget):
    at = open_app()
    at.selectbox(key="source").set_value("random").run()
    before = summary(at)
    hog = other_visitors(small_budget, 61)
    for key, value in (("rn", 1), ("rc", 1), ("rh", 1024), ("rw", 1024)):
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    (text,) = busy_warnings(at)
    assert "the random tensor 1×1×1024×1024 needs about 5 MB" in text
    assert "Try again in a minute, or choose a smaller size" in text
    assert summary(at) == before  # the 4×6×16×16 tensor's view stays
    assert at.number_input(key="rh").value == 1024  # the choice is kept

    del hog  # the other visitors leave
    gc.collect()
    at.run()
    assert not busy_warnings(at) and not at.exception
    assert "1,048,576 values" in summary(at)


def test_a_result_that_does_not_fit_keeps_the_previous_view(small_budget):
    at = open_app()
    at.selectbox(key="source").set_value("random").run()
    for key, value in (("rn", 2), ("rc", 2), ("rh", 512), ("rw", 512)):
        at.number_input(key=key).set_value(value)
    at.run()
    before = summary(at)
    assert before.startswith("Reducing over N, H, W")
    hog = other_visitors(small_budget, 64 - small_budget.used_bytes // MB - 4)  # 4 MB left; a result needs 6
    at.pills(key="axes_pick").set_value(["H", "W"]).run()
    assert not at.exception, at.exception
    (text,) = busy_warnings(at)
    assert "normalizing the 2×2×512×512 input needs about 6 MB" in text
    assert "Showing your previous view; your choices above are kept." in text
    assert summary(at) == before
    assert at.pills(key="axes_pick").value == ["H", "W"]

    del hog
    gc.collect()
    at.run()
    assert not busy_warnings(at)
    assert summary(at).startswith("Reducing over H, W")

"""The server-wide memory budget: accounting on real array sizes, LRU eviction, waiting, refusal."""

import gc
import threading
import time

import numpy as np
import pytest

from normviz import NormvizError
from normviz.budget import MemoryBudget, arrays_in, limit_from_env

MB = 2**20


def mb_array(megabytes: int) -> np.ndarray:
    return np.ones(megabytes * MB // 4, np.float32)


def test_counts_live_arrays_by_nbytes_and_views_once():
    budget = MemoryBudget(100 * MB, wait_seconds=0)
    a = mb_array(3)
    assert budget.track((a, a[::2], {"again": a.reshape(-1, 4)})) == 3 * MB
    assert budget.used_bytes == 3 * MB
    b = np.zeros((2, 3), np.float64)
    budget.track(b)
    assert budget.used_bytes == 3 * MB + 48
    del a
    gc.collect()
    assert budget.used_bytes == 48


def test_arrays_in_walks_dataclasses():
    from normviz import normalize

    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4)).astype(np.float32)
    res = normalize(x, "NHW")
    owners = {id(o) for o in arrays_in(res)}
    for arr in (res.y, res.mean, res.var):
        while isinstance(arr.base, np.ndarray):
            arr = arr.base
        assert id(arr) in owners


def test_cached_value_is_made_once_and_counted_at_its_real_size():
    budget = MemoryBudget(100 * MB, wait_seconds=0)
    calls = []

    def make():
        calls.append(1)
        return mb_array(2)

    first = budget.get("k", make, need=10 * MB, what="a test array")
    second = budget.get("k", make, need=10 * MB, what="a test array")
    assert first is second and len(calls) == 1
    assert budget.used_bytes == 2 * MB  # the reservation (10 MB) is gone, the real size stays


def test_least_recently_used_entries_are_evicted_first():
    budget = MemoryBudget(10 * MB, wait_seconds=0)
    for key in "abc":
        budget.get(key, lambda: mb_array(3), need=3 * MB, what=key)
    budget.get("a", lambda: pytest.fail("a is cached"), need=3 * MB, what="a")  # a is now most recent
    budget.get("d", lambda: mb_array(3), need=3 * MB, what="d")
    assert budget.cached_keys == ["c", "a", "d"]
    assert budget.used_bytes == 9 * MB


def test_an_evicted_value_still_held_by_a_session_is_found_again_not_remade():
    budget = MemoryBudget(8 * MB, wait_seconds=0)
    held = budget.get("a", lambda: mb_array(3), need=3 * MB, what="a")
    budget.get("b", lambda: mb_array(3), need=3 * MB, what="b")
    budget.get("c", lambda: mb_array(3), need=3 * MB, what="c")  # evicts a (still held: frees nothing), then b
    assert budget.cached_keys == ["c"]
    assert budget.used_bytes == 6 * MB  # a is still alive, so still counted
    again = budget.get("a", lambda: pytest.fail("a is alive: no second copy"), need=3 * MB, what="a")
    assert again is held


def test_evicted_values_that_die_leave_nothing_behind():
    budget = MemoryBudget(4 * MB, wait_seconds=0)
    for key in range(20):
        budget.get(key, lambda: mb_array(3), need=3 * MB, what="x")
    assert budget.cached_keys == [19] and len(budget._ghosts) == 0
    assert budget.used_bytes == 3 * MB


def test_a_request_that_does_not_fit_is_refused_with_why_and_what_to_do(caplog):
    budget = MemoryBudget(10 * MB, wait_seconds=0.05)
    hog = mb_array(8)  # another visitor's data, not in the cache
    budget.track(hog)
    with pytest.raises(NormvizError) as info:
        budget.get("x", lambda: pytest.fail("never made"), need=4 * MB, what="the random tensor 1×1×1024×1024")
    err = info.value
    assert err.retry
    text = str(err)
    assert "the random tensor 1×1×1024×1024 needs about 4 MB" in text
    assert "8 MB of its 10 MB memory budget" in text
    assert "Try again in a minute, or choose a smaller size" in text
    assert budget.used_bytes == 8 * MB  # the refused request holds nothing
    assert "memory budget: refused the random tensor 1×1×1024×1024 (needs 4 MB; 8 MB of 10 MB in use)" in caplog.text


def test_a_request_larger_than_the_whole_budget_is_refused_at_once():
    budget = MemoryBudget(10 * MB, wait_seconds=30)
    start = time.monotonic()
    with pytest.raises(NormvizError) as info:
        budget.reserve(11 * MB, "the array 1×11×512×512")
    assert time.monotonic() - start < 1
    assert not info.value.retry
    assert "more than this server's whole memory budget of 10 MB" in str(info.value)
    assert "choose a smaller size" in str(info.value)


def test_a_request_waits_for_memory_another_visitor_releases():
    budget = MemoryBudget(10 * MB, wait_seconds=5)
    first = budget.reserve(8 * MB, "first")

    def finish_later():
        time.sleep(0.3)
        first.__exit__(None, None, None)

    threading.Thread(target=finish_later).start()
    start = time.monotonic()
    with budget.reserve(6 * MB, "second"):
        waited = time.monotonic() - start
        assert budget.used_bytes == 6 * MB
    assert 0.2 < waited < 4
    assert budget.used_bytes == 0


def test_a_request_gives_up_after_the_wait():
    budget = MemoryBudget(10 * MB, wait_seconds=0.3)
    with budget.reserve(8 * MB, "first"):
        start = time.monotonic()
        with pytest.raises(NormvizError):
            budget.reserve(6 * MB, "second")
        assert 0.25 < time.monotonic() - start < 3


def test_two_visitors_asking_for_the_same_value_share_one_making():
    budget = MemoryBudget(100 * MB, wait_seconds=0)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return mb_array(1)

    got = []
    threads = [threading.Thread(target=lambda: got.append(budget.get("k", slow, need=MB, what="k"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(g is got[0] for g in got)


def test_a_failed_making_releases_its_reservation_and_is_not_cached():
    budget = MemoryBudget(10 * MB, wait_seconds=0)

    def bad():
        raise NormvizError("bad setting")

    with pytest.raises(NormvizError, match="bad setting"):
        budget.get("k", bad, need=5 * MB, what="k")
    assert budget.used_bytes == 0 and budget.cached_keys == []


@pytest.mark.parametrize(
    "value, expected", [(None, 2048 * MB), ("", 2048 * MB), ("512", 512 * MB), (" 1.5 ", int(1.5 * MB))]
)
def test_limit_from_the_environment(value, expected):
    env = {} if value is None else {"NORMVIZ_MEMORY_MB": value}
    assert limit_from_env(env) == expected


@pytest.mark.parametrize("value", ["lots", "0", "-5", "nan", "inf"])
def test_a_bad_limit_in_the_environment_says_what_to_set(value):
    with pytest.raises(NormvizError, match="NORMVIZ_MEMORY_MB=.* is not a memory budget; set it to a positive"):
        limit_from_env({"NORMVIZ_MEMORY_MB": value})

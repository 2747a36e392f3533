"""Shared timing helpers for the benchmarks."""

import time
import tracemalloc


def best_ms(func, repeat: int = 7, warmup: int = 1) -> float:
    """Minimum wall time of ``func()`` over ``repeat`` runs, in milliseconds."""
    for _ in range(warmup):
        func()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def peak_extra_bytes(func) -> int:
    """Peak memory allocated while ``func()`` runs (tracemalloc sees numpy's buffers)."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

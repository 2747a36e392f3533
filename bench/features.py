"""Feature maps (numpy) against torch.nn.functional.conv2d on the same data and thread count.

    python -m bench.features [--smoke]

``run`` returns one dict per case: name, ours_ms, ref_ms, ratio (ours / torch), note. Each time is
the minimum over several rounds of runs, each round after a pause and a warm-up. The target is a
ratio of at most 3 for 8 images of 128×128 through 16 filters of 3×3.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_ms  # noqa: E402
from normviz.core import default_threads  # noqa: E402
from normviz.inputs import NAMED_FILTERS, TensorInput, feature_maps, he_filters, named_filters  # noqa: E402

REPEATS = 15
#: Rounds of (ours, torch) per case; each side's time is its minimum over all rounds, so a burst of
#: load from other processes on a shared machine does not decide the ratio.
ROUNDS = 3
#: Before timing one library: a pause, so the worker threads of the other (OpenBLAS, OpenMP) stop
#: spinning on the cores, then a warm-up of as long and at least WARMUP_CALLS calls (oneDNN and
#: OpenMP settle slowly).
SETTLE_SECONDS = 0.5
WARMUP_CALLS = 5


def _cases(smoke: bool):
    if smoke:
        return [("feature maps 2×3×16×16, 4 random 3×3", (2, 3, 16, 16), 4, 3, False, "random")]
    return [
        ("feature maps 8×3×128×128, 16 random 3×3", (8, 3, 128, 128), 16, 3, False, "random"),
        ("feature maps 8×3×128×128, 16 random 3×3 + ReLU", (8, 3, 128, 128), 16, 3, True, "random"),
        ("feature maps 8×3×128×128, 10 named 5×5", (8, 3, 128, 128), 10, 5, False, "named"),
        ("feature maps 8×3×128×128, 64 random 5×5", (8, 3, 128, 128), 64, 5, False, "random"),
    ]


def _best_ms(function, repeats: int, settle: float) -> float:
    """Minimum wall time of ``function`` in ms, after ``settle`` s idle and ``settle`` s of warm-up."""
    time.sleep(settle)
    calls, start = 0, time.perf_counter()
    while calls < WARMUP_CALLS or time.perf_counter() - start < settle:
        function()
        calls += 1
    return best_ms(function, repeats, warmup=0)


def run(smoke: bool = False) -> list[dict]:
    """Time ``feature_maps`` and ``F.conv2d`` (same inputs, weights, padding and ReLU) per case."""
    try:
        import torch
        import torch.nn.functional as functional
    except ImportError:
        torch = None
    threads = default_threads()
    repeats = 5 if smoke else REPEATS
    settle = 0.02 if smoke else SETTLE_SECONDS
    rounds = 1 if smoke else ROUNDS
    rows = []
    previous_threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(threads)
    try:
        for name, shape, count, size, relu, bank in _cases(smoke):
            rng = np.random.default_rng(0)
            x = rng.random(shape, dtype=np.float32)
            images = TensorInput(x, "bench", tuple(map(str, range(shape[0]))), ("R", "G", "B"))
            if bank == "random":
                filters, weights = count, he_filters(count, shape[1], size, seed=0)
            else:
                filters = NAMED_FILTERS[:count]
                weights = named_filters(filters, shape[1], size)

            def ours():
                return feature_maps(images, filters=filters, kernel_size=size, relu=relu, seed=0)

            note = f"{threads} thread(s), min of {rounds}×{repeats} runs, each round after a {settle:g} s warm-up"
            if torch is None:
                ours_ms = min(_best_ms(ours, repeats, settle) for _ in range(rounds))
                rows.append(
                    dict(
                        group="features",
                        name=name,
                        ours_ms=ours_ms,
                        ref_ms=None,
                        ratio=None,
                        note=note + "; torch missing",
                    )
                )
                continue
            x_ref, w_ref = torch.from_numpy(x.copy()), torch.from_numpy(weights)

            def reference():
                with torch.no_grad():
                    out = functional.conv2d(x_ref, w_ref, padding=size // 2)
                    return functional.relu(out) if relu else out

            ours_ms = ref_ms = float("inf")
            for _ in range(rounds):
                ours_ms = min(ours_ms, _best_ms(ours, repeats, settle))
                ref_ms = min(ref_ms, _best_ms(reference, repeats, settle))
            row = dict(group="features", name=name, ours_ms=ours_ms, ref_ms=ref_ms, ratio=ours_ms / ref_ms, note=note)
            if (count, size, relu) == (16, 3, False):  # the budgeted case: 16 filters of 3×3
                row["budget"] = "≤ 3×"
            rows.append(row)
    finally:
        if torch:
            torch.set_num_threads(previous_threads)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check that it runs")
    args = parser.parse_args()
    rows = run(smoke=args.smoke)
    print(f"{'case':52} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}  note")
    for row in rows:
        ref = f"{row['ref_ms']:9.2f}" if row["ref_ms"] is not None else f"{'-':>9}"
        ratio = f"{row['ratio']:6.2f}" if row["ratio"] is not None else f"{'-':>6}"
        print(f"{row['name']:52} {row['ours_ms']:9.2f} {ref} {ratio}  {row['note']}")


if __name__ == "__main__":
    main()

"""Training: one run of the numpy CNN against the same network in PyTorch, and the default sweep.

    python -m bench.train [--smoke] [--table]

``run`` returns rows: one run (BatchNorm, B = 32, the tab's settings) in numpy and in PyTorch on one
thread each (same steps, same batches), their ratio; and the Training tab's default sweep (BatchNorm,
GroupNorm, InstanceNorm, LayerNorm; B = 2, 4, 8, 16, 32; seeds 0 and 1) against its 60 s budget, with
the load average before and after (the machine is shared: a busy machine stretches the wall time,
not the CPU time, which the note gives too). ``--table`` also prints the sweep's errors as Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from normviz.train import NormChoice, TrainingService, TrainSettings, make_dataset, plan, train_run  # noqa: E402
from normviz.train.blas import one_blas_thread  # noqa: E402
from normviz.train.results import pivot, summarize  # noqa: E402
from normviz.train.results import rows as result_rows  # noqa: E402

DEFAULT_NORMS = (
    NormChoice("BatchNorm", "NHW"),
    NormChoice("GroupNorm", "CHW", groups=4),
    NormChoice("InstanceNorm", "HW"),
    NormChoice("LayerNorm", "CHW"),
)
DEFAULT_BATCHES = (2, 4, 8, 16, 32)
DEFAULT_SEEDS = (0, 1)
BUDGET_SECONDS = 60


def _torch_run(data, settings: TrainSettings, seed: int) -> float:
    """Seconds for the same steps in PyTorch (float32, one thread, BatchNorm on the whole batch)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers, c_in = [], data.x_train.shape[1]
    for c_out in settings.widths:
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, len(data.classes)))
    opt = torch.optim.SGD(
        net.parameters(), lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(seed)
    steps = len(y) // settings.step_batch
    start = time.perf_counter()
    for _ in range(settings.epochs):
        order = torch.from_numpy(rng.permutation(len(y)))
        for k in range(steps):
            idx = order[k * settings.step_batch : (k + 1) * settings.step_batch]
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return time.perf_counter() - start


def run(smoke: bool = False, table: bool = False) -> list[dict]:
    settings = TrainSettings(epochs=1) if smoke else TrainSettings()
    per_class = (32, 16) if smoke else (256, 160)
    data = make_dataset("photo", 0, *per_class)
    rows = []
    bn = DEFAULT_NORMS[0]
    with one_blas_thread():
        train_run(data, bn, 32, 0, TrainSettings(epochs=1))  # warm-up
        cpu = time.process_time()
        ours = min(train_run(data, bn, 32, seed, settings).seconds for seed in (0, 1))
        cpu = (time.process_time() - cpu) / 2
    try:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            _torch_run(data, settings, 0)
            ref = min(_torch_run(data, settings, seed) for seed in (0, 1))
        finally:
            torch.set_num_threads(previous)
    except ImportError:
        ref = None
    steps = len(data.y_train) // settings.step_batch * settings.epochs
    rows.append(
        dict(
            group="train",
            name=f"one run: BatchNorm, B = 32, {steps} steps of 32 images",
            ours_ms=ours * 1e3,
            ref_ms=None if ref is None else ref * 1e3,
            ratio=None if ref is None else ours / ref,
            note=f"baseline: PyTorch, same net and steps; both one thread; best of 2; CPU {cpu:.2f} s per run",
        )
    )
    load_before = os.getloadavg()[0]
    service = TrainingService()
    batches = (2, 32) if smoke else DEFAULT_BATCHES
    seeds = (0,) if smoke else DEFAULT_SEEDS
    runs = plan(DEFAULT_NORMS, batches, seeds)
    start, cpu = time.perf_counter(), time.process_time()
    done = service.sweep(data, settings, runs, lambda f, t: None, lambda busy: None)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows.append(
        dict(
            group="train",
            name=f"default sweep: 4 normalizations × B {','.join(map(str, batches))} × {len(seeds)} seeds",
            ours_ms=wall * 1e3,
            budget=f"≤ {BUDGET_SECONDS} s",
            note=f"{len(runs)} runs; CPU {cpu:.1f} s; load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after",
        )
    )
    if table:
        print(error_table(result_rows(DEFAULT_NORMS, batches, seeds, done)))
    return rows


def error_table(table) -> str:
    """The sweep's test error (%) as a Markdown table: mean (lowest–highest) over seeds."""
    header, body = pivot(summarize(table), {n.label for n in DEFAULT_NORMS if n.pools_batch})
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check that it runs")
    parser.add_argument("--table", action="store_true", help="also print the sweep's errors as Markdown")
    args = parser.parse_args()
    for row in run(smoke=args.smoke, table=args.table):
        print(row)


if __name__ == "__main__":
    main()

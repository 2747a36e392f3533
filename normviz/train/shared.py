"""Training shared by every visitor of one server process: a cache of finished runs and a queue of one.

``TrainingService.sweep`` runs the runs of a plan that are not cached yet, one training at a time
per process (a visitor who asks while another's sweep runs waits, told for how long); finished runs
are kept per (data, settings, run) for everyone, so a cancelled sweep loses only the run in progress.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .blas import one_blas_thread
from .data import Dataset
from .loop import PlannedRun, RunResult, TrainSettings, train_run

#: Seconds one run takes before any was measured (the default settings, a quiet 2-core machine).
FIRST_GUESS_SECONDS = 2.5


@dataclass(frozen=True)
class Busy:
    """What a waiting visitor is told: runs left in the sweep that holds the trainer, and seconds."""

    runs_left: int
    seconds_left: float


class TrainingService:
    """Runs, caches and queues trainings. ``max_runs``: finished runs kept (oldest dropped first)."""

    def __init__(self, max_runs: int = 2000):
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()
        self._trainer = threading.Lock()
        self._max_runs = max_runs
        self._seconds_per_run = FIRST_GUESS_SECONDS
        self._left = 0

    @staticmethod
    def key(data: Dataset, settings: TrainSettings, run: PlannedRun) -> tuple:
        return (data.key, settings, run.norm, run.batch, run.seed)

    def cached(self, data: Dataset, settings: TrainSettings, runs) -> dict[PlannedRun, RunResult]:
        """The finished runs among ``runs``."""
        with self._cache_lock:
            return {r: self._cache[k] for r in runs if (k := self.key(data, settings, r)) in self._cache}

    def estimate(self, runs_to_train: int) -> float:
        """Seconds ``runs_to_train`` runs should take, from the runs measured so far."""
        return runs_to_train * self._seconds_per_run

    def busy(self) -> Busy | None:
        """None when no training runs in this process, else how much of it is left."""
        if not self._trainer.locked():
            return None
        return Busy(self._left, self.estimate(self._left))

    def sweep(
        self,
        data: Dataset,
        settings: TrainSettings,
        runs: list[PlannedRun],
        on_progress: Callable[[float, str], None],
        on_wait: Callable[[Busy], None],
        poll_seconds: float = 0.5,
    ) -> dict[PlannedRun, RunResult]:
        """Train every run of ``runs`` not cached yet, then return them all.

        on_progress(fraction of the sweep done, text) is called during training; on_wait(Busy)
        every ``poll_seconds`` while another sweep holds the trainer. Either may raise to stop (a
        run in progress is dropped; finished ones stay cached)."""
        while not self._trainer.acquire(timeout=poll_seconds):
            on_wait(self.busy() or Busy(0, 0.0))
        try:
            done = self.cached(data, settings, runs)
            todo = [r for r in runs if r not in done]
            self._left = len(todo)
            with one_blas_thread():
                for i, run in enumerate(todo):
                    label = f"{run.norm.label}" + (f", batch {run.batch}" if run.batch else "") + f", seed {run.seed}"
                    text = f"Training {i + 1} of {len(todo)}: {label}"
                    on_progress(i / len(todo), text)
                    result = train_run(
                        data,
                        run.norm,
                        run.batch,
                        run.seed,
                        settings,
                        on_step=lambda f, i=i, text=text: on_progress((i + f) / len(todo), text),
                    )
                    self._store(self.key(data, settings, run), result)
                    self._left = len(todo) - i - 1
                    self._seconds_per_run = 0.5 * self._seconds_per_run + 0.5 * result.seconds
        finally:
            self._left = 0
            self._trainer.release()
        on_progress(1.0, "Done")
        return self.cached(data, settings, runs)

    def _store(self, key, result: RunResult) -> None:
        with self._cache_lock:
            self._cache[key] = result
            while len(self._cache) > self._max_runs:
                self._cache.popitem(last=False)

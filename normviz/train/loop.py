"""One training run, and the plan of runs a sweep over normalizations, batch sizes and seeds needs.

Every SGD step takes ``step_batch`` = 32 images. The batch size of the sweep is the number of images
a normalization layer pools its statistics over (the images per GPU of the Group Normalization
paper's Figure 1): a step's 32 images are normalized in 32/B separate batches of B. So every run
takes the same steps on the same images, and only the statistics change. A normalization that does
not reduce N gives every image its own statistics, so B changes nothing and one run serves every B.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import NormvizError
from .data import Dataset
from .model import SGD, Model, NormChoice, init_weights


class Cancelled(Exception):
    """A run was stopped before it finished."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything but the normalization, the batch size and the seed that decides a run."""

    epochs: int = 5
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    step_batch: int = 32
    widths: tuple[int, ...] = (8, 16)
    bn_momentum: float = 0.1


@dataclass(frozen=True, eq=False)
class RunResult:
    """One run. epoch_* are per epoch (length ``epochs``): the mean training loss and error of the
    epoch's steps, and the test error in eval mode after it. test_error: eval mode after training;
    test_error_batch: the test set normalized in batches of B with their own statistics (what a
    model left in training mode does), equal to test_error when N is not reduced. Errors are
    fractions; seconds is the wall time of the run."""

    norm: NormChoice
    batch: int | None
    seed: int
    epoch_loss: tuple[float, ...]
    epoch_train_error: tuple[float, ...]
    epoch_test_error: tuple[float, ...]
    test_error: float
    test_error_batch: float
    seconds: float = field(default=0.0)


def _error(model: Model, x: np.ndarray, y: np.ndarray, batch: int | None = None) -> float:
    """Test error in eval mode, or (``batch`` given) with statistics of consecutive batches of B."""
    if batch is None:
        wrong = sum(
            int((model.forward(x[i : i + 256], train=False).argmax(1) != y[i : i + 256]).sum())
            for i in range(0, len(y), 256)
        )
        return wrong / len(y)
    norms = model.norm_layers()
    saved = [(n.running_mean, n.running_spread) for n in norms]
    usable = len(y) - len(y) % batch
    wrong = 0
    for i in range(0, usable, 256 - 256 % batch):
        j = min(usable, i + 256 - 256 % batch)
        wrong += int((model.forward(x[i:j], train=True).argmax(1) != y[i:j]).sum())
    for n, (mean, spread) in zip(norms, saved):
        n.running_mean, n.running_spread = mean, spread
    return wrong / usable


def train_run(
    data: Dataset,
    norm: NormChoice,
    batch: int | None,
    seed: int,
    settings: TrainSettings = TrainSettings(),
    on_step: Callable[[float], None] | None = None,
) -> RunResult:
    """Train the CNN from ``seed`` (weights and order of the images) with ``norm`` pooling over
    ``batch`` images (None: the whole step batch), and measure it.

    ``on_step(fraction done)`` is called every few steps; it may raise (e.g. ``Cancelled``) to stop.
    """
    if batch is not None and not (1 <= batch <= settings.step_batch and settings.step_batch % batch == 0):
        sizes = ", ".join(str(d) for d in range(1, settings.step_batch + 1) if settings.step_batch % d == 0)
        raise NormvizError(
            f"batch size {batch} must divide the {settings.step_batch} images of a training step; "
            f"choose one of {sizes}."
        )
    start = time.perf_counter()
    rng = np.random.default_rng([seed, 7])
    classes = len(data.classes)
    weights = init_weights(rng, settings.widths, data.x_train.shape[1], classes)
    norm_batch = settings.step_batch if batch is None else batch
    model = Model(weights, norm, momentum=settings.bn_momentum, norm_batch=norm_batch)
    opt = SGD(model, settings.lr, settings.momentum, settings.weight_decay)
    steps_per_epoch = len(data.y_train) // settings.step_batch
    total = steps_per_epoch * settings.epochs
    losses, train_errors, test_errors = [], [], []
    step = 0
    for _ in range(settings.epochs):
        order = rng.permutation(len(data.y_train))
        epoch_loss, epoch_wrong = 0.0, 0
        for k in range(steps_per_epoch):
            idx = order[k * settings.step_batch : (k + 1) * settings.step_batch]
            opt.lr = settings.lr * 0.5 * (1 + math.cos(math.pi * step / total))  # cosine schedule
            loss, logits = model.loss_and_grads(data.x_train[idx], data.y_train[idx])
            opt.step()
            epoch_loss += loss
            epoch_wrong += int((logits.argmax(1) != data.y_train[idx]).sum())
            step += 1
            if on_step is not None and step % 8 == 0:
                on_step(step / total)
        losses.append(epoch_loss / steps_per_epoch)
        train_errors.append(epoch_wrong / (steps_per_epoch * settings.step_batch))
        test_errors.append(_error(model, data.x_test, data.y_test))
    mixed = np.random.default_rng([seed, 8]).permutation(len(data.y_test))  # batches mix the photos
    batch_error = (
        _error(model, data.x_test[mixed], data.y_test[mixed], norm_batch) if norm.pools_batch else test_errors[-1]
    )
    return RunResult(
        norm=norm,
        batch=batch,
        seed=seed,
        epoch_loss=tuple(losses),
        epoch_train_error=tuple(train_errors),
        epoch_test_error=tuple(test_errors),
        test_error=test_errors[-1],
        test_error_batch=batch_error,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: ``batch`` is None when the normalization does not reduce N."""

    norm: NormChoice
    batch: int | None
    seed: int


def plan(norms, batches, seeds) -> list[PlannedRun]:
    """The distinct runs a sweep needs, normalizations that pool over N first at each batch size."""
    runs = []
    for norm in norms:
        for seed in seeds:
            if norm.pools_batch:
                runs += [PlannedRun(norm, int(b), int(seed)) for b in sorted(batches)]
            else:
                runs.append(PlannedRun(norm, None, int(seed)))
    return runs

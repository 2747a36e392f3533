"""Train vs eval mode for BatchNorm: running statistics over a sequence of mini-batches.

``simulate_running_stats`` feeds x (N, C, H, W) through training-mode BatchNorm in order, batch by
batch, updating the running mean and variance the way PyTorch or Keras/Flax do, then normalizes all
of x in eval mode with the final running statistics. Train-mode outputs come from normviz.normalize
on each batch, so they match the rest of the app.

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(6, 2, 4, 4)).astype(np.float32)
>>> run = simulate_running_stats(x, batch_size=4)          # batches of 4 and 2 samples
>>> run.batches, run.running_mean.shape
(((0, 4), (4, 6)), (3, 2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .core import normalize
from .errors import NormvizError


@dataclass(frozen=True)
class Convention:
    """How a framework updates BatchNorm's running statistics.

    momentum_weighs: "new" (PyTorch: running ← (1 − m)·running + m·batch) or "old" (Keras, Flax:
    running ← m·running + (1 − m)·batch). unbiased: the running variance stores n/(n − 1)·σ².
    """

    label: str
    momentum: float
    eps: float
    momentum_weighs: str
    unbiased: bool


CONVENTIONS = {
    "pytorch": Convention("PyTorch BatchNorm2d", 0.1, 1e-5, "new", True),
    "keras": Convention("Keras BatchNormalization", 0.99, 1e-3, "old", False),
    "flax": Convention("Flax BatchNorm", 0.99, 1e-5, "old", False),
}
_DEFAULT = object()


@dataclass(frozen=True, eq=False)
class RunningStats:
    """What ``simulate_running_stats`` returns.

    batches: (start, stop) sample ranges of one epoch, in order. batch_mean, batch_var: float64
    arrays of shape (steps, C), each step's batch mean and biased variance. running_mean,
    running_var: float64 (steps + 1, C), the running statistics before the first step and after each
    (running_var as the framework stores it: unbiased for PyTorch). input_mean, input_var: (C,),
    mean and biased variance over all of x. train_output: float32 (fed, C, H, W), each fed sample
    normalized with its batch's statistics. eval_output: float32 (N, C, H, W), all of x normalized
    with the final running statistics.
    """

    convention: str
    momentum: float | None
    eps: float
    batch_size: int
    epochs: int
    drop_last: bool
    batches: tuple[tuple[int, int], ...]
    batch_mean: np.ndarray
    batch_var: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray
    input_mean: np.ndarray
    input_var: np.ndarray
    train_output: np.ndarray
    eval_output: np.ndarray

    @property
    def steps(self) -> int:
        """Number of training steps (batches × epochs)."""
        return len(self.batch_mean)

    @property
    def fed(self) -> int:
        """Samples that went through training mode (all but a dropped last batch)."""
        return len(self.train_output)

    @property
    def dropped(self) -> int:
        """Samples of a dropped last partial batch (0 unless drop_last)."""
        return len(self.eval_output) - self.fed

    @property
    def difference(self) -> np.ndarray:
        """eval − train output for the fed samples, float32 (fed, C, H, W)."""
        return self.eval_output[: self.fed] - self.train_output

    @property
    def max_abs_difference(self) -> float:
        """Largest |eval − train| over the fed samples."""
        return float(np.abs(self.difference).max())


def batch_ranges(n: int, batch_size: int, drop_last: bool = False) -> tuple[tuple[int, int], ...]:
    """The (start, stop) ranges of consecutive batches over ``n`` samples.

    The last batch holds the remaining n mod batch_size samples unless ``drop_last`` (as in
    PyTorch's DataLoader).

    >>> batch_ranges(10, 4), batch_ranges(10, 4, drop_last=True)
    (((0, 4), (4, 8), (8, 10)), ((0, 4), (4, 8)))
    """
    stops = range(batch_size, n + batch_size, batch_size)
    ranges = tuple((stop - batch_size, min(stop, n)) for stop in stops)
    return tuple(r for r in ranges if not drop_last or r[1] - r[0] == batch_size)


def simulate_running_stats(
    x,
    batch_size: int,
    *,
    convention: str = "pytorch",
    momentum=_DEFAULT,
    eps: float | None = None,
    epochs: int = 1,
    drop_last: bool = False,
    gamma=None,
    beta=None,
) -> RunningStats:
    """Train BatchNorm on x in consecutive mini-batches, then normalize x in eval mode.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W).
    batch_size : samples per batch; batches are taken in order, and the last one holds the
        remainder (N mod batch_size samples) unless ``drop_last``.
    convention : "pytorch" (momentum 0.1 on the new batch, unbiased running variance), "keras" or
        "flax" (momentum 0.99 on the old average, biased running variance). See ``CONVENTIONS``.
    momentum : the framework's momentum (default: its default); PyTorch's None is a cumulative
        average of all batches seen.
    eps : ε (default: the framework's, 1e-5 / 1e-3 / 1e-5).
    epochs : passes over x, each in the same order.
    drop_last : skip a last batch smaller than ``batch_size``.
    gamma, beta : optional per-channel scale and shift, shape (C,).

    Returns
    -------
    RunningStats; running statistics start at mean 0 and variance 1, as in every framework.
    """
    conv = _convention(convention)
    momentum = conv.momentum if momentum is _DEFAULT else momentum
    _check_momentum(momentum, convention)
    eps = conv.eps if eps is None else eps
    x = np.asarray(x)
    first = normalize(x[:1], "NHW", eps=eps, gamma=gamma, beta=beta)  # validates x, eps, gamma, beta
    n, c, h, w = x.shape
    batch_size, epochs = _whole(batch_size, "batch_size"), _whole(epochs, "epochs")
    batches = batch_ranges(n, batch_size, drop_last)
    if not batches:
        raise NormvizError(
            f"batch_size={batch_size} is larger than N={n} and drop_last is on, so no batch is left to train "
            f"on; choose batch_size ≤ {n} or keep the partial batch."
        )
    if conv.unbiased:
        for start, stop in batches:
            if (stop - start) * h * w == 1:
                raise NormvizError(
                    f"batch {start}:{stop} holds one value per channel (N·H·W = 1); PyTorch's BatchNorm2d raises "
                    "“Expected more than 1 value per channel when training” here (its unbiased running variance "
                    "would divide by zero). Choose a batch size ≥ 2 or drop the last partial batch."
                )
    outputs, means, variances = [], [], []
    for start, stop in batches:
        res = normalize(x[start:stop], "NHW", eps=eps, gamma=first.gamma, beta=first.beta)
        outputs.append(res.y)
        means.append(res.mean.reshape(c))
        variances.append(res.var.reshape(c))
    batch_mean = np.tile(np.array(means), (epochs, 1))
    batch_var = np.tile(np.array(variances), (epochs, 1))
    counts = np.tile([(stop - start) * h * w for start, stop in batches], epochs)
    running_mean, running_var = _update(conv, momentum, batch_mean, batch_var, counts)
    whole = normalize(x, "NHW", eps=eps)
    return RunningStats(
        convention=convention,
        momentum=momentum,
        eps=float(eps),
        batch_size=batch_size,
        epochs=epochs,
        drop_last=bool(drop_last),
        batches=batches,
        batch_mean=batch_mean,
        batch_var=batch_var,
        running_mean=running_mean,
        running_var=running_var,
        input_mean=whole.mean.reshape(c),
        input_var=whole.var.reshape(c),
        train_output=np.concatenate(outputs),
        eval_output=eval_normalize(x, running_mean[-1], running_var[-1], eps, first.gamma, first.beta),
    )


def _update(conv: Convention, momentum, batch_mean, batch_var, counts):
    """The running statistics before and after each step: two float64 arrays (steps + 1, C)."""
    steps, channels = batch_mean.shape
    new_var = batch_var * (counts / np.maximum(counts - 1, 1))[:, None] if conv.unbiased else batch_var
    mean = np.empty((steps + 1, channels))
    var = np.empty((steps + 1, channels))
    mean[0], var[0] = 0.0, 1.0
    for k in range(steps):
        if momentum is None:
            weight = 1.0 / (k + 1)
        else:
            weight = momentum if conv.momentum_weighs == "new" else 1.0 - momentum
        mean[k + 1] = (1.0 - weight) * mean[k] + weight * batch_mean[k]
        var[k + 1] = (1.0 - weight) * var[k] + weight * new_var[k]
    return mean, var


def eval_normalize(x, mean, var, eps: float, gamma=None, beta=None) -> np.ndarray:
    """Eval-mode BatchNorm: γ_c · (x − mean_c) / √(var_c + ε) + β_c with stored statistics.

    x: (N, C, H, W); mean, var, gamma, beta: (C,). Returns float32 (N, C, H, W).

    Float32 data is processed in float32, one sample at a time, as the kernel does it:
    y = (x − K)·s + (β − (mean − K)·s) with K the float32 rounding of the mean, so the low bits of
    the mean still count; other dtypes go through float64.
    """
    x = np.asarray(x)
    c = x.shape[1]
    mean = np.asarray(mean, np.float64).reshape(c)
    scale = np.asarray(1.0 if gamma is None else gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    scale = np.broadcast_to(scale, (c,))
    beta = np.broadcast_to(np.asarray(0.0 if beta is None else beta, np.float64), (c,))
    if x.dtype != np.float32:
        y = (x.astype(np.float64) - mean[None, :, None, None]) * scale[None, :, None, None]
        return (y + beta[None, :, None, None]).astype(np.float32)
    shift = mean.astype(np.float32)[:, None, None]
    offset = (beta - (mean - shift.reshape(c).astype(np.float64)) * scale).astype(np.float32)[:, None, None]
    scale32 = scale.astype(np.float32)[:, None, None]
    y = np.empty(x.shape, np.float32)
    for sample, out in zip(x, y):
        np.subtract(sample, shift, out=out)
        out *= scale32
        out += offset
    return y


def _convention(name: str) -> Convention:
    if name not in CONVENTIONS:
        raise NormvizError(f"unknown convention {name!r}; choose one of {', '.join(CONVENTIONS)}.")
    return CONVENTIONS[name]


def _check_momentum(momentum, convention: str) -> None:
    if momentum is None:
        if convention != "pytorch":
            raise NormvizError(
                f"momentum=None (a cumulative average) is PyTorch's option; {convention} needs a number in [0, 1)."
            )
        return
    try:
        value = float(momentum)
    except (TypeError, ValueError):
        raise NormvizError(f"momentum must be a number; got {momentum!r}.") from None
    if convention == "pytorch" and not 0.0 < value <= 1.0:
        raise NormvizError(
            f"PyTorch's momentum is the weight of the new batch and must be in (0, 1]; got {momentum!r} "
            "(default 0.1; Keras's 0.99 corresponds to PyTorch's 0.01)."
        )
    if convention != "pytorch" and not (0.0 <= value < 1.0 and math.isfinite(value)):
        raise NormvizError(
            f"{convention}'s momentum is the weight of the old average and must be in [0, 1); got {momentum!r} "
            "(default 0.99; PyTorch's 0.1 corresponds to 0.9 here)."
        )


def _whole(value, name: str) -> int:
    try:
        whole = not isinstance(value, bool) and float(value).is_integer() and value >= 1
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise NormvizError(f"{name} must be a whole number ≥ 1; got {value!r}.")
    return int(value)

"""The batch-size experiment: how much BatchNorm's statistics move from batch to batch, next to GroupNorm's.

From a pool — random crops of the input's samples, or the samples themselves — draw many random
batches for each batch size. For every draw, record the statistics that normalize the batch's first
sample: BatchNorm's (per channel, over the whole batch) and GroupNorm's (per group, over that sample
alone). Batches are nested (the batch of size B is the first B samples of the draw's batch of the
largest size), so every batch size sees the same first samples and only the pooling differs. The
spread of a statistic is its standard deviation across draws.

>>> import numpy as np
>>> x = np.random.default_rng(0).random((6, 3, 24, 24), dtype=np.float32)
>>> exp = batch_size_experiment(x, crop=8, draws=50, groups=1, seed=0)
>>> bool(exp.bn_mean_spread.mean(axis=1)[-1] < exp.bn_mean_spread.mean(axis=1)[0])
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .core import describe_nonfinite, normalize
from .errors import NormvizError
from .spec import default_groups, divisors

BATCH_SIZES = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class PaperNumbers:
    """Numbers reported in the Group Normalization paper — quoted, not computed by normviz.

    ResNet-50 trained on ImageNet, top-1 validation error in %. by_batch_size: images per GPU →
    error for BatchNorm and GroupNorm (32 groups); at_32: every method at 32 images per GPU;
    by_groups: GroupNorm's error for each number of groups G at 32 images per GPU.
    """

    source: str
    batch_sizes: tuple[int, ...]
    batchnorm: tuple[float, ...]
    groupnorm: tuple[float, ...]
    at_32: MappingProxyType
    by_groups: MappingProxyType


GN_PAPER_IMAGENET = PaperNumbers(
    source="Wu & He, Group Normalization, ECCV 2018 (arXiv 1803.08494): ResNet-50, ImageNet validation error (%)",
    batch_sizes=(32, 16, 8, 4, 2),
    batchnorm=(23.6, 23.7, 24.8, 27.3, 34.7),
    groupnorm=(24.1, 24.2, 24.0, 24.2, 24.1),
    at_32=MappingProxyType({"BatchNorm": 23.6, "LayerNorm": 25.3, "InstanceNorm": 28.4, "GroupNorm": 24.1}),
    by_groups=MappingProxyType({64: 24.6, 32: 24.1, 16: 24.6, 8: 24.4, 4: 24.6, 2: 24.7, 1: 25.3}),
)


@dataclass(frozen=True, eq=False)
class BatchSizeExperiment:
    """What ``batch_size_experiment`` returns. K = len(batch_sizes), D = draws, G = groups.

    bn_mean, bn_var: float64 (K, D, C), BatchNorm's mean and biased variance for each batch size and
    draw. gn_mean, gn_var: (K, D, G), GroupNorm's for the same batches' first samples. in_mean,
    in_var: (D, C), InstanceNorm's statistics of each draw's first sample, computed by
    normviz.normalize on the crop itself. pool_mean, pool_var: (C,), over the whole input.
    picks: int (D, B_max, 3), each draw's samples as (sample index, top, left) of its crop; the batch
    of size B is a draw's first B picks. crop: (h, w) of the crops, or None when whole samples are
    drawn. seconds: run time.
    """

    batch_sizes: tuple[int, ...]
    draws: int
    crop: tuple[int, int] | None
    groups: int
    seed: int
    bn_mean: np.ndarray
    bn_var: np.ndarray
    gn_mean: np.ndarray
    gn_var: np.ndarray
    in_mean: np.ndarray
    in_var: np.ndarray
    pool_mean: np.ndarray
    pool_var: np.ndarray
    picks: np.ndarray
    seconds: float

    @property
    def bn_mean_spread(self) -> np.ndarray:
        """Std across draws of BatchNorm's mean, (K, C)."""
        return self.bn_mean.std(axis=1, ddof=1)

    @property
    def bn_std_spread(self) -> np.ndarray:
        """Std across draws of BatchNorm's σ = √var, (K, C)."""
        return np.sqrt(self.bn_var).std(axis=1, ddof=1)

    @property
    def gn_mean_spread(self) -> np.ndarray:
        """Std across draws of GroupNorm's mean, (K, G)."""
        return self.gn_mean.std(axis=1, ddof=1)

    @property
    def gn_std_spread(self) -> np.ndarray:
        """Std across draws of GroupNorm's σ, (K, G)."""
        return np.sqrt(self.gn_var).std(axis=1, ddof=1)

    @property
    def bn_equals_in_at_1(self) -> float | None:
        """Largest |BatchNorm − InstanceNorm| over means and variances at batch size 1, or None when 1
        is not among the batch sizes. Both come from the same crops by different code (float32 rounding
        in normviz.normalize leaves ~1e-7 for values in [0, 1])."""
        if 1 not in self.batch_sizes:
            return None
        k = self.batch_sizes.index(1)
        return float(max(np.abs(self.bn_mean[k] - self.in_mean).max(), np.abs(self.bn_var[k] - self.in_var).max()))


def batch_size_experiment(
    x,
    *,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    draws: int = 200,
    crop: int | tuple[int, int] | None = None,
    groups: int | None = None,
    seed: int = 0,
    on_progress: Callable[[float], None] | None = None,
) -> BatchSizeExperiment:
    """Measure the spread of BatchNorm's and GroupNorm's statistics for each batch size.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), the pool's source (e.g. images as (N, 3, H, W) in [0, 1]).
    batch_sizes : increasing batch sizes; samples are drawn with replacement, so they may exceed N.
    draws : random batches per batch size (≥ 2).
    crop : size of random crops (an int for a square, or (h, w)); None draws whole samples.
    groups : GroupNorm's G; default ``default_groups(C)`` (32, or the largest divisor of C below it).
    seed : seeds the draws; the same seed gives the same result.
    on_progress : called with a fraction in [0, 1] as the work proceeds.
    """
    start = time.perf_counter()
    x = _pool_tensor(x)
    n, c, h, w = x.shape
    sizes = _batch_sizes(batch_sizes)
    draws = _count(draws, "draws", 2)
    groups = default_groups(c) if groups is None else groups
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 or c % groups:
        raise NormvizError(f"groups={groups!r} must divide the number of channels C={c}; choose one of "
                           f"{', '.join(map(str, divisors(c)))}.")  # fmt: skip
    ch, cw = _crop_size(crop, h, w)
    report = on_progress or (lambda fraction: None)
    report(0.0)

    rng = np.random.default_rng(seed)
    largest = sizes[-1]
    sample = rng.integers(n, size=(draws, largest))
    top = rng.integers(h - ch + 1, size=(draws, largest))
    left = rng.integers(w - cw + 1, size=(draws, largest))
    shift = x.mean(axis=(0, 2, 3), dtype=np.float64)
    sums, squares = _crop_sums(x, shift, sample, top, left, ch, cw)  # (D, B, C): Σ(x − shift), Σ(x − shift)²
    report(0.4)

    m = ch * cw
    bn_mean, bn_var, gn_mean, gn_var = [], [], [], []
    running_sums, running_squares = np.cumsum(sums, axis=1), np.cumsum(squares, axis=1)
    for k, size in enumerate(sizes):
        count = size * m
        mean = running_sums[:, size - 1] / count
        bn_mean.append(mean + shift)
        bn_var.append(np.maximum(running_squares[:, size - 1] / count - mean**2, 0.0))
        first_mean, first_var = _group_stats(sums[:, :size], squares[:, :size], shift, m, groups)
        gn_mean.append(first_mean[:, 0])
        gn_var.append(first_var[:, 0])
        report(0.4 + 0.5 * (k + 1) / len(sizes))

    crops = _first_crops(x, sample[:, 0], top[:, 0], left[:, 0], ch, cw)
    instance = normalize(crops, "HW")
    whole = normalize(x, "NHW")
    report(1.0)
    return BatchSizeExperiment(
        batch_sizes=sizes,
        draws=draws,
        crop=None if crop is None else (ch, cw),
        groups=int(groups),
        seed=int(seed),
        bn_mean=np.stack(bn_mean),
        bn_var=np.stack(bn_var),
        gn_mean=np.stack(gn_mean),
        gn_var=np.stack(gn_var),
        in_mean=instance.mean.reshape(draws, c),
        in_var=instance.var.reshape(draws, c),
        pool_mean=whole.mean.reshape(c),
        pool_var=whole.var.reshape(c),
        picks=np.stack([sample, top, left], axis=2),
        seconds=time.perf_counter() - start,
    )


def _crop_sums(x, shift, sample, top, left, ch, cw):
    """Per-crop, per-channel sums of (x − shift) and of its square, (D, B, C) each, from summed-area
    tables built one channel at a time (float64)."""
    draws, largest = sample.shape
    sums = np.empty((draws, largest, x.shape[1]))
    squares = np.empty_like(sums)
    bottom, right = top + ch, left + cw
    for channel in range(x.shape[1]):
        centred = x[:, channel].astype(np.float64) - shift[channel]
        for out, values in ((sums, centred), (squares, centred**2)):
            table = np.zeros((x.shape[0], x.shape[2] + 1, x.shape[3] + 1))
            np.cumsum(np.cumsum(values, axis=1), axis=2, out=table[:, 1:, 1:])
            out[..., channel] = (
                table[sample, bottom, right] - table[sample, top, right] - table[sample, bottom, left]
                + table[sample, top, left]
            )  # fmt: skip
    return sums, squares


def _group_stats(sums, squares, shift, m, groups):
    """GroupNorm's mean and biased variance for every sample of the batches: (D, B, G) each.

    sums, squares: (D, B, C) per-channel sums of (x − shift_c) and its square over m values each.
    They are re-centred on one shift per group before pooling the group's channels."""
    d, b, c = sums.shape
    per_group = c // groups
    group_shift = shift.reshape(groups, per_group).mean(axis=1)
    offset = shift - np.repeat(group_shift, per_group)  # shift_c − shift_g
    centred = sums + m * offset
    centred_sq = squares + 2 * offset * sums + m * offset**2
    count = m * per_group
    dev = centred.reshape(d, b, groups, per_group).sum(axis=3) / count
    var = centred_sq.reshape(d, b, groups, per_group).sum(axis=3) / count - dev**2
    return dev + group_shift, np.maximum(var, 0.0)


def _first_crops(x, sample, top, left, ch, cw) -> np.ndarray:
    """The crops x[sample, :, top:top+ch, left:left+cw] for each draw: (D, C, ch, cw)."""
    rows = (top[:, None] + np.arange(ch))[:, None, :, None]
    cols = (left[:, None] + np.arange(cw))[:, None, None, :]
    return x[sample[:, None, None, None], np.arange(x.shape[1])[None, :, None, None], rows, cols]


def _pool_tensor(x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 4 or 0 in arr.shape or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise NormvizError(
            f"the pool must be a real (N, C, H, W) array; got {arr.ndim}-D {arr.dtype} of shape {arr.shape}."
        )
    message = describe_nonfinite(arr)
    if message:
        raise NormvizError(message)
    return arr


def _batch_sizes(values) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in values if float(v).is_integer())
        ok = len(sizes) == len(tuple(values)) and len(sizes) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok or min(sizes) < 1 or list(sizes) != sorted(set(sizes)):
        raise NormvizError(f"batch_sizes must be increasing whole numbers ≥ 1, e.g. {BATCH_SIZES}; got {values!r}.")
    return sizes


def _count(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise NormvizError(f"{name} must be a whole number ≥ {low}; got {value!r}.")
    return int(value)


def _crop_size(crop, h: int, w: int) -> tuple[int, int]:
    if crop is None:
        return h, w
    size = (crop, crop) if isinstance(crop, (int, np.integer)) else tuple(crop)
    if len(size) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size):
        raise NormvizError(f"crop must be a whole number ≥ 1 or a pair (h, w); got {crop!r}.")
    if size[0] > h or size[1] > w:
        raise NormvizError(
            f"crop {size[0]}×{size[1]} is larger than the samples ({h}×{w}); choose at most {min(h, w)}."
        )
    return int(size[0]), int(size[1])

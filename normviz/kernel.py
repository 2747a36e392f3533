"""The blocked normalization kernel behind ``normviz.normalize`` (pure numpy).

The tensor is viewed as five axes (N, G, Cg, H, W): channels split into G groups of Cg channels when
C is reduced, or G = C groups of one channel when C is kept. A statistic reduces some of N, Cg, H, W.

Accuracy: every group is summed as deviations x − K from a shift K within σ/4 of its mean μ, so
Σ(x − K)² = M2 + n(μ − K)² ≤ (1 + 1/16)·M2 and the shift costs at most 1/16 of σ² in cancellation.
Over contiguous rows (the common layouts) K = 0 is tried when the head of each row suggests it: the
data are then their own (exact) deviations and need no subtraction pass. K = 0 is kept only where 0
lies within σ/4 of every group's mean in the block, judged from the same sums (their error ε·Σx²
moves the σ/4 line by a factor 1 + O(ε) only); otherwise K is the mean from a first summing pass
(always so in other layouts), and once more the better mean should a large offset have rounded it.
The deviations and their squares are summed in the data's precision over runs of at most ``CHUNK``
values (BLAS dot products along contiguous rows; in other layouts a group of at most ``CHUNK``
values, such as 64 channels or a batch of 32, is one run); every sum above that — across runs, rows
and blocks — is float64, blocks are merged with Chan's formula, and the mean is K plus the mean deviation. So there
is no E[x²] − E[x]² cancellation and a 1e4 offset costs nothing. The output is formed from the
deviations, y = (x − K)·s + (β − (μ − K)·s), which keeps the low bits of μ that float32 cannot hold
(|μ − K|·s ≤ |γ|/4).

Speed: groups of up to ``FUSED_GROUP_LIMIT`` values get statistics and output block by block, each
block's passes following one another: two summing passes and two writing ones (x·s, then + the
offset) when K = 0; a sum, a subtraction and two sums of the deviations before them with a shift.
Blocks run on threads that each take the next block as they finish one (numpy releases the GIL).

Deferred output: ``run(emit=False)`` does the summing passes alone and keeps each group's shift K;
``write`` then forms any boxes of y from the statistics with the same elementwise arithmetic, so a
plane formed alone is bit for bit the plane of a whole run.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from itertools import product

import numpy as np

#: Elements per block (float32: 16 MB), the unit of work of one thread, where a block needs no
#: work buffer. Measured on 32×64×56×56: fewer, larger blocks beat L2-sized ones here (each block
#: costs ~40 µs of Python with the GIL held, more than its passes gained from L2).
BLOCK_ELEMENTS = 1 << 22
#: Elements per block (float32: 2 MB) where each thread needs block-sized work buffers (a
#: conversion, deviations outside y, squares): they stay small next to the input.
SCRATCH_BLOCK_ELEMENTS = 1 << 19
#: Inputs are split among the threads down to blocks of this many elements (float32: 256 KB).
MIN_BLOCK_ELEMENTS = 1 << 16
#: The output passes go over a block in slices of about this many elements (at least one index of
#: its first axis), the second pass finding each slice still in cache (float32: 256 KB).
EMIT_ELEMENTS = 1 << 16
#: Groups of up to this many values get statistics and output block by block (a block spans
#: whole groups); larger ones get statistics first, merged across blocks, then the output.
FUSED_GROUP_LIMIT = 1 << 22
#: Longest run summed in the data's precision before the sum moves to float64.
CHUNK = 512
#: Values at the head of each row that guess whether K = 0 is worth trying.
HEAD = 256
_STAT_AXES = (0, 2, 3, 4)  # N, Cg, H, W in the (N, G, Cg, H, W) view
_HELPERS = 7  # threads beyond the caller's (normviz.core.default_threads allows at most 8 in all)
_POOL = ThreadPoolExecutor(max_workers=_HELPERS, thread_name_prefix="normviz-kernel")


class NonFinite(Exception):
    """A statistic came out NaN or Inf (NaN/Inf in the data, or float32 overflow)."""


class Kernel:
    """One run: ``Kernel(x, spec, gamma, beta, threads, work).run() -> (y, mean5, var5)``.

    x: ndarray (N, C, H, W). gamma, beta: float64 (C,) or None. work: np.float32 or np.float64,
    the precision of the elementwise arithmetic. Statistics come back on the (N, G, 1, H, W) grid
    with size 1 on reduced axes.
    """

    def __init__(self, x, spec, gamma, beta, threads: int, work):
        n, c, h, w = x.shape
        g = spec.groups if "C" in spec.axes else c
        self.shape = x.shape
        self.view5 = (n, g, c // g, h, w)
        self.x5 = np.ascontiguousarray(x).reshape(self.view5)
        self.work = work
        self.center = spec.center
        self.eps = spec.eps
        self.reduced = tuple(ax for ax, letter in zip(_STAT_AXES, "NCHW") if letter in spec.axes and self.view5[ax] > 1)
        self.count = int(math.prod(self.view5[ax] for ax in self.reduced))
        self.stats5 = tuple(1 if ax in self.reduced or ax == 2 else s for ax, s in enumerate(self.view5))
        self.gamma5 = None if gamma is None else gamma.reshape(1, g, c // g, 1, 1)
        self.beta5 = None if beta is None else beta.reshape(1, g, c // g, 1, 1)
        self.threads = threads
        self.run_start = self._run_start(gamma is not None or beta is not None)
        self._local = threading.local()

    def _run_start(self, affine: bool) -> int | None:
        """First axis of the trailing run of reduced (or length-1) axes, summed as contiguous rows;
        None when the innermost axis is kept. γ, β vary along Cg, so they end the run there."""
        start = None
        for ax in reversed(range(5)):
            varies = affine and ax == 2 and self.view5[2] > 1
            if (ax in self.reduced or self.view5[ax] == 1) and not varies:
                start = ax
            else:
                break
        if start is None or not any(ax >= start for ax in self.reduced):
            return None
        return start

    # -- driver -------------------------------------------------------------------------------------
    def run(self, emit: bool = True):
        """(y, mean5, var5). emit=False: the statistics alone (y is None, nothing of its size is
        written); ``write`` then forms any part of y, bit for bit what ``run()`` writes there."""
        y5 = np.empty(self.view5, dtype=np.float32) if emit else None
        mean5 = np.zeros(self.stats5)
        m2_5 = np.zeros(self.stats5)
        self.mean5, self.m2_5 = mean5, m2_5
        self.fused = self.count <= FUSED_GROUP_LIMIT
        self.shift5 = np.zeros(self.stats5) if self.fused else None
        if self.fused:
            # rows of float32 data, centred, need no work buffer: their deviations go into y
            lean = self.run_start is not None and self.x5.dtype == self.work == np.float32 and self.center
            target = self._target(BLOCK_ELEMENTS if lean else SCRATCH_BLOCK_ELEMENTS)
            blocks = _blocks(self.view5, self.reduced, target, self.threads)
            self._map(lambda sl: self._fused(sl, y5, mean5, m2_5), blocks)
        else:
            blocks = self.output_blocks()
            count5 = np.zeros(self.stats5)
            partials = self._map(self._partial, blocks)
            with np.errstate(all="ignore"):
                for sl, part in zip(blocks, partials):
                    _chan_merge(count5, mean5, m2_5, self._stat_index(sl), *part)
                _check_finite(mean5, m2_5)
            self._pin_constant(mean5, m2_5, self.x5, self.reduced)
            if emit:
                self.write([(sl, y5[sl]) for sl in blocks])
        self._local = threading.local()  # the work buffers go (a deferred output keeps this kernel)
        return (None if y5 is None else y5.reshape(self.shape)), mean5, m2_5 / self.count

    def output_blocks(self) -> list[tuple[slice, ...]]:
        """Contiguous boxes covering the (N, G, Cg, H, W) view, each of at most a scratch block: the
        blocks of the statistics-first path, and of forming all of y with ``write``."""
        return _blocks(self.view5, (), self._target(SCRATCH_BLOCK_ELEMENTS), self.threads)

    def write(self, parts) -> None:
        """y for each (box, dest) of ``parts``, from the statistics of ``run`` (which writes the whole
        y with it for groups above FUSED_GROUP_LIMIT). box: a tuple of slices of
        the (N, G, Cg, H, W) view; dest: a C-contiguous float32 array of that box's shape. The
        arithmetic is ``run()``'s own, from the same statistics and shifts (elementwise: any boxes)."""

        def one(part):
            sl, dest = part
            a, red, rows, keep5 = self._arrange(sl)
            index = self._stat_index(sl)
            shape = _keepdims(a.shape, red)
            mean = self.mean5[index].reshape(shape)
            m2 = self.m2_5[index].reshape(shape)
            if self.fused:  # the shift each group was summed with; var as _fused passes it
                shift = self.shift5[index].reshape(shape).astype(self.work)
                var = m2 * (1.0 / self.count)
            else:  # statistics merged across blocks: shifted by the mean itself
                shift = mean.astype(self.work)
                var = m2 / self.count
            dev = np.subtract(a, shift, out=self._scratch(a.shape)) if self.center else None
            self._emit(sl, dest.reshape(a.shape), a, dev, shift, mean, var)

        self._map(one, list(parts))
        self._local = threading.local()

    def _target(self, largest: int) -> int:
        """Elements per block: at most ``largest``, and few enough that every thread gets a block
        (down to MIN_BLOCK_ELEMENTS, below which one thread does better alone)."""
        per_thread = -(-math.prod(self.view5) // self.threads)
        return min(largest, max(MIN_BLOCK_ELEMENTS, per_thread))

    def _map(self, func, items):
        """``[func(item) for item in items]`` on ``threads`` threads (this one and pool helpers),
        each taking the next item as it finishes one. NaN/Inf are caught by the caller from the
        statistics, so numpy's floating-point warnings are silenced in every worker."""
        results = [None] * len(items)
        todo = iter(enumerate(items))  # shared: the GIL makes each next() atomic

        def work():
            with np.errstate(all="ignore"):
                for i, item in todo:
                    results[i] = func(item)

        helpers = [_POOL.submit(work) for _ in range(min(self.threads, len(items), _HELPERS + 1) - 1)]
        try:
            work()
        except BaseException:
            for _ in todo:  # the helpers stop after their current item
                pass
            raise
        finally:
            for helper in helpers:
                # one that never started (the others took every item) is dropped unrun
                if not helper.cancel():
                    helper.result()
        return results

    # -- blocks ---------------------------------------------------------------------------------------
    def _arrange(self, sl):
        """The block at ``sl`` in working form: (array, reduced axes of it, rows?, keepdims shape).

        With a contiguous trailing run of reduced axes the block is viewed as rows
        (outer axes…, run length) and its last axis is summed with BLAS dot products."""
        block = self.x5[sl]
        if block.dtype != self.work:
            block = block.astype(self.work)
        keep5 = tuple(1 if ax in self.reduced else s for ax, s in enumerate(block.shape))
        if self.run_start is None:
            return block, self.reduced, False, keep5
        r0 = self.run_start
        rows = block.reshape(block.shape[:r0] + (-1,))
        red = tuple(ax for ax in self.reduced if ax < r0) + (r0,)
        return rows, red, True, keep5

    def _stats(self, a, red, rows, out=None):
        """(K, dev, mean, M2) of ``a`` over ``red`` (keepdims): K a rough mean in the working
        precision, dev = a − K (written into ``out`` if given; ``a`` itself when K = 0), mean and
        M2 = Σ(x − mean)² in float64."""
        n = math.prod(a.shape[ax] for ax in red)
        if not rows:  # K is the mean from a first pass; redone with the better mean if it lands far
            rough = _reduce_run(a, red, n)
            shift, dev, mean, m2 = self._shifted(a, red, rows, (rough * (1.0 / n)).astype(self.work), n, out)
            if _near(mean - shift, m2, n):
                return shift, dev, mean, m2
            return self._shifted(a, red, rows, mean.astype(self.work), n, out)
        s1 = _reduce64(_row_sums(a, False), red[:-1])
        mean = s1 * (1.0 / n)
        if _zero_likely(a, red):
            # K = 0: the deviations are the data itself and need no pass of their own
            m2 = _reduce64(_row_sums(a, True), red[:-1]) - s1 * mean
            if _near(mean, m2, n):
                return 0.0, a, mean, np.maximum(m2, 0.0, out=m2)
        # else K is that mean; should it still land far from the mean of the deviations (a
        # large offset rounds in those sums), the block is redone with the better mean
        shift, dev, mean, m2 = self._shifted(a, red, rows, mean.astype(self.work), n, out)
        if _near(mean - shift, m2, n):
            return shift, dev, mean, m2
        return self._shifted(a, red, rows, mean.astype(self.work), n, out)

    def _shifted(self, a, red, rows, shift, n, out):
        dev = np.subtract(a, shift, out=self._scratch(a.shape) if out is None else out)
        s1 = _reduce64(_row_sums(dev, False), red[:-1]) if rows else _reduce_run(dev, red, n)
        s2 = _reduce64(_row_sums(dev, True), red[:-1]) if rows else _reduce_run(np.multiply(dev, dev), red, n)
        mean = shift + s1 * (1.0 / n)
        m2 = np.maximum(s2 - s1 * (s1 * (1.0 / n)), 0.0)
        return shift, dev, mean, m2

    def _fused(self, sl, y5, mean5, m2_5):
        a, red, rows, keep5 = self._arrange(sl)
        out = None if y5 is None else y5[sl].reshape(a.shape)
        # in float32 the deviations go straight into the output, which _emit then scales in place
        into = out if out is not None and self.work == np.float32 and self.center else None
        shift, dev, mean, m2 = self._stats(a, red, rows, into)
        if dev is not a:  # (K = 0 was accepted only with finite statistics)
            _check_finite(mean, m2)
        self._pin_constant(mean, m2, a, red)
        index = self._stat_index(sl)
        mean5[index] = mean.reshape(keep5)
        m2_5[index] = m2.reshape(keep5)
        self.shift5[index] = np.broadcast_to(shift, mean.shape).reshape(keep5)
        if out is not None:
            self._emit(sl, out, a, dev, shift, mean, m2 * (1.0 / self.count))

    def _partial(self, sl):
        a, red, rows, keep5 = self._arrange(sl)
        _, _, mean, m2 = self._stats(a, red, rows)
        n = math.prod(a.shape[ax] for ax in red)
        return n, mean.reshape(keep5), m2.reshape(keep5)

    def _emit(self, sl, out, a, dev, shift, mean, var):
        """Write y = (x − K)·s + (β − (μ − K)·s), s = γ / √(σ² + ε), for the block at ``sl``
        into ``out`` (the block of y in the working form of ``a``)."""
        scale = 1.0 / np.sqrt((var if self.center else var + mean * mean) + self.eps)
        if self.gamma5 is not None:
            scale = scale * _param(self.gamma5, sl, a.shape)
        scale_w = scale.astype(self.work)
        source = dev if self.center else a
        # with the rounded scale, a constant group's two terms cancel exactly
        offset = (shift - mean) * scale_w if self.center else 0.0
        if self.beta5 is not None:
            offset = offset + _param(self.beta5, sl, a.shape)
        offset = np.asarray(offset, self.work) if np.any(offset) else None
        # both writing passes over one slice of rows while it is still in cache
        step = max(1, EMIT_ELEMENTS * a.shape[0] // a.size)
        for lo in range(0, a.shape[0], step):
            rows = slice(lo, lo + step)
            part = out[rows]
            np.multiply(source[rows], _rows(scale_w, rows), out=part)
            if offset is not None:
                np.add(part, _rows(offset, rows), out=part)

    def _pin_constant(self, mean, m2, a, red):
        """Groups whose values are all equal get that value as exact mean and zero M2 (→ y = β)."""
        # (64·spacing(float32(μ)))² ≤ μ²·2⁻³³ for normal float32 μ, 2⁻²⁸⁶ below: most blocks stop here
        if np.all(m2 > (mean * mean * 2.0**-33 + 2.0**-286) * self.count):
            return
        tiny = (np.spacing(np.abs(mean).astype(np.float32)).astype(np.float64) * 64) ** 2 * self.count
        if not np.any(m2 <= tiny):
            return
        top = np.maximum.reduce(a, axis=red, keepdims=True)
        constant = top == np.minimum.reduce(a, axis=red, keepdims=True)
        mean[constant] = top[constant]
        m2[constant] = 0.0

    def _scratch(self, shape):
        """A per-thread work buffer of ``shape`` (reused across blocks: no fresh pages per block)."""
        size = math.prod(shape)
        buf = getattr(self._local, "buf", None)
        if buf is None or buf.size < size:
            buf = self._local.buf = np.empty(size, self.work)
        return buf[:size].reshape(shape)

    def _stat_index(self, sl):
        return tuple(slice(None) if self.stats5[ax] == 1 else s for ax, s in enumerate(sl))


def _blocks(shape, whole_axes, target, threads: int = 1) -> list[tuple[slice, ...]]:
    """Boxes covering ``shape``, each spanning ``whole_axes`` entirely and about ``target`` elements.

    Other axes are taken whole from the innermost outward while the box stays under ``target``;
    the next is cut into near-equal chunks, as many as make the count of boxes a multiple of
    ``threads`` where the axis allows (no thread waits for the last box alone); the rest go one
    index at a time.
    """
    size = int(np.prod([shape[ax] for ax in whole_axes], dtype=np.int64))
    choices = {ax: [slice(None)] for ax in whole_axes}
    free = [ax for ax in reversed(range(len(shape))) if ax not in whole_axes]
    for pos, ax in enumerate(free):
        if size * shape[ax] <= target:
            size *= shape[ax]
            choices[ax] = [slice(None)]
            continue
        length, outer = shape[ax], math.prod(shape[o] for o in free[pos + 1 :])
        pieces = -(-length // max(1, target // size))
        while (pieces * outer) % threads and pieces < length:
            pieces += 1
        cuts = [length * i // pieces for i in range(pieces + 1)]
        choices[ax] = [slice(lo, hi) for lo, hi in zip(cuts, cuts[1:])]
        for outer_ax in free[pos + 1 :]:
            choices[outer_ax] = [slice(i, i + 1) for i in range(shape[outer_ax])]
        break
    return list(product(*(choices[ax] for ax in range(len(shape)))))


def _zero_likely(rows, red) -> bool:
    """Whether K = 0 looks worth trying on the block of ``rows`` (reduced over ``red``): judged from
    the first HEAD values of each row at the first index of the block's outer axis (a few
    contiguous runs, so nearly free), whose mean must lie within σ/4 of 0 plus two of its standard
    errors in every group they reach. Only a guess: either answer gives the same accuracy."""
    head = (rows[:1] if rows.ndim > 1 else rows)[..., :HEAD]
    m = head.size // math.prod(head.shape[ax] for ax in range(head.ndim) if ax not in red)
    # (dot products in the data's precision: a guess needs no more)
    mean = _reduce64(np.vecdot(head, _ones(head.shape[-1], head.dtype))[..., None], red[:-1]) * (1.0 / m)
    square = _reduce64(np.vecdot(head, head)[..., None], red[:-1]) * (1.0 / m)
    reach = 0.25 + 2 / math.sqrt(m)
    return bool(np.all(mean * mean <= (square - mean * mean) * reach**2))


def _near(offset, m2, n) -> bool:
    """Whether every group's mean lies within σ/4 of its K (``offset`` = mean − K), all finite."""
    gap = m2 * (1.0 / n) - offset * offset * 16
    return bool(gap.min() >= 0 and m2.max() < math.inf)


def _keepdims(shape, red):
    return tuple(1 if ax in red else s for ax, s in enumerate(shape))


def _reduce_run(a, axes, n: int):
    """Sum over ``axes`` (keepdims) of ``n`` values per group, as float64: in the data's precision
    when n ≤ CHUNK (numpy adds the strided values one after another, the same bound as a run of a
    row), else in float64 throughout."""
    if n <= CHUNK and a.dtype == np.float32 and axes:
        return np.add.reduce(a, axis=axes, keepdims=True).astype(np.float64)
    return _reduce64(a, axes)


def _reduce64(a, axes):
    """Sum over ``axes`` (keepdims) in float64."""
    if not axes:
        return a.astype(np.float64)
    return np.add.reduce(a, axis=axes, keepdims=True, dtype=np.float64)


def _row_sums(a, squares: bool):
    """Sums of the last axis (or of its squares), keepdims, float64: BLAS dot products over runs of
    at most CHUNK values, added in float64.

    Only short dot products are used: OpenBLAS runs a long one, or a matrix product, on its own
    threads, which busy-wait afterwards and slow every core down."""
    length = a.shape[-1]
    run = _run_length(length, CHUNK)
    q, tail = divmod(length, run)
    if q:
        runs = a[..., : q * run].reshape(a.shape[:-1] + (q, run))
        part = np.vecdot(runs, runs if squares else _ones(run, a.dtype))
        total = np.add.reduce(part, axis=-1, keepdims=True, dtype=np.float64)
    else:
        total = np.zeros(a.shape[:-1] + (1,))
    if tail:
        rest = a[..., q * run :]
        total += np.vecdot(rest, rest if squares else _ones(tail, a.dtype))[..., None]
    return total


@lru_cache(maxsize=256)
def _run_length(length, most):
    """The run length for sums of ``length`` values: the longest at most ``most`` that divides
    ``length`` (one dot product call, no tail) if one of at least ``most`` / 2 does, else ``most``."""
    if length <= most:
        return length
    for run in range(most, max(most // 2, 1) - 1, -1):
        if length % run == 0:
            return run
    return most


@lru_cache(maxsize=64)
def _ones(length, dtype):
    ones = np.ones(length, dtype)
    ones.flags.writeable = False
    return ones


def _rows(a, rows):
    """``a`` cut to ``rows`` of its first axis, unless it broadcasts along it."""
    return a if a.ndim == 0 or a.shape[0] == 1 else a[rows]


def _param(param5, sl, shape):
    """A per-channel γ or β (1, G, Cg, 1, 1) cut to the block at ``sl`` and shaped to broadcast
    against the block's working form ``shape``; 1.0 when absent."""
    if param5 is None:
        return np.ones(1)
    cut = param5[tuple(slice(None) if param5.shape[ax] == 1 else s for ax, s in enumerate(sl))]
    if len(shape) == 5:
        return cut
    return cut.reshape(cut.shape[: len(shape) - 1] + (1,))


def _check_finite(mean, m2):
    if not (np.isfinite(mean).all() and np.isfinite(m2).all()):
        raise NonFinite


def _chan_merge(count5, mean5, m2_5, index, n, mean, m2):
    """Merge a block's (n, mean, M2) into running float64 statistics (Chan et al.)."""
    n_a = count5[index]
    total = n_a + n
    delta = mean - mean5[index]
    mean5[index] += delta * (n / total)
    m2_5[index] += m2 + delta**2 * (n_a * n / total)
    count5[index] = total

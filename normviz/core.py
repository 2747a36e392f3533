"""The public API: ``normalize`` and its result, group lookup — pure numpy.

``normalize`` validates its arguments and runs the blocked kernel in ``normviz.kernel``; the result
carries the output, the statistics on the statistics grid, and ways to find a cell's group.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .errors import NormvizError
from .explain import WARNING, remarks_for
from .kernel import Kernel, NonFinite
from .spec import NormSpec, identify


@dataclass(frozen=True, eq=False)
class NormResult:
    """What ``normalize`` returns.

    y: float32 ndarray of shape (N, C, H, W) — formed when first read for a result of
    ``normalize(..., defer_output=True)``, whose ``output_planes`` and ``output_runs`` give parts of
    it without forming the rest. mean, var: float64 ndarrays on the statistics grid
    (N or 1, C or G or 1, H or 1, W or 1); var is the biased variance. count: values per group.
    gamma, beta: float64 arrays of shape (C,) or None. warnings: sentences for the user.
    """

    output: np.ndarray | DeferredOutput
    mean: np.ndarray
    var: np.ndarray
    count: int
    spec: NormSpec
    shape: tuple[int, int, int, int]
    gamma: np.ndarray | None = None
    beta: np.ndarray | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def y(self) -> np.ndarray:
        """The output, float32 (N, C, H, W)."""
        return self.output if isinstance(self.output, np.ndarray) else self.output.whole()

    @property
    def output_formed(self) -> bool:
        """Whether all of y exists (always, unless deferred and not read yet)."""
        return isinstance(self.output, np.ndarray) or self.output.formed

    def output_planes(self, samples, channels) -> np.ndarray:
        """y[samples][:, channels] as float32 (S, C', H, W); while y is deferred, only those planes
        are computed."""
        samples, channels = [int(s) for s in samples], [int(c) for c in channels]
        if self.output_formed:
            return self.y[np.ix_(samples, channels)]
        return self.output.planes(samples, channels)

    def output_runs(self, starts, length: int) -> np.ndarray:
        """y.reshape(-1)[s : s + length] for each s of ``starts``, as float32 (len(starts), length);
        while y is deferred, only the rows holding them are computed."""
        if self.output_formed:
            flat = self.y.reshape(-1)
            return (
                np.stack([flat[s : s + length] for s in starts]) if len(starts) else np.empty((0, length), np.float32)
            )
        return self.output.runs([int(s) for s in starts], int(length))

    @property
    def stats_shape(self) -> tuple[int, int, int, int]:
        """Shape of the statistics grid."""
        return self.mean.shape

    @property
    def n_groups(self) -> int:
        """Number of groups (= product of the statistics grid's shape)."""
        return int(self.mean.size)

    @property
    def mean_square(self) -> np.ndarray:
        """mean(x²) per group, on the statistics grid (what RMS normalization divides by)."""
        return self.var + self.mean**2

    @property
    def denominator(self) -> np.ndarray:
        """√(σ² + ε), or √(mean(x²) + ε) without centering, on the statistics grid."""
        spread = self.var if self.spec.center else self.mean_square
        return np.sqrt(spread + self.spec.eps)

    def group_of(self, n: int, c: int, h: int, w: int) -> tuple[int, int, int, int]:
        """Index on the statistics grid of the group holding cell (n, c, h, w)."""
        return group_of(self.spec, self.shape, (n, c, h, w))

    def group_box(self, index: tuple[int, int, int, int]) -> tuple[range, range, range, range]:
        """The index ranges along N, C, H, W that the group at ``index`` covers."""
        return group_box(self.spec, self.shape, index)

    def identity(self):
        """What this normalization is called on this shape (see ``normviz.identify``)."""
        return identify(self.spec, self.shape)


def group_of(spec: NormSpec, shape, cell) -> tuple[int, int, int, int]:
    """Index on the statistics grid of the group that holds ``cell`` = (n, c, h, w)."""
    _check_cell(shape, cell)
    n, c, h, w = (int(v) for v in cell)
    cg = shape[1] // spec.groups if "C" in spec.axes else 1
    return (
        0 if "N" in spec.axes else n,
        c // cg,
        0 if "H" in spec.axes else h,
        0 if "W" in spec.axes else w,
    )


def group_box(spec: NormSpec, shape, index) -> tuple[range, range, range, range]:
    """The ranges along N, C, H, W covered by the group at ``index`` on the statistics grid."""
    stats = spec.stats_shape(shape)
    if len(index) != 4 or any(not 0 <= int(i) < s for i, s in zip(index, stats)):
        raise NormvizError(f"group index {tuple(index)} is outside the statistics grid of shape {stats}.")
    gn, gc, gh, gw = (int(v) for v in index)
    cg = shape[1] // spec.groups if "C" in spec.axes else 1
    return (
        range(shape[0]) if "N" in spec.axes else range(gn, gn + 1),
        range(gc * cg, gc * cg + cg),
        range(shape[2]) if "H" in spec.axes else range(gh, gh + 1),
        range(shape[3]) if "W" in spec.axes else range(gw, gw + 1),
    )


def _check_cell(shape, cell) -> None:
    if len(cell) != 4 or any(not 0 <= int(i) < s for i, s in zip(cell, shape)):
        raise NormvizError(f"cell {tuple(cell)} is outside the tensor of shape {tuple(shape)}.")


def default_threads() -> int:
    """Worker threads for the kernel: the CPUs this process may use (at most 8)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        available = os.cpu_count() or 1
    return max(1, min(8, available))


def normalize(
    x,
    axes: str | Iterable[str],
    *,
    groups: int = 1,
    eps: float = 1e-5,
    center: bool = True,
    gamma=None,
    beta=None,
    threads: int | None = None,
    defer_output: bool = False,
) -> NormResult:
    """Normalize ``x`` over ``axes``: y = γ_c · (x − μ_S) / √(σ²_S + ε) + β_c.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), any real dtype.
    axes : the reduced axes, a string such as ``"NHW"`` or an iterable of letters; may be empty.
    groups : channel groups when C is reduced (GroupNorm); must divide C.
    eps : ε > 0, added to the variance inside the square root.
    center : False divides by √(mean(x²) + ε) without subtracting the mean (RMS normalization).
    gamma, beta : optional per-channel scale and shift, arrays of shape (C,).
    threads : worker threads (default: the CPUs available, at most 8).
    defer_output : compute the statistics now and y when it is read (whole, or in parts through
        ``output_planes``/``output_runs``), bit for bit the same; x must not change meanwhile.

    Returns
    -------
    NormResult with ``y`` (float32, shape of x) and ``mean``/``var`` (float64, biased) on the
    statistics grid (N or 1, C or groups or 1, H or 1, W or 1).

    Examples
    --------
    >>> x = np.arange(16, dtype=np.float32).reshape(2, 2, 2, 2)
    >>> res = normalize(x, "NHW")          # BatchNorm: one mean per channel
    >>> res.mean.ravel().tolist()
    [5.5, 9.5]
    >>> res.stats_shape
    (1, 2, 1, 1)
    """
    spec = NormSpec.make(axes, groups, eps, center)
    x = _as_tensor(x)
    spec.check_shape(x.shape)
    channels = x.shape[1]
    gamma = _per_channel(gamma, "gamma", channels)
    beta = _per_channel(beta, "beta", channels)
    warnings = _warnings(spec, x.shape)
    y, mean, var = _run_kernel(x, spec, gamma, beta, threads or default_threads(), not defer_output)
    return NormResult(
        output=y,
        mean=mean,
        var=var,
        count=spec.group_size(x.shape),
        spec=spec,
        shape=tuple(int(s) for s in x.shape),
        gamma=gamma,
        beta=beta,
        warnings=warnings,
    )


def _as_tensor(x) -> np.ndarray:
    """Check that ``x`` is a real, finite-shaped 4-D array; return it as an ndarray (no copy)."""
    arr = np.asarray(x)
    if (
        arr.dtype == object
        or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_)
        or np.iscomplexobj(arr)
    ):
        raise NormvizError(
            f"x must hold real numbers; got dtype {arr.dtype}. Convert it first "
            "(e.g. np.abs or .real for complex values)."
        )
    if arr.ndim != 4:
        raise NormvizError(
            f"x must be 4-D with axes (N, C, H, W); got {arr.ndim}-D of shape {arr.shape}. "
            "Add axes with x[None] or x.reshape(N, C, H, W)."
        )
    if 0 in arr.shape:
        dim = "NCHW"[arr.shape.index(0)]
        raise NormvizError(f"x has a zero-length {dim} axis (shape {arr.shape}); every axis needs at least one value.")
    return arr


def _per_channel(values, name: str, channels: int) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.full(channels, arr)
    if (
        arr.dtype == object
        or np.iscomplexobj(arr)
        or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_)
    ):
        raise NormvizError(f"{name} must hold real numbers; got dtype {arr.dtype}.")
    if arr.shape != (channels,):
        raise NormvizError(
            f"{name} must have shape (C,) = ({channels},), one value per channel; got shape {arr.shape}."
        )
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise NormvizError(f"{name} must be finite; {name}[{bad}] is {arr[bad]}.")
    return arr


def _warnings(spec: NormSpec, shape) -> tuple[str, ...]:
    """The warnings of ``normviz.explain.remarks_for`` (the one place that words them)."""
    return tuple(r.text for r in remarks_for(spec, shape) if r.severity == WARNING)


def describe_nonfinite(x: np.ndarray) -> str | None:
    """A sentence naming how many NaN/Inf values ``x`` holds and where the first is, or None."""
    finite = np.isfinite(x)
    bad = finite.size - int(np.count_nonzero(finite))
    if not bad:
        return None
    first = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite.ravel())), x.shape))
    n_nan = int(np.count_nonzero(np.isnan(x)))
    kinds = ", ".join(
        part for part in (f"{n_nan} NaN" if n_nan else "", f"{bad - n_nan} Inf" if bad - n_nan else "") if part
    )
    return (
        f"x holds {bad:,} non-finite value(s) ({kinds}) out of {x.size:,}; the first is "
        f"x[{', '.join(map(str, first))}] = {x[first]}. Replace or drop them "
        "(e.g. np.nan_to_num) before normalizing."
    )


def _run_kernel(x, spec, gamma, beta, threads, emit: bool = True):
    """Run the kernel in float32 when that holds x exactly, else in float64; also in float64 when
    float32 squares overflow. Returns (y, mean, var) with statistics on the statistics grid; y is
    a ``DeferredOutput`` when not ``emit``."""
    exact32 = x.dtype in (np.float32, np.float16, np.bool_) or (
        np.issubdtype(x.dtype, np.integer) and x.dtype.itemsize <= 2
    )
    work = np.float32 if exact32 else np.float64
    while True:
        try:
            kernel = Kernel(x, spec, gamma, beta, threads, work)
            y, mean5, var5 = kernel.run(emit=emit)
            break
        except NonFinite:
            message = describe_nonfinite(x)
            if message:
                raise NormvizError(message) from None
            if work is np.float64:
                raise NormvizError(
                    f"x is too large to normalize (largest |x| = {np.abs(x).max():.3g}; its squares "
                    "overflow even in float64); rescale it first, e.g. divide by that value."
                ) from None
            work = np.float64
    stats = spec.stats_shape(x.shape)
    return (y if emit else DeferredOutput(kernel)), mean5.reshape(stats), var5.reshape(stats)


class DeferredOutput:
    """y of a kernel run for its statistics alone (``Kernel.run(emit=False)``), formed on demand:
    whole (once, kept), or planes and runs of it. Shared between threads."""

    def __init__(self, kernel: Kernel):
        self._kernel = kernel
        self._lock = threading.Lock()
        self._whole = None

    @property
    def formed(self) -> bool:
        return self._whole is not None

    def whole(self) -> np.ndarray:
        """All of y, float32 (N, C, H, W), read-only."""
        with self._lock:
            if self._whole is None:
                kernel = self._kernel
                y5 = np.empty(kernel.view5, np.float32)
                kernel.write([(box, y5[box]) for box in kernel.output_blocks()])
                y = y5.reshape(kernel.shape)
                y.flags.writeable = False
                self._whole = y
            return self._whole

    def planes(self, samples: list[int], channels: list[int]) -> np.ndarray:
        """y[samples][:, channels], float32 (S, C', H, W)."""
        _, _, _, h, w = self._kernel.view5
        out = np.empty((len(samples), len(channels), h, w), np.float32)
        parts = [
            (self._box(n, c, slice(None)), out[i, j].reshape(1, 1, 1, h, w))
            for i, n in enumerate(samples)
            for j, c in enumerate(channels)
        ]
        self._kernel.write(parts)
        return out

    def runs(self, starts: list[int], length: int) -> np.ndarray:
        """y.reshape(-1)[s : s + length] for each s of ``starts``, float32 (len(starts), length):
        the whole rows (of W) holding each run are computed, piece by piece across planes."""
        kernel = self._kernel
        _, _, _, h, w = kernel.view5
        plane = h * w
        out = np.empty((len(starts), length), np.float32)
        parts, copies = [], []
        for i, start in enumerate(starts):
            done = 0
            while done < length:
                at = start + done
                nc, offset = divmod(at, plane)
                take = min(length - done, plane - offset)
                first, stop = offset // w, -(-(offset + take) // w)
                rows = np.empty((1, 1, 1, stop - first, w), np.float32)
                parts.append((self._box(*divmod(nc, kernel.shape[1]), slice(first, stop)), rows))
                skip = offset - first * w
                copies.append((i, done, rows.reshape(-1)[skip : skip + take]))
                done += take
        kernel.write(parts)
        for i, done, values in copies:
            out[i, done : done + len(values)] = values
        return out

    def _box(self, n: int, c: int, rows: slice) -> tuple[slice, ...]:
        """The box of sample n, channel c and ``rows`` of H in the kernel's (N, G, Cg, H, W) view."""
        g, k = divmod(c, self._kernel.view5[2])
        return (slice(n, n + 1), slice(g, g + 1), slice(k, k + 1), rows, slice(None))

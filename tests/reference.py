"""A slow, obviously-correct normalization: one Python loop over cells, math.fsum per group.

Only for small tensors in tests; it shares no code with normviz's kernel.
"""

import math
from collections import defaultdict

import numpy as np

F32_EPS = float(np.finfo(np.float32).eps)
U32 = F32_EPS / 2  # unit roundoff of float32


def output_bound(y_ref: np.ndarray, gamma=None, beta=None, y_plain=None) -> np.ndarray:
    """Largest float32 error of normalize's y = (x − K)·s + (β − (μ − K)·s), elementwise (see
    normviz.kernel), for the exact output ``y_ref`` (shape (N, C, H, W)).

    x − K is exact; s = γ/√(σ² + ε), the two products and the sum are each rounded once (≤ 4u·|y|
    with |(μ − K)·s| ≤ |γ|·(|ŷ| + 1) for K a value of the group); the statistics' own errors (mean
    ≤ 4·eps·σ, variance ≤ 8·eps relative) move ŷ = (x − μ)/√(σ² + ε) by at most 8u and 8u·|ŷ|.
    In all ≤ 16u·(1 + |ŷ|)·|γ| + 4u·|β| + 4u·|y|; without γ, β (``y_plain`` = ŷ = y): 16u·(1 + |y|).
    """
    if gamma is None and beta is None:
        return 16 * U32 * (1 + np.abs(y_ref))
    per_channel = lambda v: np.abs(np.asarray(v, np.float64)).reshape(1, -1, 1, 1)  # noqa: E731
    g = per_channel(gamma) if gamma is not None else 1.0
    b = per_channel(beta) if beta is not None else 0.0
    return 16 * U32 * (1 + np.abs(y_plain)) * g + 4 * U32 * (b + np.abs(y_ref))


def group_key(cell, axes, channels, groups):
    """The group of ``cell`` = (n, c, h, w): reduced axes forget their index; C keeps c // (C/G)."""
    n, c, h, w = cell
    per_group = channels // groups if "C" in axes else 1
    return (
        None if "N" in axes else n,
        c // per_group,
        None if "H" in axes else h,
        None if "W" in axes else w,
    )


def loop_normalize(x, axes, groups=1, eps=1e-5, center=True, gamma=None, beta=None):
    """Return (y, stats) where stats maps a group key to (mean, biased variance, count)."""
    x = np.asarray(x, dtype=np.float64)
    members = defaultdict(list)
    for cell in np.ndindex(*x.shape):
        members[group_key(cell, axes, x.shape[1], groups)].append(float(x[cell]))
    stats = {}
    for key, values in members.items():
        mean = math.fsum(values) / len(values)
        var = math.fsum((v - mean) ** 2 for v in values) / len(values)
        stats[key] = (mean, var, len(values))
    y = np.empty_like(x)
    for cell in np.ndindex(*x.shape):
        mean, var, _ = stats[group_key(cell, axes, x.shape[1], groups)]
        if center:
            value = (x[cell] - mean) / math.sqrt(var + eps)
        else:
            value = x[cell] / math.sqrt(var + mean * mean + eps)
        c = cell[1]
        if gamma is not None:
            value *= gamma[c]
        if beta is not None:
            value += beta[c]
        y[cell] = value
    return y, stats

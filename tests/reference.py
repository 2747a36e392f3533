"""A slow, obviously-correct normalization: one Python loop over cells, math.fsum per group.

Only for small tensors in tests; it shares no code with normviz's kernel.
"""

import math
from collections import defaultdict

import numpy as np


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

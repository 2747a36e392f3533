"""Test tensors shared by the framework-reference tests."""

import numpy as np


def channel_data(shape, seed, affine=True):
    """x (float32, NCHW, with per-channel offsets and scales), and γ, β of shape (C,) or None."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 2, size=(1, c, 1, 1)) + rng.normal(size=(1, c, 1, 1))
    gamma = rng.normal(size=c).astype(np.float32) if affine else None
    beta = rng.normal(size=c).astype(np.float32) if affine else None
    return x.astype(np.float32), gamma, beta

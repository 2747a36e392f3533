"""Random tensors whose statistics differ along the axes the user chooses."""

from __future__ import annotations

import math

import numpy as np

from .base import TensorInput, as_choice, as_float, as_int
from .limits import check_elements

DISTRIBUTIONS = ("normal", "uniform")
#: Largest standard deviation of the per-sample or per-channel shifts.
MAX_SHIFT_SPREAD = 1e4
#: Largest spread of the log-scales: factors of up to about e^±3 ≈ 20× at one standard deviation.
MAX_SCALE_SPREAD = 3.0
_STREAMS = ("noise", "sample shift", "sample scale", "channel shift", "channel scale")


def random_tensor(
    n: int,
    c: int,
    h: int,
    w: int,
    *,
    distribution: str = "normal",
    sample_shift: float = 0.0,
    sample_scale: float = 0.0,
    channel_shift: float = 0.0,
    channel_scale: float = 0.0,
    seed: int = 0,
) -> TensorInput:
    """A seeded random tensor x[n, c, h, w] = z · s_n · s_c + a_n + b_c.

    z is unit-variance noise: standard normal, or uniform on [−√3, √3]. Each sample n gets a
    shift a_n ~ Normal(0, sample_shift²) and a scale s_n = exp(sample_scale · u_n) with
    u_n ~ Normal(0, 1); each channel c likewise gets b_c and s_c from ``channel_shift`` and
    ``channel_scale``. A spread of 0 leaves that axis alone, so the user can make the statistics
    differ along one axis and watch which normalization removes it.

    Every draw has its own random stream derived from ``seed``: changing a spread rescales its
    own draws and leaves the noise and the other draws as they were. Same arguments, same tensor.

    Parameters
    ----------
    n, c, h, w : int
        The shape, each at least 1, with n·c·h·w at most ``MAX_ELEMENTS``.
    distribution : {"normal", "uniform"}
    sample_shift, channel_shift : float in [0, MAX_SHIFT_SPREAD]
    sample_scale, channel_scale : float in [0, MAX_SCALE_SPREAD]
    seed : int ≥ 0

    Returns
    -------
    TensorInput
        ``x`` of shape (n, c, h, w), float32; labels ``"sample 0"``…, channels ``"c0"``….

    Examples
    --------
    >>> t = random_tensor(4, 3, 8, 8, sample_shift=2.0, seed=1)
    >>> t.x.shape, t.x.dtype.name
    ((4, 3, 8, 8), 'float32')
    >>> bool((t.x == random_tensor(4, 3, 8, 8, sample_shift=2.0, seed=1).x).all())
    True
    """
    shape = (
        as_int(n, "N", 1),
        as_int(c, "C", 1),
        as_int(h, "H", 1),
        as_int(w, "W", 1),
    )
    as_choice(distribution, "distribution", DISTRIBUTIONS)
    spreads = {
        "sample_shift": as_float(sample_shift, "per-sample shift spread", 0.0, MAX_SHIFT_SPREAD),
        "sample_scale": as_float(sample_scale, "per-sample scale spread", 0.0, MAX_SCALE_SPREAD),
        "channel_shift": as_float(channel_shift, "per-channel shift spread", 0.0, MAX_SHIFT_SPREAD),
        "channel_scale": as_float(channel_scale, "per-channel scale spread", 0.0, MAX_SCALE_SPREAD),
    }
    seed = as_int(seed, "seed", 0)
    check_elements(shape, "the random tensor", "choose smaller N, C, H or W")

    streams = dict(zip(_STREAMS, np.random.SeedSequence(seed).spawn(len(_STREAMS))))
    noise = np.random.default_rng(streams["noise"])
    if distribution == "normal":
        x = noise.standard_normal(shape, dtype=np.float32)
    else:
        x = noise.random(shape, dtype=np.float32)
        x -= np.float32(0.5)
        x *= np.float32(2 * math.sqrt(3))

    def draws(stream: str, count: int) -> np.ndarray:
        return np.random.default_rng(streams[stream]).standard_normal(count)

    per_sample = (slice(None), None, None, None)
    per_channel = (None, slice(None), None, None)
    scale = (
        np.exp(spreads["sample_scale"] * draws("sample scale", shape[0]))[per_sample]
        * np.exp(spreads["channel_scale"] * draws("channel scale", shape[1]))[per_channel]
    )
    shift = (spreads["sample_shift"] * draws("sample shift", shape[0]))[per_sample] + (
        spreads["channel_shift"] * draws("channel shift", shape[1])
    )[per_channel]
    if spreads["sample_scale"] or spreads["channel_scale"]:
        x *= scale.astype(np.float32)
    if spreads["sample_shift"] or spreads["channel_shift"]:
        x += shift.astype(np.float32)

    return TensorInput(
        x,
        _describe(shape, distribution, spreads, seed),
        tuple(f"sample {i}" for i in range(shape[0])),
        tuple(f"c{i}" for i in range(shape[1])),
    )


def _describe(shape, distribution: str, spreads: dict, seed: int) -> str:
    dims = "×".join(map(str, shape))
    parts = []
    for axis in ("sample", "channel"):
        shift, scale = spreads[f"{axis}_shift"], spreads[f"{axis}_scale"]
        terms = [f"shift {shift:g}" if shift else "", f"scale {scale:g}" if scale else ""]
        if any(terms):
            parts.append(f"per-{axis} spread: " + ", ".join(t for t in terms if t))
    spread = "; " + "; ".join(parts) if parts else ""
    return f"random {distribution} tensor {dims}, seed {seed}{spread}"

"""Filter banks for the feature-map source: weights of shape (K, C_in, k, k), k = 3 or 5.

Named filters act on luminance (0.299 R + 0.587 G + 0.114 B for three channels, the channel mean
otherwise), except the colour-opponent ones, which need RGB. Random filters use He initialisation
(normal with standard deviation √(2 / fan_in), fan_in = C_in·k·k), as for a layer before a ReLU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import NormvizError
from .base import as_choice, as_int
from .limits import KERNEL_SIZES, MAX_FILTERS

#: The named bank, in display order.
NAMED_FILTERS = (
    "Sobel x",
    "Sobel y",
    "Diagonal",
    "Anti-diagonal",
    "Laplacian",
    "Blur",
    "Sharpen",
    "Luminance",
    "Red-green",
    "Blue-yellow",
)
#: Named filters that compare colour channels; they need C_in = 3 (R, G, B).
COLOUR_FILTERS = ("Red-green", "Blue-yellow")
_COLOUR_WEIGHTS = {
    "Red-green": (1.0, -1.0, 0.0),
    "Blue-yellow": (-0.5, -0.5, 1.0),
}
_LUMA = (0.299, 0.587, 0.114)
_SMOOTH = {3: [1.0, 2.0, 1.0], 5: [1.0, 4.0, 6.0, 4.0, 1.0]}
_DERIVATIVE = {3: [-1.0, 0.0, 1.0], 5: [-1.0, -2.0, 0.0, 2.0, 1.0]}


def spatial_kernel(name: str, size: int) -> np.ndarray:
    """The k×k kernel of a named filter, as used by cross-correlation (``F.conv2d``).

    Sobel x responds positively where intensity grows to the right, Sobel y where it grows
    downwards; Blur sums to 1; Laplacian and the edge filters sum to 0.

    >>> spatial_kernel("Sobel x", 3).astype(int).tolist()
    [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    """
    as_choice(name, "filter", NAMED_FILTERS)
    size = _kernel_size(size)
    smooth, derivative = np.array(_SMOOTH[size]), np.array(_DERIVATIVE[size])
    blur = np.outer(smooth, smooth) / smooth.sum() ** 2
    delta = np.zeros((size, size))
    delta[size // 2, size // 2] = 1.0
    sobel_x, sobel_y = np.outer(smooth, derivative), np.outer(derivative, smooth)
    if name == "Sobel x":
        return sobel_x
    if name == "Sobel y":
        return sobel_y
    if name == "Diagonal":
        return (sobel_x + sobel_y) / 2
    if name == "Anti-diagonal":
        return (sobel_x - sobel_y) / 2
    if name == "Laplacian":
        return _laplacian(size)
    if name == "Sharpen":
        return 2 * delta - blur
    if name == "Luminance":
        return delta
    return blur


def named_filters(names: Sequence[str], in_channels: int, size: int) -> np.ndarray:
    """Weights of the named filters, float32 of shape (len(names), in_channels, size, size).

    Raises NormvizError for an unknown name or a colour filter when ``in_channels`` is not 3.
    """
    in_channels = as_int(in_channels, "input channels", 1)
    size = _kernel_size(size)
    names = list(names)
    if not names:
        raise NormvizError(f"Choose at least one filter from: {', '.join(NAMED_FILTERS)}.")
    weights = np.empty((len(names), in_channels, size, size), np.float32)
    for index, name in enumerate(names):
        kernel = spatial_kernel(name, size)
        if name in COLOUR_FILTERS:
            if in_channels != 3:
                raise NormvizError(
                    f"The {name} filter compares colour channels and needs RGB input; the input has "
                    f"{in_channels} channel(s). Choose among: {', '.join(_grey_filters())}."
                )
            channel_weights = np.array(_COLOUR_WEIGHTS[name])
        elif in_channels == 3:
            channel_weights = np.array(_LUMA)
        else:
            channel_weights = np.full(in_channels, 1.0 / in_channels)
        weights[index] = channel_weights[:, None, None] * kernel
    return weights


def he_filters(count: int, in_channels: int, size: int, seed: int = 0) -> np.ndarray:
    """``count`` random filters with He initialisation, float32 (count, in_channels, size, size).

    >>> he_filters(16, 3, 3, seed=0).shape
    (16, 3, 3, 3)
    """
    count = as_int(count, "number of filters", 1, MAX_FILTERS)
    in_channels = as_int(in_channels, "input channels", 1)
    size = _kernel_size(size)
    seed = as_int(seed, "seed", 0)
    std = np.sqrt(2.0 / (in_channels * size * size))
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((count, in_channels, size, size)) * std).astype(np.float32)


def _grey_filters() -> tuple[str, ...]:
    return tuple(name for name in NAMED_FILTERS if name not in COLOUR_FILTERS)


def _kernel_size(size) -> int:
    sizes = " or ".join(map(str, KERNEL_SIZES))
    if isinstance(size, bool) or size not in KERNEL_SIZES:
        raise NormvizError(f"kernel size must be {sizes}; got {size!r}.")
    return int(size)


def _laplacian(size: int) -> np.ndarray:
    """The 4-neighbour Laplacian (3×3); for 5×5, that Laplacian of a 3×3 binomial blur."""
    lap = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    if size == 3:
        return lap
    blur = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16
    out = np.zeros((5, 5))
    for dy in range(3):
        for dx in range(3):
            out[dy : dy + 3, dx : dx + 3] += lap[dy, dx] * blur
    return out

"""Feature maps: an image batch through one convolution layer, in numpy.

``conv2d_same`` is a cross-correlation with zero 'same' padding, as ``torch.nn.functional.conv2d(x,
w, padding=k // 2)``. It works one image and a band of rows at a time: the padded band is viewed
as one flat row per channel, so the k·k shifted copies it needs are contiguous slices (one
memory copy each, no index arrays), and a single matrix product with the (K, C·k·k) weights
gives all K outputs of the band. Each band's copies stay within a few MB, i.e. in cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import NormvizError
from .base import TensorInput, as_choice, list_names, plural
from .filters import COLOUR_FILTERS, NAMED_FILTERS, he_filters, named_filters
from .limits import check_elements

#: Values of the shifted copies held at once per band (4 MB of float32).
BAND_ELEMENTS = 1 << 20


def conv2d_same(x: np.ndarray, weights: np.ndarray, *, relu: bool = False) -> np.ndarray:
    """Cross-correlate ``x`` with ``weights`` using zero padding that keeps H and W.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), real
    weights : ndarray of shape (K, C, k, k), k odd
    relu : bool
        Apply max(·, 0) to the result.

    Returns
    -------
    ndarray of shape (N, K, H, W), float32

    Examples
    --------
    >>> x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    >>> conv2d_same(x, np.ones((1, 1, 3, 3), np.float32))[0, 0].tolist()
    [[8.0, 15.0, 12.0], [21.0, 36.0, 27.0], [20.0, 33.0, 24.0]]
    """
    x = np.asarray(x)
    weights = np.asarray(weights)
    if x.ndim != 4 or weights.ndim != 4:
        raise NormvizError(
            f"conv2d_same needs x of shape (N, C, H, W) and weights of shape (K, C, k, k); got "
            f"{x.shape} and {weights.shape}."
        )
    count, in_channels, k, k2 = weights.shape
    if k != k2 or k % 2 == 0 or in_channels != x.shape[1]:
        raise NormvizError(
            f"weights of shape {weights.shape} do not fit x of shape {x.shape}: they need "
            f"C = {x.shape[1]} input channels and a square kernel of odd size."
        )
    n, c, h, w = x.shape
    check_elements((n, count, h, w), "the feature maps", "choose fewer filters or a smaller image size")
    pad = k // 2
    padded_w = w + 2 * pad
    band_rows = max(1, min(h, BAND_ELEMENTS // (c * k * k * padded_w)))
    offsets = [dy * padded_w + dx for dy in range(k) for dx in range(k)]
    matrix = np.ascontiguousarray(weights, dtype=np.float32).reshape(count, c * k * k)
    out = np.empty((n, count, h, w), np.float32)
    padded = np.zeros((c, h + 2 * pad + 1, padded_w), np.float32)
    flat = padded.reshape(c, -1)
    shifted = np.empty((c, k * k, band_rows * padded_w), np.float32)
    for image in range(n):
        padded[:, pad : pad + h, pad : pad + w] = x[image]
        for top in range(0, h, band_rows):
            rows = min(band_rows, h - top)
            length = rows * padded_w
            start = top * padded_w
            for tap, offset in enumerate(offsets):
                shifted[:, tap, :length] = flat[:, start + offset : start + offset + length]
            product = matrix @ shifted.reshape(c * k * k, -1)[:, :length]
            band = product.reshape(count, rows, padded_w)[:, :, :w]
            target = out[image, :, top : top + rows]
            if relu:
                np.maximum(band, 0.0, out=target)
            else:
                target[...] = band
    return out


def feature_maps(
    images: TensorInput,
    *,
    filters: int | Sequence[str] = NAMED_FILTERS,
    kernel_size: int = 3,
    relu: bool = False,
    seed: int = 0,
) -> TensorInput:
    """The batch ``images`` through one convolution layer: C becomes the number of filters.

    Parameters
    ----------
    images : TensorInput
        Usually an image batch, x of shape (N, C_in, H, W).
    filters : int or sequence of str
        An int K (1 to ``MAX_FILTERS``) for K random He-initialised filters drawn from ``seed``,
        or names from ``NAMED_FILTERS``. Colour-opponent filters need C_in = 3; on other input
        they are left out with a notice.
    kernel_size : {3, 5}
    relu : bool
        Apply max(·, 0), as after a Conv2D + ReLU block.
    seed : int
        Seed of the random filters (ignored for named ones).

    Returns
    -------
    TensorInput
        ``x`` of shape (N, K, H, W), float32; channel names are the filter names.

    Examples
    --------
    >>> from normviz.inputs import random_tensor
    >>> maps = feature_maps(random_tensor(2, 3, 16, 16), filters=["Sobel x", "Blur"], relu=True)
    >>> maps.x.shape, maps.channel_names
    ((2, 2, 16, 16), ('Sobel x', 'Blur'))
    """
    if not isinstance(images, TensorInput):
        raise NormvizError(f"feature_maps needs a TensorInput; got {type(images).__name__}.")
    n, in_channels, h, w = images.shape
    notices = list(images.notices)
    if isinstance(filters, (int, np.integer)) and not isinstance(filters, bool):
        weights = he_filters(filters, in_channels, kernel_size, seed)
        names = tuple(f"filter {i}" for i in range(len(weights)))
        bank = f"random He-init filters, seed {seed}"
    else:
        if isinstance(filters, str):
            filters = [filters]
        names = tuple(dict.fromkeys(as_choice(name, "filter", NAMED_FILTERS) for name in filters))
        if in_channels != 3:
            dropped = [name for name in names if name in COLOUR_FILTERS]
            names = tuple(name for name in names if name not in COLOUR_FILTERS)
            if dropped and names:
                notices.append(
                    f"{list_names(dropped)} compare colour channels and were left out: the input "
                    f"has {plural(in_channels, 'channel')}, not R, G, B."
                )
            elif dropped:
                raise NormvizError(
                    f"{list_names(dropped)} compare colour channels, but the input has "
                    f"{plural(in_channels, 'channel')}; choose other filters, e.g. Sobel x."
                )
        weights = named_filters(names, in_channels, kernel_size)
        bank = "named filters"
    relu = bool(relu)
    x = conv2d_same(images.x, weights, relu=relu)
    description = (
        f"{plural(len(names), 'feature map')} per sample ({bank}, {kernel_size}×{kernel_size}"
        f"{', ReLU' if relu else ''}) of {plural(n, 'sample')}, {h}×{w}"
    )
    return TensorInput(x, description, images.labels, names, tuple(notices))

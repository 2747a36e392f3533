"""The backward pass of ``normalize``: dx, dγ, dβ for any reduced axes, groups and centering.

``normalize_grad`` is the public function (float64 throughout). ``standardize`` and
``standardize_backward`` are the two halves it is made of, written for any view of the tensor in
which a group is a set of whole axes; the trainer in ``normviz.train`` reuses them in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core import _as_tensor, _per_channel
from .errors import NormvizError
from .spec import NormSpec


@dataclass(frozen=True, eq=False)
class NormGrad:
    """What ``normalize_grad`` returns.

    dx: float64 ndarray of shape (N, C, H, W). dgamma, dbeta: float64 ndarrays of shape (C,), or
    None when no γ was given (without γ the layer has no affine parameters to differentiate).
    """

    dx: np.ndarray
    dgamma: np.ndarray | None
    dbeta: np.ndarray | None


def standardize(x: np.ndarray, reduced: tuple[int, ...], eps: float, center: bool):
    """x̂ and r = 1/√(σ² + ε) (or 1/√(mean(x²) + ε) without centering) over the axes ``reduced``.

    x: ndarray of any shape, computed in its own dtype. Returns (x̂ with the shape of x, r with size 1
    on the reduced axes). The variance is the mean of squared deviations (two passes, no
    E[x²] − E[x]² cancellation).
    """
    if center:
        dev = x - x.mean(axis=reduced, keepdims=True) if reduced else np.zeros_like(x)
        spread = np.mean(np.square(dev), axis=reduced, keepdims=True) if reduced else np.zeros_like(x)
    else:
        dev = x
        spread = np.mean(np.square(x), axis=reduced, keepdims=True) if reduced else np.square(x)
    r = 1.0 / np.sqrt(spread + x.dtype.type(eps))
    return dev * r, r


def standardize_backward(g: np.ndarray, xhat: np.ndarray, r: np.ndarray, reduced: tuple[int, ...], center: bool):
    """dL/dx from g = dL/dx̂ (the shape of x), x̂ and r from ``standardize`` on the same axes.

    dx = r · (g − mean_S(g) − x̂ · mean_S(g·x̂))      (centered)
    dx = r · (g − x̂ · mean_S(g·x̂))                   (without centering)
    """
    if reduced:
        proj = np.mean(g * xhat, axis=reduced, keepdims=True)
        inner = g - xhat * proj
        if center:
            inner -= np.mean(g, axis=reduced, keepdims=True)
    else:  # every value is its own group: x̂ = 0 when centered, x/√(x² + ε) otherwise
        inner = np.zeros_like(g) if center else g - xhat * (g * xhat)
    return inner * r


def view5(shape, spec: NormSpec) -> tuple[tuple[int, int, int, int, int], tuple[int, ...]]:
    """The (N, G, Cg, H, W) view of an (N, C, H, W) tensor in which a group is a set of whole axes,
    and the axes of that view a statistic reduces."""
    n, c, h, w = shape
    g = spec.groups if "C" in spec.axes else c
    reduced = tuple(ax for ax, letter in zip((0, 2, 3, 4), "NCHW") if letter in spec.axes)
    return (n, g, c // g, h, w), reduced


def normalize_grad(x, dy, axes, *, groups: int = 1, eps: float = 1e-5, center: bool = True, gamma=None) -> NormGrad:
    """The gradient of ``normalize(x, axes, ...)``'s output y against an upstream gradient ``dy``.

    With S a group of m values (the cells sharing one statistic), g = γ_c·dy (g = dy without γ):

        x̂ = (x − μ_S) / √(σ²_S + ε),   y = γ_c · x̂ + β_c
        dx = 1/√(σ²_S + ε) · ( g − mean_S(g) − x̂ · mean_S(g · x̂) )
        dγ_c = Σ_{n,h,w} dy · x̂,        dβ_c = Σ_{n,h,w} dy

    The two subtracted means are what normalization adds to the gradient: dx has zero mean over
    each group and is orthogonal to x̂ (shifting or scaling a group's inputs cannot change its
    output). Without centering (RMS normalization) x̂ = x / √(mean_S(x²) + ε) and the mean_S(g)
    term drops out. With no reduced axis (m = 1) the centered output is constant and dx = 0.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), real.
    dy : ndarray of the shape of x, the gradient of a loss against y.
    axes, groups, eps, center : as in ``normalize``.
    gamma : optional per-channel scale, shape (C,) or a scalar. β does not enter the gradient.

    Returns
    -------
    NormGrad with dx (float64, shape of x) and dgamma, dbeta (float64 (C,), None without γ).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, dy = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(2, 3, 4, 4))
    >>> grad = normalize_grad(x, dy, "NHW", gamma=np.ones(3))
    >>> bool(np.allclose(grad.dx.sum(axis=(0, 2, 3)), 0))   # BatchNorm: dx sums to 0 per channel
    True
    >>> grad.dgamma.shape
    (3,)
    """
    spec = NormSpec.make(axes, groups, eps, center)
    x = _as_tensor(x)
    spec.check_shape(x.shape)
    dy = _as_tensor(dy)
    if dy.shape != x.shape:
        raise NormvizError(f"dy must have the shape of x, {x.shape}; got {dy.shape}.")
    gamma = _per_channel(gamma, "gamma", x.shape[1])
    shape5, reduced = view5(x.shape, spec)
    x64 = x.astype(np.float64).reshape(shape5)
    dy64 = dy.astype(np.float64).reshape(shape5)
    xhat, r = standardize(x64, reduced, spec.eps, spec.center)
    g = dy64 if gamma is None else dy64 * gamma.reshape(1, shape5[1], shape5[2], 1, 1)
    dx = standardize_backward(g, xhat, r, reduced, spec.center).reshape(x.shape)
    if gamma is None:
        return NormGrad(dx=dx, dgamma=None, dbeta=None)
    dgamma = np.einsum("ngkhw,ngkhw->gk", dy64, xhat).reshape(-1)
    dbeta = dy64.sum(axis=(0, 3, 4)).reshape(-1)
    return NormGrad(dx=dx, dgamma=dgamma, dbeta=dbeta)

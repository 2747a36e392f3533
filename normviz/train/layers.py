"""Layers with a forward and a backward pass, in numpy, for the small CNN of ``normviz.train.model``.

Every layer keeps what its backward pass needs from the last forward pass in training mode; a
parameter's gradient lands in ``grads`` under the parameter's name. Arrays are (N, C, H, W) and
keep the dtype of the parameters (float32 for training, float64 in the gradient tests).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..backward import standardize, standardize_backward
from ..errors import NormvizError
from ..spec import NormSpec


class Conv2d:
    """A k×k convolution with stride 1 and zero padding k//2 (output H, W = input H, W), as im2col
    and one matrix product. weight: (C_out, C_in, k, k); bias: (C_out,). ``input_grad=False`` (the
    first layer, whose input is the data) skips the gradient against the input."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, input_grad: bool = True):
        self.params = {"weight": weight, "bias": bias}
        self.grads: dict[str, np.ndarray] = {}
        self.k = weight.shape[-1]
        self.input_grad = input_grad

    def _cols(self, x: np.ndarray) -> np.ndarray:
        """im2col, transposed: (C·k·k, N·H·W), each column the k×k neighbourhood of one position
        (rows copied whole along W, which is contiguous in x)."""
        n, c, h, w = x.shape
        p = self.k // 2
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        windows = sliding_window_view(padded, (self.k, self.k), axis=(2, 3))  # (N, C, H, W, k, k)
        return np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3)).reshape(c * self.k * self.k, n * h * w)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n, _, h, w = x.shape
        cols = self._cols(x)
        weight = self.params["weight"]
        out = weight.reshape(weight.shape[0], -1) @ cols + self.params["bias"][:, None]
        if train:
            self.cache = (cols, x.shape)
        return out.reshape(-1, n, h, w).transpose(1, 0, 2, 3)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        cols, (n, c, h, w) = self.cache
        weight = self.params["weight"]
        dmat = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(weight.shape[0], n * h * w)
        self.grads["weight"] = (dmat @ cols.T).reshape(weight.shape)
        self.grads["bias"] = dmat.sum(axis=1)
        if not self.input_grad:
            return None
        # dx is the convolution of dout with the kernel turned by 180° and C_in, C_out swapped.
        flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        dx = flipped.reshape(c, -1) @ self._cols(dout)
        return dx.reshape(c, n, h, w).transpose(1, 0, 2, 3)


class Norm:
    """Normalization over any axes of (N, C, H, W), with groups, centering and per-channel γ/β.

    In training mode the batch is split into consecutive "normalization batches" of ``norm_batch``
    images, each normalized with its own statistics (as each GPU does in the Group Normalization
    paper). When N is reduced the layer keeps running statistics on the statistics grid with
    PyTorch's convention — running = (1 − momentum)·running + momentum·batch, the variance stored
    unbiased (m/(m − 1)) — updated once per normalization batch, and eval mode normalizes with them.
    Without N in the axes every image has its own statistics, in training and in eval alike.
    """

    def __init__(self, spec: NormSpec, channels: int, *, affine: bool, momentum: float, norm_batch: int, dtype):
        self.spec = spec
        self.channels = channels
        self.momentum = momentum
        self.norm_batch = norm_batch
        self.params = {"gamma": np.ones(channels, dtype), "beta": np.zeros(channels, dtype)} if affine else {}
        self.grads: dict[str, np.ndarray] = {}
        self.running_mean: np.ndarray | None = None
        self.running_spread: np.ndarray | None = None

    def _view(self, shape, batch):
        """The (K, B, G, Cg, H, W) view (K normalization batches of B images) and its reduced axes."""
        n, c, h, w = shape
        g = self.spec.groups if "C" in self.spec.axes else c
        reduced = tuple(ax for ax, letter in zip((1, 3, 4, 5), "NCHW") if letter in self.spec.axes)
        return (n // batch, batch, g, c // g, h, w), reduced

    def _affine(self, y6: np.ndarray) -> np.ndarray:
        if not self.params:
            return y6
        g, cg = y6.shape[2], y6.shape[3]
        return y6 * self.params["gamma"].reshape(g, cg, 1, 1) + self.params["beta"].reshape(g, cg, 1, 1)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n = x.shape[0]
        pools_batch = "N" in self.spec.axes
        if not train and pools_batch and self.running_mean is not None:
            shape6, _ = self._view(x.shape, n)
            x6 = x.reshape(shape6)
            dev = x6 - self.running_mean if self.spec.center else x6
            y6 = dev * (1.0 / np.sqrt(self.running_spread + x.dtype.type(self.spec.eps)))
            return self._affine(y6).reshape(x.shape)
        batch = min(self.norm_batch, n) if pools_batch else n
        if n % batch:
            raise NormvizError(
                f"a batch of {n} images does not split into normalization batches of {batch}; "
                f"use a batch size that divides {n}."
            )
        shape6, reduced = self._view(x.shape, batch)
        x6 = x.reshape(shape6)
        xhat, r = standardize(x6, reduced, self.spec.eps, self.spec.center)
        if train:
            self.cache = (xhat, r, reduced)
            if pools_batch:
                self._update_running(x6, r, reduced)
        return self._affine(xhat).reshape(x.shape)

    def _update_running(self, x6: np.ndarray, r: np.ndarray, reduced) -> None:
        """One update per normalization batch, in order (as K calls of a BatchNorm layer would do),
        in closed form: after K updates, running = (1 − m)^K·running + Σ_k m·(1 − m)^(K−1−k)·stat_k.
        The spread comes back from r = 1/√(s + ε)."""
        m = int(np.prod([x6.shape[ax] for ax in reduced]))
        spread = 1.0 / np.square(r.astype(np.float64)) - self.spec.eps
        if self.spec.center:
            mean = x6.mean(axis=reduced, keepdims=True, dtype=np.float64)
            if m > 1:
                spread = spread * (m / (m - 1))
        else:
            mean = np.zeros_like(spread)
        if self.running_mean is None:  # PyTorch starts from mean 0, variance 1
            self.running_mean = np.zeros_like(mean[:1])
            self.running_spread = np.ones_like(spread[:1])
        k = x6.shape[0]
        keep = 1.0 - self.momentum
        weights = (self.momentum * keep ** np.arange(k - 1, -1, -1)).reshape(k, *([1] * (x6.ndim - 1)))
        self.running_mean = keep**k * self.running_mean + (weights * mean).sum(axis=0, keepdims=True)
        self.running_spread = keep**k * self.running_spread + (weights * spread).sum(axis=0, keepdims=True)
        self.running_mean = self.running_mean.astype(x6.dtype)
        self.running_spread = self.running_spread.astype(x6.dtype)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, r, reduced = self.cache
        dy6 = dout.reshape(xhat.shape)
        if self.params:
            g, cg = xhat.shape[2], xhat.shape[3]
            self.grads["gamma"] = np.einsum("kbgchw,kbgchw->gc", dy6, xhat).reshape(-1)
            self.grads["beta"] = dy6.sum(axis=(0, 1, 4, 5)).reshape(-1)
            dy6 = dy6 * self.params["gamma"].reshape(g, cg, 1, 1)
        return standardize_backward(dy6, xhat, r, reduced, self.spec.center).reshape(dout.shape)


class ReLU:
    params: dict = {}

    def __init__(self):
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        if train:
            self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask


class MaxPool2:
    """2×2 max pooling with stride 2 (H and W must be even); the gradient goes to the first maximum
    in the order (0, 0), (0, 1), (1, 0), (1, 1), as in PyTorch."""

    params: dict = {}

    def __init__(self):
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        corners = [x[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        out = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
        if train:
            taken = np.zeros(out.shape, dtype=bool)
            masks = []
            for corner in corners:
                first = (corner == out) & ~taken
                taken |= first
                masks.append(first)
            self.cache = (masks, x.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        masks, shape = self.cache
        dx = np.empty(shape, dtype=dout.dtype)
        for (i, j), mask in zip(((0, 0), (0, 1), (1, 0), (1, 1)), masks):
            np.multiply(dout, mask, out=dx[:, :, i::2, j::2])
        return dx


class GlobalAvgPool:
    """(N, C, H, W) → (N, C): the mean over positions."""

    params: dict = {}

    def __init__(self):
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        self.shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        n, c, h, w = self.shape
        return np.broadcast_to((dout / (h * w))[:, :, None, None], self.shape).copy()


class Linear:
    """y = x·Wᵀ + b. weight: (out, in); bias: (out,)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        self.params = {"weight": weight, "bias": bias}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        if train:
            self.x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads["weight"] = dout.T @ self.x
        self.grads["bias"] = dout.sum(axis=0)
        return dout @ self.params["weight"]


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of (N, K) logits against (N,) integer labels, and its gradient (N, K)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -float(log_probs[np.arange(n), labels].mean(dtype=np.float64))
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1
    return loss, grad / logits.dtype.type(n)

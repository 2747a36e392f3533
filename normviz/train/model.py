"""The small CNN and its optimizer.

    x (N, 3, 16, 16) → [conv 3×3 → norm → ReLU → max-pool 2] × 2 → global average → linear → logits

Widths 8 and 16 by default (``TrainSettings.widths``). The norm layers are ``Norm`` with the axes,
groups, centering and γ/β of a ``NormChoice`` (or none at all). SGD with momentum follows ``torch.optim.SGD``:
buf = μ·buf + (grad + λ·p), p = p − lr·buf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec import NormSpec
from .layers import Conv2d, GlobalAvgPool, Linear, MaxPool2, Norm, ReLU, softmax_cross_entropy


@dataclass(frozen=True)
class NormChoice:
    """One normalization to train with: a label, its axes (None: no normalization layer at all),
    groups, centering and whether it has γ/β."""

    label: str
    axes: str | None
    groups: int = 1
    center: bool = True
    affine: bool = True
    eps: float = 1e-5

    def spec(self) -> NormSpec | None:
        return None if self.axes is None else NormSpec.make(self.axes, self.groups, self.eps, self.center)

    @property
    def pools_batch(self) -> bool:
        """Whether the statistics mix images of a batch (so the batch size matters)."""
        return self.axes is not None and "N" in self.axes


def init_weights(rng: np.random.Generator, widths=(8, 16), in_channels: int = 3, classes: int = 6, dtype=np.float32):
    """He-normal convolutions, zero biases, a linear layer with std 1/√fan_in: a dict of arrays."""
    weights = {}
    c_in = in_channels
    for i, c_out in enumerate(widths):
        weights[f"conv{i}.weight"] = (rng.normal(size=(c_out, c_in, 3, 3)) * np.sqrt(2 / (c_in * 9))).astype(dtype)
        weights[f"conv{i}.bias"] = np.zeros(c_out, dtype)
        c_in = c_out
    weights["fc.weight"] = (rng.normal(size=(classes, c_in)) / np.sqrt(c_in)).astype(dtype)
    weights["fc.bias"] = np.zeros(classes, dtype)
    return weights


class Model:
    """The network for one normalization choice. ``weights`` as made by ``init_weights`` (copied)."""

    def __init__(self, weights: dict, norm: NormChoice, *, momentum: float = 0.1, norm_batch: int = 32):
        dtype = weights["fc.weight"].dtype
        spec = norm.spec()
        self.layers: list[tuple[str, object]] = []
        i = 0
        while f"conv{i}.weight" in weights:
            w = weights[f"conv{i}.weight"]
            self.layers.append((f"conv{i}", Conv2d(w.copy(), weights[f"conv{i}.bias"].copy(), input_grad=i > 0)))
            if spec is not None:
                spec.check_shape((1, w.shape[0], 1, 1))
                layer = Norm(
                    spec, w.shape[0], affine=norm.affine, momentum=momentum, norm_batch=norm_batch, dtype=dtype
                )
                self.layers.append((f"norm{i}", layer))
            self.layers += [(f"relu{i}", ReLU()), (f"pool{i}", MaxPool2())]
            i += 1
        self.layers.append(("gap", GlobalAvgPool()))
        self.layers.append(("fc", Linear(weights["fc.weight"].copy(), weights["fc.bias"].copy())))
        self.dtype = dtype

    def named_params(self):
        """(name, array) for every parameter, e.g. ("norm0.gamma", ...)."""
        for name, layer in self.layers:
            for key, value in layer.params.items():
                yield f"{name}.{key}", value

    def named_grads(self):
        for name, layer in self.layers:
            for key, value in layer.grads.items():
                yield f"{name}.{key}", value

    def norm_layers(self) -> list[Norm]:
        return [layer for _, layer in self.layers if isinstance(layer, Norm)]

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        """Logits (N, classes) for images (N, C, H, W)."""
        out = x.astype(self.dtype, copy=False)
        for _, layer in self.layers:
            out = layer.forward(out, train)
        return out

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """One training-mode forward and backward pass: the mean loss and the logits; the gradients
        are left in each layer's ``grads``."""
        logits = self.forward(x, train=True)
        loss, dout = softmax_cross_entropy(logits, labels)
        for _, layer in reversed(self.layers):
            dout = layer.backward(dout)  # None after the first convolution
        return loss, logits


class SGD:
    """torch.optim.SGD(momentum=μ, weight_decay=λ), updating the model's arrays in place."""

    def __init__(self, model: Model, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        self.model = model
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers: dict[str, np.ndarray] = {}

    def step(self) -> None:
        grads = dict(self.model.named_grads())
        for name, param in self.model.named_params():
            grad = grads[name]
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            buf = self.buffers.get(name)
            buf = grad.copy() if buf is None else buf * self.momentum + grad
            self.buffers[name] = buf
            param -= (self.lr * buf).astype(param.dtype, copy=False)

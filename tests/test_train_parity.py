"""The numpy CNN equals the same network built in PyTorch: loss, every gradient, one SGD step and
the running statistics.

Tolerance. In float64 both sides differ only by rounding: ~1e-15 relative, checked at 1e-9 (slack
for sums of a few thousand terms). Our float32 network against PyTorch in float64: each layer's
output carries a relative error of at most a few m·u with u = 6e-8 and m ≤ 144 terms per dot product
(|error| ≤ m·u·Σ|terms|, 1e-5 at worst, typically √m·u ≈ 1e-6); through 8 layers forward and back
that stays below 1e-4 of the largest gradient of each layer, which is the bound checked. (Per layer,
not per tensor: a convolution's bias before a centering norm has a gradient that is zero up to
rounding, whose size is set by the sums of the layer's other gradients.)
"""

import numpy as np
import pytest

from normviz.train.model import SGD, Model, NormChoice, init_weights

torch = pytest.importorskip("torch")
nn = torch.nn

CHOICES = [
    NormChoice("BatchNorm", "NHW"),
    NormChoice("GroupNorm", "CHW", groups=4),
    NormChoice("InstanceNorm", "HW"),
    NormChoice("LayerNorm", "CHW"),
    NormChoice("RMS over N, C", "NC", center=False),
    NormChoice("H only, no γ/β", "H", affine=False),
    NormChoice("BatchNorm, normalization batches of 2", "NHW"),
    NormChoice("None", None),
]


class AnyAxesNorm(nn.Module):
    """Normalization over any axes written with torch primitives, in normalization batches of B."""

    def __init__(self, choice: NormChoice, channels: int, batch: int):
        super().__init__()
        self.choice, self.channels, self.batch = choice, channels, batch
        if choice.affine:
            self.weight = nn.Parameter(torch.ones(channels, dtype=torch.float64))
            self.bias = nn.Parameter(torch.zeros(channels, dtype=torch.float64))

    def forward(self, x):
        n, c, h, w = x.shape
        g = self.choice.groups if "C" in self.choice.axes else c
        b = self.batch if "N" in self.choice.axes else n
        v = x.reshape(n // b, b, g, c // g, h, w)
        dims = [d for d, letter in zip((1, 3, 4, 5), "NCHW") if letter in self.choice.axes]
        if self.choice.center:
            dev = v - v.mean(dim=dims, keepdim=True)
            spread = (dev**2).mean(dim=dims, keepdim=True)
        else:
            dev, spread = v, (v**2).mean(dim=dims, keepdim=True)
        y = (dev / torch.sqrt(spread + self.choice.eps)).reshape(n, c, h, w)
        if self.choice.affine:
            y = y * self.weight.reshape(1, c, 1, 1) + self.bias.reshape(1, c, 1, 1)
        return y


def torch_norm(choice: NormChoice, channels: int, batch: int, n: int):
    if choice.axes is None:
        return nn.Identity()
    if choice.axes == "NHW" and choice.center and choice.affine and batch == n:
        return nn.BatchNorm2d(channels, eps=choice.eps, momentum=0.1, dtype=torch.float64)
    if choice.axes == "CHW" and choice.center and choice.affine:
        return nn.GroupNorm(choice.groups, channels, eps=choice.eps, dtype=torch.float64)
    return AnyAxesNorm(choice, channels, batch)


def torch_net(weights: dict, choice: NormChoice, batch: int, n: int):
    layers = []
    names = {}
    for i in range(2):
        w = weights[f"conv{i}.weight"]
        conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1, dtype=torch.float64)
        conv.weight.data = torch.tensor(w, dtype=torch.float64)
        conv.bias.data = torch.tensor(weights[f"conv{i}.bias"], dtype=torch.float64)
        norm = torch_norm(choice, w.shape[0], batch, n)
        names[f"conv{i}.weight"], names[f"conv{i}.bias"] = conv.weight, conv.bias
        if choice.axes is not None and choice.affine:
            names[f"norm{i}.gamma"], names[f"norm{i}.beta"] = norm.weight, norm.bias
        layers += [conv, norm, nn.ReLU(), nn.MaxPool2d(2)]
    fc = nn.Linear(weights["fc.weight"].shape[1], weights["fc.weight"].shape[0], dtype=torch.float64)
    fc.weight.data = torch.tensor(weights["fc.weight"], dtype=torch.float64)
    fc.bias.data = torch.tensor(weights["fc.bias"], dtype=torch.float64)
    names["fc.weight"], names["fc.bias"] = fc.weight, fc.bias
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), fc)
    return net, names


def _problem(seed: int, n: int = 8):
    rng = np.random.default_rng(seed)
    weights = init_weights(rng, dtype=np.float64)
    x = rng.normal(0.3, 1.0, size=(n, 3, 16, 16)) + rng.normal(size=(n, 3, 1, 1))
    labels = rng.integers(0, 6, size=n)
    return weights, x, labels


def _norm_batch(choice: NormChoice, n: int) -> int:
    return 2 if "batches of 2" in choice.label else n


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: c.label)
def test_loss_and_every_gradient_match_torch(choice, dtype):
    weights, x, labels = _problem(1)
    n = x.shape[0]
    batch = _norm_batch(choice, n)
    model = Model({k: v.astype(dtype) for k, v in weights.items()}, choice, norm_batch=batch)
    loss, _ = model.loss_and_grads(x.astype(dtype), labels)
    net, params = torch_net(weights, choice, batch, n)
    ref = nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(labels))
    ref.backward()
    rel = 1e-9 if dtype is np.float64 else 1e-4
    assert abs(loss - ref.item()) <= rel * max(1.0, abs(ref.item()))
    grads = dict(model.named_grads())
    assert set(grads) == set(params), "every parameter has a gradient on both sides"
    layer_scale = {}  # a layer's largest gradient: the scale its sums of products are rounded at
    for name, tensor in params.items():
        layer = name.split(".")[0]
        layer_scale[layer] = max(layer_scale.get(layer, 0.0), float(tensor.grad.abs().max()))
    for name, tensor in params.items():
        expected = tensor.grad.numpy()
        assert grads[name].dtype == dtype
        atol = rel * layer_scale[name.split(".")[0]]
        np.testing.assert_allclose(grads[name], expected, rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("choice", CHOICES[:3], ids=lambda c: c.label)
def test_sgd_steps_and_running_statistics_match_torch(choice):
    """Three SGD steps (momentum 0.9, weight decay 5e-4) on different batches, then eval mode."""
    weights, _, _ = _problem(2)
    model = Model(weights, choice, norm_batch=8)
    opt = SGD(model, lr=0.05, momentum=0.9, weight_decay=5e-4)
    net, params = torch_net(weights, choice, 8, 8)
    torch_opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    for step in range(3):
        _, x, labels = _problem(10 + step)
        model.loss_and_grads(x, labels)
        opt.step()
        torch_opt.zero_grad()
        nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(labels)).backward()
        torch_opt.step()
    ours = dict(model.named_params())
    for name, tensor in params.items():
        np.testing.assert_allclose(ours[name], tensor.detach().numpy(), rtol=0, atol=1e-9, err_msg=name)
    _, x, _ = _problem(20)
    net.eval()
    expected = net(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(model.forward(x, train=False), expected, rtol=0, atol=1e-9)
    if choice.axes == "NHW":
        bn = [m for m in net if isinstance(m, nn.BatchNorm2d)]
        for layer, ref in zip(model.norm_layers(), bn):
            np.testing.assert_allclose(layer.running_mean.ravel(), ref.running_mean.numpy(), rtol=0, atol=1e-12)
            np.testing.assert_allclose(layer.running_spread.ravel(), ref.running_var.numpy(), rtol=0, atol=1e-12)


def test_running_statistics_of_normalization_batches_are_sequential_updates():
    """Four batches of 2 update the running statistics as four BatchNorm2d calls on them would."""
    weights, x, labels = _problem(3)
    choice = NormChoice("BatchNorm", "NHW")
    model = Model(weights, choice, norm_batch=2)
    model.forward(x, train=True)
    width = weights["conv0.weight"].shape[0]
    bn = nn.BatchNorm2d(width, momentum=0.1, dtype=torch.float64)
    conv = nn.Conv2d(3, width, 3, padding=1, dtype=torch.float64)
    conv.weight.data = torch.tensor(weights["conv0.weight"])
    conv.bias.data = torch.tensor(weights["conv0.bias"])
    with torch.no_grad():
        for k in range(4):
            bn(conv(torch.tensor(x[2 * k : 2 * k + 2])))
    first = model.norm_layers()[0]
    np.testing.assert_allclose(first.running_mean.ravel(), bn.running_mean.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(first.running_spread.ravel(), bn.running_var.numpy(), rtol=0, atol=1e-12)

"""Running statistics over mini-batches match PyTorch's BatchNorm2d, Keras's BatchNormalization and
(when installed) Flax's BatchNorm fed the same batches; eval-mode outputs match too."""

import importlib.util
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import normviz
from normviz import NormvizError
from normviz.running import batch_ranges, eval_normalize, simulate_running_stats
from tests.data import channel_data

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

HAS_FLAX = importlib.util.find_spec("flax") is not None and importlib.util.find_spec("jax") is not None


def _torch_run(x, batches, epochs, momentum, eps, gamma, beta):
    """Feed the batches through torch.nn.BatchNorm2d; return per-step running stats, the last epoch's
    train outputs, and the eval-mode output of all of x."""
    torch = pytest.importorskip("torch")
    bn = torch.nn.BatchNorm2d(x.shape[1], eps=eps, momentum=momentum, affine=gamma is not None)
    means, variances, outputs = [bn.running_mean.clone().numpy()], [bn.running_var.clone().numpy()], []
    with torch.no_grad():
        if gamma is not None:
            bn.weight.copy_(torch.from_numpy(gamma))
            bn.bias.copy_(torch.from_numpy(beta))
        bn.train()
        for _ in range(epochs):
            outputs = []
            for start, stop in batches:
                outputs.append(bn(torch.from_numpy(x[start:stop])).numpy())
                means.append(bn.running_mean.clone().numpy())
                variances.append(bn.running_var.clone().numpy())
        bn.eval()
        evaluated = bn(torch.from_numpy(x)).numpy()
    return np.array(means), np.array(variances), np.concatenate(outputs), evaluated


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize(("shape", "batch_size", "drop_last"), [
    ((10, 3, 5, 4), 4, False), ((10, 3, 5, 4), 4, True), ((6, 2, 3, 3), 1, False), ((7, 4, 1, 2), 3, False),
    ((5, 3, 4, 4), 5, False), ((5, 3, 4, 4), 8, False),
])  # fmt: skip
@pytest.mark.parametrize("epochs", [1, 3])
@pytest.mark.parametrize("affine", [True, False])
def test_matches_torch_batchnorm2d(shape, batch_size, drop_last, momentum, epochs, affine):
    x, gamma, beta = channel_data(shape, seed=sum(shape) + batch_size, affine=affine)
    run = simulate_running_stats(
        x, batch_size, momentum=momentum, epochs=epochs, drop_last=drop_last, gamma=gamma, beta=beta
    )
    means, variances, train, evaluated = _torch_run(x, run.batches, epochs, momentum, 1e-5, gamma, beta)
    assert run.steps == len(means) - 1 == epochs * len(run.batches)
    np.testing.assert_allclose(run.running_mean, means, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.running_var, variances, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.train_output, train, rtol=0, atol=1e-5)
    np.testing.assert_allclose(run.eval_output, evaluated, rtol=0, atol=1e-5)


def test_pytorch_defaults_are_pytorchs():
    torch = pytest.importorskip("torch")
    x, _, _ = channel_data((9, 3, 4, 4), seed=1, affine=False)
    bn = torch.nn.BatchNorm2d(3)  # the framework's own defaults
    run = simulate_running_stats(x, 3)
    assert (run.momentum, run.eps) == (bn.momentum, bn.eps)
    with torch.no_grad():
        for start, stop in run.batches:
            bn(torch.from_numpy(x[start:stop]))
    np.testing.assert_allclose(run.running_var[-1], bn.running_var.numpy(), rtol=1e-5)


def _keras_run(x, batches, epochs, momentum, eps, gamma, beta):
    keras = pytest.importorskip("keras")
    kwargs = {} if momentum is None else {"momentum": momentum}
    kwargs.update({} if eps is None else {"epsilon": eps})
    layer = keras.layers.BatchNormalization(axis=1, center=gamma is not None, scale=gamma is not None, **kwargs)
    layer.build(x.shape)
    if gamma is not None:
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    means = [keras.ops.convert_to_numpy(layer.moving_mean)]
    variances = [keras.ops.convert_to_numpy(layer.moving_variance)]
    for _ in range(epochs):
        for start, stop in batches:
            layer(x[start:stop], training=True)
            means.append(keras.ops.convert_to_numpy(layer.moving_mean))
            variances.append(keras.ops.convert_to_numpy(layer.moving_variance))
    evaluated = keras.ops.convert_to_numpy(layer(x, training=False))
    return np.array(means), np.array(variances), evaluated, layer


@pytest.mark.parametrize("momentum", [None, 0.9, 0.5])
@pytest.mark.parametrize(("shape", "batch_size"), [((10, 3, 5, 4), 4), ((6, 2, 1, 1), 1), ((8, 4, 3, 3), 8)])
@pytest.mark.parametrize("epochs", [1, 4])
def test_matches_keras_batchnormalization(shape, batch_size, momentum, epochs):
    x, gamma, beta = channel_data(shape, seed=sum(shape) * 7 + batch_size)
    means, variances, evaluated, layer = _keras_run(x, batch_ranges(shape[0], batch_size), epochs, momentum, None,
                                                    gamma, beta)  # fmt: skip
    kwargs = {} if momentum is None else {"momentum": momentum}
    run = simulate_running_stats(x, batch_size, convention="keras", epochs=epochs, gamma=gamma, beta=beta, **kwargs)
    assert (run.momentum, run.eps) == (layer.momentum, layer.epsilon)  # defaults: Keras's own
    np.testing.assert_allclose(run.running_mean, means, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.running_var, variances, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.eval_output, evaluated, rtol=0, atol=1e-5)


@pytest.mark.skipif(not HAS_FLAX, reason="JAX/Flax are not installed")
@pytest.mark.parametrize("momentum", [0.99, 0.8])
def test_matches_flax_batchnorm(momentum):
    import flax.linen as nn
    import jax

    x, _, _ = channel_data((10, 3, 4, 5), seed=5, affine=False)
    run = simulate_running_stats(x, 4, convention="flax", momentum=momentum, epochs=2)
    layer = nn.BatchNorm(axis=1, momentum=momentum, use_bias=False, use_scale=False)
    variables = layer.init(jax.random.key(0), x, use_running_average=False)
    assert run.eps == layer.epsilon
    for _ in range(2):
        for start, stop in run.batches:
            _, updates = layer.apply(variables, x[start:stop], use_running_average=False, mutable=["batch_stats"])
            variables = {**variables, **updates}
    stats = variables["batch_stats"]
    np.testing.assert_allclose(run.running_mean[-1], np.asarray(stats["mean"]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.running_var[-1], np.asarray(stats["var"]), rtol=1e-5, atol=1e-6)
    evaluated = np.asarray(layer.apply(variables, x, use_running_average=True))
    np.testing.assert_allclose(run.eval_output, evaluated, rtol=0, atol=1e-5)


def test_one_value_per_channel_is_pytorchs_error_but_not_keras():
    torch = pytest.importorskip("torch")
    x, _, _ = channel_data((5, 3, 1, 1), seed=2, affine=False)
    with pytest.raises(NormvizError, match="Expected more than 1 value per channel when training"):
        simulate_running_stats(x, 2)  # the last batch holds one sample
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        torch.nn.BatchNorm2d(3).train()(torch.from_numpy(x[4:5]))
    run = simulate_running_stats(x, 2, drop_last=True)
    assert run.dropped == 1 and run.fed == 4 and run.eval_output.shape == x.shape
    keras_run = simulate_running_stats(x, 2, convention="keras")
    means, variances, _, _ = _keras_run(x, keras_run.batches, 1, None, None, None, None)
    np.testing.assert_allclose(keras_run.running_var, variances, rtol=1e-5, atol=1e-6)


def test_train_output_is_normalize_per_batch_and_eval_uses_the_running_stats():
    x, gamma, beta = channel_data((7, 2, 3, 3), seed=4)
    run = simulate_running_stats(x, 3, gamma=gamma, beta=beta, epochs=2)
    for start, stop in run.batches:
        expected = normviz.normalize(x[start:stop], "NHW", gamma=gamma, beta=beta).y
        np.testing.assert_array_equal(run.train_output[start:stop], expected)
    expected = eval_normalize(x, run.running_mean[-1], run.running_var[-1], run.eps, gamma, beta)
    np.testing.assert_array_equal(run.eval_output, expected)
    np.testing.assert_allclose(run.difference, run.eval_output - run.train_output, rtol=0, atol=0)


def test_when_the_running_stats_are_the_batch_stats_eval_equals_train():
    x, gamma, beta = channel_data((6, 3, 4, 4), seed=8)
    same = simulate_running_stats(x, 6, convention="keras", momentum=0.0, eps=1e-5, gamma=gamma, beta=beta)
    assert same.max_abs_difference < 1e-5
    unbiased = simulate_running_stats(x, 6, momentum=1.0, gamma=gamma, beta=beta)
    n = 6 * 4 * 4
    np.testing.assert_allclose(unbiased.running_var[-1], unbiased.batch_var[-1] * n / (n - 1), rtol=1e-12)
    assert unbiased.max_abs_difference > 1e-4  # PyTorch's eval mode divides by the unbiased σ


def test_running_mean_moves_slowly_with_keras_momentum():
    x, _, _ = channel_data((8, 2, 4, 4), seed=9, affine=False)
    torch_run = simulate_running_stats(x, 2)
    keras_run = simulate_running_stats(x, 2, convention="keras")
    gap = np.abs(keras_run.running_mean[-1] - keras_run.input_mean).mean()
    assert gap > np.abs(torch_run.running_mean[-1] - torch_run.input_mean).mean()


def test_batch_ranges():
    assert batch_ranges(6, 6) == ((0, 6),)
    assert batch_ranges(5, 8) == ((0, 5),)
    assert batch_ranges(5, 8, drop_last=True) == ()
    assert batch_ranges(7, 2) == ((0, 2), (2, 4), (4, 6), (6, 7))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a whole number"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"batch_size": 9, "drop_last": True}, "no batch is left"),
        ({"batch_size": 2, "momentum": 0.0}, r"must be in \(0, 1\]"),
        ({"batch_size": 2, "convention": "keras", "momentum": 1.0}, r"must be in \[0, 1\)"),
        ({"batch_size": 2, "convention": "keras", "momentum": None}, "PyTorch's option"),
        ({"batch_size": 2, "convention": "mxnet"}, "unknown convention"),
        ({"batch_size": 2, "epochs": 0}, "epochs must be"),
        ({"batch_size": 2, "gamma": [1.0]}, "gamma must have shape"),
    ],
)
def test_bad_arguments_raise_normviz_error(kwargs, message):
    x, _, _ = channel_data((8, 2, 3, 3), seed=0, affine=False)
    with pytest.raises(NormvizError, match=message):
        simulate_running_stats(x, **kwargs)

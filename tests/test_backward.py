"""normalize_grad equals PyTorch autograd (float64) for every axis subset, groups, centering and γ.

The reference is a forward pass written with torch primitives on the (N, G, C/G, H, W) view,
differentiated by autograd, and for the named layers torch's own functions (batch_norm, group_norm,
instance_norm, layer_norm, rms_norm). Tolerances are bounds on float64 rounding (see ``_bounds``).
"""

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import normviz

torch = pytest.importorskip("torch")

U = np.finfo(np.float64).eps / 2  # unit roundoff of float64
ALL_AXES = ["".join(c) for k in range(5) for c in combinations("NCHW", k)]


def torch_grad(x, dy, axes, groups=1, eps=1e-5, center=True, gamma=None):
    """(dx, dgamma, dbeta) by autograd through a torch-primitive forward pass."""
    n, c, h, w = x.shape
    g = groups if "C" in axes else c
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gt = None if gamma is None else torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    bt = None if gamma is None else torch.zeros(c, dtype=torch.float64, requires_grad=True)
    v = xt.reshape(n, g, c // g, h, w)
    dims = [d for d, letter in zip((0, 2, 3, 4), "NCHW") if letter in axes]
    if center:
        dev = v - v.mean(dim=dims, keepdim=True) if dims else v - v
        spread = (dev**2).mean(dim=dims, keepdim=True) if dims else dev**2
    else:
        dev = v
        spread = (v**2).mean(dim=dims, keepdim=True) if dims else v**2
    y = (dev / torch.sqrt(spread + eps)).reshape(n, c, h, w)
    if gt is not None:
        y = y * gt.reshape(1, c, 1, 1) + bt.reshape(1, c, 1, 1)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    if gt is None:
        return xt.grad.numpy(), None, None
    return xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


def _bounds(x, dy, axes, groups, eps, center, gamma):
    """Rounding bounds for dx, dγ, dβ computed two ways in float64.

    Each group statistic is a sum of m terms (error ≤ m·u relative to the sum of magnitudes);
    centering loses a factor K = 1 + max|x|·max(r) (x − μ cancels); dx = r·(g − ḡ − x̂·mean(g·x̂))
    is bounded by max(r)·max|g|·(1 + max|x̂|)², each term carrying a few roundings (factor 16).
    dγ sums m' = N·H·W products whose x̂ carries the same relative error; dβ is a plain sum.
    """
    spec = normviz.NormSpec.make(axes, groups, eps, center)
    m = spec.group_size(x.shape)
    res = normviz.normalize(x.astype(np.float64), axes, groups=groups, eps=eps, center=center)
    r = 1.0 / res.denominator
    xhat = np.abs(np.asarray(res.y, dtype=np.float64)) * 1.001 + 1e-3  # y is float32: pad it
    gscale = 1.0 if gamma is None else float(np.abs(gamma).max())
    k = 1.0 + float(np.abs(x).max() * r.max())
    m_other = x.shape[0] * x.shape[2] * x.shape[3]
    dx_tol = 16 * (m + 4) * U * k * float(r.max()) * float(np.abs(dy).max()) * gscale * (1 + float(xhat.max())) ** 2
    dg_tol = 16 * (m_other + m + 4) * U * k * float(np.abs(dy).sum()) * (1 + float(xhat.max()))
    db_tol = 4 * m_other * U * float(np.abs(dy).sum())
    return dx_tol, dg_tol, db_tol


def check(x, dy, axes, groups=1, eps=1e-5, center=True, gamma=None):
    ours = normviz.normalize_grad(x, dy, axes, groups=groups, eps=eps, center=center, gamma=gamma)
    dx, dgamma, dbeta = torch_grad(x, dy, axes, groups, eps, center, gamma)
    dx_tol, dg_tol, db_tol = _bounds(x, dy, axes, groups, eps, center, gamma)
    assert ours.dx.shape == x.shape and ours.dx.dtype == np.float64
    np.testing.assert_allclose(ours.dx, dx, rtol=0, atol=dx_tol)
    if gamma is None:
        assert ours.dgamma is None and ours.dbeta is None
    else:
        np.testing.assert_allclose(ours.dgamma, dgamma, rtol=0, atol=dg_tol)
        np.testing.assert_allclose(ours.dbeta, dbeta, rtol=0, atol=db_tol)
    return ours


@pytest.mark.parametrize("axes", ALL_AXES, ids=lambda a: a or "none")
@pytest.mark.parametrize("center", [True, False], ids=["centered", "rms"])
@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
def test_every_axis_subset(axes, center, affine):
    rng = np.random.default_rng(len(axes) * 4 + center * 2 + affine)
    x = rng.normal(1.5, 2.0, size=(3, 4, 5, 2))
    dy = rng.normal(size=x.shape)
    gamma = rng.normal(size=4) if affine else None
    check(x, dy, axes, center=center, gamma=gamma)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
@pytest.mark.parametrize("axes", ["C", "CH", "CHW", "NC", "NCHW"])
def test_groups(axes, groups):
    rng = np.random.default_rng(groups)
    x = rng.normal(size=(2, 6, 3, 4)) * rng.uniform(0.1, 10, size=(1, 6, 1, 1))
    check(x, rng.normal(size=x.shape), axes, groups=groups, gamma=rng.normal(size=6))


def test_named_layers_match_torch_functions():
    """BatchNorm, GroupNorm, InstanceNorm, LayerNorm and RMSNorm against torch's own layers."""
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4, 6, 5, 3))
    dy = rng.normal(size=x.shape)
    gamma = rng.normal(size=6)
    beta = rng.normal(size=6)
    layers = {
        ("NHW", 1, True): lambda t, g, b: F.batch_norm(t, None, None, g, b, training=True, eps=1e-5),
        ("CHW", 3, True): lambda t, g, b: F.group_norm(t, 3, g, b, eps=1e-5),
        ("HW", 1, True): lambda t, g, b: F.instance_norm(t, weight=g, bias=b, eps=1e-5),
        ("CHW", 1, True): lambda t, g, b: F.group_norm(t, 1, g, b, eps=1e-5),
        ("CHW", 1, False): lambda t, g, b: (
            F.rms_norm(t, (6, 5, 3), eps=1e-5) * g.reshape(1, 6, 1, 1) + b.reshape(1, 6, 1, 1)
        ),
    }
    for (axes, groups, center), layer in layers.items():
        xt = torch.tensor(x, requires_grad=True)
        gt = torch.tensor(gamma, requires_grad=True)
        bt = torch.tensor(beta, requires_grad=True)
        layer(xt, gt, bt).backward(torch.tensor(dy))
        ours = normviz.normalize_grad(x, dy, axes, groups=groups, center=center, gamma=gamma)
        dx_tol, dg_tol, db_tol = _bounds(x, dy, axes, groups, 1e-5, center, gamma)
        np.testing.assert_allclose(ours.dx, xt.grad.numpy(), rtol=0, atol=dx_tol, err_msg=axes)
        np.testing.assert_allclose(ours.dgamma, gt.grad.numpy(), rtol=0, atol=dg_tol, err_msg=axes)
        np.testing.assert_allclose(ours.dbeta, bt.grad.numpy(), rtol=0, atol=db_tol, err_msg=axes)
    # LayerNorm over (C, H, W) with per-element affine 1 is the same function as GroupNorm(1) above.
    xt = torch.tensor(x, requires_grad=True)
    F.layer_norm(xt, (6, 5, 3), eps=1e-5).backward(torch.tensor(dy))
    dx_tol, _, _ = _bounds(x, dy, "CHW", 1, 1e-5, True, None)
    np.testing.assert_allclose(normviz.normalize_grad(x, dy, "CHW").dx, xt.grad.numpy(), rtol=0, atol=dx_tol)


@st.composite
def problems(draw):
    shape = tuple(draw(st.integers(1, 5)) for _ in range(4))
    axes = draw(st.sampled_from(ALL_AXES))
    groups = draw(st.sampled_from(normviz.divisors(shape[1]))) if "C" in axes else 1
    center = draw(st.booleans())
    affine = draw(st.booleans())
    eps = draw(st.sampled_from([1e-5, 1e-3, 1e-1]))
    seed = draw(st.integers(0, 2**32 - 1))
    offset = draw(st.sampled_from([0.0, 3.0, -50.0]))
    scale = draw(st.sampled_from([1e-2, 1.0, 30.0]))
    return shape, axes, groups, center, affine, eps, seed, offset, scale


@settings(max_examples=150, deadline=None)
@given(problems())
def test_hypothesis_against_torch(problem):
    shape, axes, groups, center, affine, eps, seed, offset, scale = problem
    rng = np.random.default_rng(seed)
    x = offset + scale * rng.normal(size=shape)
    dy = rng.normal(size=shape)
    gamma = rng.normal(size=shape[1]) if affine else None
    check(x, dy, axes, groups=groups, eps=eps, center=center, gamma=gamma)


def test_gradient_is_orthogonal_to_what_normalization_removes():
    """Centered: dx sums to 0 over each group and is orthogonal to x̂ when ε is negligible."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6, 5, 5)) * 3 + 1
    grad = normviz.normalize_grad(x, rng.normal(size=x.shape), "CHW", groups=3, eps=1e-12)
    per_group = grad.dx.reshape(4, 3, -1)
    assert np.abs(per_group.sum(axis=2)).max() < 1e-12
    xhat = normviz.normalize(x, "CHW", groups=3, eps=1e-12).y.reshape(4, 3, -1).astype(np.float64)
    assert np.abs((per_group * xhat).sum(axis=2)).max() < 1e-5  # y is float32: |x̂| error ≈ 1e-7 × 50 terms


def test_constant_groups_and_float32_input():
    x = np.full((2, 3, 4, 4), 7.0, dtype=np.float32)
    dy = np.random.default_rng(0).normal(size=x.shape).astype(np.float32)
    check(x, dy, "NHW", gamma=np.ones(3))
    check(x, dy, "HW", center=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dy": np.zeros((2, 3, 4, 5))}, "dy must have the shape of x"),
        ({"axes": "NQ"}, "unknown axis letter"),
        ({"groups": 2}, "groups=2 must divide"),
        ({"gamma": np.ones(4)}, "gamma must have shape"),
        ({"eps": 0}, "eps must be a positive"),
    ],
)
def test_bad_inputs_have_clear_messages(kwargs, message):
    args = {"x": np.zeros((2, 3, 4, 4)), "dy": np.zeros((2, 3, 4, 4)), "axes": "CHW"}
    args.update(kwargs)
    with pytest.raises(normviz.NormvizError, match=message):
        normviz.normalize_grad(**args)

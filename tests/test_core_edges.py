"""Edge cases of normalize: constant and one-value groups, offsets, dtypes, large groups, errors."""

import itertools

import numpy as np
import pytest

import normviz
from normviz import kernel
from tests.reference import loop_normalize, output_bound

F32_EPS = float(np.finfo(np.float32).eps)
ALL_AXES = ["".join(s) for k in range(5) for s in itertools.combinations("NCHW", k)]


@pytest.mark.parametrize("axes", ALL_AXES)
def test_constant_groups_give_exactly_zero(axes):
    x = np.empty((3, 4, 5, 6), np.float32)
    x[:] = np.array([0.1, -7.3, 1e4, 0.0], np.float32)[None, :, None, None]
    groups = 4 if "C" in axes else 1  # one constant channel per group
    res = normviz.normalize(x, axes, groups=groups)
    constant_groups = [i for i in np.ndindex(*res.stats_shape) if np.ptp(x[np.ix_(*res.group_box(i))]) == 0]
    assert constant_groups, "the test needs constant groups"
    for index in constant_groups:
        assert (res.y[np.ix_(*res.group_box(index))] == 0).all()
        assert res.var[index] == 0
    assert np.isfinite(res.y).all()


def test_all_zero_tensor_is_all_zero_for_every_setting():
    x = np.zeros((2, 4, 3, 3), np.float32)
    for axes in ALL_AXES:
        for center in (True, False):
            res = normviz.normalize(x, axes, groups=2 if "C" in axes else 1, center=center)
            assert (res.y == 0).all() and np.isfinite(res.mean).all()


def test_constant_group_with_beta_gives_beta():
    x = np.full((2, 3, 4, 4), 2.5, np.float32)
    beta = np.array([0.5, -1.0, 3.0])
    res = normviz.normalize(x, "NHW", gamma=np.array([2.0, 3.0, 4.0]), beta=beta)
    np.testing.assert_allclose(res.y, np.broadcast_to(beta[None, :, None, None], x.shape), atol=1e-7)


@pytest.mark.parametrize("axes", ["", "C", "N", "H", "W", "NC"])
def test_one_value_groups_give_beta_and_a_warning(axes):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 1, 1, 1) if axes else (2, 3, 2, 2)).astype(np.float32)
    beta = rng.normal(size=x.shape[1])
    res = normviz.normalize(x, axes, beta=beta)
    assert res.count == 1
    np.testing.assert_array_equal(res.y, np.broadcast_to(beta.astype(np.float32)[None, :, None, None], x.shape))
    np.testing.assert_array_equal(res.mean.reshape(-1), x.astype(np.float64).reshape(-1))
    assert any("single value" in w or "own group" in w for w in res.warnings)


def test_empty_axis_set_is_allowed_with_a_warning():
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 5)).astype(np.float32)
    res = normviz.normalize(x, "")
    assert res.stats_shape == x.shape
    assert (res.y == 0).all()
    assert res.warnings and "No axis is reduced" in res.warnings[0]


@pytest.mark.parametrize("axes", ["NHW", "CHW", "HW", "C", "N"])
def test_large_offset_normalizes_to_float32_precision(axes):
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(4, 6, 7, 9)) + 1e4).astype(np.float32)
    res = normviz.normalize(x, axes)
    y_ref, _ = loop_normalize(x, axes)
    assert np.abs(res.y - y_ref).max() < 1e-6
    # the test has teeth: E[x²] − E[x]² in float32 is far off on this tensor
    red = tuple(i for i, a in enumerate("NCHW") if a in axes)
    naive_var = (x * x).mean(axis=red, keepdims=True) - x.mean(axis=red, keepdims=True) ** 2
    naive = (x - x.mean(axis=red, keepdims=True)) / np.sqrt(np.abs(naive_var) + 1e-5)
    assert np.abs(naive - y_ref).max() > 1e-2


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.uint8, np.int16, np.int32, np.int64, np.uint64, np.bool_])
def test_any_real_dtype_gives_float32(dtype):
    rng = np.random.default_rng(4)
    raw = rng.integers(0, 2 if dtype == np.bool_ else 200, size=(3, 4, 5, 5))
    x = raw.astype(dtype)
    res = normviz.normalize(x, "NHW")
    y_ref, _ = loop_normalize(x.astype(np.float64), "NHW")
    assert res.y.dtype == np.float32
    assert (np.abs(res.y - y_ref) <= output_bound(y_ref)).all()


def test_float64_input_keeps_digits_float32_would_lose():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 6, 6)) * 1e-3 + 1e6  # float32 cannot hold these values apart
    res = normviz.normalize(x, "HW")
    y_ref, _ = loop_normalize(x, "HW")
    np.testing.assert_allclose(res.y, y_ref, atol=1e-5)


def test_values_whose_squares_overflow_float32_still_normalize():
    rng = np.random.default_rng(6)
    x = (rng.normal(size=(2, 3, 4, 4)) * 1e25).astype(np.float32)
    res = normviz.normalize(x, "NHW")
    y_ref, _ = loop_normalize(x, "NHW")
    assert (np.abs(res.y - y_ref) <= output_bound(y_ref)).all()


def test_non_contiguous_input():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(5, 6, 4, 3)).astype(np.float32)
    x = base.transpose(0, 3, 2, 1)[:, :, ::-1]
    res = normviz.normalize(x, "NHW")
    y_ref = loop_normalize(np.ascontiguousarray(x), "NHW")[0]
    assert (np.abs(res.y - y_ref) <= output_bound(y_ref)).all()


@pytest.mark.parametrize("axes", [a for a in ALL_AXES if a])
@pytest.mark.parametrize("threads", [1, 3])
def test_multi_block_and_two_pass_paths_agree_with_reference(monkeypatch, axes, threads):
    """Tiny blocks and a tiny fused limit force groups across many blocks (Chan merges)."""
    monkeypatch.setattr(kernel, "BLOCK_ELEMENTS", 7)
    monkeypatch.setattr(kernel, "SCRATCH_BLOCK_ELEMENTS", 7)
    monkeypatch.setattr(kernel, "FUSED_GROUP_LIMIT", 3)
    monkeypatch.setattr(kernel, "CHUNK", 4)
    rng = np.random.default_rng(8)
    x = (rng.normal(size=(3, 4, 5, 6)) * 3 + 100).astype(np.float32)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    for center in (True, False):
        groups = 2 if "C" in axes else 1
        res = normviz.normalize(x, axes, groups=groups, center=center, gamma=gamma, beta=beta, threads=threads)
        y_ref, _ = loop_normalize(x, axes, groups, 1e-5, center, gamma, beta)
        y_plain, _ = loop_normalize(x, axes, groups, 1e-5, center)
        assert (np.abs(res.y - y_ref) <= output_bound(y_ref, gamma, beta, y_plain)).all()


@pytest.mark.parametrize("axes", [a for a in ALL_AXES if a])
def test_output_written_in_slices_agrees_with_reference(monkeypatch, axes):
    """Tiny output slices make both writing passes go over each block piece by piece, with
    per-row and broadcast scales, offsets, γ and β."""
    monkeypatch.setattr(kernel, "EMIT_ELEMENTS", 5)
    rng = np.random.default_rng(11)
    x = (rng.normal(size=(3, 4, 5, 6)) * 2 + 0.1).astype(np.float32)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    for center in (True, False):
        groups = 2 if "C" in axes else 1
        res = normviz.normalize(x, axes, groups=groups, center=center, gamma=gamma, beta=beta, threads=1)
        y_ref, _ = loop_normalize(x, axes, groups, 1e-5, center, gamma, beta)
        y_plain, _ = loop_normalize(x, axes, groups, 1e-5, center)
        assert (np.abs(res.y - y_ref) <= output_bound(y_ref, gamma, beta, y_plain)).all()


@pytest.mark.parametrize("head_far", [True, False])
def test_a_wrong_guess_from_the_head_of_the_rows_costs_only_time(monkeypatch, head_far):
    """Whether K = 0 is tried is guessed from the first HEAD values of each row. A head far from
    the mean (K = 0 not tried though it would do) or near 0 while the rest is not (tried, then
    redone) must give the same float32 precision."""
    monkeypatch.setattr(kernel, "HEAD", 6)
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 4, 5, 6))
    x[:, :, 0] += 6.0 if head_far else 0.0  # the head of each row of H·W = 30 values is its first 6
    x[:, :, 1:] += 0.0 if head_far else 3.0
    x = (x - (x.mean(axis=(2, 3), keepdims=True) if head_far else 0.0)).astype(np.float32)
    calls = _count_shifted(monkeypatch)
    res = normviz.normalize(x, "HW", threads=1)
    y_ref, stats = loop_normalize(x, "HW")
    assert (np.abs(res.y - y_ref) <= output_bound(y_ref)).all()
    var = np.array([v for _, v, _ in stats.values()])
    np.testing.assert_allclose(np.sort(res.var.ravel()), np.sort(var), rtol=8 * F32_EPS)
    assert calls, "the block was expected to take the shifted path"


def test_thread_count_does_not_change_the_result():
    x = np.random.default_rng(9).normal(size=(8, 16, 20, 20)).astype(np.float32)
    one = normviz.normalize(x, "CHW", groups=4, threads=1)
    many = normviz.normalize(x, "CHW", groups=4, threads=4)
    np.testing.assert_array_equal(one.y, many.y)
    np.testing.assert_array_equal(one.var, many.var)


# -- errors -------------------------------------------------------------------------------------------
X = np.zeros((2, 6, 3, 3), np.float32)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: normviz.normalize(np.zeros((2, 3, 4)), "HW"), r"must be 4-D .* got 3-D of shape \(2, 3, 4\)"),
        (lambda: normviz.normalize(np.zeros((2, 0, 4, 4)), "HW"), r"zero-length C axis \(shape \(2, 0, 4, 4\)\)"),
        (
            lambda: normviz.normalize(X, "NHX"),
            r"unknown axis letter\(s\) 'X' in axes 'NHX'; use letters from N, C, H, W",
        ),
        (lambda: normviz.normalize(X, ["N", "Q"]), r"unknown axis letter\(s\) 'Q'"),
        (lambda: normviz.normalize(X, "NHH"), r"axis H appears more than once in axes 'NHH'"),
        (lambda: normviz.normalize(X, ["HW"]), r"single letters from N, C, H, W; got 'HW'"),
        (lambda: normviz.normalize(X, "CHW", groups=4), r"groups=4 must divide .* C=6; choose one of 1, 2, 3, 6\."),
        (lambda: normviz.normalize(X, "NHW", groups=2), r"groups=2 splits the channel axis, but C is not reduced"),
        (lambda: normviz.normalize(X, "CHW", groups=0), r"groups must be ≥ 1; got 0"),
        (lambda: normviz.normalize(X, "CHW", groups=1.5), r"groups must be a whole number ≥ 1; got 1.5"),
        (
            lambda: normviz.normalize(X, "NHW", gamma=np.ones(5)),
            r"gamma must have shape \(C,\) = \(6,\), .* got shape \(5,\)",
        ),
        (lambda: normviz.normalize(X, "NHW", beta=np.ones((6, 1))), r"beta must have shape \(C,\) = \(6,\)"),
        (
            lambda: normviz.normalize(X, "NHW", gamma=np.array([1, 2, np.nan, 4, 5, 6])),
            r"gamma must be finite; gamma\[2\] is nan",
        ),
        (lambda: normviz.normalize(X, "NHW", eps=0), r"eps must be a positive finite number .* got 0"),
        (lambda: normviz.normalize(X, "NHW", eps=-1e-5), r"eps must be a positive finite number"),
        (lambda: normviz.normalize(X.astype(complex), "NHW"), r"x must hold real numbers; got dtype complex128"),
        (
            lambda: normviz.normalize(np.empty((1, 1, 1, 1), object), "NHW"),
            r"x must hold real numbers; got dtype object",
        ),
    ],
)
def test_errors_say_what_was_wrong_and_what_to_do(call, match):
    with pytest.raises(normviz.NormvizError, match=match):
        call()


def test_nan_and_inf_are_counted_and_located():
    x = np.zeros((2, 3, 4, 4), np.float32)
    x[1, 2, 0, 3] = np.nan
    x[1, 2, 3, 3] = np.inf
    x[0, 0, 1, 1] = -np.inf
    with pytest.raises(
        normviz.NormvizError,
        match=r"3 non-finite value\(s\) \(1 NaN, 2 Inf\) out of 96; the first is x\[0, 0, 1, 1\] = -inf",
    ):
        normviz.normalize(x, "NHW")


def test_error_type_is_a_value_error():
    assert issubclass(normviz.NormvizError, ValueError)


def _count_shifted(monkeypatch):
    calls = []
    shifted = kernel.Kernel._shifted
    monkeypatch.setattr(kernel.Kernel, "_shifted", lambda self, *a: calls.append(1) or shifted(self, *a))
    return calls


@pytest.mark.parametrize("axes", ["HW", "CHW", "NHW", "W"])
@pytest.mark.parametrize("ratio", [0.0, 0.2, 0.3, 3.0, 1e4])
def test_deviations_from_zero_only_where_zero_is_near_every_mean(monkeypatch, axes, ratio):
    """Rows take K = 0 (the data as its own deviations) only when every group's mean lies within
    σ/4 of 0; otherwise the block is redone with the mean as K (counted here). Either way the
    output keeps float32 precision and the statistics match the reference."""
    rng = np.random.default_rng(10)
    z = rng.normal(size=(3, 4, 5, 6))
    red = tuple(i for i, a in enumerate("NCHW") if a in axes and a != "C")
    groups = 2 if "C" in axes else 1
    if "C" in axes:  # standardize each group of 2 channels exactly, then shift it by ratio·σ
        z = z.reshape(3, 2, 2, 5, 6)
        z = (z - z.mean(axis=(2, 3, 4), keepdims=True)) / z.std(axis=(2, 3, 4), keepdims=True)
        z = z.reshape(3, 4, 5, 6)
    else:
        z = (z - z.mean(axis=red, keepdims=True)) / z.std(axis=red, keepdims=True)
    x = (z + ratio).astype(np.float32)
    calls = _count_shifted(monkeypatch)
    res = normviz.normalize(x, axes, groups=groups, threads=1)
    y_ref, stats = loop_normalize(x, axes, groups)
    tolerance = 1e-6 if ratio > 1 else output_bound(y_ref)
    assert (np.abs(res.y - y_ref) <= tolerance).all()
    var = np.array([v for _, v, _ in stats.values()])
    np.testing.assert_allclose(np.sort(res.var.ravel()), np.sort(var), rtol=8 * F32_EPS)
    if ratio <= 0.2:
        assert not calls, "a block whose means all lie within σ/4 of 0 still took a subtraction pass"
    else:
        assert calls, "a block with a mean beyond σ/4 of 0 was not redone with the mean"


@pytest.mark.parametrize("axes, shape", [("C", (2, 64, 5, 7)), ("N", (32, 3, 5, 7))])
def test_groups_across_a_strided_axis_redo_a_shift_that_a_large_offset_rounded(monkeypatch, axes, shape):
    """A group of 64 channels or 32 samples is summed in float32 (one run of at most CHUNK values): with
    a 1e6 offset the first pass's mean lands more than σ/4 off, and the block is redone with the better
    mean, so the result keeps float32 precision."""
    rng = np.random.default_rng(5)
    x = (rng.normal(size=shape) * 0.25 + 1e6).astype(np.float32)
    axis = "NCHW".index(axes)
    first = np.add.reduce(x, axis=axis).astype(np.float64) / x.shape[axis]  # the float32 first pass
    exact = x.astype(np.float64)
    assert (np.abs(first - exact.mean(axis=axis)) > exact.std(axis=axis) / 4).any(), "no shift lands far"
    calls = []
    shifted = kernel.Kernel._shifted
    monkeypatch.setattr(kernel.Kernel, "_shifted", lambda self, *a: calls.append(1) or shifted(self, *a))
    res = normviz.normalize(x, axes)
    y_ref, _ = loop_normalize(x, axes)
    assert np.abs(res.y - y_ref).max() < 1e-6
    assert len(calls) >= 2, "the far shift was not redone"

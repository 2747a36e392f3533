"""normalize equals a slow loop reference, for every axis subset, grouping and option."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import normviz
from tests.reference import group_key, loop_normalize, output_bound

F32_EPS = float(np.finfo(np.float32).eps)
ALL_AXES = ["".join(s) for k in range(5) for s in itertools.combinations("NCHW", k)]


def _grid_values(res, stats, shape, groups):
    """The loop reference's (mean, var) laid out on normalize's statistics grid."""
    mean = np.empty(res.stats_shape)
    var = np.empty(res.stats_shape)
    for cell in np.ndindex(*shape):
        m, v, _ = stats[group_key(cell, res.spec.axes, shape[1], groups)]
        mean[res.group_of(*cell)] = m
        var[res.group_of(*cell)] = v
    return mean, var


@pytest.mark.parametrize("axes", ALL_AXES)
@pytest.mark.parametrize("shape", [(2, 6, 3, 5), (1, 4, 1, 1), (3, 1, 4, 2), (1, 1, 1, 7)])
def test_every_axis_subset_matches_the_loop_reference(axes, shape):
    rng = np.random.default_rng([ALL_AXES.index(axes), *shape])  # the same data in every process
    x = (rng.normal(size=shape) * 2.5 + 0.7).astype(np.float32)
    group_choices = normviz.divisors(shape[1]) if "C" in axes else [1]
    for groups in group_choices:
        res = normviz.normalize(x, axes, groups=groups)
        y_ref, stats = loop_normalize(x, axes, groups)
        assert (np.abs(res.y - y_ref) <= output_bound(y_ref)).all()
        mean, var = _grid_values(res, stats, shape, groups)
        # statistics are exact to float32 precision relative to the spread (see normviz.kernel)
        spread = np.sqrt(var) + 1e-30
        assert (np.abs(res.mean - mean) <= 4 * F32_EPS * spread + 1e-15 * np.abs(mean)).all()
        np.testing.assert_allclose(res.var, var, rtol=8 * F32_EPS, atol=1e-30)
        assert res.count == next(iter(stats.values()))[2]
        assert res.n_groups == len(stats)


@st.composite
def problems(draw):
    shape = tuple(draw(st.integers(1, k)) for k in (3, 6, 4, 4))
    axes = draw(st.sampled_from(ALL_AXES))
    groups = draw(st.sampled_from(normviz.divisors(shape[1]))) if "C" in axes else 1
    seed = draw(st.integers(0, 2**32 - 1))
    center = draw(st.booleans())
    eps = draw(st.sampled_from([1e-5, 1e-3, 1e-1]))
    affine = draw(st.booleans())
    return shape, axes, groups, seed, center, eps, affine


@settings(max_examples=150, deadline=None)
@given(problems())
def test_properties_hold_for_any_setting(problem):
    shape, axes, groups, seed, center, eps, affine = problem
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * rng.uniform(0.1, 10) + rng.uniform(-5, 5)).astype(np.float32)
    gamma = rng.normal(size=shape[1]) if affine else None
    beta = rng.normal(size=shape[1]) if affine else None
    res = normviz.normalize(x, axes, groups=groups, eps=eps, center=center, gamma=gamma, beta=beta)

    assert res.y.shape == x.shape and res.y.dtype == np.float32
    assert res.n_groups == int(np.prod(res.stats_shape))
    assert res.count * res.n_groups == x.size

    y_ref, _ = loop_normalize(x, axes, groups, eps, center, gamma, beta)
    np.testing.assert_allclose(res.y, y_ref, rtol=0, atol=5e-6 * max(1.0, np.abs(y_ref).max()))

    if center and not affine:
        # every group with non-zero variance has mean 0 and variance σ²/(σ² + ε) after normalizing
        for index in np.ndindex(*res.stats_shape):
            box = res.group_box(index)
            values = res.y[np.ix_(*box)].astype(np.float64)
            assert values.size == res.count
            if res.var[index] > 0:
                assert abs(values.mean()) < 1e-5
                expected = res.var[index] / (res.var[index] + eps)
                assert values.var() == pytest.approx(expected, rel=1e-4, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_group_of_and_group_box_agree(problem):
    shape, axes, groups, *_ = problem
    res = normviz.normalize(np.zeros(shape, np.float32), axes, groups=groups)
    seen = np.zeros(shape, dtype=int)
    for index in np.ndindex(*res.stats_shape):
        box = res.group_box(index)
        seen[np.ix_(*box)] += 1
        for cell in itertools.product(*box):
            assert res.group_of(*cell) == index
    assert (seen == 1).all()

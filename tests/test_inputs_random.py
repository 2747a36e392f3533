"""Random tensors: shape, determinism, distributions, and spreads that act on one axis each."""

import numpy as np
import pytest

import normviz
from normviz import NormvizError
from normviz.inputs import MAX_ELEMENTS, random_tensor


def test_shape_dtype_names_and_description():
    t = random_tensor(3, 5, 7, 2, sample_scale=0.5, seed=4)
    assert t.x.shape == (3, 5, 7, 2) and t.x.dtype == np.float32
    assert t.labels == ("sample 0", "sample 1", "sample 2")
    assert t.channel_names == ("c0", "c1", "c2", "c3", "c4")
    assert t.description == "random normal tensor 3×5×7×2, seed 4; per-sample spread: scale 0.5"
    assert t.notices == ()


def test_same_settings_same_tensor_other_seed_other_tensor():
    settings = dict(distribution="uniform", sample_shift=1.0, channel_scale=0.3)
    first = random_tensor(2, 3, 4, 5, seed=11, **settings).x
    assert np.array_equal(first, random_tensor(2, 3, 4, 5, seed=11, **settings).x)
    assert not np.array_equal(first, random_tensor(2, 3, 4, 5, seed=12, **settings).x)


def test_normal_noise_has_unit_variance():
    x = random_tensor(4, 4, 64, 64, seed=1).x
    assert abs(float(x.mean())) < 0.02 and abs(float(x.std()) - 1) < 0.02


def test_uniform_noise_is_bounded_with_unit_variance():
    x = random_tensor(4, 4, 64, 64, distribution="uniform", seed=2).x
    assert float(np.abs(x).max()) <= np.sqrt(3) + 1e-6
    assert abs(float(x.mean())) < 0.02 and abs(float(x.std()) - 1) < 0.02
    assert float(np.abs(x).max()) > 1.7


@pytest.mark.parametrize("axis, keyword", [(0, "sample_shift"), (1, "channel_shift")])
def test_shift_spread_adds_one_offset_per_index_and_leaves_the_noise(axis, keyword):
    base = random_tensor(400, 3, 2, 2, seed=5).x if axis == 0 else random_tensor(3, 400, 2, 2, seed=5).x
    shape = base.shape
    shifted = random_tensor(*shape, seed=5, **{keyword: 2.5}).x
    offsets = (shifted - base).astype(np.float64)
    other_axes = tuple(a for a in range(4) if a != axis)
    per_index = offsets.mean(axis=other_axes)
    np.testing.assert_allclose(offsets.std(axis=other_axes), 0, atol=1e-5)
    assert 2.2 < per_index.std() < 2.8


@pytest.mark.parametrize("axis, keyword", [(0, "sample_scale"), (1, "channel_scale")])
def test_scale_spread_multiplies_by_a_positive_factor_per_index(axis, keyword):
    shape = (400, 3, 2, 2) if axis == 0 else (3, 400, 2, 2)
    base = random_tensor(*shape, seed=6).x.astype(np.float64)
    scaled = random_tensor(*shape, seed=6, **{keyword: 0.8}).x.astype(np.float64)
    ratio = scaled / base
    other_axes = tuple(a for a in range(4) if a != axis)
    factor = ratio.mean(axis=other_axes)
    assert np.all(factor > 0)
    np.testing.assert_allclose(ratio.std(axis=other_axes), 0, atol=1e-5)
    assert 0.7 < np.log(factor).std() < 0.9


def test_spreads_combine_as_scale_then_shift():
    shape = (3, 4, 5, 6)
    base = random_tensor(*shape, seed=7).x.astype(np.float64)
    only_shift = random_tensor(*shape, seed=7, sample_shift=1.5).x - base
    only_scale = random_tensor(*shape, seed=7, channel_scale=0.7).x / base
    both = random_tensor(*shape, seed=7, sample_shift=1.5, channel_scale=0.7).x
    np.testing.assert_allclose(both, base * only_scale + only_shift, rtol=1e-5, atol=1e-5)


def test_instance_norm_removes_a_per_sample_shift_and_batch_norm_does_not():
    shape = (4, 3, 8, 8)
    plain = random_tensor(*shape, seed=8).x
    shifted = random_tensor(*shape, seed=8, sample_shift=3.0).x
    same_instance = normviz.normalize(shifted, "HW").y - normviz.normalize(plain, "HW").y
    same_batch = normviz.normalize(shifted, "NHW").y - normviz.normalize(plain, "NHW").y
    assert float(np.abs(same_instance).max()) < 1e-4
    assert float(np.abs(same_batch).max()) > 0.5


def test_batch_norm_removes_a_per_channel_shift_and_scale():
    shape = (4, 3, 8, 8)
    plain = random_tensor(*shape, seed=9).x
    moved = random_tensor(*shape, seed=9, channel_shift=5.0, channel_scale=1.0).x
    difference = normviz.normalize(moved, "NHW").y - normviz.normalize(plain, "NHW").y
    assert float(np.abs(difference).max()) < 1e-3


@pytest.mark.parametrize(
    "args, kwargs, text",
    [
        ((0, 3, 4, 4), {}, "N must be at least 1; got 0."),
        ((2, -1, 4, 4), {}, "C must be at least 1; got -1."),
        ((2, 3, 2.5, 4), {}, "H must be a whole number at least 1; got 2.5."),
        ((2, 3, 4, True), {}, "W must be a whole number"),
        ((2, 3, 4, 4), {"distribution": "poisson"}, "distribution must be one of normal, uniform"),
        ((2, 3, 4, 4), {"sample_shift": -1.0}, "per-sample shift spread must be between 0 and 10000; got -1."),
        ((2, 3, 4, 4), {"channel_scale": float("nan")}, "per-channel scale spread must be a number"),
        ((2, 3, 4, 4), {"sample_scale": 4.0}, "per-sample scale spread must be between 0 and 3; got 4."),
        ((2, 3, 4, 4), {"seed": -1}, "seed must be at least 0; got -1."),
    ],
)
def test_bad_settings(args, kwargs, text):
    with pytest.raises(NormvizError) as caught:
        random_tensor(*args, **kwargs)
    assert text in str(caught.value)


def test_over_the_element_cap_names_the_cap_and_the_size():
    with pytest.raises(NormvizError) as caught:
        random_tensor(1024, 1024, 1024, 1)
    message = str(caught.value)
    assert "1024×1024×1024×1 = 1,073,741,824 values" in message
    assert f"cap of {MAX_ELEMENTS:,} values per tensor" in message
    random_tensor(1, 1, 1, MAX_ELEMENTS // 16)

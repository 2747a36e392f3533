"""Feature maps: numpy convolution against torch.nn.functional.conv2d, filter banks, settings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normviz import NormvizError
from normviz.inputs import (
    COLOUR_FILTERS,
    NAMED_FILTERS,
    TensorInput,
    conv2d_same,
    feature_maps,
    he_filters,
    load_samples,
    named_filters,
    random_tensor,
)
from normviz.inputs import features as features_module
from normviz.inputs.images import LUMA

torch = pytest.importorskip("torch", reason="torch is the reference for the convolution")
functional = torch.nn.functional


#: Unit roundoff of float32 (round to nearest).
U32 = 2.0**-24


def reference(x: np.ndarray, weights: np.ndarray, relu: bool = False) -> np.ndarray:
    """torch's convolution of the same float32 values, computed in float64 (its own error ~1e-16)."""
    with torch.no_grad():
        x64 = torch.from_numpy(np.asarray(x, np.float32).astype(np.float64))
        w64 = torch.from_numpy(np.asarray(weights, np.float32).astype(np.float64))
        out = functional.conv2d(x64, w64, padding=weights.shape[-1] // 2)
        return (functional.relu(out) if relu else out).numpy()


def rounding_bound(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Largest error of a float32 convolution output, elementwise, whatever the summation order.

    Each output sums m = C·k·k float32 products; computed in any order with unit roundoff u the error
    is at most γ_m · Σ|w·x| with γ_m = m·u / (1 − m·u) (Higham, *Accuracy and Stability of Numerical
    Algorithms*, §3.1). Σ|w·x| is the convolution of |x| with |w|, taken here in float64.
    """
    m = int(np.prod(weights.shape[1:]))
    gamma = m * U32 / (1 - m * U32)
    return gamma * reference(np.abs(x), np.abs(weights))


def exact_tolerance(x: np.ndarray, weights: np.ndarray) -> float:
    """How far a float32 convolution output may be from a value worked out exactly by hand: the
    summation bound, plus one rounding each of the inputs and the filter weights to float32."""
    m = int(np.prod(weights.shape[1:]))
    return float((m * U32 / (1 - m * U32) + 2 * U32) * reference(np.abs(x), np.abs(weights)).max())


def assert_conv_close(ours: np.ndarray, x: np.ndarray, weights: np.ndarray, relu: bool = False) -> None:
    """ours (float32) is within the float32 rounding bound of the exact convolution (ReLU only shrinks
    differences: |relu(a) − relu(b)| ≤ |a − b|)."""
    exact = reference(x, weights, relu)
    error = np.abs(ours.astype(np.float64) - exact)
    bound = rounding_bound(x, weights)
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert (error <= bound).all(), f"error {error[worst]:.3g} over the bound {bound[worst]:.3g} at {worst}"


def image_input(x: np.ndarray) -> TensorInput:
    n, c = x.shape[:2]
    names = ("R", "G", "B") if c == 3 else tuple(f"c{i}" for i in range(c))
    return TensorInput(x, "test images", tuple(f"img{i}" for i in range(n)), names, ("from the images",))


@pytest.mark.parametrize(
    "shape, count, size, relu",
    [
        ((8, 3, 128, 128), 16, 3, False),
        ((2, 3, 31, 17), 64, 5, True),
        ((3, 1, 9, 12), 1, 3, True),
        ((1, 7, 5, 40), 5, 5, False),
        ((2, 2, 1, 1), 3, 5, False),
        ((1, 3, 1, 50), 4, 3, False),
    ],
)
def test_conv2d_same_matches_torch(shape, count, size, relu):
    rng = np.random.default_rng(30)
    x = rng.normal(size=shape).astype(np.float32)
    weights = rng.normal(size=(count, shape[1], size, size)).astype(np.float32)
    ours = conv2d_same(x, weights, relu=relu)
    assert ours.shape == (shape[0], count, *shape[2:]) and ours.dtype == np.float32
    assert_conv_close(ours, x, weights, relu)


def test_conv2d_same_in_many_bands_matches_torch(monkeypatch):
    monkeypatch.setattr(features_module, "BAND_ELEMENTS", 500)
    rng = np.random.default_rng(31)
    x = rng.normal(size=(2, 3, 23, 19)).astype(np.float32)
    weights = rng.normal(size=(6, 3, 5, 5)).astype(np.float32)
    assert_conv_close(conv2d_same(x, weights), x, weights)


@settings(deadline=None, max_examples=40)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 4),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    count=st.integers(1, 6),
    size=st.sampled_from([3, 5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv2d_same_matches_torch_on_any_small_shape(n, c, h, w, count, size, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c, h, w)).astype(np.float32)
    weights = rng.normal(size=(count, c, size, size)).astype(np.float32)
    assert_conv_close(conv2d_same(x, weights), x, weights)


@pytest.mark.parametrize("size", [3, 5])
def test_named_bank_on_samples_matches_torch(size):
    images = load_samples(size=(48, 40))
    maps = feature_maps(images, kernel_size=size, relu=True)
    weights = named_filters(NAMED_FILTERS, 3, size)
    assert maps.x.shape == (images.shape[0], len(NAMED_FILTERS), 48, 40)
    assert maps.channel_names == NAMED_FILTERS and maps.labels == images.labels
    assert_conv_close(maps.x, images.x, weights, relu=True)


def ramp_image(height: int, width: int, axis: int) -> np.ndarray:
    grid = np.indices((height, width))[axis].astype(np.float32) / max(height, width)
    return np.repeat(grid[None, None], 3, axis=1)


@pytest.mark.parametrize("size", [3, 5])
def test_named_filters_do_what_their_names_say(size):
    x = ramp_image(16, 16, axis=1)
    maps = feature_maps(image_input(x), kernel_size=size)
    tol = exact_tolerance(x, named_filters(NAMED_FILTERS, 3, size))
    inner = maps.x[0, :, size:-size, size:-size]
    by_name = dict(zip(maps.channel_names, inner))
    assert by_name["Sobel x"].min() > 0 and np.ptp(by_name["Sobel x"]) <= 2 * tol
    for flat in ("Sobel y", "Laplacian", "Red-green", "Blue-yellow"):
        np.testing.assert_allclose(by_name[flat], 0, rtol=0, atol=tol)
    ramp = x[0, 0, size:-size, size:-size]
    for preserving in ("Blur", "Sharpen", "Luminance"):
        np.testing.assert_allclose(by_name[preserving], ramp, rtol=0, atol=tol)
    np.testing.assert_allclose(by_name["Diagonal"], by_name["Sobel x"] / 2, rtol=0, atol=2 * tol)

    x = ramp_image(16, 16, axis=0)
    vertical = feature_maps(image_input(x), filters=["Sobel x", "Sobel y"], kernel_size=size)
    inner = vertical.x[0, :, size:-size, size:-size]
    np.testing.assert_allclose(inner[0], 0, rtol=0, atol=exact_tolerance(x, named_filters(["Sobel x"], 3, size)))
    assert inner[1].min() > 0


def test_colour_opponent_filters_see_colour():
    rng = np.random.default_rng(32)
    x = rng.random((1, 3, 10, 10)).astype(np.float32)
    x[0, 0], x[0, 1], x[0, 2] = 0.9, 0.1, 0.1
    names = ["Red-green", "Blue-yellow", "Luminance"]
    maps = feature_maps(image_input(x), filters=names)
    tol = exact_tolerance(x, named_filters(names, 3, 3))
    np.testing.assert_allclose(maps.x[0, 0, 4:6, 4:6], 0.8, rtol=0, atol=tol)
    np.testing.assert_allclose(maps.x[0, 1, 4:6, 4:6], 0.1 - 0.5, rtol=0, atol=tol)
    np.testing.assert_allclose(maps.x[0, 2, 4:6, 4:6], float(LUMA @ np.array([0.9, 0.1, 0.1])), rtol=0, atol=tol)


def test_relu_keeps_the_positive_part():
    rng = np.random.default_rng(33)
    images = image_input(rng.random((2, 3, 12, 12)).astype(np.float32))
    plain = feature_maps(images, filters=8, seed=3)
    rectified = feature_maps(images, filters=8, seed=3, relu=True)
    assert plain.x.min() < 0
    np.testing.assert_array_equal(rectified.x, np.maximum(plain.x, 0))
    assert "ReLU" in rectified.description and "ReLU" not in plain.description


def test_random_filters_are_seeded_he_normal():
    weights = he_filters(64, 3, 5, seed=4)
    assert weights.shape == (64, 3, 5, 5) and weights.dtype == np.float32
    assert abs(float(weights.std()) - np.sqrt(2 / 75)) < 0.01
    assert abs(float(weights.mean())) < 0.01
    assert np.array_equal(weights, he_filters(64, 3, 5, seed=4))
    assert not np.array_equal(weights, he_filters(64, 3, 5, seed=5))


def test_random_bank_feature_maps():
    rng = np.random.default_rng(34)
    images = image_input(rng.random((2, 3, 9, 11)).astype(np.float32))
    maps = feature_maps(images, filters=16, kernel_size=5, seed=2)
    assert_conv_close(maps.x, images.x, he_filters(16, 3, 5, seed=2))
    assert maps.channel_names == tuple(f"filter {i}" for i in range(16))
    assert maps.description == "16 feature maps per sample (random He-init filters, seed 2, 5×5) of 2 samples, 9×11"
    assert maps.notices == ("from the images",)


def test_colour_filters_on_grey_input_are_left_out_with_a_notice():
    grey = image_input(np.random.default_rng(35).random((2, 1, 8, 8)).astype(np.float32))
    maps = feature_maps(grey)
    assert maps.channel_names == tuple(n for n in NAMED_FILTERS if n not in COLOUR_FILTERS)
    assert any("Red-green and Blue-yellow compare colour channels and were left out" in n for n in maps.notices)
    with pytest.raises(NormvizError, match="compare colour channels, but the input has 1 channel"):
        feature_maps(grey, filters=list(COLOUR_FILTERS))


def test_named_filters_on_many_channels_use_the_channel_mean():
    x = random_tensor(1, 5, 7, 7, seed=1).x
    maps = feature_maps(image_input(x), filters=["Luminance"])
    np.testing.assert_allclose(maps.x[0, 0], x[0].mean(axis=0), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"filters": 0}, "number of filters must be between 1 and 64; got 0."),
        ({"filters": 65}, "number of filters must be between 1 and 64; got 65."),
        ({"filters": 4, "kernel_size": 4}, "kernel size must be 3 or 5; got 4."),
        ({"filters": ["Sobel z"]}, "filter must be one of Sobel x, Sobel y"),
        ({"filters": []}, "Choose at least one filter"),
    ],
)
def test_bad_settings(kwargs, text):
    images = image_input(np.zeros((1, 3, 4, 4), np.float32))
    with pytest.raises(NormvizError) as caught:
        feature_maps(images, **kwargs)
    assert text in str(caught.value)


def test_mismatched_weights_are_refused():
    with pytest.raises(NormvizError, match="need C = 3 input channels"):
        conv2d_same(np.zeros((1, 3, 4, 4), np.float32), np.zeros((2, 2, 3, 3), np.float32))
    with pytest.raises(NormvizError, match="square kernel of odd size"):
        conv2d_same(np.zeros((1, 3, 4, 4), np.float32), np.zeros((2, 3, 4, 4), np.float32))


def test_feature_maps_over_the_element_cap_are_refused():
    images = image_input(np.zeros((64, 3, 512, 512), np.float32))
    with pytest.raises(NormvizError, match="the feature maps would have shape 64×64×512×512"):
        feature_maps(images, filters=64)


def test_benchmark_smoke_run_reports_one_row_per_case():
    from bench.features import run

    rows = run(smoke=True)
    assert rows and all({"name", "ours_ms", "ref_ms", "ratio", "note"} <= set(row) for row in rows)
    for row in rows:
        assert row["ours_ms"] > 0 and row["ref_ms"] > 0
        assert row["ratio"] == pytest.approx(row["ours_ms"] / row["ref_ms"])

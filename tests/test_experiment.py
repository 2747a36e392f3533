"""The batch-size experiment: BatchNorm's statistics settle as the batch grows, GroupNorm's do not
depend on the batch, and at batch size 1 BatchNorm is InstanceNorm — checked against normviz.normalize."""

import time

import numpy as np
import pytest

import normviz
from normviz import NormvizError
from normviz.experiment import BATCH_SIZES, GN_PAPER_IMAGENET, batch_size_experiment


def _images(n=6, size=96, seed=0):
    """Photo-like data: each image has its own brightness and colour cast plus smooth structure."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 0.8, size=(n, 3, 1, 1))
    yy, xx = np.mgrid[0:size, 0:size] / size
    waves = np.sin(2 * np.pi * (rng.uniform(1, 3, (n, 3, 1, 1)) * yy + rng.uniform(1, 3, (n, 3, 1, 1)) * xx))
    noise = rng.normal(scale=0.05, size=(n, 3, size, size))
    return np.clip(base + 0.2 * waves + noise, 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def images():
    return _images()


@pytest.mark.parametrize("crop", [32, None, (20, 40)])
@pytest.mark.parametrize("seed", [0, 1])
def test_batchnorm_spread_falls_as_the_batch_grows(images, crop, seed):
    exp = batch_size_experiment(images, crop=crop, groups=1, seed=seed)
    mean_spread = exp.bn_mean_spread.mean(axis=1)
    assert np.all(np.diff(mean_spread) < 0), mean_spread
    # σ of one image omits the differences between images, so σ's spread can rise from B = 1 to 2;
    # from two images on it falls
    std_spread = exp.bn_std_spread.mean(axis=1)
    assert np.all(np.diff(std_spread[1:]) < 0), std_spread
    # independent draws: the spread of a mean of B samples is about spread(1)/√B
    ratio = exp.bn_mean_spread.mean(axis=1)[-1] / exp.bn_mean_spread.mean(axis=1)[0]
    assert 0.5 / np.sqrt(32) < ratio < 2 / np.sqrt(32)


@pytest.mark.parametrize("groups", [1, 3])
def test_groupnorm_spread_does_not_depend_on_the_batch(images, groups):
    exp = batch_size_experiment(images, crop=24, groups=groups, seed=3)
    assert exp.gn_mean.shape == (len(BATCH_SIZES), exp.draws, groups)
    for spread in (exp.gn_mean_spread, exp.gn_std_spread):
        np.testing.assert_allclose(spread, np.broadcast_to(spread[0], spread.shape), rtol=1e-12)
    assert exp.gn_mean_spread.mean() > exp.bn_mean_spread[-1].mean()


def _crops(images, picks, size):
    return np.stack([images[s, :, t : t + size, left : left + size] for s, t, left in picks])


@pytest.mark.parametrize("groups", [1, 3])
def test_statistics_are_normalizes_on_the_drawn_batches(images, groups):
    exp = batch_size_experiment(images, crop=16, groups=groups, draws=12, seed=5)
    for draw in (0, 7, 11):
        for k, size in enumerate(exp.batch_sizes):
            batch = _crops(images, exp.picks[draw, :size], 16)
            bn = normviz.normalize(batch, "NHW")
            np.testing.assert_allclose(exp.bn_mean[k, draw], bn.mean.ravel(), rtol=0, atol=1e-6)
            np.testing.assert_allclose(exp.bn_var[k, draw], bn.var.ravel(), rtol=0, atol=1e-6)
            gn = normviz.normalize(batch, "CHW", groups=groups)
            np.testing.assert_allclose(exp.gn_mean[k, draw], gn.mean[0].ravel(), rtol=0, atol=1e-6)
            np.testing.assert_allclose(exp.gn_var[k, draw], gn.var[0].ravel(), rtol=0, atol=1e-6)


def test_at_batch_size_one_batchnorm_equals_instancenorm(images):
    exp = batch_size_experiment(images, crop=32, groups=3, seed=2)
    assert exp.bn_equals_in_at_1 is not None and exp.bn_equals_in_at_1 < 1e-6
    instance = normviz.normalize(_crops(images, exp.picks[:, 0], 32), "HW")
    np.testing.assert_allclose(exp.in_mean, instance.mean.reshape(exp.draws, 3), rtol=0, atol=0)
    # GroupNorm with G = C is InstanceNorm too
    np.testing.assert_allclose(exp.gn_mean[0], exp.in_mean, rtol=0, atol=1e-6)
    assert batch_size_experiment(images, batch_sizes=(2, 4), draws=5).bn_equals_in_at_1 is None


def test_whole_samples_are_drawn_with_replacement(images):
    exp = batch_size_experiment(images, draws=40, seed=4)
    assert exp.crop is None and np.all(exp.picks[..., 1:] == 0)
    assert set(np.unique(exp.picks[..., 0])) <= set(range(len(images)))
    assert exp.picks.shape == (40, 32, 3)  # 32 per batch from 6 samples


def test_same_seed_same_result_and_seeds_differ(images):
    a = batch_size_experiment(images, crop=32, seed=7, draws=30)
    b = batch_size_experiment(images, crop=32, seed=7, draws=30)
    c = batch_size_experiment(images, crop=32, seed=8, draws=30)
    np.testing.assert_array_equal(a.bn_mean, b.bn_mean)
    assert not np.array_equal(a.bn_mean, c.bn_mean)


def test_progress_is_reported_from_0_to_1(images):
    seen = []
    batch_size_experiment(images, crop=32, draws=20, on_progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:])) and len(seen) >= len(BATCH_SIZES) + 2


def test_default_size_is_fast(images):
    start = time.perf_counter()
    exp = batch_size_experiment(images, crop=32)
    whole = batch_size_experiment(images)
    assert time.perf_counter() - start < 3.0, (exp.seconds, whole.seconds)


def test_groups_default_to_groupnorms_default(images):
    assert batch_size_experiment(images, draws=4).groups == normviz.default_groups(3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"crop": 200}, "larger than the samples"),
        ({"crop": 0}, "crop must be"),
        ({"groups": 2}, "must divide the number of channels C=3"),
        ({"draws": 1}, "draws must be"),
        ({"batch_sizes": (4, 2)}, "increasing"),
        ({"batch_sizes": ()}, "increasing"),
    ],
)
def test_bad_arguments_raise_normviz_error(images, kwargs, message):
    with pytest.raises(NormvizError, match=message):
        batch_size_experiment(images, **kwargs)


def test_nonfinite_pool_is_refused():
    x = _images(n=2, size=8)
    x[1, 0, 3, 3] = np.nan
    with pytest.raises(NormvizError, match="NaN"):
        batch_size_experiment(x)


def test_paper_numbers_are_labelled_and_consistent():
    paper = GN_PAPER_IMAGENET
    assert "Wu & He" in paper.source and "1803.08494" in paper.source
    assert len(paper.batch_sizes) == len(paper.batchnorm) == len(paper.groupnorm)
    assert paper.batchnorm[0] == paper.at_32["BatchNorm"] and paper.groupnorm[0] == paper.at_32["GroupNorm"]
    assert paper.by_groups[32] == paper.at_32["GroupNorm"]

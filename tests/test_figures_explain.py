"""The running-statistics and batch-size figures carry the computed numbers (read from fig.data)."""

import numpy as np
import plotly.graph_objects as go
import pytest

from normviz.experiment import GN_PAPER_IMAGENET, batch_size_experiment
from normviz.figures.batchsize import draws_figure, paper_figure, spread_figure
from normviz.figures.running import MAX_CHANNELS, MAX_POINTS, running_stats_figure, train_eval_figure
from normviz.running import simulate_running_stats


def _x(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=shape) + rng.normal(size=(1, shape[1], 1, 1))).astype(np.float32)


@pytest.fixture(scope="module")
def run():
    return simulate_running_stats(_x((10, 3, 6, 6)), 4, epochs=2)


@pytest.fixture(scope="module")
def experiment():
    return batch_size_experiment(np.abs(_x((6, 3, 40, 40), seed=1)), crop=16, groups=3, draws=60, seed=0)


def _named(fig, name):
    return [t for t in fig.data if t.name == name]


def test_running_figure_draws_every_step_of_every_channel(run):
    fig = running_stats_figure(run)
    assert isinstance(fig, go.Figure)
    for c in range(3):
        mean_line, var_line = (t for t in fig.data if t.name == f"channel {c}")
        np.testing.assert_allclose(mean_line.y, run.running_mean[:, c])
        np.testing.assert_allclose(var_line.y, run.running_var[:, c])
        assert list(mean_line.x) == list(range(run.steps + 1))
        batch_dots = _named(fig, f"channel {c}: batch")
        np.testing.assert_allclose(batch_dots[0].y, run.batch_mean[:, c])
    assert "unbiased" in fig.layout.annotations[1].text
    assert "momentum 0.1" in fig.layout.title.text and "batch size 4" in fig.layout.title.text


def test_running_figure_caps_and_selects_channels():
    many = simulate_running_stats(_x((4, 12, 3, 3)), 2, convention="keras")
    fig = running_stats_figure(many)
    assert (
        len({t.name for t in fig.data if t.name and t.name.startswith("channel") and ":" not in t.name}) == MAX_CHANNELS
    )
    assert "biased" in fig.layout.annotations[1].text and "unbiased" not in fig.layout.annotations[1].text
    chosen = running_stats_figure(many, channels=[11, 5, 99])
    assert {t.name for t in chosen.data if t.showlegend} == {"channel 11", "channel 5"}


def test_train_eval_figure_shows_the_difference(run):
    fig = train_eval_figure(run)
    scatter = fig.data[0]
    assert len(scatter.x) == min(MAX_POINTS, run.train_output.size)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert [t.name for t in bars] == [f"batch {k}" for k in range(len(run.batches))]
    heights = np.concatenate([np.asarray(t.y) for t in bars])
    np.testing.assert_allclose(heights, np.abs(run.difference).reshape(run.fed, -1).mean(axis=1), rtol=1e-6)
    assert f"{run.max_abs_difference:.3g}" in fig.layout.title.text


def test_train_eval_figure_mentions_a_dropped_batch():
    dropped = simulate_running_stats(_x((7, 2, 3, 3)), 3, drop_last=True)
    fig = train_eval_figure(dropped)
    assert "1 sample(s) of a dropped last batch" in fig.layout.title.text
    assert sum(len(t.x) for t in fig.data if isinstance(t, go.Bar)) == 6


def test_spread_figure_plots_the_spreads(experiment):
    fig = spread_figure(experiment)
    bn = [t for t in fig.data if t.legendgroup == "bn"]
    gn = [t for t in fig.data if t.legendgroup == "gn"]
    np.testing.assert_allclose(bn[0].y, experiment.bn_mean_spread.mean(axis=1))
    np.testing.assert_allclose(bn[1].y, experiment.bn_std_spread.mean(axis=1))
    np.testing.assert_allclose(gn[0].y, experiment.gn_mean_spread.mean(axis=1))
    assert list(bn[0].x) == list(experiment.batch_sizes)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert "G = 3" in gn[0].name and "16×16 crops" in fig.layout.title.text


def test_draws_figure_has_one_box_per_batch_size(experiment):
    fig = draws_figure(experiment, channel=2)
    boxes = [t for t in fig.data if isinstance(t, go.Box)]
    assert [t.name for t in boxes] == [f"B = {b}" for b in experiment.batch_sizes]
    np.testing.assert_allclose(boxes[-1].y, experiment.bn_mean[-1, :, 2])
    clipped = draws_figure(experiment, channel=99)
    assert "channel 2" in clipped.layout.title.text


def test_paper_figure_is_labelled_as_the_papers():
    fig = paper_figure()
    assert "paper's numbers, not computed here" in fig.layout.title.text
    assert GN_PAPER_IMAGENET.source in fig.layout.title.text
    bn, gn = fig.data
    assert list(bn.y) == list(GN_PAPER_IMAGENET.batchnorm) and list(gn.y) == list(GN_PAPER_IMAGENET.groupnorm)

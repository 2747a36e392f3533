"""``normalize(..., defer_output=True)``: the statistics now, y on demand — whole, or planes and runs
of it — bit for bit what the eager call writes (the same kernel arithmetic, element by element)."""

import numpy as np
import pytest

import normviz
from normviz.kernel import FUSED_GROUP_LIMIT

RNG = np.random.default_rng(7)


def _data(shape, kind, dtype=np.float32):
    x = RNG.normal(size=shape)
    if kind == "offset":  # far from 0: the shifted path
        x = x * 0.01 + 1e4
    elif kind == "per-channel":  # means differ by channel: K = 0 where it fits, a shift where not
        x = x + np.arange(shape[1]).reshape(1, -1, 1, 1) * 3.0
    elif kind == "constant":  # some groups hold one value (pinned to it exactly)
        x[:, ::2] = 0.25
    return x.astype(dtype)


CASES = [
    # shape, axes, groups, kind, extra
    ((2, 6, 5, 7), "NHW", 1, "normal", {}),
    ((2, 6, 5, 7), "HW", 1, "offset", {}),
    ((2, 6, 5, 7), "CHW", 3, "per-channel", {}),
    ((2, 6, 5, 7), "C", 1, "normal", {}),
    ((2, 6, 5, 7), "N", 1, "offset", {}),
    ((2, 6, 5, 7), "", 1, "normal", {}),
    ((2, 6, 5, 7), "NCHW", 1, "constant", {}),
    ((3, 4, 1, 1), "NC", 2, "normal", {}),
    ((4, 64, 33, 33), "CHW", 32, "per-channel", {}),  # blocks of many groups, two threads
    ((4, 64, 33, 33), "HW", 1, "constant", {}),
    ((2, 6, 5, 7), "NHW", 1, "normal", {"gamma": np.linspace(0.5, 2, 6), "beta": np.linspace(-1, 1, 6)}),
    ((2, 6, 5, 7), "CHW", 2, "offset", {"center": False}),
    ((2, 6, 5, 7), "HW", 1, "normal", {"dtype": np.float64}),  # float64 data: float64 arithmetic
]


@pytest.mark.parametrize(("shape", "axes", "groups", "kind", "extra"), CASES)
@pytest.mark.parametrize("threads", [1, 2])
def test_deferred_output_is_bit_for_bit_the_eager_one(shape, axes, groups, kind, extra, threads):
    extra = dict(extra)
    x = _data(shape, kind, extra.pop("dtype", np.float32))
    eager = normviz.normalize(x, axes, groups=groups, threads=threads, **extra)
    lazy = normviz.normalize(x, axes, groups=groups, threads=threads, defer_output=True, **extra)
    assert np.array_equal(lazy.mean, eager.mean) and np.array_equal(lazy.var, eager.var)
    assert not lazy.output_formed
    n, c = shape[:2]
    samples, channels = [n - 1, 0], [c - 1, 0, c // 2]
    planes = lazy.output_planes(samples, channels)
    assert planes.shape == (2, 3) + shape[2:] and planes.dtype == np.float32
    assert np.array_equal(planes, eager.y[np.ix_(samples, channels)])
    size = eager.y.size
    starts, length = [0, size // 3, size - 5], 5  # runs may cross rows and planes
    expected = np.stack([eager.y.reshape(-1)[s : s + length] for s in starts])
    assert np.array_equal(lazy.output_runs(starts, length), expected)
    assert not lazy.output_formed  # parts did not form the rest
    assert np.array_equal(lazy.y, eager.y) and lazy.output_formed
    assert lazy.y is lazy.y and not lazy.y.flags.writeable  # formed once, read-only
    assert np.array_equal(lazy.output_planes(samples, channels), planes)  # from the formed y now


def test_deferred_output_of_groups_too_large_for_one_block():
    """Groups above FUSED_GROUP_LIMIT values take the statistics-first path; its output too."""
    shape = (1, 2, 1, FUSED_GROUP_LIMIT // 2 + 64)  # one group of more than the limit
    x = _data(shape, "offset")
    eager = normviz.normalize(x, "CHW", threads=2)
    lazy = normviz.normalize(x, "CHW", threads=2, defer_output=True)
    assert np.array_equal(lazy.output_planes([0], [1]), eager.y[:, 1:2])
    assert np.array_equal(
        lazy.output_runs([7, FUSED_GROUP_LIMIT // 2], 64),
        np.stack(
            [eager.y.reshape(-1)[7:71], eager.y.reshape(-1)[FUSED_GROUP_LIMIT // 2 : FUSED_GROUP_LIMIT // 2 + 64]]
        ),
    )
    assert np.array_equal(lazy.y, eager.y)


def test_eager_results_answer_the_same_questions():
    x = _data((2, 3, 4, 5), "normal")
    res = normviz.normalize(x, "HW")
    assert res.output_formed
    assert np.array_equal(res.output_planes([1], [2, 0]), res.y[np.ix_([1], [2, 0])])
    assert np.array_equal(res.output_runs([3, 100], 7), np.stack([res.y.reshape(-1)[3:10], res.y.reshape(-1)[100:107]]))


def test_the_page_reads_a_deferred_result_without_forming_its_output():
    """The display range (from sampled runs), the gallery's tiles and the worked cell of a deferred
    result are those of the eager one, and none of them forms all of y."""
    from normviz.arithmetic import worked_cell
    from normviz.figures import gallery

    x = _data((4, 8, 190, 190), "per-channel")  # sampled: over a million values, planes longer than a run
    assert x.size > gallery.SAMPLE_RUNS * gallery.SAMPLE_RUN
    eager = normviz.normalize(x, "CHW", groups=4)
    lazy = normviz.normalize(x, "CHW", groups=4, defer_output=True)
    assert gallery.output_range(lazy) == gallery.output_range(eager.y)
    options = dict(samples=[3, 0], channels=[1, 6], box=eager.group_box(eager.group_of(0, 1, 0, 0)), out_range=2.5)
    shown = gallery.build_gallery(x, lazy, **options)
    for row_lazy, row_eager in zip(shown.rows, gallery.build_gallery(x, eager.y, **options).rows):
        assert all(np.array_equal(a.image, b.image) for a, b in zip(row_lazy, row_eager))
    assert worked_cell(lazy, x, (2, 5, 17, 100)) == worked_cell(eager, x, (2, 5, 17, 100))
    assert not lazy.output_formed

"""The tensor cube's figure, inspected without rendering: geometry, hover, highlight, colours, size."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import normviz
from normviz import NormSpec, NormvizError, group_box, group_of
from normviz.figures.cube import build_cube, cell_at_vertex, cube_from_result, decode_array

from .cube_figure_reading import (
    cell_at_point,
    cell_boxes,
    cells_of,
    hover_text,
    hovered_group,
    hovered_stat,
    meshes,
    scene_boxes,
)

AXIS_SUBSETS = ["".join(c) for r in range(5) for c in itertools.combinations("NCHW", r)]
DEFAULT_SHAPE = (6, 3, 96, 96)
LARGEST_SHAPES = [(32, 64, 180, 180), (64, 16, 256, 256), (128, 3, 416, 416)]


def random_stats(spec, shape, seed=0):
    """Statistics on the grid; huge grids are broadcast from a small random array (no 500 MB copies)."""
    rng = np.random.default_rng(seed)
    stats = spec.stats_shape(shape)
    if np.prod(stats) <= 2_000_000:
        return rng.normal(size=stats), rng.uniform(0.1, 2.0, size=stats)
    small = (stats[0], stats[1], 1, stats[3])
    return np.broadcast_to(rng.normal(size=small), stats), np.broadcast_to(rng.uniform(0.1, 2, size=small), stats)


@st.composite
def configurations(draw):
    shape = tuple(draw(st.integers(1, hi)) for hi in (4, 6, 5, 5))
    axes = draw(st.sampled_from(AXIS_SUBSETS))
    groups = draw(st.sampled_from(normviz.divisors(shape[1]))) if "C" in axes else 1
    cell = draw(st.none() | st.tuples(*(st.integers(0, s - 1) for s in shape)))
    return shape, NormSpec.make(axes, groups), cell


@settings(max_examples=60, deadline=None)
@given(configurations(), st.sampled_from(["exact", "paper"]))
def test_every_cell_is_in_exactly_one_box_of_its_own_group(config, view):
    shape, spec, cell = config
    mean, var = random_stats(spec, shape)
    cube = build_cube(shape, spec, mean, var, cell, view=view, max_boxes=10_000)
    assert cube.note is None and cube.block is None
    covered = np.zeros(shape, np.int64)
    for trace in meshes(cube).values():
        for b, box in enumerate(cell_boxes(cube, trace)):
            text = hover_text(trace, b)
            group = hovered_group(text)
            for c in cells_of(cube, box):
                covered[c] += 1
                assert group_of(spec, shape, c) == group, (c, text)
            assert hovered_stat(text, "μ") == pytest.approx(mean[group], rel=1e-3, abs=1e-6)
            assert hovered_stat(text, "σ²") == pytest.approx(var[group], rel=1e-3, abs=1e-6)
    assert np.all(covered == 1), f"cells covered {np.unique(covered)} times"


@pytest.mark.parametrize("view", ["paper", "exact"])
@pytest.mark.parametrize(("axes", "groups"), [("NHW", 1), ("CHW", 1), ("CHW", 2), ("HW", 1), ("C", 1), ("", 1)])
def test_selected_group_is_opaque_outlined_and_exact(view, axes, groups):
    shape, cell = (3, 4, 6, 5), (1, 3, 2, 4)
    spec = NormSpec.make(axes, groups)
    cube = build_cube(shape, spec, *random_stats(spec, shape), cell, view=view)
    traces = meshes(cube)
    selected, faded = traces["selected"], traces.get("group", traces.get("block"))
    assert selected["opacity"] == 1 and faded["opacity"] < 0.5
    group = group_of(spec, shape, cell)
    assert cube.selected_group == group
    drawn = {c for box in cell_boxes(cube, selected) for c in cells_of(cube, box)}
    assert drawn == set(itertools.product(*group_box(spec, shape, group)))
    assert {hovered_group(hover_text(selected, b)) for b in range(len(cell_boxes(cube, selected)))} == {group}
    assert hover_text(selected, 0).startswith("selected group")
    outline = [t for t in cube.figure["data"] if t["type"] == "scatter3d"]
    assert len(outline) == 1 and outline[0]["hoverinfo"] == "skip"


def test_without_a_selection_nothing_is_highlighted():
    spec = NormSpec.make("NHW")
    cube = build_cube((2, 3, 4, 4), spec, *random_stats(spec, (2, 3, 4, 4)))
    assert [t["meta"]["role"] for t in cube.figure["data"]] == ["group"]
    assert cube.figure["data"][0]["opacity"] > 0.5 and cube.figure["data"][0]["showscale"]
    assert cube.selected_group is None


@pytest.mark.parametrize(("axes", "groups"), [("NHW", 1), ("HW", 1), ("CHW", 1), ("CHW", 4), ("C", 1)])
def test_hover_carries_the_results_statistics(axes, groups):
    x = np.random.default_rng(3).normal(2.0, 3.0, size=(3, 8, 5, 6)).astype(np.float32)
    res = normviz.normalize(x, axes, groups=groups)
    cube = cube_from_result(res, (2, 5, 1, 3), view="exact")
    for trace in meshes(cube).values():
        columns = decode_array(trace["customdata"]).reshape(-1, 8, len(decode_array(trace["customdata"])[0]))
        assert np.all(columns == columns[:, :1]), "all 8 vertices of a box carry the same row"
        mu_col = int(re.search(r"μ = %\{customdata\[(\d+)\]", trace["hovertemplate"]).group(1))
        var_col = int(re.search(r"σ² = %\{customdata\[(\d+)\]", trace["hovertemplate"]).group(1))
        for b in range(len(columns)):
            group = hovered_group(hover_text(trace, b))
            assert columns[b, 0, mu_col] == pytest.approx(res.mean[group], rel=1e-6, abs=1e-6)
            assert columns[b, 0, var_col] == pytest.approx(res.var[group], rel=1e-6)
            assert f"{res.count:,} values" in hover_text(trace, b)


@pytest.mark.parametrize("view", ["paper", "exact"])
def test_hover_names_the_ranges_a_group_covers(view):
    spec = NormSpec.make("CHW", 2)
    shape = (6, 4, 96, 80)
    cube = build_cube(shape, spec, *random_stats(spec, shape), (5, 3, 0, 0), view=view)
    text = hover_text(meshes(cube)["selected"], 0)
    assert text.splitlines()[:3] == ["selected group (5, 1, 0, 0)", "n 5 · c 2–3 · h 0–95 · w 0–79", "15,360 values"]


def test_exact_view_names_a_batch_groups_full_range_on_every_sample():
    spec = NormSpec.make("NHW")
    shape = (4, 3, 6, 5)
    cube = build_cube(shape, spec, *random_stats(spec, shape), (2, 1, 0, 0), view="exact")
    selected = meshes(cube)["selected"]
    pieces = cell_boxes(cube, selected)
    assert [tuple(p[0]) for p in pieces] == [(n, n + 1) for n in range(4)], "one box per sample"
    for b in range(len(pieces)):
        assert hover_text(selected, b).splitlines()[1] == "n 0–3 · c 1 · h 0–5 · w 0–4"
        assert {cell_at_vertex(selected, 8 * b + v)[0] for v in range(8)} == {b}, "a click keeps its sample"


@pytest.mark.parametrize("view", ["paper", "exact"])
@pytest.mark.parametrize(
    ("axes", "groups", "max_boxes"), [("CHW", 2, None), ("C", 1, None), ("", 1, 40), ("NH", 1, None)]
)
def test_a_click_on_a_vertex_selects_the_cell_at_that_corner(view, axes, groups, max_boxes):
    spec = NormSpec.make(axes, groups)
    shape = (3, 4, 5, 6)
    cube = build_cube(shape, spec, *random_stats(spec, shape), (1, 0, 0, 0), view=view, max_boxes=max_boxes)
    for trace in meshes(cube).values():
        lo, hi = scene_boxes(cube, trace)
        vertices = np.stack([decode_array(trace[a]) for a in "xyz"], axis=1).astype(np.float64)
        for vertex, position in enumerate(vertices):
            b = vertex // 8
            high = position > (lo[b] + hi[b]) / 2
            corner = np.where(high, hi[b] - 0.5, lo[b] + 0.5)
            assert cell_at_vertex(trace, vertex) == cell_at_point(cube, corner), (view, axes, vertex)


def test_paper_view_flattens_w_major_when_h_is_reduced_and_w_kept():
    spec = NormSpec.make("NH")
    shape = (2, 2, 4, 3)
    cube = build_cube(shape, spec, *random_stats(spec, shape), (0, 1, 2, 1), view="paper")
    meta, scene = cube.figure["layout"]["meta"], cube.figure["layout"]["scene"]
    assert meta["spatial_order"] == "W"
    assert scene["zaxis"]["title"]["text"].startswith("W·H")
    assert cube.boxes == spec.stats_shape(shape)[1] * spec.stats_shape(shape)[3]
    assert (
        "H·W"
        in build_cube(shape, NormSpec.make("NW"), *random_stats(NormSpec.make("NW"), shape), view="paper").figure[
            "layout"
        ]["scene"]["zaxis"]["title"]["text"]
    )


@pytest.mark.parametrize("view", ["paper", "exact"])
@pytest.mark.parametrize("axes", ["C", ""])
def test_many_groups_are_drawn_in_blocks_and_the_selection_stays_exact(view, axes):
    spec = NormSpec.make(axes)
    cell = (4, 2, 50, 61)
    cube = build_cube(DEFAULT_SHAPE, spec, *random_stats(spec, DEFAULT_SHAPE), cell, view=view)
    assert cube.note is not None and "blocks" in cube.note and "drawn exactly" in cube.note
    assert "blocks" in cube.figure["layout"]["title"]["text"]
    traces = meshes(cube)
    assert set(traces) == {"block", "selected"}
    covered = np.zeros(DEFAULT_SHAPE, np.int64)
    unit = [d // s for d, s in zip(DEFAULT_SHAPE, spec.stats_shape(DEFAULT_SHAPE))]
    for box in cell_boxes(cube, traces["block"]):
        if view == "paper":
            box = np.array([box[0], box[1], *_paper_hw(box[2], DEFAULT_SHAPE)])
        covered[tuple(slice(a, b) for a, b in box)] += 1
        for axis, (a, b) in enumerate(box):
            assert a % unit[axis] == 0 and (b % unit[axis] == 0 or b == DEFAULT_SHAPE[axis]), "blocks hold whole groups"
        assert all(b - a <= most for (a, b), most in zip(box, cube.block)), "no block exceeds the stated size"
    assert np.all(covered == 1), "blocks must tile the tensor"
    assert "block of" in hover_text(traces["block"], 0)
    selected = {c for box in cell_boxes(cube, traces["selected"]) for c in cells_of(cube, box)}
    assert selected == set(itertools.product(*group_box(spec, DEFAULT_SHAPE, group_of(spec, DEFAULT_SHAPE, cell))))


def _paper_hw(s_range, shape):
    """A paper-view block's s range as (h, w) ranges (blocks are whole rows or part of one row)."""
    width = shape[3]
    s0, s1 = s_range
    if s1 - s0 >= width:
        assert s0 % width == 0 and (s1 % width == 0 or s1 == shape[2] * width)
        return [(s0 // width, -(-s1 // width)), (0, width)]
    assert s0 // width == (s1 - 1) // width, "a block shorter than a row stays in one row"
    return [(s0 // width, s0 // width + 1), (s0 % width, (s1 - 1) % width + 1)]


def test_few_groups_are_drawn_one_by_one():
    spec = NormSpec.make("NHW")
    cube = build_cube(DEFAULT_SHAPE, spec, *random_stats(spec, DEFAULT_SHAPE), (0, 1, 0, 0), view="exact")
    assert cube.note is None and cube.block is None
    assert cube.boxes == DEFAULT_SHAPE[0] * DEFAULT_SHAPE[1]


def _payload(cube) -> int:
    return len(json.dumps(cube.figure).encode())


@pytest.mark.parametrize("view", ["paper", "exact"])
def test_payload_at_the_default_input_is_under_300_kb(view):
    sizes = {}
    for axes, groups in [(a, 1) for a in AXIS_SUBSETS] + [("CHW", 3)]:
        spec = NormSpec.make(axes, groups)
        for color_by in ("mean", "group"):
            cube = build_cube(
                DEFAULT_SHAPE, spec, *random_stats(spec, DEFAULT_SHAPE), (5, 2, 95, 95), view=view, color_by=color_by
            )
            sizes[axes, groups, color_by] = _payload(cube)
    assert max(sizes.values()) <= 300_000, max(sizes.items(), key=lambda kv: kv[1])


@pytest.mark.parametrize("shape", LARGEST_SHAPES)
@pytest.mark.parametrize("view", ["paper", "exact"])
def test_payload_at_the_largest_input_is_under_1_mb(shape, view):
    sizes = {}
    for axes, groups in [(a, 1) for a in AXIS_SUBSETS] + [("CHW", min(32, shape[1]))]:
        spec = NormSpec.make(axes, groups)
        cube = build_cube(shape, spec, *random_stats(spec, shape), tuple(s - 1 for s in shape), view=view)
        sizes[axes, groups] = _payload(cube)
    assert max(sizes.values()) <= 1_000_000, max(sizes.items(), key=lambda kv: kv[1])


def test_many_samples_are_merged_into_blocks_in_the_exact_view():
    shape = (128, 3, 8, 8)
    spec = NormSpec.make("HW")
    cube = build_cube(shape, spec, *random_stats(spec, shape), (77, 1, 0, 0), view="exact")
    blocks = cube.figure["layout"]["meta"]["blocks"]
    assert len(blocks) == 64 and blocks[0][:2] == [0, 2]
    assert cube.block[0] == 2 and "blocks" in cube.note
    labels = [a["text"] for a in cube.figure["layout"]["scene"]["annotations"]]
    assert labels[0] == "n 0–1" and len(labels) == 64


@pytest.mark.parametrize(("means", "scale"), [((-1.0, 2.0), "diverging"), ((0.2, 0.7), "sequential")])
def test_mean_colours_diverge_around_zero_only_when_means_have_both_signs(means, scale):
    spec = NormSpec.make("NHW")
    mean = np.array(means).reshape(1, 2, 1, 1)
    cube = build_cube((2, 2, 3, 3), spec, mean, np.ones_like(mean), (0, 0, 0, 0))
    trace = meshes(cube)["selected"]
    if scale == "diverging":
        assert trace["cmin"] == -trace["cmax"] == -2.0
    else:
        assert (trace["cmin"], trace["cmax"]) == means
    assert trace["showscale"] and "μ" in trace["colorbar"]["title"]["text"]


def test_variance_colours_and_constant_statistics_stay_well_defined():
    spec = NormSpec.make("HW")
    zeros = np.zeros((2, 3, 1, 1))
    cube = build_cube((2, 3, 4, 4), spec, zeros, zeros, (1, 1, 1, 1), color_by="variance")
    trace = meshes(cube)["selected"]
    assert np.isfinite([trace["cmin"], trace["cmax"]]).all() and trace["cmin"] < 0 < trace["cmax"]
    assert trace["colorbar"]["ticktext"] == ["0<br>(all equal)"]
    assert "σ²" in trace["colorbar"]["title"]["text"]


def test_group_colours_tell_neighbours_apart():
    spec = NormSpec.make("C")
    shape = (3, 2, 4, 5)
    cube = build_cube(shape, spec, *random_stats(spec, shape), color_by="group", view="exact")
    trace = meshes(cube)["group"]
    assert trace["showscale"] is False
    colour = decode_array(trace["intensity"])[::8]
    grid = np.zeros(spec.stats_shape(shape))
    for b, value in enumerate(colour):
        grid[hovered_group(hover_text(trace, b))] = value
    for axis in (0, 2, 3):
        assert np.all(np.diff(grid, axis=axis) != 0), f"neighbours along {'NCHW'[axis]} share a colour"


@pytest.mark.parametrize("view", ["paper", "exact"])
@pytest.mark.parametrize("color_by", ["mean", "variance", "group"])
def test_figure_is_valid_plotly_with_a_fixed_uirevision(view, color_by):
    figures = []
    for axes in ("NHW", "C"):
        spec = NormSpec.make(axes)
        cube = build_cube(
            (4, 3, 20, 20), spec, *random_stats(spec, (4, 3, 20, 20)), (1, 1, 1, 1), view=view, color_by=color_by
        )
        assert isinstance(cube.to_plotly(), go.Figure)
        assert json.loads(cube.to_json()) == cube.figure
        figures.append(cube.figure["layout"])
    assert figures[0]["uirevision"] == figures[1]["uirevision"] == "normviz-cube"
    assert figures[0]["scene"]["camera"] == figures[1]["scene"]["camera"], "the default camera must not move"
    titles = [figures[0]["scene"][a]["title"]["text"] for a in ("xaxis", "yaxis", "zaxis")]
    assert titles[0].startswith("N" if view == "paper" else "W") and titles[1].startswith("C")
    assert titles[2].startswith("H")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"view": "side"}, "view must be one of"),
        ({"color_by": "size"}, "color_by must be one of"),
        ({"selected_cell": (0, 0, 9, 0)}, "outside the tensor"),
        ({"mean": np.zeros((1, 3, 1, 1))}, "statistics grid of shape (2, 2, 1, 1)"),
        ({"shape": (2, 3, 4, 4)}, "groups=2 must divide"),
        ({"max_boxes": 0}, "max_boxes must be a whole number"),
    ],
)
def test_bad_arguments_raise_normviz_errors(kwargs, message):
    spec = NormSpec.make("CHW", 2)
    args = {"shape": (2, 4, 4, 4), "spec": spec, "mean": np.zeros((2, 2, 1, 1)), "var": np.ones((2, 2, 1, 1))}
    args.update(kwargs)
    with pytest.raises(NormvizError, match=re.escape(message)):
        build_cube(**args)


@pytest.mark.parametrize(("low", "high"), [(-1.54, -1.53), (0.3, 0.42), (1e4, 1e4 + 1), (-2.0, 2.0), (0.0, 1e-6)])
def test_colour_bar_ticks_have_enough_digits_to_differ(low, high):
    from normviz.figures.cube_style import _tick_format

    digits = int(_tick_format(low, high)[1:].removesuffix("~g"))
    ticks = np.linspace(low, high, 6)
    labels = [f"{t:.{digits}g}" for t in ticks]
    assert len(set(labels)) == len(labels), labels

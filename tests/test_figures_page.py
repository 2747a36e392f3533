"""Pure builders of the page: gallery tiles, statistics table/CSV/chart, histograms, worked arithmetic."""

import io

import numpy as np
import pandas as pd
import pytest

import normviz
from normviz.arithmetic import worked_cell
from normviz.figures import gallery, histograms, stats
from normviz.figures.colors import DIVERGING, HIGHLIGHT, apply_colormap

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 1, size=(4, 3, 12, 10)).astype(np.float32)
IMAGES[1] *= 0.2  # a dark image


def test_gallery_rows_tiles_and_shared_scales():
    res = normviz.normalize(IMAGES, "NHW")
    gal = gallery.build_gallery(IMAGES, res.y, samples=range(4), channels=range(3), is_image=True)
    assert len(gal.rows) == 4
    kinds = [t.kind for t in gal.rows[0]]
    assert kinds == ["input RGB", "output RGB"] + ["input", "output"] * 3
    assert gal.input_range == (0.0, 1.0)
    # the dark photo stays darker than the others under BatchNorm's shared statistics
    dark, bright = gal.rows[1][1].image.mean(), gal.rows[0][1].image.mean()
    assert dark < bright - 40
    # small images are repeated up to about TILE_SIDE pixels
    assert gal.rows[0][2].image.shape == (12 * gal.scale, 10 * gal.scale, 3)


def test_instance_norm_erases_the_dark_images_brightness():
    res = normviz.normalize(IMAGES, "HW")
    gal = gallery.build_gallery(IMAGES, res.y, samples=range(4), channels=[0], is_image=True)
    means = [row[1].image.mean() for row in gal.rows]
    assert max(means) - min(means) < 8


def test_selected_group_is_outlined_only_where_it_lies():
    res = normviz.normalize(IMAGES, "C")  # one group per pixel
    box = res.group_box(res.group_of(2, 0, 5, 4))
    gal = gallery.build_gallery(IMAGES, res.y, samples=range(4), channels=range(3), box=box, is_image=True)
    marked = [(t.sample, t.channel) for row in gal.rows for t in row if t.selected]
    assert set(marked) == {(2, None), (2, 0), (2, 1), (2, 2)}
    tile = next(t for t in gal.rows[2] if t.kind == "input" and t.channel == 1)
    s = int(gal.scale)
    assert (tile.image[5 * s, 4 * s] == np.array(HIGHLIGHT)).all()  # top-left corner of the pixel's outline
    unmarked = next(t for t in gal.rows[0] if t.kind == "input" and t.channel == 1)
    assert not (unmarked.image == np.array(HIGHLIGHT)).all(axis=-1).any()


def test_large_images_are_averaged_down_and_say_so():
    x = RNG.normal(size=(2, 1, 400, 300)).astype(np.float32)
    res = normviz.normalize(x, "HW")
    gal = gallery.build_gallery(x, res.y, samples=[0], channels=[0])
    assert max(gal.rows[0][0].image.shape[:2]) <= gallery.TILE_SIDE
    assert "averaged over 4×4 blocks" in gal.note and "1 of 2 samples" in gal.note


def test_output_range_is_symmetric_and_robust():
    y = np.concatenate([RNG.normal(size=100_000), [1e6]]).astype(np.float32)
    span = gallery.output_range(y.reshape(1, 1, 1, -1))
    assert 2.5 <= span <= 3.5 and span * 2 == int(span * 2)


@pytest.mark.parametrize("size", [1, 2, 3, 10, 1001, 50_000])
def test_quantiles_match_numpy_percentile(size):
    values = RNG.standard_t(3, size=size).astype(np.float32)
    values[: size // 7] = 1.5  # ties
    qs = [0.0, 0.005, 0.5, 0.995, 1.0]
    expected = np.percentile(values.astype(np.float64), [100 * q for q in qs])
    got = gallery.quantiles(values, qs)
    # both interpolate between the same two float32 ranks in float64: a few units in the last place
    assert np.allclose(got, expected, rtol=1e-12, atol=0)


def test_ranges_of_a_large_tensor_come_from_contiguous_runs_and_agree_with_the_whole():
    y = RNG.normal(size=(3, 5, 300, 400)).astype(np.float32)  # 1.8 M values: sampled
    sample = gallery._sample(y)
    assert sample.size == gallery.SAMPLE_RUNS * gallery.SAMPLE_RUN and np.shares_memory(sample, y)
    whole = np.percentile(np.abs(y), 99.5)
    assert gallery.output_range(y) == max(1.0, np.ceil(whole * 2) / 2)
    lo, hi = gallery.input_range(y, is_image=False)
    assert abs(lo - np.percentile(y, 0.5)) < 0.05 and abs(hi - np.percentile(y, 99.5)) < 0.05


def test_colormap_ends_and_middle():
    rgb = apply_colormap(np.array([-2.0, 0.0, 2.0]), -2, 2)
    assert rgb[0, 2] > rgb[0, 0] and rgb[2, 0] > rgb[2, 2]  # blue for negative, red for positive
    assert (rgb[1] == 247).all()  # white at zero


@pytest.mark.parametrize("lo, hi", [(-2.5, 2.5), (-1.0, 1.0), (0.0, 7.5)])
def test_colormap_is_within_one_level_of_exact_interpolation(lo, hi):
    """The table lookup against np.interp of each channel over the colour stops, in float64."""
    values = np.concatenate([RNG.uniform(lo - 1, hi + 1, size=200_000), np.linspace(lo, hi, 5001)])
    stops = np.linspace(lo, hi, len(DIVERGING))
    exact = np.stack([np.interp(values, stops, DIVERGING[:, k]) for k in range(3)], axis=-1)
    got = apply_colormap(values.astype(np.float32), lo, hi)
    assert got.dtype == np.uint8 and got.shape == values.shape + (3,)
    assert np.abs(got.astype(np.float64) - exact).max() <= 1.0
    assert (np.abs(got.astype(np.float64) - np.rint(exact)) <= 1).all()


def test_stats_table_and_csv_hold_every_group_exactly():
    res = normviz.normalize(IMAGES, "CHW", groups=3)
    table = stats.stats_table(res, selected=(2, 1, 0, 0))
    assert len(table) == res.n_groups == 12
    np.testing.assert_array_equal(table["mean μ"].to_numpy(), res.mean.reshape(-1))
    row = table[table["selected"]].iloc[0]
    assert (row["group"], row["n"], row["c"], row["h"], row["w"]) == ("(2, 1, 0, 0)", "2", "1", "0–11", "0–9")
    back = pd.read_csv(io.StringIO(stats.stats_csv(res)))
    np.testing.assert_array_equal(back["variance σ²"].to_numpy(), res.var.reshape(-1))


def test_stats_table_limit_keeps_the_selected_row():
    res = normviz.normalize(IMAGES, "C")
    table = stats.stats_table(res, selected=(3, 0, 11, 9), limit=10)
    assert len(table) == 11 and table.iloc[-1]["selected"]


@pytest.mark.parametrize(
    "axes, kind, panels",
    [("NHW", "bar", 2), ("HW", "heatmap", 2), ("C", "heatmap", 8), ("NCHW", None, 0)],
)
def test_stats_figure_fits_the_grid(axes, kind, panels):
    res = normviz.normalize(IMAGES, axes)
    fig = stats.stats_figure(res, selected=res.group_of(0, 0, 0, 0))
    if kind is None:
        assert fig is None
        return
    assert {t.type for t in fig.data} == {kind} and len(fig.data) == panels
    if kind == "heatmap":
        assert len(fig.layout.shapes) == 4  # the selected cell outlined (dark and light) in μ and in σ²


def test_histograms_are_densities_with_the_selected_group():
    res = normviz.normalize(IMAGES, "NHW")
    box = res.group_box((0, 1, 0, 0))
    fig = histograms.histogram_figure(IMAGES, res.y, box)
    names = [t.name for t in fig.data]
    assert names.count("all values") == 2 and names.count("selected group") == 2 and "N(0, 1)" in names
    bars = fig.data[0]
    assert np.sum(np.asarray(bars.y) * np.asarray(bars.width)) == pytest.approx(1.0)
    # each panel holds its own values: input x on the left axes, output y (and N(0, 1)) on the right
    panels = {(t.name, t.xaxis or "x") for t in fig.data}
    assert panels == {("all values", "x"), ("selected group", "x"), ("all values", "x2"),
                      ("selected group", "x2"), ("N(0, 1)", "x2")}  # fmt: skip
    left, right = (t for t in fig.data if t.name == "all values")
    assert np.max(left.x) <= 1.0 + 1e-9 < np.max(right.x), "the input panel shows pixel values in 0…1"


@pytest.mark.parametrize("center", [True, False])
def test_worked_arithmetic_reproduces_the_output(center):
    gamma, beta = np.array([1.5, -2.0, 0.5]), np.array([0.1, 0.0, -3.0])
    res = normviz.normalize(IMAGES, "NHW", center=center, gamma=gamma, beta=beta)
    worked = worked_cell(res, IMAGES, (3, 1, 7, 2))
    assert worked.y_from_formula == pytest.approx(float(res.y[3, 1, 7, 2]), abs=2e-6)
    assert worked.gamma == -2.0 and worked.beta == 0.0
    text = worked.latex()
    assert f"{float(IMAGES[3, 1, 7, 2]):.6g}" in text and f"{worked.y_from_formula:.6g}" in text
    assert ("\\mu" in text) == center


@pytest.mark.parametrize("shape", [(1, 1, 1, 1000), (2, 3, 2, 1024), (6, 3, 1000, 1), (1, 1, 1, 300), (1, 1, 3, 3)])
def test_gallery_tiles_of_long_thin_tensors_are_visible(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    res = normviz.normalize(x, "HW")
    box = res.group_box((0, 0, 0, 0))
    gal = gallery.build_gallery(x, res.y, samples=range(1), channels=range(min(shape[1], 3)), box=box, is_image=False)
    for tile in (t for row in gal.rows for t in row):
        h, w = tile.image.shape[:2]
        assert min(h, w) >= gallery.MIN_TILE_SIDE and max(h, w) <= 2 * gallery.TILE_SIDE, (shape, tile.image.shape)


def test_gallery_tiles_are_read_only_jpeg_with_text_alternatives():
    """Tiles are shared between visitors, so read-only; each carries its JPEG and says what it shows."""
    from PIL import Image

    res = normviz.normalize(IMAGES, "HW")
    labels = ("astronaut", "camera", "chelsea", "coffee")
    gal = gallery.build_gallery(
        IMAGES, res.y, samples=range(4), channels=range(3), is_image=True, labels=labels, layer="InstanceNorm"
    )
    tile = next(t for t in gal.rows[3] if t.kind == "output" and t.channel == 2)
    assert tile.alt == "coffee, channel 2 (blue), after InstanceNorm"
    assert (
        next(t for t in gal.rows[0] if t.kind == "input" and t.channel == 0).alt
        == "astronaut, channel 0 (red), input in grey"
    )
    assert not tile.image.flags.writeable
    # the very bytes st.image makes of the array itself (so the page looks as it did)
    from streamlit.elements.lib.image_utils import _np_array_to_bytes

    assert tile.jpeg == _np_array_to_bytes(tile.image, "auto")
    assert Image.open(io.BytesIO(tile.jpeg)).size == tile.image.shape[1::-1]
    box = res.group_box(res.group_of(1, 0, 0, 0))
    marked = gallery.build_gallery(IMAGES, res.y, samples=[1], channels=[0], box=box, is_image=True)
    assert [t.alt.endswith(", outlined: holds the selected group") for t in marked.rows[0]] == [
        False,
        False,
        True,
        True,
    ]


@pytest.mark.parametrize("shape", [(181, 181, 3), (400, 300, 3), (7, 1000, 3), (1, 1000, 3), (181, 181)])
@pytest.mark.parametrize("scale", [128 / 181, 0.3, 0.05])
def test_averaging_down_gives_the_block_means(shape, scale):
    """Large images are block means (float32) before they are coloured; a side shorter than the
    block is one pixel. Bound: k = f² values summed in float32, each add and the final scaling
    rounding once (relative 2⁻²⁴), so |error| ≤ (k + 1)·2⁻²⁴·max|v|."""
    img = np.random.default_rng(11).normal(size=shape).astype(np.float32)
    planes = np.moveaxis(img, -1, 0) if img.ndim == 3 else img  # shrink takes (..., H, W)
    f = int(np.ceil(1 / scale))
    fh, fw = min(f, planes.shape[-2]), min(f, planes.shape[-1])
    h, w = planes.shape[-2] // fh * fh, planes.shape[-1] // fw * fw
    cut = planes[..., :h, :w].astype(np.float64)
    means = cut.reshape(*cut.shape[:-2], h // fh, fh, w // fw, fw).mean(axis=(-3, -1))
    got = gallery.shrink(planes, scale)
    assert got.dtype == np.float32 and got.shape == means.shape
    bound = (fh * fw + 1) * 2.0**-24 * np.abs(img).max()
    assert np.abs(got - means).max() <= bound


def test_resample_only_enlarges():
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert np.array_equal(gallery.resample(img, 2), np.repeat(np.repeat(img, 2, axis=0), 2, axis=1))
    with pytest.raises(ValueError, match="shrink"):
        gallery.resample(img, 0.5)


def _strip_gallery(channels=range(3)):
    res = normviz.normalize(IMAGES, "C")
    box = res.group_box(res.group_of(2, 0, 5, 4))
    return gallery.build_gallery(IMAGES, res.y, samples=range(4), channels=channels, box=box, is_image=True)


def test_strips_hold_every_tile_in_place_on_the_background():
    gal = _strip_gallery()
    strips = gallery.gallery_strips(gal, background=(14, 17, 23))
    assert len(strips.whole) == 2 and len(strips.rows) == 4 and len(strips.captions) == 6
    row = strips.rows[2]
    tiles = [t for t in gal.rows[2] if t.channel is not None]
    assert row.tiles == tuple(tiles)
    th, tw = tiles[0].image.shape[:2]
    assert row.tile_width == tw
    # one line: input, 2 px, output, 14 px, input, 2 px, output, …
    left = 0
    for k, tile in enumerate(tiles):
        assert np.array_equal(row.image[:th, left : left + tw], tile.image), k
        gap = gallery.TILE_GAP if k % 2 == 0 else gallery.GROUP_GAP
        if k < len(tiles) - 1:
            assert (row.image[:, left + tw : left + tw + gap] == (14, 17, 23)).all(), k
        left += tw + gap
    assert row.image.shape == (th, left - gallery.GROUP_GAP, 3)
    assert not row.image.flags.writeable
    # a strip's text names each tile in order; captions mark the selected group's tiles
    assert row.alt.split("; ") == [t.alt for t in tiles]
    assert strips.captions[2 + 2] == "sample 2: c0 ◆ · c1 ◆ · c2 ◆ — each input, then its output"
    assert strips.captions[2 + 0] == "sample 0: c0 · c1 · c2 — each input, then its output"
    assert strips.captions[0] == "inputs: sample 0 · sample 1 · sample 2 ◆ · sample 3"


def test_strips_wrap_between_pairs_never_inside_one():
    gal = _strip_gallery()
    th, tw = gal.rows[0][2].image.shape[:2]
    pair = 2 * tw + gallery.TILE_GAP
    row = gallery.gallery_strips(gal).rows[0]
    narrow = gallery.strip([row.tiles[i : i + 2] for i in range(0, 6, 2)], width=2 * pair + gallery.GROUP_GAP)
    assert narrow.image.shape == (2 * th + gallery.LINE_GAP, 2 * pair + gallery.GROUP_GAP, 3)
    # the third pair starts the second line, at the left edge
    assert np.array_equal(narrow.image[th + gallery.LINE_GAP :, :tw], row.tiles[4].image)
    assert np.array_equal(narrow.image[th + gallery.LINE_GAP :, tw + gallery.TILE_GAP : pair], row.tiles[5].image)
    assert (narrow.image[th + gallery.LINE_GAP :, pair:] == 255).all(), "the rest of the short line is background"
    # a pair wider than the limit still gets a line of its own
    assert gallery.strip([row.tiles[:2]], width=1).image.shape == (th, pair, 3)


def test_a_strip_refuses_no_tiles_and_tiles_of_different_sizes():
    gal = _strip_gallery()
    with pytest.raises(ValueError, match="at least one tile"):
        gallery.strip([])
    small = gallery.build_gallery(IMAGES[:, :, :6], IMAGES[:, :, :6], samples=[0], channels=[0], is_image=True)
    with pytest.raises(ValueError, match="one size"):
        gallery.strip([[gal.rows[0][2], small.rows[0][2]]])


def test_outline_of_a_large_image_lies_on_the_averaged_block_of_its_cell():
    """181×181 is shown averaged over 2×2 blocks (90×90): cell (100, 60) is pixel (50, 30)."""
    x = RNG.normal(size=(1, 1, 181, 181)).astype(np.float32)
    res = normviz.normalize(x, "C")  # one group per cell
    box = res.group_box(res.group_of(0, 0, 100, 60))
    gal = gallery.build_gallery(x, res.y, samples=[0], channels=[0], box=box)
    tile = gal.rows[0][0]
    assert tile.image.shape == (90, 90, 3) and "averaged over 2×2 blocks" in gal.note
    marked = np.argwhere((tile.image == np.array(HIGHLIGHT)).all(axis=-1))
    assert marked.min(axis=0).tolist() == [50, 30] and marked.max(axis=0).tolist() == [50, 30]
    # the tile's other pixels are the block means of the input, coloured
    means = x[0, 0, :180, :180].reshape(90, 2, 90, 2).mean(axis=(1, 3))
    lo, hi = gal.input_range
    level = np.rint(np.clip((means - lo) / (hi - lo), 0, 1) * 255)
    keep = (tile.image != np.array(HIGHLIGHT)).any(axis=-1)
    assert np.abs(tile.image[..., 0][keep].astype(int) - level[keep]).max() <= 1

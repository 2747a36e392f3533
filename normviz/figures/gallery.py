"""The channel gallery: every (sample, channel) as an input image beside its normalized output.

Inputs share one grey scale over the whole tensor (so a dark photo stays dark), outputs share one
diverging scale (blue < 0 < red) so groups can be compared; a 3-channel tensor also gets its output
recomposed as colour. The selected group's cells are outlined.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .alt_text import tile_alt
from .colors import HIGHLIGHT, apply_colormap, grey

#: Longest side of a tile on screen, in pixels; larger images are averaged down, smaller repeated up.
TILE_SIDE = 128
#: Shortest side of a tile in pixels: thinner images are stretched across it.
MIN_TILE_SIDE = 8
#: An output of ±RGB_SPAN is shown as 0 or 255 in the colour recomposition.
RGB_SPAN = 2.5


@dataclass(frozen=True)
class Tile:
    """One image of the gallery: uint8 (h, w, 3) (read-only), a caption, a text alternative for
    screen readers, and whether it holds selected cells.

    kind: "input" or "output" (one channel), "input RGB" or "output RGB" (the whole colour image).
    """

    image: np.ndarray
    caption: str
    kind: str
    sample: int
    channel: int | None
    selected: bool
    alt: str = ""
    name: str = ""  # the sample's name

    @cached_property
    def jpeg(self) -> bytes:
        """The image as JPEG bytes, encoded on first use and kept with the tile."""
        return encode_jpeg(self.image)


@dataclass(frozen=True)
class Strip:
    """Several tiles of a row as one image, uint8 (h, w, 3), on the page's background colour, so the
    page shows a few images rather than one per tile. ``tile_width`` is one tile's width in it, in
    pixels; ``alt`` names every tile in order."""

    image: np.ndarray
    tiles: tuple[Tile, ...]
    tile_width: int

    @property
    def alt(self) -> str:
        return "; ".join(t.alt for t in self.tiles)

    @cached_property
    def jpeg(self) -> bytes:
        """The strip as JPEG bytes at quality STRIP_QUALITY, encoded on first use and kept with the strip."""
        return encode_jpeg(self.image, STRIP_QUALITY)


#: Gaps of a strip, in pixels: within a group of tiles (a channel's input and output), between
#: groups, and between lines.
TILE_GAP, GROUP_GAP, LINE_GAP = 2, 14, 10
#: A strip wraps to a new line before it grows wider than this many pixels.
STRIP_WIDTH = 880
#: JPEG quality of a strip: at 95 a strip encodes 2.5× faster and is 40 % smaller than at 100, with
#: no difference to see at screen size.
STRIP_QUALITY = 95


def strip(groups, background=(255, 255, 255), width: int = STRIP_WIDTH) -> Strip:
    """Groups of equal-sized tiles (e.g. [(c0 in, c0 out), (c1 in, c1 out)]) laid out left to right
    on ``background`` (RGB), a group never split across lines; the Strip's image is uint8 (h, w, 3)."""
    groups = [tuple(g) for g in groups if g]
    if not groups:
        raise ValueError("a strip needs at least one tile")
    th, tw = groups[0][0].image.shape[:2]
    if any(t.image.shape[:2] != (th, tw) for g in groups for t in g):
        raise ValueError("the tiles of a strip must all have one size")
    span = lambda group: len(group) * tw + (len(group) - 1) * TILE_GAP  # noqa: E731
    lines, line, used = [], [], 0
    for group in groups:
        if line and used + GROUP_GAP + span(group) > width:
            lines.append(line)
            line, used = [], 0
        used += (GROUP_GAP if line else 0) + span(group)
        line.append(group)
    lines.append(line)
    widest = max(sum(map(span, ln)) + GROUP_GAP * (len(ln) - 1) for ln in lines)
    image = np.empty((len(lines) * th + (len(lines) - 1) * LINE_GAP, widest, 3), np.uint8)
    image[...] = np.asarray(background, np.uint8)
    for i, ln in enumerate(lines):
        top, left = i * (th + LINE_GAP), 0
        for group in ln:
            for j, tile in enumerate(group):
                image[top : top + th, left : left + tw] = tile.image
                left += tw + (TILE_GAP if j < len(group) - 1 else GROUP_GAP)
    image.flags.writeable = False
    return Strip(image, tuple(t for g in groups for t in g), tw)


def encode_jpeg(image: np.ndarray, quality: int = 100) -> bytes:
    """uint8 (h, w, 3) → JPEG bytes; at quality 100 what ``st.image`` makes of an array, a tenth
    of PNG's encoding time."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@dataclass(frozen=True)
class Gallery:
    """Rows of tiles, one row per shown sample: [input RGB, output RGB,] then input/output per channel."""

    rows: tuple[tuple[Tile, ...], ...]
    input_range: tuple[float, float]
    output_range: float
    scale: float
    note: str


#: Ranges are estimated from at most SAMPLE_RUNS × SAMPLE_RUN values: evenly spaced contiguous runs,
#: read a cache line at a time (one value per line of a large tensor would read all of it).
SAMPLE_RUNS, SAMPLE_RUN = 1024, 1024


def _sample(values: np.ndarray) -> np.ndarray:
    """All of ``values`` flattened, or SAMPLE_RUNS evenly spaced runs of SAMPLE_RUN values (a view)."""
    flat = values.reshape(-1)
    if flat.size <= SAMPLE_RUNS * SAMPLE_RUN:
        return flat
    stride = flat.size // SAMPLE_RUNS
    return flat[: SAMPLE_RUNS * stride].reshape(SAMPLE_RUNS, stride)[:, :SAMPLE_RUN]


def _sample_output(res) -> np.ndarray:
    """``_sample(res.y)`` for a ``NormResult``, reading only the sampled runs while its output is
    deferred (planes at least a run long; otherwise all of y)."""
    size = int(np.prod(res.shape))
    plane = res.shape[2] * res.shape[3]
    if res.output_formed or size <= SAMPLE_RUNS * SAMPLE_RUN or plane < SAMPLE_RUN:
        return _sample(res.y)
    stride = size // SAMPLE_RUNS
    return res.output_runs([k * stride for k in range(SAMPLE_RUNS)], SAMPLE_RUN)


def quantiles(values: np.ndarray, qs) -> list[float]:
    """``np.percentile(values, 100·q)`` for each q in ``qs`` (linear interpolation between the two
    nearest ranks), each from one partial sort (np.partition) of a copy: several times faster."""
    flat = np.array(values).reshape(-1)
    out = []
    for q in qs:
        place = q * (flat.size - 1)
        k = int(place)
        flat.partition(k)
        low = float(flat[k])
        high = float(flat[k + 1 :].min()) if k + 1 < flat.size else low  # the next rank: the least above k
        out.append(low + (high - low) * (place - k))
    return out


def output_range(y) -> float:
    """A shared symmetric display range for outputs: the 99.5th percentile of |y| (at least 1),
    rounded up to a half, estimated from a sample (``_sample``). y: the output, or the
    ``NormResult`` (only the sample of a deferred output is computed)."""
    sample = _sample_output(y) if hasattr(y, "output_runs") else _sample(y)
    top = quantiles(np.abs(sample), [0.995])[0] if sample.size else 1.0
    return max(1.0, np.ceil(top * 2) / 2)


def input_range(x: np.ndarray, is_image: bool) -> tuple[float, float]:
    """Display range shared by all input tiles: [0, 1] for images, else robust min/max."""
    if is_image:
        return 0.0, 1.0
    lo, hi = quantiles(_sample(x), [0.005, 0.995])
    return (float(lo), float(hi)) if hi > lo else (float(lo) - 0.5, float(lo) + 0.5)


def display_scale(height: int, width: int, side: int = TILE_SIDE) -> float:
    """Factor from tensor cells to screen pixels: repeat small images up, average large ones down."""
    longest = max(height, width)
    if longest <= side:
        return float(max(1, side // longest))
    return side / longest


def block_factor(scale: float) -> int:
    """For a ``scale`` < 1: the side of the square blocks averaged into one screen pixel."""
    return math.ceil(1 / scale - 1e-9)


def shrink(values: np.ndarray, scale: float) -> np.ndarray:
    """Images (..., H, W) averaged over f × f blocks (f = ``block_factor(scale)``; a side shorter
    than f becomes one pixel) in float32, for a ``scale`` < 1, or ``values`` itself for ``scale`` ≥ 1:
    large tiles are coloured after averaging, on 1/f² of the pixels."""
    if scale >= 1:
        return values
    f = block_factor(scale)
    fh, fw = min(f, values.shape[-2]), min(f, values.shape[-1])
    h, w = values.shape[-2] // fh * fh, values.shape[-1] // fw * fw
    cut, total = values[..., :h, :w], None
    for i in range(fh):  # strided slices added in float32: a few adds of a value each, no reduction
        for j in range(fw):
            part = cut[..., i::fh, j::fw]
            total = part.astype(np.float32) if total is None else np.add(total, part, out=total)
    return np.multiply(total, np.float32(1 / (fh * fw)), out=total)


def _pixel(index: int, length: int, scale: float) -> int:
    """Screen pixel of cell ``index`` along an axis of ``length`` cells (as ``resample`` and
    ``shrink`` lay them out)."""
    if scale >= 1:
        return index * int(scale)
    return index // min(block_factor(scale), length)


def resample(img: np.ndarray, scale: float) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer ``scale`` ≥ 1 (large tiles are averaged down
    before they are coloured: ``shrink``).

    img: (H, W) or (H, W, K) array; returns (H·scale, W·scale[, K])."""
    k = int(scale)
    if k < 1:
        raise ValueError(f"resample enlarges by a whole factor ≥ 1; got {scale} (use shrink to average down).")
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)


def outline(image: np.ndarray, rows: range, cols: range, scale: float, shape=None, thickness: int = 2) -> np.ndarray:
    """Draw a HIGHLIGHT rectangle around tensor cells rows × cols on ``image`` (in place): the
    tensor's (H, W) ``shape`` (default: the image's) resampled by ``scale``."""
    h, w = image.shape[:2]
    th, tw = shape if shape is not None else (h, w)
    top, left = _pixel(rows.start, th, scale), _pixel(cols.start, tw, scale)
    bottom = min(h, max(_pixel(rows.stop, th, scale), top + 1))
    right = min(w, max(_pixel(cols.stop, tw, scale), left + 1))
    t = max(1, min(thickness, (bottom - top) // 2 or 1, (right - left) // 2 or 1))
    color = np.array(HIGHLIGHT, np.uint8)
    image[top : top + t, left:right] = color
    image[bottom - t : bottom, left:right] = color
    image[top:bottom, left : left + t] = color
    image[top:bottom, right - t : right] = color
    return image


def rgb_output(y_sample: np.ndarray) -> np.ndarray:
    """Recompose a 3-channel output (3, H, W) as colour: 0.5 + y / (2·RGB_SPAN), clipped; uint8 (H, W, 3)."""
    rgb = np.clip(0.5 + np.moveaxis(y_sample, 0, -1) / (2 * RGB_SPAN), 0.0, 1.0)
    return np.rint(rgb * 255).astype(np.uint8)


def build_gallery(
    x: np.ndarray,
    y,
    *,
    samples,
    channels,
    box=None,
    is_image: bool = False,
    labels=None,
    out_range: float | None = None,
    in_range: tuple[float, float] | None = None,
    layer: str = "normalization",
) -> Gallery:
    """Tiles for the chosen samples and channels.

    x, y: (N, C, H, W) input and output; y may be the ``NormResult`` itself, whose shown planes are
    then all of its output that is read. samples, channels: indices to show. box: the selected
    group's four ranges over N, C, H, W (``NormResult.group_box``) or None. labels: one name per
    sample. out_range: the shared output range (default ``output_range(y)``); in_range: the inputs'
    (default ``input_range(x, is_image)``). layer: what made y,
    for the images' text alternatives ("InstanceNorm" → "coffee, channel 2, after InstanceNorm").
    """
    n, c, h, w = x.shape
    samples, channels = list(samples), list(channels)
    lo, hi = in_range if in_range is not None else input_range(x, is_image)
    span = out_range if out_range is not None else output_range(y)
    scale = display_scale(h, w)
    rgb_names = is_image and c == 3  # a photo's channels are red, green and blue
    # the shown images, averaged down first when large (then coloured): (samples, channels, h', w')
    needed = list(range(c)) if c == 3 else channels
    column = {ch: k for k, ch in enumerate(needed)}
    xs = shrink(x[np.ix_(samples, needed)], scale)
    ys = shrink(y.output_planes(samples, needed) if hasattr(y, "output_planes") else y[np.ix_(samples, needed)], scale)
    rows = []
    for i, s in enumerate(samples):
        name = labels[s] if labels is not None and s < len(labels) else f"sample {s}"
        row = []
        in_sample = box is not None and s in box[0]
        if c == 3:
            whole = in_sample and len(box[1]) == 3
            rgb_in = np.rint(np.clip((np.moveaxis(xs[i], 0, -1) - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
            alt_in = tile_alt(name, "input RGB", channel=None, layer=layer, selected=whole)
            alt_out = tile_alt(name, "output RGB", channel=None, layer=layer, selected=whole)
            rgb_out = rgb_output(ys[i])
            row.append(_tile(rgb_in, name, "input", "input RGB", s, None, whole, box, scale, alt_in, (h, w)))
            row.append(_tile(rgb_out, name, "output", "output RGB", s, None, whole, box, scale, alt_out, (h, w)))
        for ch in channels:
            marked = in_sample and ch in box[1]
            alt_in = tile_alt(name, "input", channel=ch, layer=layer, rgb_names=rgb_names, selected=marked)
            alt_out = tile_alt(name, "output", channel=ch, layer=layer, rgb_names=rgb_names, selected=marked)
            tile_in = grey(xs[i, column[ch]], lo, hi)
            row.append(_tile(tile_in, name, f"c{ch} in", "input", s, ch, marked, box, scale, alt_in, (h, w)))
            out = apply_colormap(ys[i, column[ch]], -span, span)
            row.append(_tile(out, name, f"c{ch} out", "output", s, ch, marked, box, scale, alt_out, (h, w)))
        rows.append(tuple(row))
    note = _limits_note(n, c, samples, channels, h, w, scale)
    return Gallery(tuple(rows), (lo, hi), span, scale, note)


def _tile(rgb, name, what, kind, sample, channel, marked, box, scale, alt, shape) -> Tile:
    """A tile from ``rgb`` (already averaged down when ``scale`` < 1) of a tensor image of (H, W) ``shape``."""
    image = np.ascontiguousarray(resample(rgb, scale) if scale >= 1 else rgb)
    if marked:
        outline(image, box[2], box[3], scale, shape)
    # a very long, thin tensor (1 × 1000) would be under a pixel thick on screen: stretch its short side
    for axis in (0, 1):
        if image.shape[axis] < MIN_TILE_SIDE:
            image = np.repeat(image, -(-MIN_TILE_SIDE // image.shape[axis]), axis=axis)
    image.flags.writeable = False  # tiles are shared between reruns and visitors
    return Tile(image, f"{name} · {what}", kind, sample, channel, marked, alt, name)


def _limits_note(n, c, samples, channels, h, w, scale) -> str:
    parts = []
    if len(samples) < n:
        parts.append(f"{len(samples)} of {n} samples")
    if len(channels) < c:
        parts.append(f"{len(channels)} of {c} channels")
    text = "Showing " + " and ".join(parts) + "." if parts else ""
    if scale < 1:
        f = block_factor(scale)
        text += f" Images of {h}×{w} are shown averaged over {f}×{f} blocks."
    return text.strip()


def colorbar(lo: float, hi: float, width: int = 240, height: int = 14, diverging: bool = True) -> np.ndarray:
    """A horizontal colour-bar image (height, width, 3) for the range [lo, hi]."""
    ramp = np.linspace(lo, hi, width)[None, :].repeat(height, axis=0)
    return apply_colormap(ramp, lo, hi) if diverging else grey(ramp, lo, hi)


@dataclass(frozen=True)
class GalleryStrips:
    """The gallery as a few images: for a 3-channel tensor the whole inputs and the whole outputs
    (one strip each, else empty), then one strip per shown sample holding each channel's input
    beside its output; one caption per strip."""

    whole: tuple[Strip, ...]
    rows: tuple[Strip, ...]
    captions: tuple[str, ...]  # whole strips first, then rows


def gallery_strips(gal: Gallery, background=(255, 255, 255)) -> GalleryStrips:
    """Lay out ``gal``'s tiles as strips on ``background`` (RGB, the page's colour)."""
    mark = lambda text, tiles: text + (" ◆" if any(t.selected for t in tiles) else "")  # noqa: E731
    whole, captions = [], []
    for kind, label in (("input RGB", "inputs"), ("output RGB", "outputs recomposed as colour")):
        tiles = [t for row in gal.rows for t in row if t.kind == kind]
        if tiles:
            whole.append(strip([[t] for t in tiles], background))
            captions.append(f"{label}: " + " · ".join(mark(t.name, [t]) for t in tiles))
    rows = []
    for row in gal.rows:
        shown = dict.fromkeys(t.channel for t in row if t.channel is not None)
        pairs = [[t for t in row if t.channel == ch] for ch in shown]
        if not pairs:
            continue
        rows.append(strip(pairs, background))
        names = " · ".join(mark(f"c{p[0].channel}", p) for p in pairs)
        captions.append(f"{pairs[0][0].name}: {names} — each input, then its output")
    return GalleryStrips(tuple(whole), tuple(rows), tuple(captions))

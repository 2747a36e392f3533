"""Boxes for the tensor cube: groups (or blocks of groups) as cell ranges, and where each view puts them.

A box covers the cells ``lo[a] <= i < hi[a]`` along each axis ``a`` of (N, C, H, W). Every group of a
normalization is such a box; a *block* is a box holding several whole groups, used when there are too
many groups to draw one by one. All functions are vectorised over boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import group_box
from ..spec import NormSpec

#: Scene axes of the corner bits: vertex v of a box sits at the high end of x if v & 1, y if v & 2, z if v & 4.
CORNER_BITS = np.array([[(v >> bit) & 1 for bit in range(3)] for v in range(8)], dtype=bool)

#: The 12 triangles of a box over its 8 corners, wound counter-clockwise seen from outside.
BOX_TRIANGLES = np.array(
    [
        [0, 3, 1], [0, 2, 3],  # z low
        [4, 5, 7], [4, 7, 6],  # z high
        [0, 1, 5], [0, 5, 4],  # y low
        [2, 7, 3], [2, 6, 7],  # y high
        [0, 6, 2], [0, 4, 6],  # x low
        [1, 3, 7], [1, 7, 5],  # x high
    ],
    dtype=np.int64,
)  # fmt: skip

#: A path through the 8 corners that draws all 12 edges of a box.
BOX_EDGE_PATH = np.array([0, 1, 3, 2, 0, 4, 5, 1, 5, 7, 3, 7, 6, 2, 6, 4], dtype=np.int64)


@dataclass(frozen=True)
class BoxSet:
    """B boxes over an (N, C, H, W) tensor.

    lo, hi: int64 (B, 4) cell ranges along N, C, H, W (hi exclusive). mean, var: float64 (B,) the
    group's statistics, or for a block the average over the groups it holds. members: int64 (B,)
    groups per box. grid_lo: int64 (B, 4) statistics-grid index of the box's first group.
    """

    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    members: np.ndarray
    grid_lo: np.ndarray

    def __len__(self) -> int:
        return len(self.lo)

    def subset(self, keep: np.ndarray) -> BoxSet:
        """The boxes where the boolean mask ``keep`` (B,) is true."""
        return BoxSet(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class Lattice:
    """How a view cuts the tensor into units along N, C, H, W.

    unit: cells per unit; count: units per axis; per_sample_n: the N units are single samples while
    the statistics grid has one entry along N (N reduced, drawn sample by sample).
    """

    unit: tuple[int, int, int, int]
    count: tuple[int, int, int, int]
    per_sample_n: bool = False


def group_lattice(spec: NormSpec, shape, *, per_sample: bool = False) -> Lattice:
    """The lattice whose units are the groups; with ``per_sample`` the N axis is cut into samples."""
    stats = spec.stats_shape(shape)
    unit = tuple(int(dim // g) for dim, g in zip(shape, stats))
    if per_sample and "N" in spec.axes and shape[0] > 1:
        return Lattice((1, *unit[1:]), (int(shape[0]), *stats[1:]), per_sample_n=True)
    return Lattice(unit, tuple(int(s) for s in stats))


def tile_boxes(lattice: Lattice, tile, shape, mean: np.ndarray, var: np.ndarray) -> BoxSet:
    """Cut the lattice into tiles of ``tile`` units per axis (the last tile may be shorter).

    mean, var: float64 arrays on the statistics grid. A tile's statistics are the averages over the
    groups it holds (exact when a tile is one group).
    """
    starts = [np.arange(0, k, t, dtype=np.int64) for k, t in zip(lattice.count, tile)]
    stops = [np.minimum(s + t, k) for s, t, k in zip(starts, tile, lattice.count)]
    mean_sum, var_sum = np.asarray(mean, np.float64), np.asarray(var, np.float64)
    sizes = [stop - start for start, stop in zip(starts, stops)]
    if lattice.per_sample_n:
        sizes[0] = np.ones(len(starts[0]), np.int64)
    for axis in (3, 2, 1, 0):  # the last axis first: contiguous, and it shrinks what follows
        if tile[axis] > 1 and not (axis == 0 and lattice.per_sample_n):
            mean_sum = np.add.reduceat(mean_sum, starts[axis], axis=axis)
            var_sum = np.add.reduceat(var_sum, starts[axis], axis=axis)
    counts = tuple(len(s) for s in starts)
    members = np.einsum("i,j,k,l->ijkl", *sizes).reshape(-1)
    index = [a.reshape(-1) for a in np.meshgrid(*(np.arange(k) for k in counts), indexing="ij")]
    lo = np.stack([starts[a][index[a]] * lattice.unit[a] for a in range(4)], axis=1)
    hi = np.stack([np.minimum(stops[a][index[a]] * lattice.unit[a], shape[a]) for a in range(4)], axis=1)
    grid_lo = np.stack([starts[a][index[a]] for a in range(4)], axis=1)
    if lattice.per_sample_n:
        grid_lo[:, 0] = 0
    return BoxSet(
        lo=lo,
        hi=hi,
        mean=np.broadcast_to(mean_sum, counts).reshape(-1) / members,
        var=np.broadcast_to(var_sum, counts).reshape(-1) / members,
        members=members,
        grid_lo=grid_lo,
    )


def choose_tile(
    lattice: Lattice,
    max_boxes: int,
    *,
    rows_first: bool = False,
    n_tile: int | None = None,
    cell_size=None,
):
    """Units per tile along N, C, H, W so that at most ``max_boxes`` tiles remain (when possible).

    One axis at a time is merged by doubling: the one with the most tiles (ties: W, H, C, N), or, given
    ``cell_size`` (displayed length of one cell along N, C, H, W), the one whose tiles look shortest,
    so blocks stay about as wide as high.
    ``rows_first``: H is merged only once whole rows of W are, so each tile stays contiguous in
    h·W + w order. ``n_tile``: fixed units per tile along N, which is then not merged further.
    """
    count = np.array(lattice.count, np.int64)
    length = np.array(lattice.unit, np.float64) * (1.0 if cell_size is None else np.asarray(cell_size, np.float64))
    tile = np.array([n_tile or 1, 1, 1, 1], np.int64)
    axes = [3, 2, 1] if n_tile else [3, 2, 1, 0]
    while np.prod(-(-count // tile)) > max_boxes:
        tiles = -(-count // tile)
        movable = [a for a in axes if tiles[a] > 1]
        if not movable:
            break
        if cell_size is not None:
            axis = min(movable, key=lambda a: (tile[a] * length[a], -tiles[a]))
        else:
            axis = max(movable, key=lambda a: tiles[a])
        if rows_first and axis == 2 and tile[3] < count[3]:
            axis = 3
        tile[axis] = min(count[axis], tile[axis] * 2)
    return tuple(int(t) for t in tile)


def group_boxes(spec: NormSpec, shape, mean, var, index, *, sample_block: int | None = None) -> BoxSet:
    """The group at statistics-grid ``index`` as one box, or split at every ``sample_block`` samples."""
    ranges = group_box(spec, shape, index)
    n_lo, n_hi = ranges[0].start, ranges[0].stop
    if sample_block:
        cuts = np.arange((n_lo // sample_block) * sample_block, n_hi, sample_block)
        n_starts = np.maximum(cuts, n_lo)
        n_stops = np.minimum(cuts + sample_block, n_hi)
    else:
        n_starts, n_stops = np.array([n_lo]), np.array([n_hi])
    count = len(n_starts)
    lo = np.tile([0] + [r.start for r in ranges[1:]], (count, 1)).astype(np.int64)
    hi = np.tile([0] + [r.stop for r in ranges[1:]], (count, 1)).astype(np.int64)
    lo[:, 0], hi[:, 0] = n_starts, n_stops
    index = tuple(int(i) for i in index)
    return BoxSet(
        lo=lo,
        hi=hi,
        mean=np.full(count, float(mean[index])),
        var=np.full(count, float(var[index])),
        members=np.ones(count, np.int64),
        grid_lo=np.tile(index, (count, 1)).astype(np.int64),
    )


def spatial_order(spec: NormSpec) -> str:
    """How the paper view flattens (h, w): ``"W"`` (s = w·H + h) when H is reduced and W kept, else ``"H"``.

    Either way every group is one contiguous run of s.
    """
    return "W" if "H" in spec.axes and "W" not in spec.axes else "H"


def paper_corners(boxes: BoxSet, shape, order: str) -> tuple[np.ndarray, np.ndarray]:
    """Scene corners (B, 3) of boxes in the paper view: x = n, y = c, z = s (the flattened h, w)."""
    _, _, height, width = shape
    last_h, last_w = boxes.hi[:, 2] - 1, boxes.hi[:, 3] - 1
    if order == "W":
        s_lo = boxes.lo[:, 3] * height + boxes.lo[:, 2]
        s_hi = last_w * height + last_h + 1
    else:
        s_lo = boxes.lo[:, 2] * width + boxes.lo[:, 3]
        s_hi = last_h * width + last_w + 1
    lo = np.stack([boxes.lo[:, 0], boxes.lo[:, 1], s_lo], axis=1)
    hi = np.stack([boxes.hi[:, 0], boxes.hi[:, 1], s_hi], axis=1)
    return lo.astype(np.float64), hi.astype(np.float64)


@dataclass(frozen=True)
class SampleGrid:
    """The exact view's arrangement: blocks of ``per_block`` samples in ``rows`` × ``cols``.

    origin: float64 (blocks, 2) scene (x, z) of each block's lower-left corner; a block spans W along x
    and H along z (h = 0 at the top), and C along y. size: the scene (x, z) extent of all blocks.
    """

    per_block: int
    rows: int
    cols: int
    origin: np.ndarray
    size: tuple[float, float]

    @property
    def blocks(self) -> int:
        return len(self.origin)


def sample_grid(shape, per_block: int = 1) -> SampleGrid:
    """Blocks side by side: one row up to 3 blocks, else ⌈√(blocks / 2.5)⌉ rows, so the view stays
    about twice as wide as high."""
    n, _, height, width = shape
    blocks = -(-n // per_block)
    rows = 1 if blocks <= 3 else int(np.ceil(np.sqrt(blocks / 2.5)))
    cols = -(-blocks // rows)
    rows = -(-blocks // cols)
    gap_x, gap_z = max(1.0, 0.15 * width), max(1.0, 0.25 * height)
    b = np.arange(blocks)
    origin = np.stack([(b % cols) * (width + gap_x), (rows - 1 - b // cols) * (height + gap_z)], axis=1)
    size = (cols * width + (cols - 1) * gap_x, rows * height + (rows - 1) * gap_z)
    return SampleGrid(per_block, rows, cols, origin.astype(np.float64), size)


def channel_depth(shape) -> float:
    """Displayed depth of all C channels in the exact view, in pixels: C, kept between 0.45 and 1 times
    the longer image side so a few channels still read as slabs and many do not stretch away."""
    _, channels, height, width = shape
    side = max(height, width)
    return float(np.clip(channels, 0.45 * side, side))


def exact_corners(boxes: BoxSet, shape, grid: SampleGrid) -> tuple[np.ndarray, np.ndarray]:
    """Scene corners (B, 3) of boxes in the exact view: x = w in its block, y = c, z = H − h in its block.

    A box must not cross a block boundary along N.
    """
    height = shape[2]
    origin = grid.origin[boxes.lo[:, 0] // grid.per_block]
    lo = np.stack([origin[:, 0] + boxes.lo[:, 3], boxes.lo[:, 1], origin[:, 1] + height - boxes.hi[:, 2]], axis=1)
    hi = np.stack([origin[:, 0] + boxes.hi[:, 3], boxes.hi[:, 1], origin[:, 1] + height - boxes.lo[:, 2]], axis=1)
    return lo.astype(np.float64), hi.astype(np.float64)


def box_vertices(lo: np.ndarray, hi: np.ndarray, gap) -> np.ndarray:
    """The 8 corners of each box (8B, 3) float32, each face pulled in by up to ``gap`` / 2 per axis.

    lo, hi: (B, 3) scene corners; gap: (3,) scene units; a box never shrinks by more than a quarter
    of its side, so boundaries between neighbours show as thin gaps.
    """
    shrink = np.minimum(np.asarray(gap, np.float64) / 2, 0.25 * (hi - lo))
    lo, hi = lo + shrink, hi - shrink
    corners = np.where(CORNER_BITS[None, :, :], hi[:, None, :], lo[:, None, :])
    return corners.reshape(-1, 3).astype(np.float32)


def box_faces(count: int) -> np.ndarray:
    """Triangle corner indices (12·count, 3) for ``count`` boxes of 8 vertices each."""
    offsets = (np.arange(count, dtype=np.int64) * 8)[:, None, None]
    return (BOX_TRIANGLES[None] + offsets).reshape(-1, 3)


def box_edges(lo: np.ndarray, hi: np.ndarray, pad) -> np.ndarray:
    """Polyline (17B, 3) float32 tracing each box's 12 edges, grown by ``pad`` (3,), NaN between boxes."""
    lo, hi = lo - np.asarray(pad), hi + np.asarray(pad)
    corners = np.where(CORNER_BITS[None, :, :], hi[:, None, :], lo[:, None, :])
    path = corners[:, BOX_EDGE_PATH, :]
    breaks = np.full((len(lo), 1, 3), np.nan)
    return np.concatenate([path, breaks], axis=1).reshape(-1, 3).astype(np.float32)

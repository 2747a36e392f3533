"""Colour maps as numpy lookups (no matplotlib): values in, uint8 RGB out."""

import numpy as np

#: Diverging blue–white–red (ColorBrewer RdBu reversed): negative blue, zero white, positive red.
DIVERGING = np.array(
    [
        [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
        [247, 247, 247],
        [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
    ],
    dtype=np.float64,
)  # fmt: skip
#: The same map as plotly colorscale entries, so figures and images agree.
DIVERGING_SCALE = [[i / (len(DIVERGING) - 1), f"rgb({r:.0f},{g:.0f},{b:.0f})"] for i, (r, g, b) in enumerate(DIVERGING)]
#: Categorical colours of the cube's groups: Paul Tol's muted scheme (plotly's ``qualitative.Safe``)
#: with its grey swapped for Tol's blue, in an order where the groups a box touches (palette steps
#: ±1, ±3, ±5, ±7, see ``cube_style``) differ by a CIELAB ΔE of at least 18 with normal vision and
#: with simulated protanopia, deuteranopia and tritanopia (plain Safe: 5.9, grey beside teal under
#: deuteranopia). 11 colours, a prime, so neighbouring groups never share one.
GROUP_COLORS = (
    "rgb(68,119,170)",
    "rgb(102,17,0)",
    "rgb(17,119,51)",
    "rgb(136,204,238)",
    "rgb(51,34,136)",
    "rgb(68,170,153)",
    "rgb(153,153,51)",
    "rgb(204,102,119)",
    "rgb(221,204,119)",
    "rgb(170,68,153)",
    "rgb(136,34,85)",
)
#: Colour of the selected group's outline (also used in the cube and the charts).
HIGHLIGHT = (255, 196, 0)
HIGHLIGHT_CSS = "rgb(255,196,0)"


#: Entries of a colour map's precomputed table: a value takes the entry nearest to it, which is within
#: one level (of 255) of the exact linear interpolation (a step is 1/4096 of the range; the steepest
#: of DIVERGING's ten segments moves a channel by 72 levels, so a half step moves it under 0.1).
#: Odd, so the middle of the range (0 on the diverging map) is an entry of its own.
TABLE_STEPS = 4097
_fine_tables: dict[bytes, np.ndarray] = {}


def _fine(table: np.ndarray) -> np.ndarray:
    """``table`` interpolated at TABLE_STEPS evenly spaced positions: uint8 (TABLE_STEPS, 3), read-only."""
    key = table.tobytes()
    if key not in _fine_tables:
        pos = np.linspace(0.0, len(table) - 1, TABLE_STEPS)
        left = np.minimum(pos.astype(np.int64), len(table) - 2)
        frac = (pos - left)[:, None]
        fine = np.rint(table[left] * (1.0 - frac) + table[left + 1] * frac).astype(np.uint8)
        fine.flags.writeable = False
        _fine_tables[key] = fine
    return _fine_tables[key]


def apply_colormap(values: np.ndarray, lo: float, hi: float, table: np.ndarray = DIVERGING) -> np.ndarray:
    """Map ``values`` (any shape S) linearly from [lo, hi] onto ``table``; returns uint8 (*S, 3)."""
    span = hi - lo if hi > lo else 1.0
    pos = (np.asarray(values, np.float32) - np.float32(lo)) * np.float32((TABLE_STEPS - 1) / span)
    np.clip(pos, 0.0, TABLE_STEPS - 1, out=pos)
    return _fine(table)[np.rint(pos).astype(np.intp)]


def grey(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``values`` (any shape S) from [lo, hi] to grey levels; returns uint8 (*S, 3)."""
    span = hi - lo if hi > lo else 1.0
    level = np.rint(np.clip((np.asarray(values, np.float64) - lo) / span, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(level[..., None], 3, axis=-1)

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
#: Colour of the selected group's outline (also used in the cube and the charts).
HIGHLIGHT = (255, 196, 0)
HIGHLIGHT_CSS = "rgb(255,196,0)"


def apply_colormap(values: np.ndarray, lo: float, hi: float, table: np.ndarray = DIVERGING) -> np.ndarray:
    """Map ``values`` (any shape S) linearly from [lo, hi] onto ``table``; returns uint8 (*S, 3)."""
    span = hi - lo if hi > lo else 1.0
    pos = np.clip((np.asarray(values, np.float64) - lo) / span, 0.0, 1.0) * (len(table) - 1)
    left = np.minimum(pos.astype(np.int64), len(table) - 2)
    frac = (pos - left)[..., None]
    rgb = table[left] * (1.0 - frac) + table[left + 1] * frac
    return np.rint(rgb).astype(np.uint8)


def grey(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``values`` (any shape S) from [lo, hi] to grey levels; returns uint8 (*S, 3)."""
    span = hi - lo if hi > lo else 1.0
    level = np.rint(np.clip((np.asarray(values, np.float64) - lo) / span, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(level[..., None], 3, axis=-1)

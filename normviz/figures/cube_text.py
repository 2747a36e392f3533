"""The cube in words, for screen readers: what is grouped, how many groups, and the selected one.

The 3D cube is a picture (``role="img"``); this text is its label, and changes with every setting.

>>> import numpy as np, normviz
>>> res = normviz.normalize(np.arange(96, dtype=np.float32).reshape(2, 3, 4, 4), "NHW")
>>> print(cube_description(res, (1, 2, 0, 3), view="paper", color_by="mean"))
Tensor cube of x with N = 2, C = 3, H = 4, W = 4, drawn as N × C × H·W. BatchNorm: reducing over N, H, W \
makes 3 groups (one per channel) of 32 values each; each group is one box, coloured by its mean μ. \
Selected cell (1, 2, 0, 3) is in group (0, 2, 0, 0), which covers n 0–1, c 2, h 0–3, w 0–3: μ = 63.5, σ² = 597.25.
"""

from __future__ import annotations

from ..core import NormResult
from ..spec import identify
from ..summary import per_what

VIEW_WORDS = {"paper": "drawn as N × C × H·W", "exact": "drawn per sample as C × H × W blocks side by side"}
COLOR_WORDS = {
    "mean": "coloured by its mean μ",
    "variance": "coloured by its variance σ²",
    "group": "one colour per group",
}


def spans(box) -> str:
    """The ranges a group covers, e.g. "n 0–5, c 1, h 0–95, w 0–95"."""
    return ", ".join(
        f"{letter} {r.start}–{r.stop - 1}" if len(r) > 1 else f"{letter} {r.start}" for letter, r in zip("nchw", box)
    )


def cube_description(res: NormResult, selected_cell, *, view: str, color_by: str, note: str | None = None) -> str:
    """The label of the cube for this result, view ("paper" or "exact") and colouring ("mean",
    "variance" or "group"); ``selected_cell`` (n, c, h, w) or None; ``note``: the figure's note when
    groups were merged into blocks."""
    n, c, h, w = res.shape
    spec = res.spec
    ident = identify(spec, res.shape)
    over = ", ".join(spec.axes) if spec.axes else "no axis"
    if "C" in spec.axes and spec.groups > 1:
        over = over.replace("C", f"C in {spec.groups} groups")
    name = "" if ident.is_custom or not spec.axes else f"{ident.label}: "
    count = res.n_groups
    values = f"{res.count:,} value{'s' if res.count != 1 else ''}"
    groups = (
        f"makes one group of {values}"
        if count == 1
        else f"makes {count:,} groups ({per_what(spec, res.shape)}) of {values} each"
    )
    grouping = f"{name}reducing over {over}{'' if spec.center else ' without centering'} {groups}"
    text = (
        f"Tensor cube of x with N = {n}, C = {c}, H = {h}, W = {w}, {VIEW_WORDS.get(view, view)}. "
        f"{grouping[0].upper()}{grouping[1:]}; each group is one box, {COLOR_WORDS.get(color_by, color_by)}."
    )
    if note:
        text += f" {note}"
    if selected_cell is not None:
        cell = tuple(int(v) for v in selected_cell)
        group = res.group_of(*cell)
        mean, var = float(res.mean[group]), float(res.var[group])
        text += (
            f" Selected cell {cell} is in group {group}, which covers {spans(res.group_box(group))}: "
            f"μ = {mean:.6g}, σ² = {var:.6g}."
        )
    return text

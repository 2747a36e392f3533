"""The worked arithmetic for one cell: y = (x − μ) / √(σ² + ε) · γ + β, with the numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .core import NormResult


@dataclass(frozen=True)
class WorkedCell:
    """Every number that produces y at one cell, and y as normalize computed it."""

    cell: tuple[int, int, int, int]
    group: tuple[int, int, int, int]
    x: float
    mean: float
    var: float
    mean_square: float
    eps: float
    gamma: float
    beta: float
    center: bool
    y_from_formula: float
    y: float

    @property
    def denominator(self) -> float:
        return math.sqrt((self.var if self.center else self.mean_square) + self.eps)

    def latex(self) -> str:
        """The formula with numbers, as LaTeX for st.latex."""
        g = r" \cdot " + _num(self.gamma) if self.gamma != 1 else ""
        b = (" + " if self.beta >= 0 else " - ") + _num(abs(self.beta)) if self.beta != 0 else ""
        affine = (r" \cdot \gamma" if g else "") + (r" + \beta" if b else "")
        if self.center:
            symbolic = r"\frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}" + affine
            numbers = r"\frac{%s - %s}{\sqrt{%s + %s}}" % (
                _num(self.x),
                _paren(self.mean),
                _num(self.var),
                _num(self.eps),
            )
            middle = r"\frac{%s}{%s}" % (_num(self.x - self.mean), _num(self.denominator))
            steps = [symbolic, numbers + g + b, middle + g + b, _num(self.y_from_formula)]
            return _aligned(steps)
        symbolic = r"\frac{x}{\sqrt{\overline{x^2} + \varepsilon}}" + affine
        numbers = r"\frac{%s}{\sqrt{%s + %s}}" % (_num(self.x), _num(self.mean_square), _num(self.eps))
        return _aligned([symbolic, numbers + g + b, _num(self.y_from_formula)])


def _aligned(steps) -> str:
    """y = step₁ = step₂ … one step per line."""
    return r"\begin{aligned} y &= " + r" \\ &= ".join(steps) + r" \end{aligned}"


def _num(v: float) -> str:
    text = f"{v:.6g}"
    if "e" in text:
        mant, exp = text.split("e")
        return mant + r" \times 10^{" + str(int(exp)) + "}"
    return text


def _paren(v: float) -> str:
    return f"({_num(v)})" if v < 0 else _num(v)


def worked_cell(res: NormResult, x: np.ndarray, cell) -> WorkedCell:
    """The arithmetic at ``cell`` = (n, c, h, w) of input ``x`` (N, C, H, W) under result ``res``."""
    cell = tuple(int(v) for v in cell)
    group = res.group_of(*cell)
    c = cell[1]
    mean, var = float(res.mean[group]), float(res.var[group])
    gamma = 1.0 if res.gamma is None else float(res.gamma[c])
    beta = 0.0 if res.beta is None else float(res.beta[c])
    xv = float(x[cell])
    ms = var + mean * mean
    if res.spec.center:
        value = (xv - mean) / math.sqrt(var + res.spec.eps) * gamma + beta
    else:
        value = xv / math.sqrt(ms + res.spec.eps) * gamma + beta
    return WorkedCell(
        cell, group, xv, mean, var, ms, res.spec.eps, gamma, beta, res.spec.center, value, _output_at(res, cell)
    )


def _output_at(res: NormResult, cell) -> float:
    """y at ``cell``, computing only its row while the result's output is deferred."""
    return float(res.output_runs([int(np.ravel_multi_index(tuple(cell), res.shape))], 1)[0, 0])

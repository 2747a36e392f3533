"""What one snippet is built from, which named normalization it is, and the text helpers every builder uses."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import NormvizError
from ..spec import NormSpec

LAYOUTS = ("NCHW", "NHWC")
ENTRY = "normalize"


def layer_kind(spec: NormSpec) -> str | None:
    """Which named normalization ``spec`` is, or None for a custom selection.

    "batch" N, H, W; "instance" H, W; "layer" C, H, W; "layer_channels_last" C per pixel; "group" C in
    G > 1 groups with H, W; "rms" and "rms_channels_last" the uncentered C, H, W and C.

    >>> layer_kind(NormSpec.make("CHW", groups=2))
    'group'
    """
    axes, groups = spec.axes, spec.groups
    if spec.center:
        named = {"NHW": "batch", "HW": "instance", "CHW": "group" if groups > 1 else "layer"}
        if axes in named:
            return named[axes]
        return "layer_channels_last" if axes == "C" and groups == 1 else None
    if groups == 1 and axes in ("CHW", "C"):
        return "rms" if axes == "CHW" else "rms_channels_last"
    return None


@dataclass(frozen=True)
class Context:
    """The checked inputs of one snippet: the spec, the (N, C, H, W) shape, the user's layout, whether
    γ and β are arguments, and ``layer_kind(spec)``."""

    spec: NormSpec
    shape: tuple[int, int, int, int]
    layout: str
    affine: bool
    kind: str | None

    @property
    def eps(self) -> str:
        return repr(self.spec.eps)

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip("NCHW", self.shape))

    @property
    def channel_axis(self) -> int:
        """The channel axis as frameworks write it: 1 for NCHW, -1 for NHWC."""
        return 1 if self.layout == "NCHW" else -1

    @property
    def trailing(self) -> tuple[int, int, int]:
        """Sizes of the three non-batch axes in layout order."""
        return tuple(self.sizes[a] for a in self.layout[1:])

    @property
    def grouped(self) -> bool:
        return "C" in self.spec.axes and self.spec.groups > 1

    def per_channel(self, name: str, dialect: str = "") -> str:
        """``name`` (shape (C,)) broadcastable against the tensor in this layout."""
        if dialect == "keras":
            return f"ops.reshape({name}, {'(1, -1, 1, 1)' if self.layout == 'NCHW' else '(1, 1, 1, -1)'})"
        return f"{name}.reshape(1, -1, 1, 1)" if self.layout == "NCHW" else name


def make_context(spec: NormSpec, shape, layout: str, affine: bool) -> Context:
    """Check the arguments of ``snippet`` and gather them, raising NormvizError on a bad one."""
    if not isinstance(spec, NormSpec):
        raise NormvizError(f"spec must be a NormSpec (e.g. NormSpec.make('NHW')); got {type(spec).__name__}.")
    if layout not in LAYOUTS:
        raise NormvizError(f"layout must be 'NCHW' or 'NHWC'; got {layout!r}.")
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise NormvizError(f"shape must be four whole numbers (N, C, H, W); got {shape!r}.") from None
    if len(dims) != 4 or min(dims) < 1:
        raise NormvizError(f"shape must be four sizes ≥ 1 (N, C, H, W); got {tuple(shape)!r}.")
    spec.check_shape(dims)
    return Context(spec, dims, layout, bool(affine), layer_kind(spec))


# ---------------------------------------------------------------- text helpers


def tuple_text(values) -> str:
    """A Python tuple literal: "(3,)" for one value, "(1, 2, 3)" for more."""
    values = tuple(values)
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(map(str, values))})"


def call_text(name: str, positional=(), keywords=None) -> str:
    """A call with its arguments written as Python literals, e.g. "GroupNorm(2, 6, eps=1e-05)"."""
    parts = [repr(p) for p in positional] + [f"{k}={v!r}" for k, v in (keywords or {}).items()]
    return f"{name}({', '.join(parts)})"


def head_lines(ctx: Context, what: str) -> list[str]:
    """The ``def`` line and docstring of ``normalize``."""
    c = ctx.sizes["C"]
    letters = ", ".join(ctx.layout)
    affine = f"; gamma, beta: ({c},)" if ctx.affine else ""
    signature = f"def {ENTRY}(x, gamma, beta):" if ctx.affine else f"def {ENTRY}(x):"
    return [signature, f'    """{what}. x: ({letters}) with C = {c}{affine}."""']


def describe(spec: NormSpec) -> str:
    """E.g. "Normalize over C in 2 groups, H, W" — the docstring of general-form code."""
    over = ", ".join(spec.axes) if spec.axes else "no axis"
    if "C" in spec.axes and spec.groups > 1:
        over = over.replace("C", f"C in {spec.groups} groups")
    return f"Normalize over {over}" + ("" if spec.center else " without centering")


def indent(lines, depth: int = 1) -> list[str]:
    """``lines`` indented by ``depth`` levels of four spaces; empty lines stay empty."""
    return [("    " * depth + line) if line else "" for line in lines]

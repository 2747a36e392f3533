"""Framework code for a normalization setting: PyTorch (module and functional), Keras 3, Flax linen, NumPy.

Every snippet is self-contained and defines ``normalize(x, gamma, beta)`` — ``normalize(x)`` without
γ/β — for ``x`` in the chosen layout (NCHW or NHWC), returning the normalized array in that layout.
``x`` is the framework's array (a ``torch.Tensor``; anything Keras or JAX accepts; an ``np.ndarray``);
``gamma`` and ``beta`` are per-channel arrays of shape (C,) of the same kind. Where a framework has a
layer for the selection the snippet uses it; otherwise it writes out the general form (μ and σ² over
the reduced axes, then (x − μ)/√(σ² + ε)) and its notes say that no layer does this.

The modules: ``context`` (the checked inputs, ``layer_kind`` and the text helpers), ``general`` (the
general form in each dialect), ``dedicated`` (each framework's layers); this one puts them together.

>>> from normviz import NormSpec
>>> snip = snippet(NormSpec.make("NHW"), (8, 3, 32, 32), "keras", "NCHW")
>>> snip.layer, snip.arguments["axis"]
('keras.layers.BatchNormalization', 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import NormvizError
from ..spec import NormSpec
from .context import ENTRY, LAYOUTS, layer_kind, make_context
from .dedicated import DEDICATED_CODE, NEEDS_LAYOUT
from .general import GENERAL_CODE, general_axes
from .notes import code_notes

__all__ = [
    "ENTRY",
    "FRAMEWORKS",
    "LAYOUTS",
    "NEEDS_LAYOUT",
    "Snippet",
    "general_axes",
    "layer_kind",
    "snippet",
    "translate",
]

FRAMEWORKS = MappingProxyType(
    {
        "pytorch": "PyTorch (module)",
        "pytorch_functional": "PyTorch (functional)",
        "keras": "Keras 3",
        "flax": "Flax (linen)",
        "numpy": "NumPy",
    }
)


@dataclass(frozen=True)
class Snippet:
    """Code for one framework.

    framework: a key of ``FRAMEWORKS``; label: its display name; layout: "NCHW" or "NHWC".
    code: Python source defining ``normalize(x, gamma, beta)`` (``normalize(x)`` when ``affine`` is
    False). notes: short markdown sentences — what ``axis`` means here, defaults that differ between
    frameworks, train vs eval mode, caveats. layer: the layer the code uses (e.g.
    "torch.nn.BatchNorm2d"), or None for the general form. arguments: that layer's arguments as
    written in the code; for the general form ``{"axis": …}``, the axes the code reduces.
    """

    framework: str
    label: str
    layout: str
    code: str
    notes: tuple[str, ...]
    affine: bool
    layer: str | None = None
    arguments: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def dedicated(self) -> bool:
        """True when the code uses a layer made for this selection; False for the general form."""
        return self.layer is not None

    @property
    def signature(self) -> str:
        """How to call the snippet's entry point."""
        return f"{ENTRY}(x, gamma, beta)" if self.affine else f"{ENTRY}(x)"


def snippet(spec: NormSpec, shape, framework: str, layout: str = "NCHW", *, affine: bool = False) -> Snippet:
    """Code for ``spec`` on a tensor of ``shape`` (N, C, H, W) in one framework.

    Parameters
    ----------
    spec : the normalization (axes, groups, ε, centering).
    shape : (N, C, H, W) of the tensor, whatever the layout; C (and H, W for LayerNorm) appear in the code.
    framework : a key of ``FRAMEWORKS``.
    layout : "NCHW" or "NHWC" — how the user's array is laid out; axis numbers follow it.
    affine : True adds per-channel γ and β (y = γ_c · x̂ + β_c) as arguments of ``normalize``.
    """
    if framework not in FRAMEWORKS:
        raise NormvizError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}.")
    ctx = make_context(spec, shape, layout, affine)
    if ctx.kind and framework in DEDICATED_CODE:
        code, layer, arguments = DEDICATED_CODE[framework](ctx)
    else:
        code, layer, arguments = GENERAL_CODE[framework](ctx), None, {"axis": general_axes(spec, layout)[1]}
    notes = code_notes(framework, ctx.spec, ctx.shape, layout, kind=ctx.kind if layer else None, arguments=arguments)
    return Snippet(framework, FRAMEWORKS[framework], layout, code, tuple(notes), ctx.affine, layer,
                   MappingProxyType(dict(arguments)))  # fmt: skip


def translate(spec: NormSpec, shape, layout: str = "NCHW", *, affine: bool = False) -> dict[str, Snippet]:
    """Snippets for every framework, keyed like ``FRAMEWORKS`` (see ``snippet``).

    >>> snips = translate(NormSpec.make("W"), (2, 3, 4, 4))
    >>> [s.dedicated for s in snips.values()]
    [False, False, False, False, False]
    """
    return {name: snippet(spec, shape, name, layout, affine=affine) for name in FRAMEWORKS}

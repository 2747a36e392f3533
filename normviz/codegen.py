"""Framework code for a normalization setting: PyTorch (module and functional), Keras 3, Flax linen, NumPy.

Every snippet is self-contained and defines ``normalize(x, gamma, beta)`` — ``normalize(x)`` without
γ/β — for ``x`` in the chosen layout (NCHW or NHWC), returning the normalized array in that layout.
``x`` is the framework's array (a ``torch.Tensor``; anything Keras or JAX accepts; an ``np.ndarray``);
``gamma`` and ``beta`` are per-channel arrays of shape (C,) of the same kind. Where a framework has a
layer for the selection the snippet uses it; otherwise it writes out the general form (μ and σ² over
the reduced axes, then (x − μ)/√(σ² + ε)) and its notes say that no layer does this.

>>> from normviz import NormSpec
>>> snip = snippet(NormSpec.make("NHW"), (8, 3, 32, 32), "keras", "NCHW")
>>> snip.layer, snip.arguments["axis"]
('keras.layers.BatchNormalization', 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import NormvizError
from .explain import code_notes
from .spec import NormSpec

FRAMEWORKS = MappingProxyType(
    {
        "pytorch": "PyTorch (module)",
        "pytorch_functional": "PyTorch (functional)",
        "keras": "Keras 3",
        "flax": "Flax (linen)",
        "numpy": "NumPy",
    }
)
LAYOUTS = ("NCHW", "NHWC")
ENTRY = "normalize"


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
class _Ctx:
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


def _tuple(values) -> str:
    values = tuple(values)
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(map(str, values))})"


def _call(name: str, positional=(), keywords=None) -> str:
    parts = [repr(p) for p in positional] + [f"{k}={v!r}" for k, v in (keywords or {}).items()]
    return f"{name}({', '.join(parts)})"


def _head(ctx: _Ctx, what: str) -> list[str]:
    """The ``def`` line and docstring of ``normalize``."""
    c = ctx.sizes["C"]
    letters = ", ".join(ctx.layout)
    affine = f"; gamma, beta: ({c},)" if ctx.affine else ""
    signature = f"def {ENTRY}(x, gamma, beta):" if ctx.affine else f"def {ENTRY}(x):"
    return [signature, f'    """{what}. x: ({letters}) with C = {c}{affine}."""']


def _describe(spec: NormSpec) -> str:
    over = ", ".join(spec.axes) if spec.axes else "no axis"
    if "C" in spec.axes and spec.groups > 1:
        over = over.replace("C", f"C in {spec.groups} groups")
    return f"Normalize over {over}" + ("" if spec.center else " without centering")


def _indent(lines, depth: int = 1) -> list[str]:
    return [("    " * depth + line) if line else "" for line in lines]


# ---------------------------------------------------------------- the general form, in four dialects

_DIALECTS = {
    "numpy": {
        "mean": "{x}.mean(axis={d}, keepdims=True)", "var": "{x}.var(axis={d}, keepdims=True)",
        "msq": "np.square({x}).mean(axis={d}, keepdims=True)", "sqrt": "np.sqrt", "zeros": "np.zeros_like({x})",
        "square": "np.square({x})", "reshape": "{x}.reshape({s})", "shape": "x.shape", "import": "import numpy as np",
    },
    "jax": {
        "mean": "jnp.mean({x}, axis={d}, keepdims=True)", "var": "jnp.var({x}, axis={d}, keepdims=True)",
        "msq": "jnp.mean(jnp.square({x}), axis={d}, keepdims=True)", "sqrt": "jnp.sqrt",
        "zeros": "jnp.zeros_like({x})", "square": "jnp.square({x})", "reshape": "{x}.reshape({s})",
        "shape": "x.shape", "import": "import jax.numpy as jnp",
    },
    "torch": {
        "mean": "{x}.mean(dim={d}, keepdim=True)", "var": "{x}.var(dim={d}, correction=0, keepdim=True)",
        "msq": "{x}.square().mean(dim={d}, keepdim=True)", "sqrt": "torch.sqrt", "zeros": "torch.zeros_like({x})",
        "square": "{x}.square()", "reshape": "{x}.reshape({s})", "shape": "x.shape", "import": "import torch",
    },
    "keras": {
        "mean": "ops.mean({x}, axis={d}, keepdims=True)", "var": "ops.var({x}, axis={d}, keepdims=True)",
        "msq": "ops.mean(ops.square({x}), axis={d}, keepdims=True)", "sqrt": "ops.sqrt",
        "zeros": "ops.zeros_like({x})", "square": "ops.square({x})", "reshape": "ops.reshape({x}, ({s}))",
        "shape": "ops.shape(x)", "import": "from keras import ops",
    },
}  # fmt: skip


def general_axes(spec: NormSpec, layout: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The axes of the array the general form reduces: its axis letters and the reduced positions.

    Grouped channels are reshaped into (G, C/G) — letters "G" and "C" — and C/G is reduced.

    >>> general_axes(NormSpec.make("CHW", groups=2), "NHWC")
    (('N', 'H', 'W', 'G', 'C'), (1, 2, 4))
    """
    work = tuple(layout)
    if "C" in spec.axes and spec.groups > 1:
        at = work.index("C")
        work = work[:at] + ("G",) + work[at:]
    return work, tuple(i for i, a in enumerate(work) if a in spec.axes)


def _general_body(ctx: _Ctx, dialect: str, eps: str, gamma: str = "gamma", beta: str = "beta") -> list[str]:
    """Lines computing y from x in the general form (no indentation)."""
    d, spec, sizes = _DIALECTS[dialect], ctx.spec, ctx.sizes
    lines, src, names = [], "x", ", ".join(ctx.layout.lower())
    if dialect == "keras":
        lines.append("x = ops.convert_to_tensor(x)")
    work, dims = general_axes(spec, ctx.layout)
    if ctx.grouped:
        g = spec.groups
        split = names.replace("c", f"{g}, c // {g}")
        lines += [
            f"{names} = {d['shape']}",
            f"xg = {d['reshape'].format(x='x', s=split)}  # C split into {g} groups of {sizes['C'] // g}",
        ]
        src = "xg"
    kept = [1 if i in dims else (spec.groups if a == "G" else sizes[a]) for i, a in enumerate(work)]
    stats, sqrt = f"shape {_tuple(kept)}", d["sqrt"]
    if not spec.axes:
        lines.append(
            f"y = {d['zeros'].format(x='x')}  # no axis reduced: μ = x in every one-value group"
            if spec.center
            else f"y = x / {sqrt}({d['square'].format(x='x')} + {eps})  # no axis reduced: mean(x²) = x²"
        )
    elif spec.center:
        lines += [
            f"mean = {d['mean'].format(x=src, d=_tuple(dims))}  # μ: {stats}",
            f"var = {d['var'].format(x=src, d=_tuple(dims))}  # σ²: biased (divides by the count)",
            f"y = ({src} - mean) / {sqrt}(var + {eps})",
        ]
    else:
        lines += [
            f"ms = {d['msq'].format(x=src, d=_tuple(dims))}  # mean of x², {stats}; no centering",
            f"y = {src} / {sqrt}(ms + {eps})",
        ]
    if ctx.grouped:
        lines.append(f"y = {d['reshape'].format(x='y', s=names)}")
    if ctx.affine:
        scaled = f"y * {ctx.per_channel(gamma, dialect)} + {ctx.per_channel(beta, dialect)}"
        lines.append(f"y = {scaled}  # γ, β per channel")
    return lines + ["return y"]  # fmt: skip


def _general_function(ctx: _Ctx, dialect: str) -> str:
    head = [_DIALECTS[dialect]["import"], "", "", *_head(ctx, _describe(ctx.spec))]
    return "\n".join(head + _indent(_general_body(ctx, dialect, ctx.eps))) + "\n"


def _general_module(ctx: _Ctx) -> str:
    c = ctx.sizes["C"]
    init = ["super().__init__()", "self.eps = eps"]
    use = [f"norm = Normalize({c}, eps={ctx.eps})" if ctx.affine else f"norm = Normalize(eps={ctx.eps})"]
    if ctx.affine:
        init += [
            "self.weight = nn.Parameter(torch.ones(num_channels))  # γ, per channel",
            "self.bias = nn.Parameter(torch.zeros(num_channels))  # β, per channel",
        ]
        use += ["with torch.no_grad():", "    norm.weight.copy_(gamma)", "    norm.bias.copy_(beta)"]
    body = _general_body(ctx, "torch", "self.eps", "self.weight", "self.bias")
    lines = [
        "import torch", "from torch import nn", "", "",
        "class Normalize(nn.Module):",
        f'    """{_describe(ctx.spec)} — no PyTorch layer does this, so the module spells it out."""', "",
        f"    def __init__(self, {'num_channels: int, ' if ctx.affine else ''}eps: float):", *_indent(init, 2), "",
        "    def forward(self, x):", *_indent(body, 2), "", "",
        *_head(ctx, _describe(ctx.spec)), *_indent(use), "    return norm(x)",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- dedicated layers

_TORCH = {  # kind: (class, layout it needs, γ per element of the normalized dims, has β)
    "batch": ("BatchNorm2d", "first", False, True),
    "instance": ("InstanceNorm2d", "first", False, True),
    "group": ("GroupNorm", "first", False, True),
    "layer": ("LayerNorm", "any", True, True),
    "layer_channels_last": ("LayerNorm", "last", False, True),
    "rms": ("RMSNorm", "any", True, False),
    "rms_channels_last": ("RMSNorm", "last", False, False),
}
NEEDS_LAYOUT = {  # framework: {kind: the layout its layer needs} — the code transposes when x differs
    "pytorch": {kind: spec[1] for kind, spec in _TORCH.items()},
    "keras": {"layer_channels_last": "last", "rms_channels_last": "last"},
    "flax": {"group": "last"},
}
NEEDS_LAYOUT["pytorch_functional"] = NEEDS_LAYOUT["pytorch"]


def _moves(ctx: _Ctx, framework: str, transpose: str) -> tuple[list[str], list[str]]:
    """Lines moving x into the layout a layer needs, and y back."""
    needs = NEEDS_LAYOUT[framework].get(ctx.kind, "any")
    if needs == "first" and ctx.layout == "NHWC":
        return (
            [f"x = {transpose.format(x='x', p='(0, 3, 1, 2)')}  # NHWC → NCHW: channels at dim 1"],
            [f"y = {transpose.format(x='y', p='(0, 2, 3, 1)')}  # back to NHWC"],
        )
    if needs == "last" and ctx.layout == "NCHW":
        return (
            [f"x = {transpose.format(x='x', p='(0, 2, 3, 1)')}  # NCHW → NHWC: channels last"],
            [f"y = {transpose.format(x='y', p='(0, 3, 1, 2)')}  # back to NCHW"],
        )
    return [], []


def _spread(ctx: _Ctx, name: str, dialect: str) -> str:
    """A per-channel vector as a tensor over the three non-batch axes (LayerNorm's per-element γ)."""
    shape = ctx.trailing
    if dialect == "torch":
        return f"{name}[:, None, None].expand{shape}" if ctx.layout == "NCHW" else f"{name}.expand{shape}"
    inner = f"ops.reshape({name}, (-1, 1, 1))" if ctx.layout == "NCHW" else name
    return f"ops.broadcast_to({inner}, {shape})"


def _torch(ctx: _Ctx, functional: bool):
    c, g = ctx.sizes["C"], ctx.spec.groups
    cls, _, spread, has_beta = _TORCH[ctx.kind]
    normalized = ctx.trailing if spread else (c,)
    positional = {"GroupNorm": (g, c), "LayerNorm": (normalized,), "RMSNorm": (normalized,)}.get(cls, (c,))
    keywords = {"eps": ctx.spec.eps}
    if ctx.affine != (cls != "InstanceNorm2d"):
        keywords["elementwise_affine" if cls in ("LayerNorm", "RMSNorm") else "affine"] = ctx.affine
    pre, post = _moves(ctx, "pytorch", "{x}.permute{p}")
    weight = _spread(ctx, "gamma", "torch") if spread else "gamma"
    bias = _spread(ctx, "beta", "torch") if spread else "beta"
    if functional:
        fn = {"BatchNorm2d": "batch_norm", "InstanceNorm2d": "instance_norm", "GroupNorm": "group_norm",
              "LayerNorm": "layer_norm", "RMSNorm": "rms_norm"}[cls]  # fmt: skip
        w, b = ("weight", "bias") if ctx.affine else ("None", "None")
        args = {
            "batch_norm": f"x, None, None, {w}, {b}, training=True",
            "instance_norm": f"x, weight={w}, bias={b}",
            "group_norm": f"x, {g}, {w}, {b}",
            "layer_norm": f"x, {_tuple(normalized)}, {w}, {b}",
            "rms_norm": f"x, {_tuple(normalized)}, {w}",
        }[fn]
        body = [f"weight = {weight}  # γ, shape {_tuple(normalized)}"] if ctx.affine else []
        body += [f"bias = {bias}  # β"] if ctx.affine and has_beta else []
        body += pre + [f"y = F.{fn}({args}, eps={ctx.eps})"] + post
        layer, header, arguments = f"torch.nn.functional.{fn}", ["import torch.nn.functional as F"], {}
        keywords = {"eps": ctx.spec.eps}
    else:
        body = [f"norm = nn.{_call(cls, positional, keywords)}"]
        if ctx.affine:
            body += ["with torch.no_grad():", f"    norm.weight.copy_({weight})  # γ, shape {_tuple(normalized)}"]
            body += [f"    norm.bias.copy_({bias})  # β"] if has_beta else []
        if ctx.kind == "batch":
            body.append("norm.train()  # batch statistics; after norm.eval() it uses running_mean / running_var")
        body += pre + ["y = norm(x)"] + post
        layer, header = f"torch.nn.{cls}", ["import torch", "from torch import nn"]
        names = {"GroupNorm": ("num_groups", "num_channels"), "LayerNorm": ("normalized_shape",),
                 "RMSNorm": ("normalized_shape",)}.get(cls, ("num_features",))  # fmt: skip
        arguments = dict(zip(names, positional))
    if ctx.affine and not has_beta:
        body.append(f"y = y + {ctx.per_channel('beta')}  # {cls} has no β: added after")
    code = [
        *header,
        "",
        "",
        *_head(ctx, layer.replace("torch.nn.functional.", "F.").replace("torch.nn.", "nn.")),
        *_indent(body + ["return y"]),
    ]
    return "\n".join(code) + "\n", layer, {**arguments, **keywords}


_KERAS = {  # kind: (layer, its arguments besides epsilon, γ spread over the reduced axes)
    "batch": ("BatchNormalization", lambda ctx: {"axis": ctx.channel_axis}, False),
    "instance": ("GroupNormalization", lambda ctx: {"groups": -1, "axis": ctx.channel_axis}, False),
    "group": ("GroupNormalization", lambda ctx: {"groups": ctx.spec.groups, "axis": ctx.channel_axis}, False),
    "layer": ("LayerNormalization", lambda ctx: {"axis": [1, 2, 3]}, True),
    "layer_channels_last": ("LayerNormalization", lambda ctx: {"axis": -1}, False),
    "rms": ("RMSNormalization", lambda ctx: {"axis": [1, 2, 3]}, True),
    "rms_channels_last": ("RMSNormalization", lambda ctx: {"axis": -1}, False),
}


def _keras(ctx: _Ctx):
    cls, make_args, spread = _KERAS[ctx.kind]
    keywords = {**make_args(ctx), "epsilon": ctx.spec.eps}
    rms = cls == "RMSNormalization"
    if not ctx.affine and not rms:
        keywords.update(center=False, scale=False)
    pre, post = _moves(ctx, "keras", "ops.transpose({x}, {p})")
    body = [*pre, f"norm = layers.{_call(cls, (), keywords)}", "norm.build(x.shape)"]
    if ctx.affine:
        weight, bias = (_spread(ctx, v, "keras") if spread else v for v in ("gamma", "beta"))
        body.append(f"norm.{'scale' if rms else 'gamma'}.assign({weight})")
        body += [] if rms else [f"norm.beta.assign({bias})"]
    if ctx.kind == "batch":
        body.append("y = norm(x, training=True)  # training=True: batch statistics, not the moving averages")
    else:
        body.append("y = norm(x)")
    body += post
    if ctx.affine and rms:
        body.append(f"y = y + {ctx.per_channel('beta', 'keras')}  # no β in the layer")
    code = ["from keras import layers, ops", "", "", *_head(ctx, cls), *_indent(body + ["return y"])]
    return "\n".join(code) + "\n", f"keras.layers.{cls}", keywords  # fmt: skip


_PER_PIXEL = ("reduction_axes", "feature_axes")
_FLAX = {  # kind: (module, its arguments besides epsilon)
    "batch": ("BatchNorm", lambda ctx: {"use_running_average": False, "axis": ctx.channel_axis}),
    "instance": ("InstanceNorm", lambda ctx: {"feature_axes": ctx.channel_axis}),
    "group": ("GroupNorm", lambda ctx: {"num_groups": ctx.spec.groups}),
    "layer": ("LayerNorm", lambda ctx: {"reduction_axes": (1, 2, 3), "feature_axes": ctx.channel_axis}),
    "layer_channels_last": ("LayerNorm", lambda ctx: dict.fromkeys(_PER_PIXEL, ctx.channel_axis)),
    "rms": ("RMSNorm", lambda ctx: {"reduction_axes": (1, 2, 3), "feature_axes": ctx.channel_axis}),
    "rms_channels_last": ("RMSNorm", lambda ctx: dict.fromkeys(_PER_PIXEL, ctx.channel_axis)),
}  # fmt: skip


def _flax(ctx: _Ctx):
    cls, make_args = _FLAX[ctx.kind]
    keywords = {**make_args(ctx), "epsilon": ctx.spec.eps}
    rms = cls == "RMSNorm"
    if not ctx.affine:
        keywords.update({"use_scale": False} if rms else {"use_bias": False, "use_scale": False})
    pre, post = _moves(ctx, "flax", "jnp.transpose({x}, {p})")
    body = [*pre, f"norm = nn.{_call(cls, (), keywords)}", "variables = norm.init(jax.random.key(0), x)"]
    if ctx.affine:
        bias = "" if rms else ', "bias": jnp.asarray(beta)'
        body += [f'params = {{"scale": jnp.asarray(gamma){bias}}}  # per channel, shape (C,)',
                 'variables = {**variables, "params": params}']  # fmt: skip
    if ctx.kind == "batch":
        body.append('y, updates = norm.apply(variables, x, mutable=["batch_stats"])  # updates: new running stats')
    else:
        body.append("y = norm.apply(variables, x)")
    body += post
    if ctx.affine and rms:
        body.append(f"y = y + {ctx.per_channel('jnp.asarray(beta)')}  # RMSNorm has no bias: added after")
    code = ["import flax.linen as nn", "import jax", "import jax.numpy as jnp", "", "", *_head(ctx, f"nn.{cls}"),
            *_indent(body + ["return y"])]  # fmt: skip
    return "\n".join(code) + "\n", f"flax.linen.{cls}", keywords


_BUILDERS = {
    "pytorch": lambda ctx: _torch(ctx, functional=False),
    "pytorch_functional": lambda ctx: _torch(ctx, functional=True),
    "keras": _keras,
    "flax": _flax,
}
_GENERAL = {
    "pytorch": _general_module,
    "pytorch_functional": lambda ctx: _general_function(ctx, "torch"),
    "keras": lambda ctx: _general_function(ctx, "keras"),
    "flax": lambda ctx: _general_function(ctx, "jax"),
    "numpy": lambda ctx: _general_function(ctx, "numpy"),
}


# ---------------------------------------------------------------- public entry points


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
    ctx = _context(spec, shape, layout, affine)
    if ctx.kind and framework in _BUILDERS:
        code, layer, arguments = _BUILDERS[framework](ctx)
    else:
        code, layer, arguments = _GENERAL[framework](ctx), None, {"axis": general_axes(spec, layout)[1]}
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


def _context(spec: NormSpec, shape, layout: str, affine: bool) -> _Ctx:
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
    return _Ctx(spec, dims, layout, bool(affine), layer_kind(spec))

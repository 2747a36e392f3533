"""The general form, for selections no layer makes: μ and σ² (or mean(x²)) over the reduced axes, then
(x − μ)/√(σ² + ε) — written in NumPy, JAX, PyTorch and Keras, and as a PyTorch module."""

from __future__ import annotations

from ..spec import NormSpec
from .context import Context, describe, head_lines, indent, tuple_text

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


def _general_body(ctx: Context, dialect: str, eps: str, gamma: str = "gamma", beta: str = "beta") -> list[str]:
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
    stats, sqrt = f"shape {tuple_text(kept)}", d["sqrt"]
    if not spec.axes:
        lines.append(
            f"y = {d['zeros'].format(x='x')}  # no axis reduced: μ = x in every one-value group"
            if spec.center
            else f"y = x / {sqrt}({d['square'].format(x='x')} + {eps})  # no axis reduced: mean(x²) = x²"
        )
    elif spec.center:
        lines += [
            f"mean = {d['mean'].format(x=src, d=tuple_text(dims))}  # μ: {stats}",
            f"var = {d['var'].format(x=src, d=tuple_text(dims))}  # σ²: biased (divides by the count)",
            f"y = ({src} - mean) / {sqrt}(var + {eps})",
        ]
    else:
        lines += [
            f"ms = {d['msq'].format(x=src, d=tuple_text(dims))}  # mean of x², {stats}; no centering",
            f"y = {src} / {sqrt}(ms + {eps})",
        ]
    if ctx.grouped:
        lines.append(f"y = {d['reshape'].format(x='y', s=names)}")
    if ctx.affine:
        scaled = f"y * {ctx.per_channel(gamma, dialect)} + {ctx.per_channel(beta, dialect)}"
        lines.append(f"y = {scaled}  # γ, β per channel")
    return lines + ["return y"]  # fmt: skip


def _general_function(ctx: Context, dialect: str) -> str:
    head = [_DIALECTS[dialect]["import"], "", "", *head_lines(ctx, describe(ctx.spec))]
    return "\n".join(head + indent(_general_body(ctx, dialect, ctx.eps))) + "\n"


def _general_module(ctx: Context) -> str:
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
        f'    """{describe(ctx.spec)} — no PyTorch layer does this, so the module spells it out."""', "",
        f"    def __init__(self, {'num_channels: int, ' if ctx.affine else ''}eps: float):", *indent(init, 2), "",
        "    def forward(self, x):", *indent(body, 2), "", "",
        *head_lines(ctx, describe(ctx.spec)), *indent(use), "    return norm(x)",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


GENERAL_CODE = {  # framework: Context -> the source of its general-form snippet
    "pytorch": _general_module,
    "pytorch_functional": lambda ctx: _general_function(ctx, "torch"),
    "keras": lambda ctx: _general_function(ctx, "keras"),
    "flax": lambda ctx: _general_function(ctx, "jax"),
    "numpy": lambda ctx: _general_function(ctx, "numpy"),
}

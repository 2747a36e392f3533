"""The frameworks' dedicated layers: which layer each named normalization uses in PyTorch (module and
functional), Keras 3 and Flax linen, and the code that builds it, loads γ/β and calls it."""

from __future__ import annotations

from .context import Context, call_text, head_lines, indent, tuple_text

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


def _moves(ctx: Context, framework: str, transpose: str) -> tuple[list[str], list[str]]:
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


def _spread(ctx: Context, name: str, dialect: str) -> str:
    """A per-channel vector as a tensor over the three non-batch axes (LayerNorm's per-element γ)."""
    shape = ctx.trailing
    if dialect == "torch":
        return f"{name}[:, None, None].expand{shape}" if ctx.layout == "NCHW" else f"{name}.expand{shape}"
    inner = f"ops.reshape({name}, (-1, 1, 1))" if ctx.layout == "NCHW" else name
    return f"ops.broadcast_to({inner}, {shape})"


def _torch(ctx: Context, functional: bool):
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
            "layer_norm": f"x, {tuple_text(normalized)}, {w}, {b}",
            "rms_norm": f"x, {tuple_text(normalized)}, {w}",
        }[fn]
        body = [f"weight = {weight}  # γ, shape {tuple_text(normalized)}"] if ctx.affine else []
        body += [f"bias = {bias}  # β"] if ctx.affine and has_beta else []
        body += pre + [f"y = F.{fn}({args}, eps={ctx.eps})"] + post
        layer, header, arguments = f"torch.nn.functional.{fn}", ["import torch.nn.functional as F"], {}
        keywords = {"eps": ctx.spec.eps}
    else:
        body = [f"norm = nn.{call_text(cls, positional, keywords)}"]
        if ctx.affine:
            body += ["with torch.no_grad():", f"    norm.weight.copy_({weight})  # γ, shape {tuple_text(normalized)}"]
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
        *head_lines(ctx, layer.replace("torch.nn.functional.", "F.").replace("torch.nn.", "nn.")),
        *indent(body + ["return y"]),
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


def _keras(ctx: Context):
    cls, make_args, spread = _KERAS[ctx.kind]
    keywords = {**make_args(ctx), "epsilon": ctx.spec.eps}
    rms = cls == "RMSNormalization"
    if not ctx.affine and not rms:
        keywords.update(center=False, scale=False)
    pre, post = _moves(ctx, "keras", "ops.transpose({x}, {p})")
    body = [*pre, f"norm = layers.{call_text(cls, (), keywords)}", "norm.build(x.shape)"]
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
    code = ["from keras import layers, ops", "", "", *head_lines(ctx, cls), *indent(body + ["return y"])]
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


def _flax(ctx: Context):
    cls, make_args = _FLAX[ctx.kind]
    keywords = {**make_args(ctx), "epsilon": ctx.spec.eps}
    rms = cls == "RMSNorm"
    if not ctx.affine:
        keywords.update({"use_scale": False} if rms else {"use_bias": False, "use_scale": False})
    pre, post = _moves(ctx, "flax", "jnp.transpose({x}, {p})")
    body = [*pre, f"norm = nn.{call_text(cls, (), keywords)}", "variables = norm.init(jax.random.key(0), x)"]
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
    code = ["import flax.linen as nn", "import jax", "import jax.numpy as jnp", "", "", *head_lines(ctx, f"nn.{cls}"),
            *indent(body + ["return y"])]  # fmt: skip
    return "\n".join(code) + "\n", f"flax.linen.{cls}", keywords


DEDICATED_CODE = {  # framework: Context (with a kind) -> (source, layer, the layer's arguments)
    "pytorch": lambda ctx: _torch(ctx, functional=False),
    "pytorch_functional": lambda ctx: _torch(ctx, functional=True),
    "keras": _keras,
    "flax": _flax,
}

"""The notes beside each framework's code.

``code_notes`` gives the sentences that go with one framework's snippet: what ``axis`` means there,
defaults, train vs eval mode.
"""

from __future__ import annotations

from ..spec import NormSpec


def code_notes(framework: str, spec: NormSpec, shape, layout: str, kind: str | None, arguments) -> list[str]:
    """Sentences for one framework's snippet; ``kind`` is ``codegen.layer_kind`` when the code uses a
    layer, None for the general form; ``arguments`` are the snippet's."""
    if kind is None:
        return _general_code_notes(framework, spec, shape, layout, arguments)
    table = {"pytorch": _torch_notes, "pytorch_functional": _torch_notes, "keras": _keras_notes, "flax": _flax_notes}
    notes = table[framework](spec, shape, layout, kind, arguments)
    if framework == "pytorch_functional" and kind == "batch":
        notes.insert(
            1,
            "`training=True` with no running tensors (None) normalizes with the batch statistics and "
            "updates nothing; pass running_mean and running_var tensors to update them.",
        )
    return notes


def _general_code_notes(framework, spec, shape, layout, arguments) -> list[str]:
    axis = arguments["axis"]
    formula = "(x − μ) / √(σ² + ε)" if spec.center else "x / √(mean(x²) + ε)"
    if framework == "numpy" and not spec.axes:
        notes = []
    elif framework == "numpy":
        notes = [
            f"`axis={axis}` lists the REDUCED axes; `keepdims=True` keeps them as size 1 so the statistics "
            f"broadcast back over x; then {formula}. `np.var` is biased (ddof=0), as in every framework."
        ]
    else:
        name = {"keras": "Keras", "flax": "Flax"}.get(framework, "PyTorch")
        over = ", ".join(spec.axes) + (f" in {spec.groups} channel groups" if spec.groups > 1 else "")
        what = "without centering " if not spec.center else ""
        notes = [
            f"No {name} layer normalizes over {over} {what}— this is the general form: the statistics "
            f"over axes {axis}, then {formula}."
            if spec.axes
            else f"With no axis reduced there is no {name} layer to call; the code writes the general form out."
        ]
    if not spec.axes:
        notes.append(
            "No axis is reduced: each value is its own group, so x − μ = 0 and the output is β (0 without β)."
            if spec.center
            else "No axis is reduced: each value is its own group."
        )
    grouped = "C" in spec.axes and spec.groups > 1
    if grouped and not {"H", "W"} & set(spec.axes):
        notes.append("Grouped channels per pixel: GroupNorm layers always pool H and W as well.")
    reduced = tuple(sorted(layout.index(a) for a in spec.axes))
    plain = spec.axes and not grouped and "N" not in spec.axes
    if plain and framework in _LAYER_CALLS:
        notes.append(_LAYER_CALLS[framework](spec, shape, layout, reduced))
    if framework == "pytorch":
        notes.append("`Normalize` is an `nn.Module` whose γ and β (if any) are parameters of shape (C,).")
    return notes


def _moved_last(layout: str, reduced: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The permutation that moves the ``reduced`` axes last (keeping their order) and its inverse;
    None when they are last already."""
    if reduced == tuple(range(4 - len(reduced), 4)):
        return None
    order = tuple(i for i in range(4) if i not in reduced) + reduced
    return order, tuple(order.index(i) for i in range(4))


def _torch_layer_call(spec, shape, layout, reduced) -> str:
    fn = "F.layer_norm" if spec.center else "F.rms_norm"
    k, moved = len(reduced), _moved_last(layout, reduced)
    if moved is None:
        return (
            f"`y = {fn}(x, x.shape[-{k}:], eps={spec.eps!r})` reduces the same trailing dims; with a weight "
            "its γ would be per element of those dims, not per channel."
        )
    sizes = dict(zip("NCHW", shape))
    normalized = tuple(sizes[layout[i]] for i in reduced)
    order, back = moved
    return (
        f"`{fn}` reduces the LAST dims, so move the reduced ones last and back: "
        f"`y = {fn}(x.permute{order}, {normalized!r}, eps={spec.eps!r}).permute{back}`; with a weight its γ "
        "would be per element of those dims, not per channel."
    )


def _keras_layer_call(spec, shape, layout, reduced) -> str:
    layer = "LayerNormalization" if spec.center else "RMSNormalization"
    k, moved = len(reduced), _moved_last(layout, reduced)
    call = f"layers.{layer}(axis={list(range(4 - k, 4))}, epsilon={spec.eps!r})"
    if moved is None:
        return f"`y = {call}(x)` reduces exactly those axes too, but its γ takes their shape instead of (C,)."
    order, back = moved
    return (
        f"`{layer}(axis=…)` is safe only on trailing axes: Keras 3.15 with the torch backend hands other "
        "consecutive axes to torch's kernel, which normalizes the LAST ones instead — an error, or a silently "
        "wrong result when two sizes coincide. Move the reduced axes last and back: "
        f"`y = ops.transpose({call}(ops.transpose(x, {order})), {back})`; its γ takes their shape instead of (C,)."
    )


def _flax_layer_call(spec, shape, layout, reduced) -> str:
    ch = layout.index("C") if layout == "NCHW" else -1
    if spec.center:
        call = (
            f"nn.LayerNorm(reduction_axes={reduced}, feature_axes={ch}, epsilon={spec.eps!r}, use_fast_variance=False)"
        )
        why = (
            " `use_fast_variance=False` computes the variance as mean((x − μ)²); Flax's default, "
            "E[x²] − E[x]² in float32, loses digits when the mean is large against the spread."
        )
        params = "scale and bias"
    else:
        call, why = f"nn.RMSNorm(reduction_axes={reduced}, feature_axes={ch}, epsilon={spec.eps!r})", ""
        params = "a scale"
    return f"`y = {call}.init_with_output(jax.random.key(0), x)[0]` computes the same, with {params} per channel.{why}"


_LAYER_CALLS = {
    "pytorch": _torch_layer_call,
    "pytorch_functional": _torch_layer_call,
    "keras": _keras_layer_call,
    "flax": _flax_layer_call,
}

_EPS = "ε defaults differ: PyTorch 1e-5, Keras 1e-3, Flax 1e-6 (1e-5 for BatchNorm); the code passes ε."


def _torch_notes(spec, shape, layout, kind, arguments) -> list[str]:
    n, c, h, w = shape
    g = spec.groups
    to_first = "(x)" if layout == "NCHW" else "(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)"
    notes = {
        "batch": [
            "`BatchNorm2d(C)` takes dim 1 as channels and reduces dims 0, 2, 3 (N, H, W): one mean and "
            "variance per channel.",
            "Defaults: momentum=0.1 weighs the NEW batch in the running average (Keras/Flax's 0.99 weighs "
            "the OLD one); affine=True; running statistics on, with running_var stored unbiased. "
            "`model.eval()` switches to the running statistics.",
        ],
        "instance": [
            "`InstanceNorm2d(C)` reduces dims 2, 3 (H, W): one mean and variance per sample and channel; "
            f"`y = nn.GroupNorm({c}, {c}, eps={spec.eps!r}){to_first}` computes the same.",
            "Defaults differ from BatchNorm2d: affine=False (no γ, β unless asked for) and track_running_stats=False.",
        ],
        "group": [
            f"`GroupNorm(G, C)` splits dim 1 into G = {g} groups of {c // g} channels and reduces each over "
            "its channels and H, W; γ, β stay per channel, shape (C,).",
            "Defaults: affine=True; no running statistics, so train and eval mode agree.",
        ],
        "layer": [
            f"`LayerNorm(shape)` reduces the LAST len(shape) dims, here {arguments.get('normalized_shape')}, "
            "so it is tied to H × W; its γ, β are per element, here filled per channel. "
            f"`y = nn.GroupNorm(1, {c}, eps={spec.eps!r}){to_first}` has the same statistics with γ, β per channel."
        ],
        "rms": [
            "`RMSNorm(shape)` divides by √(mean(x²) + ε) over the LAST len(shape) dims without subtracting "
            "the mean; it has a weight (γ) and no bias.",
            "Default eps=None means torch.finfo(x.dtype).eps (≈1.2e-7 for float32).",
        ],
    }
    if kind in ("layer_channels_last", "rms_channels_last"):
        cls = "LayerNorm" if kind == "layer_channels_last" else "RMSNorm"
        where = (
            "On an NCHW tensor it would normalize W instead (pytorch #71465), so the code permutes first; "
            "ConvNeXt writes its own channels-first LayerNorm for this."
            if layout == "NCHW"
            else "On NHWC that is C: one statistic per pixel."
        )
        out = [f"`{cls}({c})` reduces the LAST dim only, so channels must come last. {where}"]
    else:
        out = list(notes[kind])
    out.append(_EPS)
    if layout == "NHWC" and kind in ("batch", "instance", "group"):
        out.append(
            "PyTorch's conv-style layers take channels at dim 1, so NHWC is permuted to NCHW and back "
            "(`torch.channels_last` memory format keeps the logical NCHW shape and needs no permute)."
        )
    if kind == "batch" and n * h * w == 1:
        out.append("With N·H·W = 1 PyTorch raises “Expected more than 1 value per channel when training”.")
    if kind == "instance" and h * w == 1:
        out.append(
            "With H·W = 1 PyTorch raises “Expected more than 1 spatial element when training”. "
            + (
                "`GroupNorm(C, C)` raises too (N·H·W = 1: “Expected more than 1 value per channel when "
                "training”, in eval mode as well)."
                if n == 1
                else "`GroupNorm(C, C)` does not raise, but each of its groups then holds one value, so it "
                "returns β (0 without β)."
            )
        )
    if kind == "group" and n * (c // g) * h * w == 1:
        out.append(
            "With N·(C/G)·H·W = 1 every group holds one value: `GroupNorm` and `F.group_norm` raise “Expected "
            "more than 1 value per channel when training” — in eval mode as well, having no running statistics."
        )
    return out


def _keras_notes(spec, shape, layout, kind, arguments) -> list[str]:
    axis, ch = arguments.get("axis"), layout.index("C")
    others = ", ".join(str(i) for i in range(4) if i != ch)
    if kind == "batch":
        out = [
            f"`BatchNormalization(axis={axis})`: axis is the axis that is KEPT; it reduces over {others}.",
            "Call it with `training=True` to use the batch statistics: a plain call runs in inference mode "
            "with moving_mean / moving_variance (initially 0 and 1).",
            "Defaults: epsilon=1e-3; momentum=0.99 weighs the OLD moving average (PyTorch's momentum=0.1 weighs "
            "the new batch: Keras 0.99 ≙ PyTorch 0.01); moving_variance stores the biased variance.",
        ]
    elif kind in ("group", "instance"):
        out = [
            f"`GroupNormalization(groups={arguments.get('groups')}, axis={axis})`: axis is the channel axis "
            "that is SPLIT into groups; each group "
            "is reduced over its channels and every axis but the batch axis. groups=-1 gives one channel per "
            "group (InstanceNorm).",
            "Defaults: groups=32, epsilon=1e-3; γ, β per channel.",
        ]
    elif kind.startswith("layer"):
        out = [
            f"`LayerNormalization(axis={axis})`: axis lists the axes that are REDUCED (BatchNormalization's "
            "axis is the one kept); γ, β take the shape of those axes.",
            "Default epsilon=1e-3.",
        ]
    else:
        out = [
            f"`RMSNormalization(axis={axis})`: axis lists the REDUCED axes; it divides by √(mean(x²) + ε) and "
            "has a scale (γ) but no offset.",
            "Default epsilon=1e-6.",
        ]
    if layout == "NCHW" and kind in ("layer_channels_last", "rms_channels_last"):
        out.append(
            "The code moves channels last first: Keras 3.15 with the torch backend hands a single non-last "
            "axis to torch's fused kernel, which normalizes the LAST axis instead — a wrong result when "
            "W = C, an error otherwise (fixed upstream in keras-team/keras#23510)."
        )
    if kind in ("batch", "group", "instance"):
        out.append(
            "With the torch backend Keras computes these moments as E[x²] − E[x]² in float32: fine near zero, "
            "lossy for inputs far from zero (the JAX backend uses jnp.var)."
        )
    return out


def _flax_notes(spec, shape, layout, kind, arguments) -> list[str]:
    a = arguments
    out = {
        "batch": [
            f"`BatchNorm(axis={a.get('axis')})`: axis is the feature axis that is KEPT; it reduces over all "
            "others. `use_running_average=False` uses the batch statistics and updates the 'batch_stats' "
            "collection (pass `mutable=['batch_stats']`); True uses the running averages.",
            "Defaults: momentum=0.99 weighs the OLD average (as in Keras); epsilon=1e-5; the running "
            "variance is biased.",
        ],
        "instance": [
            f"`InstanceNorm(feature_axes={a.get('feature_axes')})` reduces every axis except the batch "
            "axis and the feature axes — here H, W. Default epsilon=1e-6."
        ],
        "group": [
            "`GroupNorm(num_groups=G)` splits the LAST axis into groups and reduces all but the batch axis, "
            "so it needs channels last"
            + (" — the code transposes NCHW and back." if layout == "NCHW" else ".")
            + " Defaults: num_groups=32, epsilon=1e-6; scale and bias per channel."
        ],
    }.get(kind)
    if out is None:
        cls = "LayerNorm" if kind.startswith("layer") else "RMSNorm"
        out = [
            f"`{cls}(reduction_axes={a.get('reduction_axes')!r})` reduces those axes; `feature_axes="
            f"{a.get('feature_axes')}` says where the scale lives (here per channel). Defaults: "
            "reduction_axes=-1 (the last axis only), epsilon=1e-6."
        ]
    if not kind.startswith("rms"):
        out.append(
            "Flax computes the variance as E[x²] − E[x]² by default (use_fast_variance=True); pass "
            "use_fast_variance=False for inputs far from zero."
        )
    return out

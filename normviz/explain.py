"""Short notes that explain the current selection, and the notes beside each framework's code.

``notes_for(spec, shape, layout)`` returns only the notes that apply to that selection, each 2–4
sentences with its sources named. ``code_notes`` gives the sentences that go with one framework's
snippet (``normviz.codegen`` calls it): what ``axis`` means there, defaults, train vs eval mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .spec import NormSpec, identify

GN_PAPER = "Wu & He, *Group Normalization*, ECCV 2018 (arXiv 1803.08494)"


@dataclass(frozen=True)
class Note:
    """A short explanation: ``title`` (plain text), ``body`` (markdown), ``key`` (stable id)."""

    title: str
    body: str
    key: str


def _kind(spec: NormSpec, shape) -> str:
    """The identify() name, with GroupNorm whose G = C counted as InstanceNorm."""
    return identify(spec, shape).name


def _bn_per_channel(spec, shape, layout):
    if spec.axes != "NHW":
        return None
    return Note(
        "Why BatchNorm pools N, H and W for each channel",
        "A convolution applies the same filter at every position, so BatchNorm normalizes a feature map the same "
        "way everywhere: one mean and variance per channel, over every position of every image in the batch — "
        "the *convolutional property* (Ioffe & Szegedy 2015, §3.2). Pooling the batch keeps the differences "
        "between images: a dark photo stays darker than a bright one. Leave N out and you get InstanceNorm, "
        "which erases them.",
        "bn_per_channel",
    )


def _per_image(spec, shape, layout):
    if _kind(spec, shape) != "InstanceNorm":
        return None
    return Note(
        "What per-image normalization removes",
        "Normalizing each channel of each image over (H, W) alone sets every image's channel means to 0 and "
        "variances to 1: its brightness, contrast and colour cast are gone. For recognition that costs accuracy "
        f"— ResNet-50 on ImageNet: 28.4 % validation error with InstanceNorm, 23.6 % with BatchNorm ({GN_PAPER}).",
        "per_image",
    )


def _style_transfer(spec, shape, layout):
    if _kind(spec, shape) != "InstanceNorm":
        return None
    return Note(
        "InstanceNorm and style transfer",
        "In style transfer, discarding each image's contrast is the point: InstanceNorm replaced BatchNorm there "
        "(Ulyanov et al. 2016). PyTorch's `nn.InstanceNorm2d` has `affine=False` and `track_running_stats=False` "
        "by default — no γ, β and no running statistics unless asked for, unlike `nn.BatchNorm2d`.",
        "style_transfer",
    )


def _which_layernorm(spec, shape, layout):
    name = _kind(spec, shape)
    if name not in ("LayerNorm", "LayerNorm channels-last", "RMSNorm") and not (spec.axes == "C" and spec.groups == 1):
        return None
    this = "the GN paper's set, (C, H, W)" if "H" in spec.axes else "ConvNeXt's set, C per pixel"
    return Note(
        "Which “LayerNorm”?",
        "The name covers different sets: the GN paper's LayerNorm pools (C, H, W) per sample; ConvNeXt's and "
        "Swin's pool only C, per pixel; a transformer's pools each token's embedding. This selection pools "
        f"{this}. In PyTorch, `nn.LayerNorm(C)` on an NCHW tensor normalizes the last dim — W — not the "
        "channels (pytorch #71465).",
        "which_layernorm",
    )


def _group_gamma(spec, shape, layout):
    if not (spec.axes == "CHW" and spec.groups > 1 and spec.center):
        return None
    g, c = spec.groups, shape[1]
    same = " Here G = C, so this is InstanceNorm." if g == c else ""
    return Note(
        "GroupNorm: statistics per group, γ and β per channel",
        f"GroupNorm({g}, {c}) computes one mean and variance per sample and group of {c // g} channel"
        f"{'s' if c // g > 1 else ''}, but γ and β have one value per channel, shape (C,). So GroupNorm(1, C) "
        "has LayerNorm's statistics but not its per-element γ (PyTorch's docs dropped the “equivalent to "
        f"LayerNorm” remark, pytorch #69071), and GroupNorm(C, C) is InstanceNorm.{same} The paper's default "
        "G = 32 gave 24.1 % ImageNet error at batch 32; G = 1 gave 25.3 %.",
        "group_gamma",
    )


def _rms(spec, shape, layout):
    if spec.center or not spec.axes:
        return None
    return Note(
        "No centering: RMS normalization",
        "Without centering each group is divided by its root mean square, √(mean(x²) + ε), and its mean is kept "
        "— RMSNorm (Zhang & Sennrich 2019), common in transformers. A group whose values share a large offset "
        "keeps it. PyTorch's `nn.RMSNorm` has only a weight, and its default eps=None means the dtype's machine "
        "epsilon.",
        "rms",
    )


def _keras_axis(spec, shape, layout):
    name = _kind(spec, shape)
    ch = 1 if layout == "NCHW" else -1
    others = ", ".join(str(i) for i in range(4) if i != layout.index("C"))
    if name == "BatchNorm":
        this = f"`BatchNormalization(axis={ch})`: axis {ch} is KEPT and {others} are reduced"
    elif name == "LayerNorm":
        this = "`LayerNormalization(axis=[1, 2, 3])`: the listed axes are REDUCED"
    elif name == "LayerNorm channels-last":
        this = f"`LayerNormalization(axis={ch})`: axis {ch} (C) is REDUCED"
    elif name in ("GroupNorm", "InstanceNorm") and spec.center:
        this = f"`GroupNormalization(axis={ch})`: the channel axis is SPLIT into groups"
    else:
        return None
    return Note(
        "Keras: `axis` means three things",
        f"Keras spells this selection {this} (numbers for {layout}). The word flips meaning between layers: "
        "BatchNormalization's axis is KEPT, LayerNormalization's axes are REDUCED, GroupNormalization's axis is "
        "the channel axis SPLIT into groups.",
        "keras_axis",
    )


def _small_batch(spec, shape, layout):
    n = shape[0]
    if spec.axes != "NHW" or n > 8:
        return None
    if n == 1:
        body = "With N = 1 each channel's statistics come from one image: BatchNorm equals InstanceNorm here. "
    else:
        body = f"BatchNorm's statistics here come from only N = {n} images, so they vary from batch to batch. "
    return Note(
        "Small batches make BatchNorm noisy",
        body + "In the GN paper, ResNet-50's ImageNet error with BatchNorm rose from 23.6 % at 32 images per GPU to "
        f"24.8 % at 8, 27.3 % at 4 and 34.7 % at 2, while GroupNorm stayed at 24.0–24.2 % ({GN_PAPER}).",
        "small_batch",
    )


def _one_value(spec, shape, layout):
    n, _, h, w = shape
    if spec.axes != "NHW" or n * h * w != 1:
        return None
    return Note(
        "N·H·W = 1: PyTorch refuses",
        "Each channel holds a single value, so it is its own mean and the output is β. In training mode "
        "PyTorch's BatchNorm2d raises “Expected more than 1 value per channel when training” (its unbiased "
        "running variance would divide by n − 1 = 0); Keras and Flax return β.",
        "one_value",
    )


def _train_eval(spec, shape, layout):
    if spec.axes != "NHW":
        return None
    return Note(
        "Train vs eval mode",
        "Training-mode BatchNorm normalizes with the batch's statistics and updates running averages; eval mode "
        "uses those averages, so an image's output no longer depends on its batch — forgetting `model.eval()` "
        "makes it depend. PyTorch's running_var stores the unbiased variance n/(n−1)·σ² although training uses "
        "the biased one, and the momentum conventions are opposite: PyTorch's 0.1 weighs the new batch, Keras's "
        "and Flax's 0.99 the old average.",
        "train_eval",
    )


def _batch_dependence(spec, shape, layout):
    if "N" not in spec.axes or spec.axes == "NHW":
        return None
    return Note(
        "Statistics across the batch",
        "This selection pools over samples, like BatchNorm, but it is not BatchNorm. A sample's output depends on "
        "which samples share its batch, so in eval mode a layer would need stored statistics as BatchNorm has. No "
        "framework has a layer for it; the code view writes out the general form.",
        "batch_dependence",
    )


_NOTES: tuple[Callable, ...] = (
    _bn_per_channel, _per_image, _small_batch, _one_value, _train_eval, _which_layernorm, _group_gamma,
    _style_transfer, _rms, _batch_dependence, _keras_axis,
)  # fmt: skip


def notes_for(spec: NormSpec, shape, layout: str = "NCHW") -> list[Note]:
    """The notes that apply to ``spec`` on a tensor of ``shape`` (N, C, H, W) shown in ``layout``.

    >>> from normviz import NormSpec
    >>> [n.key for n in notes_for(NormSpec.make("HW"), (4, 3, 8, 8))]
    ['per_image', 'style_transfer', 'keras_axis']
    """
    shape = tuple(int(s) for s in shape)
    return [note for make in _NOTES if (note := make(spec, shape, layout)) is not None]


# ---------------------------------------------------------------- notes beside the code


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
    k, ch = len(reduced), layout.index("C") if layout == "NCHW" else -1
    if plain and framework.startswith("pytorch") and reduced == tuple(range(4 - k, 4)):
        fn = "F.layer_norm" if spec.center else "F.rms_norm"
        notes.append(
            f"`{fn}(x, x.shape[-{k}:])` reduces the same trailing dims, but its γ is per element of "
            "those dims, not per channel."
        )
    if plain and framework == "keras":
        layer = "LayerNormalization" if spec.center else "RMSNormalization"
        notes.append(
            f"`keras.layers.{layer}(axis={list(reduced)})` reduces exactly those axes too, but its γ takes "
            "their shape instead of (C,)."
        )
    if plain and framework == "flax":
        layer = "LayerNorm" if spec.center else "RMSNorm"
        notes.append(
            f"`nn.{layer}(reduction_axes={reduced}, feature_axes={ch})` computes the same, with scale "
            "and bias per channel."
        )
    if framework == "pytorch":
        notes.append("`Normalize` is an `nn.Module` whose γ and β (if any) are parameters of shape (C,).")
    return notes


_EPS = "ε defaults differ: PyTorch 1e-5, Keras 1e-3, Flax 1e-6 (1e-5 for BatchNorm); the code passes ε."


def _torch_notes(spec, shape, layout, kind, arguments) -> list[str]:
    n, c, h, w = shape
    g = spec.groups
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
            "`GroupNorm(C, C)` computes the same.",
            "Defaults differ from BatchNorm2d: affine=False (no γ, β unless asked for) and track_running_stats=False.",
        ],
        "group": [
            f"`GroupNorm(G, C)` splits dim 1 into G = {g} groups of {c // g} channels and reduces each over "
            "its channels and H, W; γ, β stay per channel, shape (C,).",
            "Defaults: affine=True; no running statistics, so train and eval mode agree.",
        ],
        "layer": [
            f"`LayerNorm(shape)` reduces the LAST len(shape) dims, here {arguments.get('normalized_shape')}, "
            "so it is tied to H × W; its γ, β are per element, here filled per channel. `GroupNorm(1, C)` "
            "has the same statistics with γ, β per channel."
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
        out.append("With H·W = 1 PyTorch raises “Expected more than 1 spatial element when training”.")
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

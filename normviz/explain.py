"""What the page says about the current selection, as data, from this one place.

``remarks_for(spec, shape)`` gives the one-line remarks beside the summary — each a ``Remark`` with a
kind, a severity (a warning, or an aside) and its text. ``notes_for(spec, shape, layout)`` gives the
longer notes that apply, each 2–4 sentences with its sources named. The sentences beside each
framework's code live in ``normviz.codegen.notes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .spec import NormSpec, identify

GN_PAPER = "Wu & He, *Group Normalization*, ECCV 2018 (arXiv 1803.08494)"

#: A batch of at most this many samples is small for BatchNorm: in the GN paper its ImageNet error
#: rises from 8 images per GPU down (24.8 % at 8, 34.7 % at 2, against 23.6 % at 32).
SMALL_BATCH = 8

WARNING, ASIDE = "warning", "aside"


@dataclass(frozen=True)
class Remark:
    """One line on the selection: ``kind`` (stable id), ``severity`` (``"warning"``: a result that
    may surprise; ``"aside"``: a side fact), ``text`` (markdown)."""

    kind: str
    severity: Literal["warning", "aside"]
    text: str


def _own_group_outcome(center: bool) -> str:
    """What normalizing a group of one value gives, with and without centering."""
    if center:
        return "x − μ = 0 and every output is β (0 without β)"
    return "every output is x / √(x² + ε): ±1 where |x| ≫ √ε (times γ, plus β)"


def remarks_for(spec: NormSpec, shape) -> list[Remark]:
    """The remarks on ``spec`` for a tensor of ``shape`` (N, C, H, W), warnings first.

    >>> [(r.kind, r.severity) for r in remarks_for(NormSpec.make("NHW"), (1, 3, 1, 1))]
    [('one_value', 'warning'), ('bn_one_sample', 'warning')]
    """
    n = int(shape[0])
    out = []
    if not spec.axes:
        out.append(
            Remark(
                "no_axis",
                WARNING,
                f"No axis is reduced: every value is its own group, so {_own_group_outcome(spec.center)}.",
            )
        )
    elif spec.group_size(tuple(shape)) == 1:
        out.append(
            Remark(
                "one_value",
                WARNING,
                "Every group holds a single value (the reduced axes all have length 1), so "
                f"{_own_group_outcome(spec.center)}.",
            )
        )
    if spec.axes == "NHW" and n == 1:
        out.append(
            Remark(
                "bn_one_sample",
                WARNING,
                "With N = 1, BatchNorm's statistics equal InstanceNorm's (one image per channel).",
            )
        )
    elif "N" in spec.axes and n == 1:
        out.append(Remark("n_of_one", ASIDE, "With N = 1, reducing over N changes nothing."))
    if spec.axes == "CHW" and spec.groups == 1 and spec.center:
        out.append(
            Remark(
                "layernorm_is_gn1",
                ASIDE,
                "GroupNorm with G = 1 has these statistics too (its γ, β are per channel, LayerNorm's per element).",
            )
        )
    return out


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
    if spec.axes != "NHW" or n > SMALL_BATCH:
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

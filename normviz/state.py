"""Every page setting declared once, and its round trip through the URL query string.

``FIELDS`` is the table: a key (the widget key and the URL parameter), a default, a parser that
raises ``ValueError`` with a reason, a printer, and what the widget is built from (kind, label,
bounds, options); ``normviz.ui.widgets`` draws a setting's widget from its row. ``from_query`` turns
query parameters into values plus notices for the ones it had to ignore; ``to_query`` writes only
what differs from the defaults, so the link of an untouched page is clean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import NormvizError
from .inputs import (
    COLOUR_MODES,
    DISTRIBUTIONS,
    FIT_MODES,
    KERNEL_SIZES,
    MAX_FILTERS,
    MAX_SCALE_SPREAD,
    MAX_SHIFT_SPREAD,
    MAX_SIDE,
    NAMED_FILTERS,
    sample_files,
)
from .running import CONVENTIONS
from .spec import PRESETS, get_preset, parse_axes
from .train.data import TASKS as TRAIN_TASKS

CUSTOM = "Custom"
SOURCES = ("samples", "upload", "random", "features", "npy")
SOURCE_LABELS = {
    "samples": "Sample photos",
    "upload": "Upload images",
    "random": "Random tensor",
    "features": "Conv feature maps",
    "npy": "Own activations (.npy/.npz)",
}


@dataclass(frozen=True)
class Field:
    """One setting, declared once: the page's widget and the link's parameter are built from it.

    ``key`` names the widget and the URL parameter; ``parse`` reads the link (raising ValueError
    with a reason) and ``dump`` writes it; ``name`` is how a link notice calls it. The widget:
    ``widget`` is its kind ("number", "select", "radio", "toggle", "multiselect"; "" when the page
    draws it by hand), ``label``, ``help``, ``options`` with their ``option_labels``, and for numbers
    ``lo``, ``hi`` (the same bounds the link accepts), ``step`` and ``format``.
    """

    key: str
    default: Any
    parse: Callable[[str], Any]
    dump: Callable[[Any], str] = str
    name: str = ""
    widget: str = ""
    label: str = ""
    help: str | None = None
    options: tuple = ()
    option_labels: Mapping[Any, str] | None = None
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    format: str | None = None


def choice(options) -> Callable[[str], Any]:
    """One of ``options`` (strings or numbers), given as it is printed."""
    by_text = {str(o): o for o in options}

    def parse(raw: str):
        if raw not in by_text:
            raise ValueError(f"choose one of {', '.join(by_text)}")
        return by_text[raw]

    return parse


def integer(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("not a whole number") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return parse


def number(lo: float, hi: float, *, positive: bool = False) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("not a number") from None
        if not math.isfinite(value) or not lo <= value <= hi or (positive and value <= 0):
            raise ValueError(f"must be {'> 0 and ' if positive else ''}between {lo:g} and {hi:g}")
        return value

    return parse


def boolean(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("use 1 or 0")


def dump_bool(value: bool) -> str:
    return "1" if value else "0"


def axes_value(raw: str) -> str:
    if raw == "-":
        return ""
    try:
        return parse_axes(raw)
    except NormvizError as err:
        raise ValueError(str(err)) from None


def dump_axes(value: str) -> str:
    return value or "-"


def cell(raw: str) -> tuple[int, int, int, int]:
    parts = raw.split(",")
    if len(parts) != 4:
        raise ValueError("give four indices n,c,h,w")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError("indices must be whole numbers") from None
    if min(values) < 0:
        raise ValueError("indices must be ≥ 0")
    return values


def dump_cell(value) -> str:
    return ",".join(str(int(v)) for v in value)


def float_list(raw: str) -> tuple[float, ...]:
    try:
        values = tuple(float(p) for p in raw.split(","))
    except ValueError:
        raise ValueError("give comma-separated numbers") from None
    if not all(math.isfinite(v) for v in values) or len(values) > 4096:
        raise ValueError("numbers must be finite (at most 4096)")
    return values


def dump_floats(values) -> str:
    return ",".join(f"{v:g}" for v in values)


def names(options) -> Callable[[str], tuple[str, ...]]:
    """A comma-separated subset of ``options`` (in their order)."""
    options = tuple(options)

    def parse(raw: str) -> tuple[str, ...]:
        picked = [p.strip() for p in raw.split(",") if p.strip()]
        unknown = [p for p in picked if p not in options]
        if unknown or not picked:
            raise ValueError(f"choose from {', '.join(options)}")
        return tuple(o for o in options if o in picked)

    return parse


def dump_names(values) -> str:
    return ",".join(values)


def whole(key: str, default: int, lo: int, hi: int, *, step: int = 1, widget: str = "number", **more) -> Field:
    """A whole-number setting in [lo, hi], drawn as a number input (or a select box of the values
    this input allows, e.g. the divisors of C)."""
    return Field(key, default, integer(lo, hi), widget=widget, lo=lo, hi=hi, step=step, **more)


def real(key: str, default: float, lo: float, hi: float, *, step: float, positive=False, **widget) -> Field:
    """A real-number setting in [lo, hi] (> 0 if ``positive``), drawn as a number input."""
    parse = number(lo, hi, positive=positive)
    return Field(key, default, parse, widget="number", lo=float(lo), hi=float(hi), step=step, format="%g", **widget)


def pick(key: str, default, options, *, widget: str = "radio", labels: Mapping | None = None, **more) -> Field:
    """One of ``options``, drawn as horizontal radio buttons (or a select box)."""
    options = tuple(options)
    return Field(key, default, choice(options), widget=widget, options=options, option_labels=labels, **more)


def flag(key: str, default: bool, **widget) -> Field:
    """On or off (1 or 0 in the link), drawn as a toggle."""
    return Field(key, default, boolean, dump_bool, widget="toggle", **widget)


def subset(key: str, options, **widget) -> Field:
    """Some of ``options`` (all by default), comma-separated in the link, drawn as a multiselect."""
    options = tuple(options)
    return Field(key, options, names(options), dump_names, widget="multiselect", options=options, **widget)


def int_choices(options) -> Callable[[str], tuple[int, ...]]:
    """A comma-separated subset of the whole numbers ``options`` (sorted)."""
    allowed = tuple(options)

    def parse(raw: str) -> tuple[int, ...]:
        try:
            picked = {int(p) for p in raw.split(",") if p.strip()}
        except ValueError:
            raise ValueError("give comma-separated whole numbers") from None
        if not picked or not picked <= set(allowed):
            raise ValueError(f"choose from {', '.join(map(str, allowed))}")
        return tuple(sorted(picked))

    return parse


def preset_name(raw: str) -> str:
    """A preset by name or alias (``gn``, ``layernorm``…), or Custom; case does not matter."""
    if raw.strip().lower() == CUSTOM.lower():
        return CUSTOM
    try:
        return get_preset(raw).name
    except NormvizError:
        raise ValueError(f"choose one of {', '.join(PRESET_CHOICES)}") from None


PRESET_CHOICES = (*PRESETS, CUSTOM)
TABS = ("Channels", "Statistics", "Histograms", "Compare", "Code", "Train vs eval", "Batch size", "Training")
SAMPLE_NAMES = tuple(name for name, _ in sample_files())
#: Largest N, C, H or W of the random tensor (their product is capped by inputs.MAX_ELEMENTS).
MAX_RANDOM_SIDE = 4096
LAYOUT_CHOICES = ("NCHW", "NHWC")
PRESET_HELP = "A named layer sets the axes; changing an axis shows the layer it amounts to."
#: What the Training tab can compare: the page's current setting, the presets, no normalization.
TRAIN_NORMS = ("Your setting", "BatchNorm", "GroupNorm", "InstanceNorm", "LayerNorm", "LayerNorm channels-last",
               "RMSNorm", "No normalization")  # fmt: skip
TRAIN_BATCHES = (1, 2, 4, 8, 16, 32)

FIELDS: tuple[Field, ...] = (
    # input
    pick("source", "samples", SOURCES, widget="select", labels=SOURCE_LABELS, name="input source", label="Source",
         help="The tensor x[N, C, H, W] to normalize."),
    subset("photos", SAMPLE_NAMES, name="sample photos", label="Photos", help="Each photo is one sample n."),
    whole("size", 96, 4, MAX_SIDE, step=8, name="image size", label="Size (H = W, pixels)"),
    pick("fit", "crop", FIT_MODES, label="Fit",
         help="crop: scale to cover, keep the centre · squash: stretch the whole image · "
         "pad: fit inside, fill with grey"),
    pick("colour", "auto", COLOUR_MODES, label="Colour",
         help="auto: RGB if any image has colour (grey ones fill R = G = B) · rgb: always 3 channels · grey: luma"),
    whole("rn", 4, 1, MAX_RANDOM_SIDE, name="random N", label="N"),
    whole("rc", 6, 1, MAX_RANDOM_SIDE, name="random C", label="C"),
    whole("rh", 16, 1, MAX_RANDOM_SIDE, name="random H", label="H"),
    whole("rw", 16, 1, MAX_RANDOM_SIDE, name="random W", label="W"),
    pick("dist", "normal", DISTRIBUTIONS, name="distribution", label="Distribution"),
    real("nshift", 1.0, 0, MAX_SHIFT_SPREAD, step=0.5, name="per-sample shift spread", label="sample shift"),
    real("nscale", 0.5, 0, MAX_SCALE_SPREAD, step=0.1, name="per-sample scale spread", label="sample scale"),
    real("cshift", 0.0, 0, MAX_SHIFT_SPREAD, step=0.5, name="per-channel shift spread", label="channel shift"),
    real("cscale", 0.0, 0, MAX_SCALE_SPREAD, step=0.1, name="per-channel scale spread", label="channel scale"),
    whole("seed", 0, 0, 2**31 - 1, label="Seed"),
    pick("fbase", "samples", ("samples", "upload"), name="feature-map images", label="Images",
         labels={"samples": "sample photos", "upload": "my uploads"}),
    pick("bank", "named", ("named", "random"), name="filters", label="Filters",
         labels={"named": "named bank", "random": "random (He init)"}),
    subset("fnames", NAMED_FILTERS, name="named filters", label="Named filters"),
    whole("k", 8, 1, MAX_FILTERS, name="number of filters", label="Number of filters K"),
    pick("ksize", 3, KERNEL_SIZES, name="filter size", label="Filter size",
         labels={s: f"{s}×{s}" for s in KERNEL_SIZES}),
    flag("relu", True, name="ReLU", label="ReLU after the convolution"),
    pick("layout", "NCHW", LAYOUT_CHOICES, name="array layout", label="Layout"),
    # normalization
    Field("preset", "BatchNorm", preset_name, name="preset", widget="select", label="Preset",
          options=PRESET_CHOICES, help=PRESET_HELP),
    Field("axes", "NHW", axes_value, dump_axes, name="reduced axes", label="Reduce over",
          help="The values that share one mean and one variance: all cells that differ only along these axes."),
    whole("groups", 1, 1, 4096, widget="select", name="groups", label="Groups G",
          help="GroupNorm splits the C channels into G groups of C/G; only divisors of C are offered."),
    real("eps", 1e-5, 1e-12, 10, step=1e-5, positive=True, name="ε", label="ε (added to the variance)",
         help="Defaults: 1e-5 in PyTorch, 1e-3 in Keras, 1e-6 in Flax."),
    flag("center", True, name="centering", label="Subtract the mean (centering)",
         help="Off gives RMS normalization: x / √(mean(x²) + ε)."),
    real("gscale", 1.0, -100, 100, step=0.1, name="γ (all channels)", label="γ for all channels"),
    real("bshift", 0.0, -100, 100, step=0.1, name="β (all channels)", label="β for all channels"),
    Field("gamma", (), float_list, dump_floats, name="γ per channel"),
    Field("beta", (), float_list, dump_floats, name="β per channel"),
    # what is looked at
    Field("cell", (0, 0, 0, 0), cell, dump_cell, name="selected cell"),
    pick("view", "paper", ("paper", "exact"), name="cube view", label="Cube",
         labels={"paper": "paper (N × C × H·W)", "exact": "per sample"},
         help="paper: N × C × (H, W flattened), like Figure 2 of the GN paper · per sample: N blocks of C × H × W"),
    pick("color", "mean", ("mean", "variance", "group"), name="cube colour", label="Colour by",
         labels={"mean": "μ", "variance": "σ²", "group": "group"},
         help="each group's mean μ or variance σ², or one colour per group"),
    Field("cpreset", "InstanceNorm", preset_name, name="compare preset", widget="select", label="Compare with",
          options=PRESET_CHOICES),
    Field("caxes", "HW", axes_value, dump_axes, name="compare axes", label="reduce over"),
    whole("cgroups", 1, 1, 4096, widget="select", name="compare groups", label="G"),
    pick("tab", TABS[0], TABS, widget="", name="tab"),  # drawn as st.tabs by ui.page
    # explaining
    pick("clayout", "NCHW", LAYOUT_CHOICES, name="code layout", label="Data layout",
         help="NCHW: PyTorch's default. NHWC: Keras', Flax's and TensorFlow's default."),
    whole("tbatch", 2, 1, 4096, name="training batch size", label="Batch size", help="At most N, the input's batch."),
    pick("conv", "pytorch", tuple(CONVENTIONS), widget="select", name="running-statistics convention",
         label="Convention", labels={k: c.label for k, c in CONVENTIONS.items()}),
    real("momentum", 0.1, 0, 1, step=0.01, name="momentum", label="Momentum",
         help="PyTorch: weight of the NEW batch (default 0.1). Keras / Flax: weight of the OLD average "
         "(default 0.99) — the same number means opposite things."),
    flag("cumulative", False, name="cumulative average", label="momentum=None (cumulative average)"),
    whole("epochs", 3, 1, 50, name="epochs", label="Epochs"),
    flag("droplast", False, name="drop_last", label="drop_last", help="Skip a last batch smaller than the batch size."),
    whole("crop", 32, 1, MAX_SIDE, name="crop size", label="Crop size", help="At most the input's height and width."),
    whole("draws", 200, 2, 2000, step=50, name="draws", label="Draws per batch size"),
    # training (the pills are drawn by ui.training_tab)
    pick("trtask", "photo", tuple(TRAIN_TASKS), name="training task", label="Task",
         labels={"photo": "Photo crops", "control": "Control: appearance randomized"},
         help="\n\n".join(f"**{k}**: {v}" for k, v in TRAIN_TASKS.items())),
    Field("trnorms", TRAIN_NORMS[:5], names(TRAIN_NORMS), dump_names, name="normalizations to train",
          label="Normalizations", options=TRAIN_NORMS,
          help="“Your setting” is the axes, G and centering chosen above (G fitted to the network's 8 channels)."),
    Field("trbatches", (2, 4, 8, 16, 32), int_choices(TRAIN_BATCHES), dump_floats, name="training batch sizes",
          label="Batch sizes B", options=TRAIN_BATCHES,
          help="Images a norm layer pools its statistics over; each step's 32 images are split into 32/B batches."),
    whole("trseeds", 2, 1, 5, name="training seeds", label="Seeds", help="Runs per setting, from seeds 0, 1, …"),
)  # fmt: skip
BY_KEY = {f.key: f for f in FIELDS}


def defaults() -> dict[str, Any]:
    """Every setting at its default."""
    return {f.key: f.default for f in FIELDS}


def from_query(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Values for the settings present in ``params`` (str or list of str), and a notice for each
    parameter that was ignored (unknown, or a bad value that falls back to the default)."""
    values: dict[str, Any] = {}
    notices: list[str] = []
    for key, raw in params.items():
        raw = raw[-1] if isinstance(raw, list | tuple) else raw
        field = BY_KEY.get(key)
        if field is None:
            notices.append(f"Ignored the unknown link parameter “{key}”.")
            continue
        try:
            values[key] = field.parse(str(raw))
        except ValueError as err:
            shown = str(raw) if len(str(raw)) <= 40 else str(raw)[:40] + "…"
            notices.append(
                f"Ignored {field.name or key} “{shown}” from the link ({err}); "
                f"using the default, {field.dump(field.default) or 'none'}."
            )
    return values, notices


def to_query(values: Mapping[str, Any]) -> dict[str, str]:
    """The query parameters for ``values``: only settings that differ from their defaults."""
    out = {}
    for field in FIELDS:
        if field.key in values and values[field.key] != field.default:
            out[field.key] = field.dump(values[field.key])
    return out


def match_preset(axes: str, groups: int, center: bool) -> str:
    """The preset whose toggles these settings are, or CUSTOM. GroupNorm is any G > 1 over C, H, W;
    a GroupNorm whose G = C is still the GroupNorm preset (the summary says it equals InstanceNorm)."""
    if axes == "CHW" and center and groups > 1:
        return "GroupNorm"
    for name, preset in PRESETS.items():
        if preset.axes == axes and preset.center == center and not preset.grouped and groups == 1:
            return name
    return CUSTOM

"""Every page setting declared once, and its round trip through the URL query string.

``FIELDS`` is the table: a key (the widget key and the URL parameter), a default, a parser that
raises ``ValueError`` with a reason, and a printer. ``from_query`` turns query parameters into
values plus notices for the ones it had to ignore; ``to_query`` writes only what differs from the
defaults, so the link of an untouched page is clean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import NormvizError
from .inputs import NAMED_FILTERS, sample_files
from .spec import PRESETS, default_groups, divisors, parse_axes
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
    """One setting: ``key`` names both the widget and the URL parameter."""

    key: str
    default: Any
    parse: Callable[[str], Any]
    dump: Callable[[Any], str] = str
    label: str = ""


def choice(options) -> Callable[[str], str]:
    options = tuple(options)

    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"choose one of {', '.join(options)}")
        return raw

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


PRESET_CHOICES = (*PRESETS, CUSTOM)
#: What the Training tab can compare: the page's current setting, the presets, no normalization.
TRAIN_NORMS = ("Your setting", "BatchNorm", "GroupNorm", "InstanceNorm", "LayerNorm", "LayerNorm channels-last",
               "RMSNorm", "No normalization")  # fmt: skip
TRAIN_BATCHES = (1, 2, 4, 8, 16, 32)
TABS = ("Channels", "Statistics", "Histograms", "Compare", "Code", "Train vs eval", "Batch size", "Training")
SAMPLE_NAMES = tuple(name for name, _ in sample_files())

FIELDS: tuple[Field, ...] = (
    # input
    Field("source", "samples", choice(SOURCES), label="input source"),
    Field("photos", SAMPLE_NAMES, names(SAMPLE_NAMES), dump_names, label="sample photos"),
    Field("size", 96, integer(4, 1024), label="image size"),
    Field("fit", "crop", choice(("crop", "squash", "pad")), label="fit"),
    Field("colour", "auto", choice(("auto", "rgb", "grey")), label="colour"),
    Field("rn", 4, integer(1, 256), label="random N"),
    Field("rc", 6, integer(1, 1024), label="random C"),
    Field("rh", 16, integer(1, 1024), label="random H"),
    Field("rw", 16, integer(1, 1024), label="random W"),
    Field("dist", "normal", choice(("normal", "uniform")), label="distribution"),
    Field("nshift", 1.0, number(0, 10_000), label="per-sample shift spread"),
    Field("nscale", 0.5, number(0, 3), label="per-sample scale spread"),
    Field("cshift", 0.0, number(0, 10_000), label="per-channel shift spread"),
    Field("cscale", 0.0, number(0, 3), label="per-channel scale spread"),
    Field("seed", 0, integer(0, 2**31 - 1), label="seed"),
    Field("fbase", "samples", choice(("samples", "upload")), label="feature-map images"),
    Field("bank", "named", choice(("named", "random")), label="filters"),
    Field("fnames", NAMED_FILTERS, names(NAMED_FILTERS), dump_names, label="named filters"),
    Field("k", 8, integer(1, 64), label="number of filters"),
    Field("ksize", 3, integer(3, 5), label="filter size"),
    Field("relu", True, boolean, dump_bool, label="ReLU"),
    Field("layout", "NCHW", choice(("NCHW", "NHWC")), label="array layout"),
    # normalization
    Field("preset", "BatchNorm", choice(PRESET_CHOICES), label="preset"),
    Field("axes", "NHW", axes_value, dump_axes, label="reduced axes"),
    Field("groups", 1, integer(1, 4096), label="groups"),
    Field("eps", 1e-5, number(1e-12, 10, positive=True), label="ε"),
    Field("center", True, boolean, dump_bool, label="centering"),
    Field("gscale", 1.0, number(-100, 100), label="γ (all channels)"),
    Field("bshift", 0.0, number(-100, 100), label="β (all channels)"),
    Field("gamma", (), float_list, dump_floats, label="γ per channel"),
    Field("beta", (), float_list, dump_floats, label="β per channel"),
    # what is looked at
    Field("cell", (0, 0, 0, 0), cell, dump_cell, label="selected cell"),
    Field("view", "paper", choice(("paper", "exact")), label="cube view"),
    Field("color", "mean", choice(("mean", "variance", "group")), label="cube colour"),
    Field("cpreset", "InstanceNorm", choice(PRESET_CHOICES), label="compare preset"),
    Field("caxes", "HW", axes_value, dump_axes, label="compare axes"),
    Field("cgroups", 1, integer(1, 4096), label="compare groups"),
    Field("tab", TABS[0], choice(TABS), label="tab"),
    # explaining
    Field("clayout", "NCHW", choice(("NCHW", "NHWC")), label="code layout"),
    Field("tbatch", 2, integer(1, 4096), label="training batch size"),
    Field("conv", "pytorch", choice(("pytorch", "keras", "flax")), label="running-statistics convention"),
    Field("momentum", 0.1, number(0, 1), label="momentum"),
    Field("cumulative", False, boolean, dump_bool, label="cumulative average"),
    Field("epochs", 3, integer(1, 50), label="epochs"),
    Field("droplast", False, boolean, dump_bool, label="drop_last"),
    Field("crop", 32, integer(1, 1024), label="crop size"),
    Field("draws", 200, integer(2, 2000), label="draws"),
    # training
    Field("trtask", "photo", choice(TRAIN_TASKS), label="training task"),
    Field("trnorms", TRAIN_NORMS[:5], names(TRAIN_NORMS), dump_names, label="normalizations to train"),
    Field("trbatches", (2, 4, 8, 16, 32), int_choices(TRAIN_BATCHES), dump_floats, label="training batch sizes"),
    Field("trseeds", 2, integer(1, 5), label="training seeds"),
)
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
                f"Ignored {field.label or key} “{shown}” from the link ({err}); "
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


def page_groups(channels: int) -> int:
    """G the GroupNorm preset takes on the page: the paper's 32, or the largest divisor of C below it,
    as long as that leaves groups of at least two channels; else the largest divisor of C up to C/2,
    so a small C still shows real groups. Only a C with no such divisor (1, or a prime) gets G = C."""
    paper = default_groups(channels)
    if paper < channels:
        return paper
    proper = [d for d in divisors(channels) if 1 < d <= channels // 2]
    return max(proper) if proper else paper


def fit_groups(wanted: int | str, channels: int) -> int:
    """G for C = ``channels`` from the G the user asked for (an int) or "auto" (the preset's)."""
    if wanted == "auto":
        return page_groups(channels)
    return max(d for d in divisors(channels) if d <= max(1, int(wanted)))


def match_preset(axes: str, groups: int, center: bool) -> str:
    """The preset whose toggles these settings are, or CUSTOM. GroupNorm is any G > 1 over C, H, W;
    a GroupNorm whose G = C is still the GroupNorm preset (the summary says it equals InstanceNorm)."""
    if axes == "CHW" and center and groups > 1:
        return "GroupNorm"
    for name, preset in PRESETS.items():
        if preset.axes == axes and preset.center == center and not preset.grouped and groups == 1:
            return name
    return CUSTOM

"""Axis names, the frozen normalization spec, presets, and naming a spec.

A spec says which of the axes N, C, H, W of an (N, C, H, W) tensor share a mean and variance,
how channels are grouped when C is reduced, ε, and whether values are centered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from .errors import NormvizError

AXES = "NCHW"
AXIS_NAMES = {"N": "batch", "C": "channel", "H": "height", "W": "width"}


def parse_axes(axes: str | Iterable[str]) -> str:
    """Return the reduced axes as a canonical string in N, C, H, W order (e.g. ``"NHW"``).

    ``axes`` is a string (``"NHW"``, ``"n,h,w"``) or an iterable of letters (``["H", "W"]``).
    Order does not matter; case, spaces and commas are ignored; the empty set is allowed.

    >>> parse_axes("wHn")
    'NHW'
    """
    if isinstance(axes, str):
        letters = [ch for ch in axes if ch not in " ,"]
    else:
        try:
            items = list(axes)
        except TypeError:
            raise NormvizError(f"axes must be a string such as 'NHW' or a list of letters; got {axes!r}.") from None
        letters = []
        for item in items:
            if not isinstance(item, str) or len(item.strip()) != 1:
                raise NormvizError(f"axes must be single letters from N, C, H, W; got {item!r} in {items!r}.")
            letters.append(item.strip())
    upper = [ch.upper() for ch in letters]
    unknown = sorted({ch for ch, up in zip(letters, upper) if up not in AXES})
    if unknown:
        raise NormvizError(
            f"unknown axis letter(s) {', '.join(repr(u) for u in unknown)} in axes {axes!r}; "
            "use letters from N, C, H, W (e.g. 'NHW' for BatchNorm)."
        )
    repeated = sorted({up for up in upper if upper.count(up) > 1}, key=AXES.index)
    if repeated:
        raise NormvizError(
            f"axis {', '.join(repeated)} appears more than once in axes {axes!r}; name each axis at most once."
        )
    return "".join(ax for ax in AXES if ax in upper)


def divisors(n: int) -> list[int]:
    """All positive divisors of ``n`` in increasing order."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def default_groups(channels: int, preferred: int = 32) -> int:
    """GroupNorm's G for C = ``channels``: the one rule used by the presets, the page and Compare.

    The paper's G = ``preferred`` (32) when it divides C, else the largest divisor of C below it —
    as long as that leaves groups of at least two channels. Where it would not (C ≤ 32, e.g. C = 6
    would give G = 6, every channel alone: InstanceNorm), G is the largest divisor of C up to C/2,
    so a learner who picks GroupNorm sees real groups, between LayerNorm (G = 1) and InstanceNorm
    (G = C). Only a C with no such divisor (1 or a prime) gets G = C.

    >>> [default_groups(c) for c in (64, 96, 48, 32, 6, 3)]
    [32, 32, 24, 16, 3, 3]
    """
    paper = max(d for d in divisors(channels) if d <= preferred)
    if paper < channels:
        return paper
    proper = [d for d in divisors(channels) if 1 < d <= channels // 2]
    return max(proper) if proper else paper


def fit_groups(wanted: int | str, channels: int) -> int:
    """G for C = ``channels`` from the G asked for: an int (the largest divisor of C up to it) or
    ``"auto"`` (the preset's, ``default_groups``)."""
    if wanted == "auto":
        return default_groups(channels)
    return max(d for d in divisors(channels) if d <= max(1, int(wanted)))


@dataclass(frozen=True)
class NormSpec:
    """A validated normalization setting (without the tensor and without γ/β).

    axes: canonical reduced axes in N, C, H, W order; groups: channel groups when C is reduced
    (1 otherwise); eps: ε > 0 inside the square root; center: False gives RMS normalization.
    """

    axes: str
    groups: int = 1
    eps: float = 1e-5
    center: bool = True

    @classmethod
    def make(cls, axes, groups=1, eps=1e-5, center=True) -> NormSpec:
        """Validate the settings (not yet against a shape) and return a spec."""
        canonical = parse_axes(axes)
        if isinstance(groups, bool) or not isinstance(groups, (int,)) and not _is_integral(groups):
            raise NormvizError(f"groups must be a whole number ≥ 1; got {groups!r}.")
        groups = int(groups)
        if groups < 1:
            raise NormvizError(f"groups must be ≥ 1; got {groups}. Use groups=1 for no grouping.")
        if groups > 1 and "C" not in canonical:
            raise NormvizError(
                f"groups={groups} splits the channel axis, but C is not reduced "
                f"(axes {canonical or 'none'}); add C to the axes (e.g. 'CHW' for GroupNorm) "
                "or use groups=1."
            )
        try:
            eps = float(eps)
        except (TypeError, ValueError):
            raise NormvizError(f"eps must be a positive number; got {eps!r}.") from None
        if not (eps > 0) or not math.isfinite(eps):
            raise NormvizError(
                f"eps must be a positive finite number (it keeps the division away from zero); "
                f"got {eps!r}. Typical values: 1e-5 (PyTorch), 1e-3 (Keras), 1e-6 (Flax)."
            )
        return cls(axes=canonical, groups=groups, eps=eps, center=bool(center))

    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise NormvizError when this spec cannot apply to a tensor of ``shape`` (N, C, H, W)."""
        channels = shape[1]
        if "C" in self.axes and channels % self.groups:
            choices = ", ".join(str(d) for d in divisors(channels))
            raise NormvizError(
                f"groups={self.groups} must divide the number of channels C={channels}; choose one of {choices}."
            )

    def stats_shape(self, shape: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Shape of the statistics grid: (N or 1, C or groups or 1, H or 1, W or 1)."""
        n, c, h, w = shape
        return (
            1 if "N" in self.axes else n,
            self.groups if "C" in self.axes else c,
            1 if "H" in self.axes else h,
            1 if "W" in self.axes else w,
        )

    def group_size(self, shape: tuple[int, int, int, int]) -> int:
        """Number of values that share one mean and variance."""
        n, c, h, w = shape
        size = c // self.groups if "C" in self.axes else 1
        for ax, dim in zip("NHW", (n, h, w)):
            if ax in self.axes:
                size *= dim
        return size


def _is_integral(value) -> bool:
    try:
        return float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        return False


@dataclass(frozen=True)
class Preset:
    """A named normalization layer: its axes, centering, and how G follows from C."""

    name: str
    axes: str
    center: bool = True
    grouped: bool = False
    summary: str = ""

    def groups_for(self, channels: int) -> int:
        """G for a tensor with ``channels`` channels (GroupNorm: ``default_groups``, else 1)."""
        return default_groups(channels) if self.grouped else 1

    def spec(self, channels: int, eps: float = 1e-5) -> NormSpec:
        """The spec this preset gives for a tensor with ``channels`` channels."""
        return NormSpec.make(self.axes, self.groups_for(channels), eps, self.center)


PRESETS = MappingProxyType(
    {
        p.name: p
        for p in (
            Preset("BatchNorm", "NHW", summary="one mean and variance per channel, over the batch and all positions"),
            Preset("LayerNorm", "CHW", summary="one per sample, over all channels and positions (the GN paper's LN)"),
            Preset(
                "LayerNorm channels-last",
                "C",
                summary="one per pixel, over the channels (ConvNeXt's LayerNorm; PixelNorm)",
            ),
            Preset("InstanceNorm", "HW", summary="one per sample and channel, over positions"),
            Preset(
                "GroupNorm",
                "CHW",
                grouped=True,
                summary="one per sample and group of channels, over the group and all positions",
            ),
            Preset("RMSNorm", "CHW", center=False, summary="like LayerNorm without centering: x / √(mean(x²) + ε)"),
        )
    }
)

_ALIASES = {
    "bn": "BatchNorm",
    "batchnorm": "BatchNorm",
    "batchnorm2d": "BatchNorm",
    "ln": "LayerNorm",
    "layernorm": "LayerNorm",
    "pixelnorm": "LayerNorm channels-last",
    "layernormchannelslast": "LayerNorm channels-last",
    "layernormchannelslastpixelnorm": "LayerNorm channels-last",
    "in": "InstanceNorm",
    "instancenorm": "InstanceNorm",
    "instancenorm2d": "InstanceNorm",
    "gn": "GroupNorm",
    "groupnorm": "GroupNorm",
    "rms": "RMSNorm",
    "rmsnorm": "RMSNorm",
}


def get_preset(name: str) -> Preset:
    """Look up a preset by name or alias, ignoring case, spaces, dashes and slashes."""
    key = "".join(ch for ch in str(name).lower() if ch.isalnum())
    if key in _ALIASES:
        return PRESETS[_ALIASES[key]]
    raise NormvizError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")


@dataclass(frozen=True)
class Identity:
    """What a spec is called on a given shape.

    name: the layer's name ("BatchNorm", "GroupNorm", "Custom"…); label: a readable one-liner
    ("GroupNorm (G = 8)"). What holds for a given shape (N = 1, one-value groups) is said by
    ``normviz.explain.remarks_for``.
    """

    name: str
    label: str

    @property
    def is_custom(self) -> bool:
        return self.name in ("Custom", "None")


def identify(spec: NormSpec, shape: tuple[int, int, int, int] | None = None) -> Identity:
    """Name a spec; ``shape`` (N, C, H, W), when given, tells GroupNorm with G = C (InstanceNorm).

    >>> identify(NormSpec.make("CHW", groups=3), (2, 3, 4, 4)).label
    'InstanceNorm (GroupNorm with G = C = 3)'
    """
    axes, g = spec.axes, spec.groups
    channels = shape[1] if shape else None
    if not axes:
        return Identity("None", "no reduction")
    if axes == "NHW":
        name, label = "BatchNorm", "BatchNorm"
    elif axes == "HW":
        name, label = "InstanceNorm", "InstanceNorm"
    elif axes == "CHW" and g == 1:
        name, label = "LayerNorm", "LayerNorm"
    elif axes == "CHW" and g == channels:
        name, label = "InstanceNorm", f"InstanceNorm (GroupNorm with G = C = {g})"
    elif axes == "CHW":
        name, label = "GroupNorm", f"GroupNorm (G = {g})"
    elif axes == "C" and g == 1:
        name, label = "LayerNorm channels-last", "LayerNorm channels-last (per pixel; PixelNorm)"
    else:
        name = "Custom"
        label = f"custom: reduce over {', '.join(axes)}" + (f" in {g} channel groups" if g > 1 else "")
    if not spec.center:
        if name == "LayerNorm":
            name, label = "RMSNorm", "RMSNorm"
        else:
            name, label = "Custom", f"{label} without centering (RMS-style)"
    return Identity(name, label)

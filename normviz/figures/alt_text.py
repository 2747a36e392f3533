"""Alternative text for the page's images: what each picture shows, in words a screen reader reads.

>>> layer_phrase(NormSpec.make("NHW"), (6, 3, 96, 96))
'BatchNorm'
>>> tile_alt("coffee", "output", channel=2, layer="InstanceNorm", rgb_names=True)
'coffee, channel 2 (blue), after InstanceNorm'
>>> tile_alt("coffee", "input RGB", channel=None, layer="InstanceNorm")
'coffee, input as colour'
"""

from __future__ import annotations

from ..spec import NormSpec, identify

#: Names of the channels of a colour image, in the order the tensor holds them.
RGB_NAMES = ("red", "green", "blue")
KINDS = ("input", "output", "input RGB", "output RGB")


def layer_phrase(spec: NormSpec, shape: tuple[int, int, int, int]) -> str:
    """How an alt text names a normalization: its layer, or what it reduces over.

    >>> layer_phrase(NormSpec.make("CHW", groups=2), (1, 4, 8, 8))
    'GroupNorm (G = 2)'
    >>> layer_phrase(NormSpec.make("NC"), (1, 4, 8, 8))
    'normalization over N, C'
    """
    ident = identify(spec, shape)
    if not spec.axes:
        return "no normalization (every value its own group)"
    if not ident.is_custom:
        return ident.label
    over = ", ".join(spec.axes)
    if "C" in spec.axes and spec.groups > 1:
        over = over.replace("C", f"C in {spec.groups} groups")
    return f"normalization over {over}" + ("" if spec.center else " without centering")


def channel_name(channel: int, rgb_names: bool) -> str:
    """ "channel 2", or "channel 2 (blue)" for a colour image's channels."""
    if rgb_names and 0 <= channel < len(RGB_NAMES):
        return f"channel {channel} ({RGB_NAMES[channel]})"
    return f"channel {channel}"


def tile_alt(
    sample: str,
    kind: str,
    *,
    channel: int | None,
    layer: str,
    rgb_names: bool = False,
    selected: bool = False,
) -> str:
    """The alt text of one gallery or Compare image.

    sample: the sample's name ("coffee"); kind: "input" or "output" (one channel, needs ``channel``),
    "input RGB" or "output RGB" (the whole colour image); layer: ``layer_phrase``; rgb_names: name
    the channels red, green, blue; selected: the image holds cells of the selected group (outlined).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if kind in ("input", "output") and channel is None:
        raise ValueError(f"a {kind!r} image shows one channel: give its index")
    if kind == "input RGB":
        text = f"{sample}, input as colour"
    elif kind == "output RGB":
        text = f"{sample}, after {layer}, recomposed as colour"
    elif kind == "input":
        text = f"{sample}, {channel_name(channel, rgb_names)}, input in grey"
    else:
        text = f"{sample}, {channel_name(channel, rgb_names)}, after {layer}"
    return text + (", outlined: holds the selected group" if selected else "")


def colorbar_alt(lo: float, hi: float, *, diverging: bool, unit: str = "") -> str:
    """The alt text of a colour-bar image: which colour stands for which value.

    >>> colorbar_alt(-2.5, 2.5, diverging=True)
    'Output colour scale: dark blue at −2.5, white at 0, dark red at +2.5'
    >>> colorbar_alt(0, 1, diverging=False, unit="pixel values")
    'Input grey scale: black at 0, white at 1 (pixel values)'
    """
    tail = f" ({unit})" if unit else ""
    if diverging:
        return f"Output colour scale: dark blue at {_signed(lo)}, white at 0, dark red at {_signed(hi)}{tail}"
    return f"Input grey scale: black at {_plain(lo)}, white at {_plain(hi)}{tail}"


def _signed(value: float) -> str:
    return f"−{-value:g}" if value < 0 else f"+{value:g}" if value > 0 else "0"


def _plain(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")

"""The plain-words summary of a normalization on a shape (its remarks come from ``normviz.explain``)."""

from __future__ import annotations

from .codegen import NEEDS_LAYOUT, layer_kind, snippet
from .core import NormResult
from .spec import NormSpec, identify


def per_what(spec: NormSpec, shape) -> str:
    """What one statistic belongs to, e.g. "one per channel", "one per sample and group of 2 channels"."""
    n, c, h, w = shape
    parts = []
    if "N" not in spec.axes and n > 1:
        parts.append("sample")
    if "C" not in spec.axes and c > 1:
        parts.append("channel")
    elif "C" in spec.axes and spec.groups > 1:
        size = c // spec.groups
        parts.append(f"group of {size} channel{'s' if size > 1 else ''}")
    kept_h, kept_w = "H" not in spec.axes and h > 1, "W" not in spec.axes and w > 1
    if kept_h and kept_w:
        parts.append("pixel")
    elif kept_h:
        parts.append("row")
    elif kept_w:
        parts.append("column")
    if not parts:
        return "one for the whole tensor"
    return "one per " + (" and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1])


_LAYER_SETTINGS = ("eps", "affine", "elementwise_affine")  # the snippet's keywords; the rest are sizes


def _size_text(size) -> str:
    """A size argument as the summary writes it: "3" for 3 or (3,), "[3, 64, 48]" for (3, 64, 48)."""
    if isinstance(size, tuple):
        return str(size[0]) if len(size) == 1 else str(list(size))
    return str(size)


def torch_spelling(spec: NormSpec, shape) -> str | None:
    """The PyTorch layer that computes this normalization on this shape, or None if none does.

    The layer is the one codegen's PyTorch snippet uses on an NCHW tensor, written with its sizes alone
    (e.g. "nn.LayerNorm([3, 64, 48])"), and with the permute when that layer wants channels last.

    >>> torch_spelling(NormSpec.make("CHW", groups=2), (4, 6, 8, 8))
    'nn.GroupNorm(2, 6)'
    """
    snip = snippet(spec, shape, "pytorch", "NCHW")
    if snip.layer is None:
        return None
    sizes = ", ".join(_size_text(value) for key, value in snip.arguments.items() if key not in _LAYER_SETTINGS)
    permute = " on x.permute(0, 2, 3, 1)" if NEEDS_LAYOUT["pytorch"][layer_kind(spec)] == "last" else ""
    return f"{snip.layer.removeprefix('torch.')}({sizes}){permute}"


def summary_sentence(res: NormResult) -> str:
    """E.g. "Reducing over N, H, W: 3 statistics (one per channel), 12,288 values each — this is
    BatchNorm (PyTorch `nn.BatchNorm2d(3)`)."
    """
    spec, shape = res.spec, res.shape
    ident = identify(spec, shape)
    over = ", ".join(spec.axes) if spec.axes else "no axis"
    if "C" in spec.axes and spec.groups > 1:
        over = over.replace("C", f"C in {spec.groups} groups")
    count = f"{res.n_groups:,} statistic{'s' if res.n_groups != 1 else ''} ({per_what(spec, shape)})"
    each = f"{res.count:,} value{'s' if res.count != 1 else ''} each"
    torch = torch_spelling(spec, shape)
    if ident.is_custom:
        what = "no standard layer does exactly this" if torch is None else f"PyTorch `{torch}`"
        tail = f"a custom normalization ({what})"
    else:
        tail = f"this is {ident.label}" + (f" (PyTorch `{torch}`)" if torch else "")
    centering = "" if spec.center else " without centering"
    return f"Reducing over {over}{centering}: {count}, {each} — {tail}."

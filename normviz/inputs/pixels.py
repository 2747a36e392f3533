"""Decode one opened image and bring the part the batch uses to its place, in bounded memory.

The image is decoded once (a JPEG at 1/2, 1/4 or 1/8 scale when that still covers twice the
output resolution). Everything after that works on horizontal strips of at most
``STRIP_PIXELS`` source pixels: each strip of the box the batch uses is cut out, turned to the
displayed orientation, converted to ``L``, ``RGB`` or ``F`` and shrunk by an integer factor
(``Image.reduce``, exactly what ``Image.resize(..., reducing_gap=3)`` does first), so no
full-size converted copy ever exists. The shrunk image is then resized with bicubic filtering.

Memory for one image: its decoded pixels (at most 4 bytes × ``MAX_IMAGE_PIXELS``), the converted,
shrunk copy (at most as many pixels, in 4 bytes each) and a few strips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import NormvizError
from .decode import OpenedImage, reopen
from .filetypes import decoder_error, file_error, format_name
from .limits import MAX_DECODE_BYTES, format_bytes, format_count

#: Source pixels converted at a time.
STRIP_PIXELS = 1 << 20
#: As ``Image.resize(..., reducing_gap=REDUCING_GAP)``: shrink by whole factors down to at most this
#: many times the output size, then resample.
REDUCING_GAP = 3.0
_SUPPORT = 1.5  # bicubic filter support (2) minus half a pixel, as Pillow's _get_safe_box
_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}
_ALPHA_MODES = {"LA", "La", "RGBA", "RGBa", "PA"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Placement:
    """Where one image goes: the source ``box`` (x0, y0, x1, y1) in displayed pixels is resized
    to ``out`` = (width, height) and placed at ``at`` = (x, y) in the H×W canvas."""

    box: tuple[float, float, float, float]
    out: tuple[int, int]
    at: tuple[int, int]


def min_decode_size(source: tuple[int, int], place: Placement) -> tuple[int, int]:
    """Smallest whole-image size (width, height) that still samples the box at twice the output
    resolution, so a reduced-scale JPEG decode costs no visible quality."""
    x0, y0, x1, y1 = place.box
    need_w = math.ceil(2 * source[0] * place.out[0] / (x1 - x0))
    need_h = math.ceil(2 * source[1] * place.out[1] / (y1 - y0))
    return min(source[0], need_w), min(source[1], need_h)


def decoded_pixels(opened: OpenedImage, place: Placement) -> int:
    """How many pixels decoding ``opened`` for ``place`` produces (a JPEG may decode smaller).

    Raises NormvizError if decoding them would take more than ``MAX_DECODE_BYTES``."""
    pixels = opened.size[0] * opened.size[1]
    if opened.format in ("JPEG", "MPO"):
        try:
            with reopen(opened) as image:
                _draft(opened, image, place)
                pixels = image.width * image.height
        except Exception as err:
            raise decoder_error(opened.name, opened.format, err) from None
    cost = decode_bytes(opened, pixels)
    if cost > MAX_DECODE_BYTES:
        width, height = opened.size
        raise file_error(
            "large",
            f"{opened.name} ({width:,}×{height:,} {format_name(opened.format)}, {opened.mode}) would take about "
            f"{format_bytes(cost)} to decode, over the {format_bytes(MAX_DECODE_BYTES)} allowed per image; "
            "downscale it or save it as PNG or JPEG, and upload it again.",
        )
    return pixels


def decode_bytes(opened: OpenedImage, pixels: int) -> int:
    """Estimated memory Pillow takes to decode ``pixels`` pixels of ``opened``: the image (1, 2 or
    4 bytes a pixel by mode) times the copies its reader holds, plus the file for a TIFF."""
    per_pixel = 1 if opened.mode in ("1", "L", "P") else 2 if opened.mode in _SIXTEEN_BIT else 4
    if opened.format == "WEBP":
        return 4 * 4 * pixels
    if opened.format == "TIFF":
        return (2 if opened.turned_on_load else 1) * per_pixel * pixels + len(opened.data)
    return per_pixel * pixels


def _draft(opened: OpenedImage, image: Image.Image, place: Placement) -> None:
    """Let a JPEG decode at the smallest of 1/1, 1/2, 1/4, 1/8 scale that still serves ``place``."""
    if opened.format in ("JPEG", "MPO"):
        wanted = min_decode_size(opened.size, place)
        if opened.orientation in (5, 6, 7, 8):
            wanted = wanted[::-1]
        image.draft(None, (max(1, int(wanted[0])), max(1, int(wanted[1]))))


def decode_placed(opened: OpenedImage, place: Placement) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode ``opened`` and resize ``place.box`` of it to ``place.out``.

    Returns float32 (C, h, w) in [0, 1] with C = 1 if ``opened.grey`` else 3, (h, w) =
    ``place.out`` reversed, and notes for the user. Raises NormvizError for a file that fails.
    """
    try:
        with reopen(opened) as image:
            _draft(opened, image, place)
            image.load()
            return _placed(opened, image, place)
    except NormvizError:
        raise
    except Exception as err:
        raise decoder_error(opened.name, opened.format, err) from None


def _placed(opened: OpenedImage, image: Image.Image, place: Placement):
    notes = list(opened.notes)
    orientation = opened.orientation
    shown = image.size[::-1] if orientation in (5, 6, 7, 8) else image.size
    sx, sy = shown[0] / opened.size[0], shown[1] / opened.size[1]
    x0, y0, x1, y1 = place.box
    box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    convert, offset, scale = _converter(opened, image, notes)
    if convert is None and orientation == 1:
        shrunk = image.resize(place.out, Image.Resampling.BICUBIC, box=box, reducing_gap=REDUCING_GAP)
    else:
        shrunk = _strip_resize(image, orientation, shown, box, place.out, convert or (lambda strip: strip))
    values = np.asarray(shrunk, dtype=np.float32)
    values = values.transpose(2, 0, 1) if values.ndim == 3 else values[None]
    if offset:
        values = values - np.float32(offset)
    values = values / np.float32(scale)
    if shrunk.mode == "F":
        np.clip(values, 0.0, 1.0, out=values)
    return values, tuple(notes)


def _strip_resize(image, orientation, shown, box, out, convert) -> Image.Image:
    """``convert(displayed image).resize(out, BICUBIC, box, reducing_gap=3)``, one strip at a time."""
    factor = tuple(int((box[2 + i] - box[i]) / out[i] / REDUCING_GAP) or 1 for i in (0, 1))
    support = [_SUPPORT * (box[2 + i] - box[i]) / out[i] for i in (0, 1)]
    safe = (
        max(0, int(box[0] - support[0])),
        max(0, int(box[1] - support[1])),
        min(shown[0], math.ceil(box[2] + support[0])),
        min(shown[1], math.ceil(box[3] + support[1])),
    )
    if factor == (1, 1):
        # Unshrunk, Pillow's bicubic resize of a cropped copy with the box moved by the crop differs
        # from resizing the whole image (by up to 20 levels in 8 bits, measured), so keep it whole.
        safe = (0, 0, *shown)
    width = safe[2] - safe[0]
    rows = max(1, STRIP_PIXELS // (width * factor[1])) * factor[1]
    canvas = None
    for top in range(safe[1], safe[3], rows):
        bottom = min(safe[3], top + rows)
        strip = image.crop(_stored_box((safe[0], top, safe[2], bottom), orientation, image.size))
        if orientation != 1:
            strip = strip.transpose(_TRANSPOSE[orientation])
        strip = convert(strip)
        if factor != (1, 1):
            strip = strip.reduce(factor)
        if canvas is None:
            size = (math.ceil(width / factor[0]), math.ceil((safe[3] - safe[1]) / factor[1]))
            canvas = Image.new(strip.mode, size)
        canvas.paste(strip, (0, (top - safe[1]) // factor[1]))
    shifted = tuple((box[i] - safe[i % 2]) / factor[i % 2] for i in range(4))
    return canvas.resize(out, Image.Resampling.BICUBIC, box=shifted)


def _stored_box(box, orientation: int, stored: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box of the stored image that ``orientation`` turns into ``box`` of the displayed one."""
    x0, y0, x1, y1 = box
    w, h = stored
    return {
        1: (x0, y0, x1, y1),
        2: (w - x1, y0, w - x0, y1),
        3: (w - x1, h - y1, w - x0, h - y0),
        4: (x0, h - y1, x1, h - y0),
        5: (y0, x0, y1, x1),
        6: (y0, h - x1, y1, h - x0),
        7: (w - y1, h - x1, w - y0, h - x0),
        8: (w - y1, x0, w - y0, x1),
    }[orientation]


def _converter(opened: OpenedImage, image: Image.Image, notes: list):
    """How each strip becomes L, RGB or F (None: it already is), and the (offset, scale) that
    bring its values to [0, 1]."""
    name, mode, grey = opened.name, image.mode, opened.grey
    if mode in ("L", "RGB"):
        return None, 0.0, 255.0
    if mode == "1":
        return (lambda strip: strip.convert("L")), 0.0, 255.0
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in image.info):
        seen = {"transparent": False}

        def flatten(strip):
            rgba = strip if strip.mode in ("LA", "RGBA") else strip.convert("RGBA")
            alpha = rgba.getchannel("A")
            colour = rgba.convert("RGB" if rgba.mode != "LA" else "L")
            if alpha.getextrema()[0] < 255:
                if not seen["transparent"]:
                    notes.append(f"{name} has transparent pixels; they were placed on a white background.")
                    seen["transparent"] = True
                flat = Image.new(colour.mode, colour.size, 255 if colour.mode == "L" else (255, 255, 255))
                flat.paste(colour, mask=alpha)
                colour = flat
            return colour.convert("L") if grey and colour.mode != "L" else colour

        return flatten, 0.0, 255.0
    if mode == "P":
        return (lambda strip: strip.convert("RGB").convert("L") if grey else strip.convert("RGB")), 0.0, 255.0
    if mode == "CMYK":
        notes.append(
            f"{name} is CMYK; it was converted to RGB without a colour profile, so colours may "
            "differ slightly from a print preview."
        )
        return (lambda strip: strip.convert("RGB")), 0.0, 255.0
    if mode in _SIXTEEN_BIT:
        notes.append(f"{name} has 16 bits per pixel; values were scaled by 1/65535 (not clipped).")
        return (lambda strip: strip.convert("F")), 0.0, 65535.0
    if mode in ("I", "F"):
        offset, scale = _value_range(name, image, mode, notes)
        return (lambda strip: strip.convert("F")), offset, scale
    try:
        Image.new(mode, (1, 1)).convert("RGB")
    except Exception:
        raise file_error(
            "values",
            f"{name} uses the colour mode {mode}, which cannot be converted to RGB here; "
            "save it as an RGB or greyscale image.",
        ) from None
    return (lambda strip: strip.convert("RGB")), 0.0, 255.0


def _value_range(name: str, image: Image.Image, mode: str, notes: list) -> tuple[float, float]:
    """(offset, scale) for an I or F image, from its values (read a strip at a time)."""
    low, high, bad = math.inf, -math.inf, 0
    rows = max(1, STRIP_PIXELS // image.width)
    for top in range(0, image.height, rows):
        values = np.asarray(image.crop((0, top, image.width, min(image.height, top + rows))))
        finite = np.isfinite(values)
        bad += values.size - int(np.count_nonzero(finite))
        if finite.any():
            low, high = min(low, float(values[finite].min())), max(high, float(values[finite].max()))
    if bad:
        raise file_error(
            "values",
            f"{name} holds {format_count(bad)} NaN or infinite pixel value(s); "
            "save it with finite values (or as an 8- or 16-bit image).",
        )
    if mode == "I" and low >= 0 and high <= 65535:
        notes.append(f"{name} holds 16-bit values; they were scaled by 1/65535 (not clipped).")
        return 0.0, 65535.0
    if mode == "F" and low >= 0 and high <= 1:
        return 0.0, 1.0
    notes.append(
        f"{name} holds {'integer' if mode == 'I' else 'floating-point'} pixels from {low:g} to "
        f"{high:g}; they were rescaled to [0, 1]."
    )
    return low, (high - low) or 1.0

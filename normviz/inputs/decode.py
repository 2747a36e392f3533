"""Open and decode one uploaded image with Pillow, refusing bad files before they cost anything.

``open_image`` reads only the header: it checks the format and the declared size against
``MAX_IMAGE_PIXELS`` (a decompression bomb is refused before any pixel is decoded) and notes
animation. ``decode_opened`` then decodes the first frame — a JPEG at a reduced scale when that
still covers the size asked for — applies the EXIF orientation, and brings every mode to one of
three: ``L`` or ``RGB`` (8 bits) or ``F`` (high precision: 16-bit, 32-bit and float files).
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import NormvizError
from .base import display_name
from .limits import MAX_IMAGE_PIXELS, format_count

#: The file formats accepted, as Pillow names them.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
_FORMATS_TEXT = "PNG, JPEG, WebP, BMP, GIF or TIFF"
_GREY_MODES = {"1", "L", "LA", "La", "I", "F"}
_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}
_ANIMATED_FORMATS = {"GIF", "PNG", "WEBP"}
_ISO_BRANDS = {
    **dict.fromkeys(("heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"), "a HEIC/HEIF image"),
    **dict.fromkeys(("avif", "avis"), "an AVIF image"),
}

if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_IMAGE_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


@dataclass(frozen=True, eq=False)
class OpenedImage:
    """A checked image header. ``size`` is (width, height) as displayed (after EXIF rotation)."""

    name: str
    image: Image.Image
    size: tuple[int, int]
    grey: bool
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """Decoded pixels: ``image`` in mode L, RGB or F; value / ``scale`` lies in [0, 1] (F: after
    subtracting ``offset``). ``size`` is the displayed size before any reduced-scale decoding."""

    name: str
    image: Image.Image
    size: tuple[int, int]
    grey: bool
    offset: float
    scale: float
    notes: tuple[str, ...]


def open_image(name: str, data: bytes) -> OpenedImage:
    """Read the header of an uploaded image; raise NormvizError naming the file if it is unusable."""
    name = display_name(name)
    data = bytes(data)
    if not data:
        raise NormvizError(f"{name} is empty (0 bytes); the upload may have failed — upload it again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise NormvizError(_too_large(name, _declared_pixels(str(err)))) from None
    except UnidentifiedImageError:
        raise NormvizError(
            f"{name} is not an image Pillow can read ({_sniff(data)}); upload {_FORMATS_TEXT}."
        ) from None
    except Exception as err:
        raise NormvizError(_damaged(name, err)) from None
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise NormvizError(_too_large(name, width * height, (width, height)))
    notes = []
    try:
        if getattr(image, "is_animated", False):
            if image.format == "TIFF":
                notes.append(f"{name} has {image.n_frames} pages; its first page is used.")
            elif image.format in _ANIMATED_FORMATS:
                notes.append(f"{name} is animated; its first frame is used.")
            else:
                notes.append(f"{name} holds several images; the first one is used.")
            image.seek(0)
        orientation = image.getexif().get(0x0112, 1)
    except Exception as err:
        raise NormvizError(_damaged(name, err)) from None
    size = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return OpenedImage(name, image, size, _is_grey(image), tuple(notes))


def decode_opened(opened: OpenedImage, min_size: tuple[int, int] | None = None) -> DecodedImage:
    """Decode the first frame of ``opened``; a JPEG may decode at 1/2, 1/4 or 1/8 scale as long as
    the result stays at least ``min_size`` = (width, height) as displayed."""
    name, image = opened.name, opened.image
    try:
        if min_size and image.format == "JPEG":
            wanted = min_size if opened.size == image.size else min_size[::-1]
            image.draft(None, (max(1, int(wanted[0])), max(1, int(wanted[1]))))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return _canonical(opened, image)
    except NormvizError:
        raise
    except Exception as err:
        raise NormvizError(_damaged(name, err)) from None


def _canonical(opened: OpenedImage, image: Image.Image) -> DecodedImage:
    name, mode = opened.name, image.mode
    notes = list(opened.notes)

    def done(img, grey, offset=0.0, scale=255.0):
        return DecodedImage(name, img, opened.size, grey, offset, scale, tuple(notes))

    if mode in ("L", "RGB"):
        return done(image, mode == "L")
    if mode == "1":
        return done(image.convert("L"), True)
    if mode in ("LA", "La", "RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA") if mode not in ("LA", "RGBA") else image
        flat = _on_white(rgba, name, notes)
        return done(flat.convert("L") if opened.grey else flat, opened.grey)
    if mode == "P":
        rgb = image.convert("RGB")
        return done(rgb.convert("L") if opened.grey else rgb, opened.grey)
    if mode == "CMYK":
        notes.append(
            f"{name} is CMYK; it was converted to RGB without a colour profile, so colours may "
            "differ slightly from a print preview."
        )
        return done(image.convert("RGB"), False)
    if mode in _SIXTEEN_BIT:
        notes.append(f"{name} has 16 bits per pixel; values were scaled by 1/65535 (not clipped).")
        return done(image.convert("F"), True, 0.0, 65535.0)
    if mode in ("I", "F"):
        return _high_precision(name, image.convert("F"), mode, notes, done)
    try:
        return done(image.convert("RGB"), False)
    except Exception:
        raise NormvizError(
            f"{name} uses the colour mode {mode}, which cannot be converted to RGB here; "
            "save it as an RGB or greyscale image."
        ) from None


def _high_precision(name, image, mode, notes, done):
    values = np.asarray(image)
    finite = np.isfinite(values)
    if not finite.all():
        bad = values.size - int(np.count_nonzero(finite))
        raise NormvizError(
            f"{name} holds {format_count(bad)} NaN or infinite pixel value(s); "
            "save it with finite values (or as an 8- or 16-bit image)."
        )
    low, high = float(values.min()), float(values.max())
    if mode == "I" and low >= 0 and high <= 65535:
        notes.append(f"{name} holds 16-bit values; they were scaled by 1/65535 (not clipped).")
        return done(image, True, 0.0, 65535.0)
    if mode == "F" and low >= 0 and high <= 1:
        return done(image, True, 0.0, 1.0)
    notes.append(
        f"{name} holds {'integer' if mode == 'I' else 'floating-point'} pixels from {low:g} to "
        f"{high:g}; they were rescaled to [0, 1]."
    )
    return done(image, True, low, (high - low) or 1.0)


def _on_white(rgba: Image.Image, name: str, notes: list) -> Image.Image:
    """Composite an RGBA or LA image over white; note it when some pixel is not opaque."""
    alpha = rgba.getchannel("A")
    colour = rgba.convert("RGB" if rgba.mode != "LA" else "L")
    if alpha.getextrema()[0] < 255:
        notes.append(f"{name} has transparent pixels; they were placed on a white background.")
        flat = Image.new(colour.mode, colour.size, 255 if colour.mode == "L" else (255, 255, 255))
        flat.paste(colour, mask=alpha)
        return flat
    return colour


def _is_grey(image: Image.Image) -> bool:
    if image.mode in _GREY_MODES or image.mode in _SIXTEEN_BIT:
        return True
    if image.mode in ("P", "PA"):
        palette = image.getpalette("RGB") or []
        return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3))
    return False


def _too_large(name: str, pixels: int | None, size: tuple[int, int] | None = None) -> str:
    declared = (
        f"{size[0]:,}×{size[1]:,} = {format_count(pixels)} pixels"
        if size
        else (f"{format_count(pixels)} pixels" if pixels else "more pixels than allowed")
    )
    return (
        f"{name} declares {declared}, over the cap of {format_count(MAX_IMAGE_PIXELS)} pixels per "
        "image (a file this size could be a decompression bomb); it was refused before decoding. "
        "Downscale it (e.g. to 4000×3000) and upload it again."
    )


def _declared_pixels(message: str) -> int | None:
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


def _damaged(name: str, err: Exception) -> str:
    reason = " ".join(str(err).split())[:160] or type(err).__name__
    return f"{name} is damaged or truncated (Pillow says: {reason}); export it again or upload another file."


def _sniff(data: bytes) -> str:
    """A short phrase saying what the bytes look like."""
    head = data[:64]
    if head.startswith(b"\x93NUMPY"):
        return "it is a NumPy .npy file; load it as your own activations"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive, e.g. a NumPy .npz file; load that as your own activations"
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("latin-1").strip().lower()
        kind = _ISO_BRANDS.get(brand, "an MP4/QuickTime video or other ISO media file")
        return f"it is {kind}; export a still image as JPEG or PNG"
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<svg", b"<?xml")):
        return "it is SVG/XML, a vector format; export it as PNG"
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data[:2048], final=False)
    except UnicodeDecodeError:
        text = None
    printable = text and sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if printable and printable >= 0.95 * len(text):
        preview = " ".join(text.split())[:24].rstrip()
        return f"it looks like text, starting {preview!r}"
    return "it starts with bytes " + " ".join(f"0x{b:02X}" for b in data[:8])

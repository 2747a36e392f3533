"""What an uploaded file is, and the message that says why it cannot be used.

Every refusal of one file is a ``NormvizError`` carrying a ``kind`` (see ``KINDS``), so a batch with
many bad files can be summarised by kind instead of repeating every message.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings

from PIL import Image

from ..errors import NormvizError
from .base import list_names
from .limits import MAX_IMAGE_PIXELS, format_count

#: The file formats accepted, as Pillow names them (an MPO is a JPEG holding several pictures).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
FORMATS_TEXT = "PNG, JPEG, WebP, BMP, GIF or TIFF"
_FORMATS_AND = "PNG, JPEG, WebP, BMP, GIF and TIFF"
#: Why a file was refused, as (one file, several files) phrases for summaries ("1 file …", "3 files …").
KINDS = {
    "empty": ("is empty", "are empty"),
    "unknown": ("is not an image", "are not images"),
    "format": ("is an image in a format not accepted here", "are images in formats not accepted here"),
    "damaged": ("is damaged or truncated", "are damaged or truncated"),
    "variant": ("uses a variant of its format that cannot be read", "use variants of their format that cannot be read"),
    "large": ("is too large to decode here", "are too large to decode here"),
    "values": ("holds pixel values that cannot be used", "hold pixel values that cannot be used"),
}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
)
_FORMAT_NAMES = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "WEBP": "WebP",
    "BMP": "BMP",
    "GIF": "GIF",
    "TIFF": "TIFF",
}
_VARIANT_WORDS = re.compile(r"unsupported|not supported|unknown|not available|cannot handle|no support", re.I)
#: Pillow calls these "unsupported", but they are values no valid file holds.
_DAMAGE_WORDS = re.compile(r"palette size|truncated|broken", re.I)
_ISO_BRANDS = {
    **dict.fromkeys(("heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"), "a HEIC/HEIF image"),
    **dict.fromkeys(("avif", "avis"), "an AVIF image"),
}


def file_error(kind: str, message: str) -> NormvizError:
    """A NormvizError for one file, tagged with its ``kind`` (a key of ``KINDS``)."""
    error = NormvizError(message)
    error.kind = kind
    return error


def kind_of(error: NormvizError) -> str:
    """The ``kind`` of a file error; errors raised elsewhere count as ``"damaged"``."""
    return getattr(error, "kind", "damaged")


def sniffed_format(data: bytes) -> str | None:
    """The accepted format the first bytes announce (Pillow's name), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


def format_name(fmt: str | None) -> str:
    """``"WEBP"`` → ``"WebP"``; an unknown name is returned as it is."""
    return _FORMAT_NAMES.get(fmt or "", fmt or "image")


def unidentified(name: str, data: bytes) -> NormvizError:
    """Why Pillow could not open ``data`` as an accepted format: damaged, an unsupported variant,
    a format Pillow reads but normviz does not accept, or not an image at all."""
    fmt = sniffed_format(data)
    if fmt is not None:
        return decoder_error(name, fmt, _open_error(fmt, data))
    other = _other_format(data)
    if other is not None:
        return file_error(
            "format",
            f"{name} is {other}; Pillow can read it, but normviz accepts only {_FORMATS_AND} — "
            "save it as PNG and upload it again.",
        )
    return file_error("unknown", f"{name} is not an image Pillow can read ({_sniff(data)}); upload {FORMATS_TEXT}.")


def decoder_error(name: str, fmt: str | None, err: BaseException) -> NormvizError:
    """A file of format ``fmt`` that Pillow failed on: an unsupported variant or a damaged file."""
    reason = " ".join(str(err).split())[:160] or type(err).__name__
    what = format_name(fmt)
    if _VARIANT_WORDS.search(reason) and not _DAMAGE_WORDS.search(reason):
        return file_error(
            "variant",
            f"{name} is a {what} file in a variant that cannot be read here (Pillow says: {reason}); "
            f"save it again as an ordinary {what} or as PNG.",
        )
    return file_error(
        "damaged",
        f"{name} is a damaged or truncated {what} file (Pillow says: {reason}); "
        "export it again or upload another file.",
    )


def too_large(name: str, pixels: int | None, size: tuple[int, int] | None = None) -> NormvizError:
    declared = (
        f"{size[0]:,}×{size[1]:,} = {format_count(pixels)} pixels"
        if size
        else (f"{format_count(pixels)} pixels" if pixels else "more pixels than allowed")
    )
    return file_error(
        "large",
        f"{name} declares {declared}, over the cap of {format_count(MAX_IMAGE_PIXELS)} pixels per "
        "image (a file this size could be a decompression bomb); it was refused before decoding. "
        "Downscale it (e.g. to 4000×3000) and upload it again.",
    )


def declared_pixels(message: str) -> int | None:
    """The pixel count in Pillow's decompression-bomb message, if it states one."""
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


def summary(failures: list[tuple[str, NormvizError]], full: int = 2) -> list[str]:
    """Sentences for the files that could not be used, given as (display name, error) in upload
    order: the first ``full`` messages in full, the rest counted by kind with a few names each."""
    if len(failures) <= full + 1:
        return [str(error) for _, error in failures]
    sentences = [str(error) for _, error in failures[:full]]
    rest = failures[full:]
    groups: dict[str, list[str]] = {}
    for name, error in rest:
        groups.setdefault(kind_of(error), []).append(name)
    parts = [
        f"{len(names)} {KINDS.get(kind, ('could not be used',) * 2)[len(names) > 1]} ({list_names(names, 3)})"
        for kind, names in groups.items()
    ]
    sentences.append(f"{len(rest)} more files could not be used: {'; '.join(parts)}.")
    return sentences


def _open_error(fmt: str, data: bytes) -> BaseException:
    """The error Pillow's ``fmt`` reader raises on ``data`` (Image.open hides it)."""
    factory = Image.OPEN[fmt][0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            factory(io.BytesIO(data), "").close()
    except Exception as err:
        return err
    return OSError("the file could not be identified")


def _other_format(data: bytes) -> str | None:
    """``"a Targa (TGA) image"`` if a Pillow reader other than the accepted ones opens the header."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                fmt, description = image.format, image.format_description or image.format
    except Exception:
        return None
    if fmt in IMAGE_FORMATS:
        return None
    article = "an" if description[:1].upper() in "AEIOU" else "a"
    return f"{article} {description} file ({fmt})" if description != fmt else f"{article} {fmt} file"


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

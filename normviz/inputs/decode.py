"""Read what an uploaded image's header says, decoding no pixel.

``open_image`` checks the format and the declared size against ``MAX_IMAGE_PIXELS`` (a
decompression bomb is refused before any pixel is decoded), notes animation, and reads without
decoding what the rest of the batch needs to know first: the orientation (EXIF or XMP, wherever a
PNG keeps it) and whether the image is greyscale (a palette's colours are read from the header).
The file is closed again at once (a WebP reader holds a full-size canvas while open), so a batch
keeps no more than its bytes until ``reopen`` opens it to decode it.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, PngImagePlugin, UnidentifiedImageError

from .base import display_name
from .filetypes import (
    IMAGE_FORMATS,
    declared_pixels,
    decoder_error,
    file_error,
    sniffed_format,
    too_large,
    unidentified,
)
from .limits import MAX_IMAGE_PIXELS

GREY_MODES = {"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}
_ANIMATED_FORMATS = {"GIF", "PNG", "WEBP"}
#: PNG chunks that can carry the orientation (EXIF, ImageMagick's raw profile, XMP).
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt"}
_ORIENTATION_KEYS = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")

if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_IMAGE_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


@dataclass(frozen=True, eq=False)
class OpenedImage:
    """A checked image header.

    ``size`` is (width, height) as displayed. ``orientation`` is the EXIF orientation (1–8) that
    decoding must still apply: Pillow applies a TIFF's itself on load, so a TIFF has 1 and its
    header size is already the displayed size, and ``turned_on_load`` says whether it turns it.
    ``format`` and ``mode`` are Pillow's names.
    """

    name: str
    data: bytes
    format: str
    mode: str
    size: tuple[int, int]
    grey: bool
    orientation: int
    notes: tuple[str, ...]
    turned_on_load: bool = False


def reopen(opened: OpenedImage) -> Image.Image:
    """The image of ``opened``, opened again (lazily: nothing decoded) at its first frame."""
    image = Image.open(io.BytesIO(opened.data), formats=(opened.format,))
    if getattr(image, "is_animated", False):
        image.seek(0)
    return image


def open_image(name: str, data: bytes) -> OpenedImage:
    """Read the header of an uploaded image; raise NormvizError naming the file if it is unusable."""
    name = display_name(name)
    data = bytes(data)
    if not data:
        raise file_error("empty", f"{name} is empty (0 bytes); the upload may have failed — upload it again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise too_large(name, declared_pixels(str(err))) from None
    except UnidentifiedImageError:
        raise unidentified(name, data) from None
    except Exception as err:
        raise decoder_error(name, sniffed_format(data), err) from None
    with image:
        return _checked(name, image, data)


def _checked(name: str, image: Image.Image, data: bytes) -> OpenedImage:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise too_large(name, width * height, (width, height))
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
        orientation = header_orientation(image, data)
        grey = header_grey(image)
    except Exception as err:
        raise decoder_error(name, image.format, err) from None
    size = (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size
    turned = image.format == "TIFF" and image.tag_v2.get(ExifTags.Base.Orientation, 1) in range(2, 9)
    return OpenedImage(name, data, image.format, image.mode, size, grey, orientation, tuple(notes), turned)


def header_orientation(image: Image.Image, data: bytes) -> int:
    """The EXIF orientation ``ImageOps.exif_transpose`` would apply after a full decode, read
    without decoding (``PngImageFile.getexif`` decodes the whole image to reach late chunks)."""
    if image.format == "TIFF":
        return 1
    if image.format == "PNG":
        image.info.update(_late_png_metadata(data))
        exif = Image.Image.getexif(image)
    else:
        exif = image.getexif()
    orientation = exif.get(ExifTags.Base.Orientation, 1)
    return orientation if orientation in range(1, 9) else 1


def header_grey(image: Image.Image) -> bool:
    """Whether the image is greyscale, from its mode or its palette, without decoding."""
    if image.mode in GREY_MODES:
        return True
    if image.mode not in ("P", "PA") or image.palette is None:
        return False
    palette = image.palette
    probe = Image.new("P", (1, 1))
    probe.putpalette(bytes(palette.palette), palette.rawmode or palette.mode)
    colours = probe.getpalette("RGB") or []
    return all(colours[i] == colours[i + 1] == colours[i + 2] for i in range(0, len(colours), 3))


def _late_png_metadata(data: bytes) -> dict:
    """Orientation-bearing metadata from PNG chunks after the image data (up to the next frame of
    an animation, as Pillow's own load reads them); chunk bodies are read, pixel data skipped."""
    stream = io.BytesIO(data)
    stream.seek(8)
    png = PngImagePlugin.PngStream(stream)
    after_data = False
    while True:
        header = stream.read(8)
        if len(header) < 8:
            break
        length, cid = struct.unpack(">I", header[:4])[0], header[4:]
        if cid == b"IEND" or (after_data and cid == b"fcTL"):
            break
        after_data = after_data or cid in (b"IDAT", b"fdAT")
        if after_data and cid in _PNG_METADATA:
            try:
                png.call(cid, stream.tell(), length)
            except Exception:
                break
            stream.read(4)
        else:
            stream.seek(length + 4, io.SEEK_CUR)
    png.close()
    return {key: value for key, value in png.im_info.items() if key in _ORIENTATION_KEYS}

"""Bad image uploads: each one raises NormvizError (or becomes a notice) with a clear message."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from normviz import NormvizError
from normviz.inputs import MAX_ELEMENTS, MAX_IMAGE_PIXELS, MAX_IMAGES, load_images


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_image(rng, height=64, width=64) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width × height pixels, with almost no pixel data."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def error_for(name: str, data: bytes) -> str:
    with pytest.raises(NormvizError) as caught:
        load_images([(name, data)], size=(8, 8))
    return str(caught.value)


def test_empty_file():
    message = error_for("empty.png", b"")
    assert message == "empty.png is empty (0 bytes); the upload may have failed — upload it again."


def test_random_bytes_named_png():
    rng = np.random.default_rng(20)
    data = bytes([0x00, 0x01, 0x02, 0x03]) + rng.bytes(500)
    message = error_for("photo.png", data)
    assert message.startswith("photo.png is not an image Pillow can read (it starts with bytes 0x00 0x01 0x02 0x03")
    assert message.endswith("upload PNG, JPEG, WebP, BMP, GIF or TIFF.")


@pytest.mark.parametrize("fmt, name", [("PNG", "cut.png"), ("JPEG", "cut.jpg")])
def test_truncated_file(fmt, name):
    rng = np.random.default_rng(21)
    data = encode(noise_image(rng), fmt)
    message = error_for(name, data[: len(data) // 2])
    assert message.startswith(f"{name} is a damaged or truncated {fmt} file (Pillow says:")
    assert "upload another file" in message


def test_text_renamed_jpg():
    message = error_for("notes.jpg", b"Shopping list:\n- eggs\n- milk\n")
    assert (
        "notes.jpg is not an image Pillow can read (it looks like text, starting 'Shopping list: - eggs -'" in message
    )


@pytest.mark.parametrize(
    "head, hint",
    [
        (b"\x93NUMPY\x01\x00", ".npy file; load it as your own activations"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "it is a HEIC/HEIF image; export a still image as JPEG"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", "it is an MP4/QuickTime video"),
        ("Grüße, ".encode() * 300, "it looks like text, starting 'Grüße, Grüße, Grüße, Grü'"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG/XML"),
    ],
)
def test_other_file_kinds_are_named(head, hint):
    assert hint in error_for("upload.png", head + b"\x00" * 40)


def test_decompression_bomb_is_refused_before_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    data = png_declaring(100_000, 100_000)
    assert len(data) < 200
    message = error_for("bomb.png", data)
    assert message.startswith("bomb.png declares 10,000,000,000 pixels, over the cap of 50,000,000 pixels")
    assert "refused before decoding" in message and "Downscale it" in message


def test_image_just_over_the_cap_is_refused_from_its_header(monkeypatch):
    side = int(np.ceil(np.sqrt(MAX_IMAGE_PIXELS))) + 1
    assert Image.MAX_IMAGE_PIXELS <= MAX_IMAGE_PIXELS
    message = error_for("large.png", png_declaring(side, side))
    assert f"declares {side * side:,} pixels" in message

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    message = error_for("large.png", png_declaring(side, side))
    assert f"declares {side:,}×{side:,} = {side * side:,} pixels" in message


def test_one_bad_file_of_five_leaves_a_batch_of_four():
    rng = np.random.default_rng(22)
    files = [(f"good{i}.png", encode(noise_image(rng, 8, 8), "PNG")) for i in range(4)]
    files.insert(2, ("broken.jpg", b"not really a jpeg"))
    batch = load_images(files, size=(8, 8))
    assert batch.x.shape == (4, 3, 8, 8)
    assert batch.labels == ("good0.png", "good1.png", "good2.png", "good3.png")
    skipped = [n for n in batch.notices if n.startswith("Skipped: ")]
    assert len(skipped) == 1 and skipped[0].startswith("Skipped: broken.jpg is not an image Pillow can read")
    good_only = load_images([f for f in files if f[0] != "broken.jpg"], size=(8, 8))
    assert np.array_equal(batch.x, good_only.x)


def test_bomb_among_good_files_is_skipped():
    rng = np.random.default_rng(23)
    files = [("ok.png", encode(noise_image(rng, 8, 8), "PNG")), ("bomb.png", png_declaring(50_000, 50_000))]
    batch = load_images(files, size=(8, 8))
    assert batch.labels == ("ok.png",)
    assert any(n.startswith("Skipped: bomb.png declares") for n in batch.notices)


def test_no_usable_file_names_every_file():
    files = [("a.png", b""), ("b.jpg", b"hello there"), ("c.gif", b"\x00\x01\x02")]
    with pytest.raises(NormvizError) as caught:
        load_images(files)
    message = str(caught.value)
    assert message.startswith("None of the 3 files could be used.")
    for name in ("a.png is empty", "b.jpg is not an image", "c.gif is not an image"):
        assert name in message


def test_more_files_than_the_cap_keeps_the_first():
    data = encode(Image.new("L", (2, 2), 9), "PNG")
    files = [(f"f{i:02d}.png", data) for i in range(MAX_IMAGES + 2)]
    batch = load_images(files, size=(2, 2))
    assert batch.x.shape[0] == MAX_IMAGES
    assert batch.labels[-1] == f"f{MAX_IMAGES - 1:02d}.png"
    assert any(f"first {MAX_IMAGES} images" in n and f"f{MAX_IMAGES + 1:02d}.png" in n for n in batch.notices)


def test_batch_over_the_element_cap_is_refused_before_decoding():
    data = encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG")
    with pytest.raises(NormvizError) as caught:
        load_images([(f"{i}.png", data) for i in range(MAX_IMAGES)], size=(1024, 1024))
    message = str(caught.value)
    assert f"the image batch would have shape {MAX_IMAGES}×3×1024×1024" in message
    assert f"over the cap of {MAX_ELEMENTS:,} values" in message and "smaller size" in message


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"size": (0, 8)}, "image height must be between 1 and 1024; got 0."),
        ({"size": (8, 2000)}, "image width must be between 1 and 1024; got 2000."),
        ({"size": (8,)}, "size must be (height, width)"),
        ({"fit": "zoom"}, "fit must be one of crop, squash, pad; got 'zoom'."),
        ({"colour": "sepia"}, "colour must be one of auto, rgb, grey; got 'sepia'."),
    ],
)
def test_bad_settings(kwargs, text):
    data = encode(Image.new("L", (2, 2)), "PNG")
    with pytest.raises(NormvizError, match=None) as caught:
        load_images([("x.png", data)], **kwargs)
    assert text in str(caught.value)


@pytest.mark.parametrize("files", [[], (), "photo.png", [("photo.png", "not bytes")]])
def test_no_files_or_malformed_files(files):
    with pytest.raises(NormvizError):
        load_images(files)


def test_skipped_files_are_reported_in_upload_order():
    rng = np.random.default_rng(24)
    good = encode(noise_image(rng, 8, 8), "PNG")
    truncated = encode(noise_image(rng, 64, 64), "PNG")[:300]
    files = [("first.png", truncated), ("ok.png", good), ("second.png", b"")]
    batch = load_images(files, size=(8, 8))
    skipped = [n for n in batch.notices if n.startswith("Skipped: ")]
    assert [n.split()[1] for n in skipped] == ["first.png", "second.png"]


def test_a_colour_file_that_fails_to_decode_leaves_a_grey_batch():
    rng = np.random.default_rng(25)
    grey = encode(Image.new("L", (8, 8), 40), "PNG")
    colour = encode(noise_image(rng, 64, 64), "PNG")
    batch = load_images([("grey.png", grey), ("colour.png", colour[: len(colour) // 2])], size=(8, 8))
    assert batch.x.shape == (1, 1, 8, 8) and batch.channel_names == ("grey",)


def palette_image(rng, height=32, width=48) -> Image.Image:
    return noise_image(rng, height, width).quantize(64)


def damaged_palette_files(rng) -> dict[str, bytes]:
    """A GIF cut off mid-upload, and BMP/TIFF files whose palette or pixel data is cut or broken."""
    image = palette_image(rng)
    gif, bmp, tif = encode(image, "GIF"), encode(image, "BMP"), encode(image, "TIFF")
    return {
        "cut.gif": gif[: len(gif) // 2],
        "cut_late.gif": gif[:-30],
        "cut.bmp": bmp[:100],
        "cut.tif": tif[: len(tif) - 100],
        "palette_cut.tif": tif[: len(tif) - 700],
    }


def test_damaged_palette_files_are_skipped_and_the_good_files_kept():
    rng = np.random.default_rng(26)
    good = [(f"good{i}.png", encode(noise_image(rng, 8, 8), "PNG")) for i in range(2)]
    for name, data in damaged_palette_files(rng).items():
        batch = load_images([good[0], (name, data), good[1]], size=(8, 8))
        assert batch.labels == ("good0.png", "good1.png"), name
        (skipped,) = [n for n in batch.notices if n.startswith("Skipped: ")]
        fmt = {"gif": "GIF", "bmp": "BMP", "tif": "TIFF"}[name.rsplit(".", 1)[1]]
        assert skipped.startswith(f"Skipped: {name} is a damaged or truncated {fmt} file (Pillow says:"), skipped
        message = error_for(name, data)
        assert message.startswith(f"{name} is a damaged or truncated {fmt} file")


@pytest.mark.parametrize(
    "name, cut",
    [("header.png", 30), ("header.gif", 8), ("header.tif", 12), ("header.jpg", 4), ("header.webp", 20)],
)
def test_a_real_file_damaged_in_its_header_is_called_damaged_not_unknown(name, cut):
    rng = np.random.default_rng(27)
    fmt = {"png": "PNG", "gif": "GIF", "tif": "TIFF", "jpg": "JPEG", "webp": "WEBP"}[name.rsplit(".", 1)[1]]
    data = encode(noise_image(rng, 16, 16), fmt)[:cut]
    message = error_for(name, data)
    shown = {"WEBP": "WebP"}.get(fmt, fmt)
    assert message.startswith(f"{name} is a damaged or truncated {shown} file (Pillow says:"), message
    assert "upload PNG, JPEG" not in message


def bmp_with(field_offset: int, value: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (4, 4), (1, 2, 3)), "BMP"))
    struct.pack_into("<I", data, field_offset, value)
    return bytes(data)


@pytest.mark.parametrize(
    "data, says",
    [
        (bmp_with(30, 5), "Unsupported BMP compression (5)"),
        (bmp_with(14, 77), "Unsupported BMP header type (77)"),
    ],
)
def test_an_unsupported_variant_is_not_called_damaged(data, says):
    message = error_for("odd.bmp", data)
    assert message.startswith(f"odd.bmp is a BMP file in a variant that cannot be read here (Pillow says: {says})")
    assert "damaged" not in message and "save it again as an ordinary BMP or as PNG" in message


@pytest.mark.parametrize(
    "fmt, described",
    [
        ("TGA", "a Targa file (TGA)"),
        ("PPM", "a Pbmplus image file (PPM)"),
        ("ICO", "a Windows Icon file (ICO)"),
        ("JPEG2000", "a JPEG 2000 (ISO 15444) file (JPEG2000)"),
        ("PCX", "a Paintbrush file (PCX)"),
    ],
)
def test_formats_pillow_reads_but_normviz_does_not_accept_are_named(fmt, described):
    data = encode(Image.new("RGB", (16, 16), (5, 6, 7)), fmt)
    message = error_for("picture.png", data)
    assert message == (
        f"picture.png is {described}; Pillow can read it, but normviz accepts only PNG, JPEG, WebP, BMP, "
        "GIF and TIFF — save it as PNG and upload it again."
    )


def test_a_psd_file_is_named_too():
    # A minimal Photoshop file: header, empty colour-mode, resources and layer sections, raw RGB data.
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 4, 4, 8, 3)
    data = header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + bytes(3 * 16)
    assert Image.open(io.BytesIO(data)).format == "PSD"
    assert "is an Adobe Photoshop file (PSD); Pillow can read it, but normviz accepts only" in error_for("p.png", data)


def test_sixty_four_bad_files_give_a_short_summary():
    rng = np.random.default_rng(28)
    truncated = encode(noise_image(rng, 32, 32), "PNG")[:200]
    files = [(f"cut{i:02d}.png", truncated) for i in range(40)]
    files += [(f"notes{i:02d}.png", b"just some text, not a picture") for i in range(20)]
    files += [(f"empty{i}.png", b"") for i in range(4)]
    with pytest.raises(NormvizError) as caught:
        load_images(files)
    message = str(caught.value)
    assert len(message) < 1000, len(message)
    assert message.startswith("None of the 64 files could be used. cut00.png is a damaged or truncated PNG file")
    assert (
        "62 more files could not be used: 38 are damaged or truncated (cut02.png, cut03.png, cut04.png and 35 more)"
        in message
    )
    assert "20 are not images (notes00.png, notes01.png, notes02.png and 17 more)" in message
    assert "4 are empty (empty0.png, empty1.png, empty2.png and 1 more)." in message


def test_many_bad_files_beside_good_ones_give_three_notices_at_most():
    rng = np.random.default_rng(29)
    files = [("good.png", encode(noise_image(rng, 8, 8), "PNG"))]
    files += [(f"bad{i}.png", b"\x00\x01 not an image") for i in range(30)]
    batch = load_images(files, size=(8, 8))
    skipped = [n for n in batch.notices if n.startswith("Skipped: ")]
    assert len(skipped) == 3 and sum(map(len, skipped)) < 700
    assert skipped[2] == (
        "Skipped: 28 more files could not be used: 28 are not images (bad2.png, bad3.png, bad4.png and 25 more)."
    )


def test_a_summary_speaks_of_one_file_of_a_kind_in_the_singular():
    rng = np.random.default_rng(30)
    targa = encode(Image.new("RGB", (16, 16), (5, 6, 7)), "TGA")
    files = [("good.png", encode(noise_image(rng, 8, 8), "PNG"))]
    files += [(f"text{i}.png", b"a note, not a picture") for i in range(3)] + [("targa.png", targa)]
    skipped = [n for n in load_images(files, size=(8, 8)).notices if n.startswith("Skipped: ")]
    assert skipped[-1] == (
        "Skipped: 2 more files could not be used: 1 is not an image (text2.png); "
        "1 is an image in a format not accepted here (targa.png)."
    )

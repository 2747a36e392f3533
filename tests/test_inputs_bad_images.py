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

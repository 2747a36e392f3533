"""Image batches: formats, modes, orientation, frames, size and colour rules, bundled samples."""

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageOps, PngImagePlugin

from normviz.inputs import (
    PAD_VALUE,
    SAMPLES_DIR,
    TensorInput,
    load_images,
    load_samples,
    sample_files,
)
from normviz.inputs.images import LUMA


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_rgb(rng, height, width) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def as_chw(pixels: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) or (H, W) → float32 (C, H, W) in [0, 1], the expected decoding."""
    values = pixels.astype(np.float32) / np.float32(255)
    return values.transpose(2, 0, 1) if values.ndim == 3 else values[None]


@pytest.mark.parametrize(
    "fmt, options",
    [("PNG", {}), ("BMP", {}), ("TIFF", {}), ("WEBP", {"lossless": True}), ("GIF", {})],
)
def test_lossless_formats_round_trip_exactly(fmt, options):
    rng = np.random.default_rng(1)
    pixels = noise_rgb(rng, 10, 12)
    image = Image.fromarray(pixels)
    if fmt == "GIF":
        image = image.quantize(colors=256, dither=Image.Dither.NONE)
        pixels = np.asarray(image.convert("RGB"))
    batch = load_images([(f"noise.{fmt.lower()}", encode(image, fmt, **options))], size=(10, 12))
    assert isinstance(batch, TensorInput)
    assert batch.x.shape == (1, 3, 10, 12) and batch.x.dtype == np.float32
    np.testing.assert_allclose(batch.x[0], as_chw(pixels), atol=1e-7)
    assert batch.labels == (f"noise.{fmt.lower()}",)
    assert batch.channel_names == ("R", "G", "B")
    assert batch.description == "1 image, 10×12, RGB, centre-cropped"


def test_jpeg_decodes_as_pillow_does_and_close_to_the_original():
    rng = np.random.default_rng(2)
    pixels = np.repeat(np.repeat(noise_rgb(rng, 4, 4), 8, axis=0), 8, axis=1)
    data = encode(Image.fromarray(pixels), "JPEG", quality=95)
    batch = load_images([("blocks.jpg", data)], size=(32, 32))
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_allclose(batch.x[0], as_chw(decoded), atol=1e-7)
    assert np.abs(batch.x[0] - as_chw(pixels)).mean() < 0.05


def test_greyscale_alone_gives_one_channel():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (6, 7), dtype=np.uint8)
    batch = load_images([("grey.png", encode(Image.fromarray(pixels), "PNG"))], size=(6, 7))
    assert batch.x.shape == (1, 1, 6, 7)
    assert batch.channel_names == ("grey",)
    np.testing.assert_allclose(batch.x[0], as_chw(pixels), atol=1e-7)
    assert "grey" in batch.description


def test_sixteen_bit_png_is_scaled_not_clipped():
    rng = np.random.default_rng(4)
    values = rng.integers(0, 65536, (5, 6), dtype=np.uint16)
    values[0, 0], values[0, 1], values[0, 2] = 65535, 1000, 0
    data = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    batch = load_images([("depth.png", data)], size=(5, 6))
    x = batch.x[0, 0]
    assert x[0, 0] == 1.0 and x[0, 2] == 0.0
    np.testing.assert_allclose(x[0, 1], 1000 / 65535, rtol=1e-6)
    np.testing.assert_allclose(x, values / 65535, rtol=1e-6, atol=1e-7)
    assert any("16 bits" in notice for notice in batch.notices)


def test_sixteen_bit_tiff_is_scaled_not_clipped():
    values = np.linspace(0, 65535, 24).astype(np.uint16).reshape(4, 6)
    batch = load_images([("scan.tif", encode(Image.fromarray(values), "TIFF"))], size=(4, 6))
    np.testing.assert_allclose(batch.x[0, 0], values / 65535, rtol=1e-6, atol=1e-7)


def test_wide_range_integer_and_float_tiffs_are_rescaled_to_unit_range():
    rng = np.random.default_rng(5)
    ints = rng.integers(-70000, 200000, (4, 5)).astype(np.int32)
    floats = rng.normal(3.0, 4.0, (4, 5)).astype(np.float32)
    batch = load_images(
        [("ints.tif", encode(Image.fromarray(ints), "TIFF")), ("floats.tif", encode(Image.fromarray(floats), "TIFF"))],
        size=(4, 5),
    )
    for index, raw in enumerate((ints, floats)):
        expected = (raw - raw.min()) / (raw.max() - raw.min())
        np.testing.assert_allclose(batch.x[index, 0], expected, atol=1e-6)
    assert sum("rescaled to [0, 1]" in notice for notice in batch.notices) == 2


def test_float_tiff_within_unit_range_is_kept():
    rng = np.random.default_rng(6)
    floats = rng.random((3, 4)).astype(np.float32)
    batch = load_images([("unit.tif", encode(Image.fromarray(floats), "TIFF"))], size=(3, 4))
    np.testing.assert_allclose(batch.x[0, 0], floats, atol=1e-7)
    assert batch.notices == ()


def test_palette_png_with_transparency_gives_colours_on_white():
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]
    indices = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], dtype=np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette(palette)
    data = encode(image, "PNG", transparency=3)
    batch = load_images([("icon.png", data)], size=(2, 4))
    colours = np.array(palette, dtype=np.float32).reshape(-1, 3) / 255
    colours[3] = 1.0
    expected = colours[indices].transpose(2, 0, 1)
    np.testing.assert_allclose(batch.x[0], expected, atol=1e-7)
    assert any("transparent" in notice and "white" in notice for notice in batch.notices)


def test_palette_of_greys_counts_as_greyscale():
    image = Image.fromarray(np.array([[0, 1], [2, 3]], dtype=np.uint8), mode="P")
    image.putpalette([v for level in (0, 60, 120, 250) for v in (level, level, level)])
    batch = load_images([("grey.gif", encode(image, "GIF"))], size=(2, 2))
    assert batch.x.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(batch.x[0, 0], np.array([[0, 60], [120, 250]]) / 255, atol=1e-7)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_on_white(mode):
    colour = np.array([200, 40, 10], dtype=np.float64)
    if mode == "LA":
        colour = colour[:1]
    alpha = np.array([[0, 64, 128, 255]], dtype=np.uint8)
    pixels = np.concatenate([np.broadcast_to(colour.astype(np.uint8), (1, 4, colour.size)), alpha[..., None]], axis=2)
    image = Image.fromarray(pixels, mode=mode)
    batch = load_images([("a.png", encode(image, "PNG"))], size=(1, 4))
    a = alpha[0] / 255
    expected = colour[:, None] / 255 * a + (1 - a)
    np.testing.assert_allclose(batch.x[0, :, 0, :], expected, atol=1.5 / 255)
    assert batch.x[0, :, 0, 0].tolist() == [1.0] * colour.size


def test_cmyk_jpeg_converts_to_rgb():
    cmyk = (20, 140, 230, 40)
    data = encode(Image.new("CMYK", (16, 16), cmyk), "JPEG", quality=100)
    batch = load_images([("print.jpg", data)], size=(16, 16))
    reference = np.asarray(Image.new("CMYK", (1, 1), cmyk).convert("RGB"), dtype=np.float32)[0, 0] / 255
    assert batch.x.shape == (1, 3, 16, 16)
    np.testing.assert_allclose(batch.x[0].mean(axis=(1, 2)), reference, atol=3 / 255)
    assert any("CMYK" in notice for notice in batch.notices)


@pytest.mark.parametrize("orientation, turns", [(3, 2), (6, -1), (8, 1)])
def test_exif_orientation_is_applied(orientation, turns):
    rng = np.random.default_rng(7)
    blocks = noise_rgb(rng, 2, 4)
    pixels = np.repeat(np.repeat(blocks, 16, axis=0), 16, axis=1)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif)
    shown = np.rot90(pixels, k=turns)
    batch = load_images([("phone.jpg", data)], size=shown.shape[:2])
    centres = as_chw(shown)[:, 8::16, 8::16]
    np.testing.assert_allclose(batch.x[0][:, 8::16, 8::16], centres, atol=0.04)


def test_animated_gif_uses_its_first_frame():
    frames = [Image.new("P", (8, 8), index) for index in range(3)]
    for frame in frames:
        frame.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    batch = load_images([("beach.gif", data)], size=(8, 8))
    assert batch.x[0, :, 4, 4].tolist() == [1.0, 0.0, 0.0]
    assert "beach.gif is animated; its first frame is used." in batch.notices


def test_multipage_tiff_uses_its_first_page():
    pages = [Image.new("L", (6, 4), level) for level in (30, 130, 230)]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    batch = load_images([("stack.tif", data)], size=(4, 6))
    np.testing.assert_allclose(batch.x[0, 0], 30 / 255, atol=1e-7)
    assert "stack.tif has 3 pages; its first page is used." in batch.notices


def test_one_pixel_image_becomes_a_constant_image():
    data = encode(Image.new("RGB", (1, 1), (10, 200, 90)), "PNG")
    batch = load_images([("dot.png", data)], size=(16, 24))
    expected = np.array([10, 200, 90], dtype=np.float32) / 255
    np.testing.assert_allclose(batch.x[0], np.broadcast_to(expected[:, None, None], (3, 16, 24)), atol=1e-6)
    assert any("dot.png is only 1×1" in notice and "enlarged" in notice for notice in batch.notices)


def ramp(width: int, height: int) -> np.ndarray:
    return np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))


def test_extremely_wide_image_centre_crop_keeps_the_middle():
    pixels = ramp(2000, 2)
    batch = load_images([("strip.png", encode(Image.fromarray(pixels), "PNG"))], size=(8, 8))
    assert batch.x.shape == (1, 1, 8, 8)
    middle = pixels[0, 999:1001].mean() / 255
    np.testing.assert_allclose(batch.x[0, 0], middle, atol=2 / 255)
    notice = next(n for n in batch.notices if n.startswith("strip.png (2000×2)"))
    assert "keeps 0%" in notice and '"pad"' in notice


def test_extremely_wide_image_padded_keeps_everything():
    pixels = ramp(2000, 2)
    batch = load_images([("strip.png", encode(Image.fromarray(pixels), "PNG"))], size=(8, 8), fit="pad")
    rows = batch.x[0, 0]
    assert np.count_nonzero((rows != PAD_VALUE).any(axis=1)) == 1
    kept = rows[(rows != PAD_VALUE).any(axis=1)][0]
    assert kept[0] < 0.1 and kept[-1] > 0.9 and np.all(np.diff(kept) > 0)
    assert batch.description.endswith("padded with grey 0.5")


def test_extremely_thin_image_squashed_stretches_it():
    pixels = ramp(3, 1500).T.copy()
    batch = load_images([("pole.png", encode(Image.fromarray(pixels), "PNG"))], size=(6, 6), fit="squash")
    column = batch.x[0, 0, :, 3]
    assert column[0] < 0.1 and column[-1] > 0.9 and np.all(np.diff(column) > 0)
    assert not any("crop" in notice for notice in batch.notices)


def test_centre_crop_keeps_the_centre_exactly():
    pixels = np.zeros((20, 40), dtype=np.uint8)
    pixels[:, 20:] = 255
    batch = load_images([("half.png", encode(Image.fromarray(pixels), "PNG"))], size=(20, 20))
    np.testing.assert_allclose(batch.x[0, 0, :, :10], 0.0, atol=1e-6)
    np.testing.assert_allclose(batch.x[0, 0, :, 10:], 1.0, atol=1e-6)


@pytest.mark.parametrize("orientation", [1, 6])
def test_large_jpeg_decoded_at_reduced_scale_matches_a_full_decode(orientation):
    rng = np.random.default_rng(8)
    small = noise_rgb(rng, 12, 16)
    pixels = np.asarray(Image.fromarray(small).resize((1600, 1200), Image.Resampling.BICUBIC))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(pixels), "JPEG", quality=92, exif=exif)
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    size = (full.height // 25, full.width // 25)
    batch = load_images([("big.jpg", data)], size=size)
    reference = full.resize(size[::-1], Image.Resampling.BICUBIC)
    assert np.abs(batch.x[0] - as_chw(np.asarray(reference))).mean() < 0.01


def test_grey_and_colour_files_join_as_rgb_with_grey_repeated():
    rng = np.random.default_rng(9)
    grey = rng.integers(0, 256, (5, 5), dtype=np.uint8)
    colour = noise_rgb(rng, 5, 5)
    files = [("grey.png", encode(Image.fromarray(grey), "PNG")), ("colour.png", encode(Image.fromarray(colour), "PNG"))]
    batch = load_images(files, size=(5, 5))
    assert batch.x.shape == (2, 3, 5, 5)
    for channel in range(3):
        np.testing.assert_allclose(batch.x[0, channel], grey / 255, atol=1e-7)
    np.testing.assert_allclose(batch.x[1], as_chw(colour), atol=1e-7)
    assert any(re.search(r"Greyscale images fill R, G and B.*grey\.png", n) for n in batch.notices)


def test_colour_grey_converts_colour_images_to_luma():
    rng = np.random.default_rng(10)
    grey = rng.integers(0, 256, (5, 5), dtype=np.uint8)
    colour = noise_rgb(rng, 5, 5)
    files = [("grey.png", encode(Image.fromarray(grey), "PNG")), ("colour.png", encode(Image.fromarray(colour), "PNG"))]
    batch = load_images(files, size=(5, 5), colour="grey")
    assert batch.x.shape == (2, 1, 5, 5) and batch.channel_names == ("grey",)
    np.testing.assert_allclose(batch.x[0, 0], grey / 255, atol=1e-7)
    np.testing.assert_allclose(batch.x[1, 0], np.tensordot(LUMA, as_chw(colour), axes=1), atol=1e-6)
    assert any("colour.png" in n and "converted to grey" in n for n in batch.notices)


def test_colour_rgb_gives_three_channels_for_a_grey_batch():
    data = encode(Image.new("L", (3, 3), 77), "PNG")
    batch = load_images([("g.png", data)], size=(3, 3), colour="rgb")
    assert batch.x.shape == (1, 3, 3, 3)
    np.testing.assert_allclose(batch.x, 77 / 255, atol=1e-7)


def test_same_files_same_tensor_and_file_names_are_plain_text():
    rng = np.random.default_rng(11)
    data = encode(Image.fromarray(noise_rgb(rng, 30, 20)), "PNG")
    files = [("C:\\Users\\me\\<script>x\n.png", data)]
    first, second = load_images(files, size=(16, 16)), load_images(files, size=(16, 16))
    assert np.array_equal(first.x, second.x)
    assert first.labels == ("<script>x .png",)
    assert not first.x.flags.writeable


def test_bundled_samples_are_small_credited_and_differ_in_brightness_and_colour():
    files = sample_files()
    assert 4 <= len(files) <= 8
    paths = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix == ".jpg")
    assert all(p.stat().st_size <= 100_000 for p in paths)
    credits = (SAMPLES_DIR / "CREDITS.md").read_text()
    for path in paths:
        section = credits.split(f"## `{path.name}`", 1)
        assert len(section) == 2, f"{path.name} missing from CREDITS.md"
        assert re.search(r"public domain|CC0", section[1].split("\n## ", 1)[0], re.I)
        with Image.open(path) as image:
            assert 128 <= max(image.size) <= 256

    batch = load_samples(size=(64, 64))
    assert batch.x.shape == (len(files), 3, 64, 64)
    channel_means = batch.x.mean(axis=(2, 3))
    brightness = channel_means.mean(axis=1)
    assert brightness.min() < 0.15 and brightness.max() > 0.45
    warm = channel_means[:, 0] - channel_means[:, 2]
    assert warm.max() > 0.25 and warm.min() < -0.05
    assert any(np.ptp(channel_means[i]) < 1e-6 for i in range(len(files)))
    assert batch.description.startswith(f"{len(files)} sample photos, 64×64, RGB")
    assert np.array_equal(batch.x, load_samples(size=(64, 64)).x)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        chunks.append((data[at + 4 : at + 8], data[at : at + 12 + length]))
        at += 12 + length
    return chunks


def exif_after_image_data(data: bytes) -> bytes:
    """The PNG with its eXIf chunk moved after the last IDAT (where Pillow finds it only on load)."""
    chunks = png_chunks(data)
    exif = [raw for tag, raw in chunks if tag == b"eXIf"]
    rest = [raw for tag, raw in chunks if tag != b"eXIf"]
    return data[:8] + b"".join(rest[:-1] + exif + rest[-1:])


def oriented_file(kind: str, pixels: np.ndarray, orientation: int) -> bytes:
    """``pixels`` stored as ``kind`` with an orientation tag (EXIF, or XMP for "PNG xmp")."""
    image, exif = Image.fromarray(pixels), Image.Exif()
    exif[0x0112] = orientation
    if kind in ("PNG", "PNG late exif"):
        data = encode(image, "PNG", exif=exif)
        return exif_after_image_data(data) if kind == "PNG late exif" else data
    if kind == "PNG xmp":
        info = PngImagePlugin.PngInfo()
        xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="{orientation}"/></x:xmpmeta>'
        info.add_itxt("XML:com.adobe.xmp", xmp)
        return encode(image, "PNG", pnginfo=info)
    if kind == "TIFF deflate":
        return encode(image, "TIFF", compression="tiff_deflate", tiffinfo={0x0112: orientation})
    if kind == "TIFF":
        return encode(image, "TIFF", tiffinfo={0x0112: orientation})
    if kind == "WEBP":
        return encode(image, "WEBP", lossless=True, exif=exif)
    return encode(image, "JPEG", quality=95, exif=exif)


@pytest.mark.parametrize("kind", ["PNG", "PNG late exif", "PNG xmp", "JPEG", "WEBP", "TIFF", "TIFF deflate"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_format_and_orientation_matches_exif_transpose(kind, orientation):
    """Reference: Pillow's full decode and ImageOps.exif_transpose, resized as the loader does.
    Padded at full size the batch holds that image exactly, and squashed to a quarter of it too
    (the loader shrinks a strip at a time, by the same whole factors as Pillow's resize)."""
    rng = np.random.default_rng(12)
    pixels = np.repeat(np.repeat(noise_rgb(rng, 6, 10), 8, axis=0), 8, axis=1)  # 48 × 80, not square
    data = oriented_file(kind, pixels, orientation)
    shown = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    if orientation in (5, 6, 7, 8):
        assert shown.size == (48, 80)
    batch = load_images([("turned", data)], size=(80, 80), fit="pad")
    expected = np.full((3, 80, 80), PAD_VALUE, np.float32)
    top, left = (80 - shown.height) // 2, (80 - shown.width) // 2
    expected[:, top : top + shown.height, left : left + shown.width] = as_chw(np.asarray(shown))
    np.testing.assert_array_equal(batch.x[0], expected)
    if kind == "JPEG":
        return  # a smaller batch lets a JPEG decode at a reduced scale, which the reference does not
    quarter = (shown.height // 4, shown.width // 4)
    batch = load_images([("turned", data)], size=quarter, fit="squash")
    reference = shown.resize(quarter[::-1], Image.Resampling.BICUBIC, reducing_gap=3.0)
    np.testing.assert_array_equal(batch.x[0], as_chw(np.asarray(reference)))


def converted_whole(image: Image.Image) -> tuple[Image.Image, float, float]:
    """What the loader did before it worked in strips: the whole image in L, RGB or F, with the
    (offset, scale) that bring it to [0, 1] (P → RGB, alpha over white, 16-bit and float → F)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        return (flat.convert("L") if image.mode == "LA" else flat), 0.0, 255.0
    if image.mode in ("P", "CMYK"):
        return image.convert("RGB"), 0.0, 255.0
    if image.mode == "1":
        return image.convert("L"), 0.0, 255.0
    if image.mode.startswith("I;16"):
        return image.convert("F"), 0.0, 65535.0
    if image.mode == "F":
        low, high = image.getextrema()
        return image, low, high - low
    return image, 0.0, 255.0


@pytest.mark.parametrize("orientation", [1, 3, 6, 7])
@pytest.mark.parametrize(
    "mode, fmt",
    [("RGBA", "PNG"), ("P", "PNG"), ("LA", "PNG"), ("I;16", "PNG"), ("F", "TIFF"), ("CMYK", "TIFF"), ("1", "TIFF")],
)
@pytest.mark.parametrize("size", [(300, 170), (150, 85), (40, 24), (7, 64)])
def test_strip_by_strip_decoding_matches_a_whole_image_decode(mode, fmt, orientation, size):
    """Reference: Pillow decodes, turns (exif_transpose) and converts the whole image, then
    resizes it with reducing_gap=3 (``converted_whole``). The loader works a strip at a time, and
    converting and shrinking by whole factors commute with cutting strips: the two are equal."""
    rng = np.random.default_rng(13)
    base = Image.fromarray(np.repeat(np.repeat(noise_rgb(rng, 30, 17), 10, axis=0), 10, axis=1))  # 300 × 170
    if mode == "RGBA":
        image = base.convert("RGBA")
        image.putalpha(Image.fromarray(rng.integers(0, 256, (300, 170), dtype=np.uint8)))
    elif mode == "P":
        image = base.quantize(32)
        image.info["transparency"] = 3
    elif mode == "I;16":
        image = Image.fromarray((np.asarray(base.convert("L"), np.uint16) * 257 + 3).astype(np.uint16))
    elif mode == "F":
        image = Image.fromarray(np.asarray(base.convert("L"), np.float32) / 100 - 0.5)
    else:
        image = base.convert(mode)
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"tiffinfo": {0x0112: orientation}} if fmt == "TIFF" else {"exif": exif}
    if mode == "P":
        options["transparency"] = 3
    data = encode(image, fmt, **options)
    with Image.open(io.BytesIO(data)) as opened:
        whole, offset, scale = converted_whole(ImageOps.exif_transpose(opened))
    reference = whole.resize(size[::-1], Image.Resampling.BICUBIC, reducing_gap=3.0)
    expected = (np.asarray(reference, np.float32) - np.float32(offset)) / np.float32(scale)
    expected = expected.transpose(2, 0, 1) if expected.ndim == 3 else expected[None]
    batch = load_images([("image", data)], size=size, fit="squash", colour="rgb" if expected.shape[0] == 3 else "grey")
    np.testing.assert_array_equal(batch.x[0], np.clip(expected, 0, 1))

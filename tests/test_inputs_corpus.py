"""Generated hostile inputs: damaged copies of images of every accepted format and mode, odd
batches, and crafted .npy / .npz files. Whatever the bytes, the loaders return a tensor or raise
NormvizError naming the file; one bad file never costs the good ones beside it."""

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from normviz import NormvizError
from normviz.inputs import TensorInput, list_arrays, load_array, load_images


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def base_images() -> dict[str, bytes]:
    """Small files of every accepted format in the modes and variants people upload."""
    rng = np.random.default_rng(60)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 20, 3), dtype=np.uint8))
    grey, palette = rgb.convert("L"), rgb.quantize(16)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(rng.integers(0, 256, (12, 20), dtype=np.uint8)))
    sixteen = Image.fromarray(rng.integers(0, 65536, (12, 20), dtype=np.uint16))
    floats = Image.fromarray(rng.normal(size=(12, 20)).astype(np.float32))
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [rgb, rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return {
        "rgb.png": encode(rgb, "PNG"),
        "grey.png": encode(grey, "PNG"),
        "rgba.png": encode(rgba, "PNG"),
        "la.png": encode(rgba.convert("LA"), "PNG"),
        "palette.png": encode(palette, "PNG", transparency=2),
        "sixteen.png": encode(sixteen, "PNG"),
        "bits.png": encode(grey.convert("1"), "PNG"),
        "turned.png": encode(rgb, "PNG", exif=exif),
        "optimized.png": encode(rgb, "PNG", optimize=True),
        "animated.png": encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "rgb.jpg": encode(rgb, "JPEG", quality=90),
        "grey.jpg": encode(grey, "JPEG"),
        "cmyk.jpg": encode(rgb.convert("CMYK"), "JPEG"),
        "progressive.jpg": encode(rgb, "JPEG", progressive=True, exif=exif),
        "palette.gif": encode(palette, "GIF"),
        "animated.gif": encode(palette, "GIF", save_all=True, append_images=[palette.rotate(180)]),
        "rgb.bmp": encode(rgb, "BMP"),
        "palette.bmp": encode(palette, "BMP"),
        "bits.bmp": encode(grey.convert("1"), "BMP"),
        "rgb.tif": encode(rgb, "TIFF"),
        "deflate.tif": encode(rgb, "TIFF", compression="tiff_deflate", tiffinfo={0x0112: 7}),
        "lzw.tif": encode(grey, "TIFF", compression="tiff_lzw"),
        "float.tif": encode(floats, "TIFF"),
        "sixteen.tif": encode(sixteen, "TIFF"),
        "palette.tif": encode(palette, "TIFF"),
        "cmyk.tif": encode(rgb.convert("CMYK"), "TIFF"),
        "pages.tif": encode(rgb, "TIFF", save_all=True, append_images=[grey]),
        "lossless.webp": encode(rgb, "WEBP", lossless=True),
        "lossy.webp": encode(rgba, "WEBP", quality=80),
        "animated.webp": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True),
    }


def damaged_copies(data: bytes, seed: int) -> list[bytes]:
    """Cuts at many points, flipped and zeroed bytes in the header and the data, junk appended."""
    rng = np.random.default_rng(seed)
    size = len(data)
    cuts = sorted({2, 6, 12, 24, 40, 64, size // 4, size // 2, 3 * size // 4, size - 12, size - 1})
    copies = [data[:cut] for cut in cuts if 0 < cut < size]
    for at in sorted({*rng.integers(0, min(size, 64), 6).tolist(), *rng.integers(0, size, 6).tolist()}):
        flipped = bytearray(data)
        flipped[at] ^= 0xFF
        copies.append(bytes(flipped))
    for at in rng.integers(0, size, 2).tolist():
        copies.append(data[:at] + bytes(16) + data[at + 16 :])
    copies.append(data + rng.bytes(50))
    return copies


BASES = base_images()
GOOD = (
    ("good_first.png", encode(Image.new("RGB", (6, 6), (200, 20, 20)), "PNG")),
    ("good_last.jpg", encode(Image.new("RGB", (6, 6), (20, 20, 200)), "JPEG")),
)


def test_every_base_image_loads():
    batch = load_images(list(BASES.items()), size=(12, 12))
    assert batch.labels == tuple(BASES)


@pytest.mark.parametrize("name", sorted(BASES))
def test_damaged_copies_give_a_tensor_or_a_message_and_never_cost_the_good_files(name):
    for index, damaged in enumerate(damaged_copies(BASES[name], seed=zlib.crc32(name.encode()))):
        label = f"damaged-{index}-{name}"
        batch = load_images([GOOD[0], (label, damaged), GOOD[1]], size=(8, 8), fit="pad")
        assert isinstance(batch, TensorInput)
        assert batch.labels[0] == GOOD[0][0] and batch.labels[-1] == GOOD[1][0], label
        if label not in batch.labels:
            (notice,) = [n for n in batch.notices if n.startswith("Skipped: ")]
            assert notice.startswith(f"Skipped: {label} ") and notice.endswith("."), notice
            assert "Traceback" not in notice and "Error" not in notice.split("Pillow says:")[0]


def test_a_batch_of_only_damaged_files_raises_one_short_message():
    files = [(f"d{i}-{name}", data[: len(data) // 2]) for i, (name, data) in enumerate(sorted(BASES.items()))]
    with pytest.raises(NormvizError) as caught:
        load_images(files)
    message = str(caught.value)
    assert message.startswith(f"None of the {len(files)} files could be used.")
    assert len(message) < 1200


@pytest.mark.parametrize(
    "files",
    [
        [("same.png", BASES["rgb.png"])] * 5,
        [("x", BASES["rgb.png"]), ("", BASES["grey.png"]), ("a/b\\c\n.png", BASES["palette.gif"])],
        [("one.png", bytearray(BASES["rgba.png"])), ("two.png", memoryview(BASES["rgb.jpg"]))],
        [(f"{i}.png", b"") for i in range(70)],
    ],
)
def test_odd_batches(files):
    try:
        batch = load_images(files, size=(4, 4))
    except NormvizError as err:
        assert len(str(err)) < 1200
    else:
        assert batch.x.shape[0] == len(batch.labels) <= 64 and np.isfinite(batch.x).all()


# -- crafted .npy / .npz ------------------------------------------------------------------------
def npy_header(header: str, version: tuple[int, int] = (1, 0)) -> bytes:
    body = header.encode("latin-1")
    body += b" " * (-(len(body) + (10 if version == (1, 0) else 12) + 1) % 64) + b"\n"
    size = struct.pack("<H", len(body)) if version == (1, 0) else struct.pack("<I", len(body))
    return b"\x93NUMPY" + bytes(version) + size + body


CRAFTED_HEADERS = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
    "{'descr': '>f8', 'fortran_order': True, 'shape': (1, 2, 2, 2), }",
    "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': [], 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': [('a', '<f4'), ('b', '<i2')], 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': [('é', '<f4')], 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '<U3', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '<M8[D]', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '|V8', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': 'not a dtype', 'fortran_order': False, 'shape': (2, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': 'abc', }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2**40, 2**40), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
    "{'descr': '<f4', 'shape': (2, 3), }",
    "['descr', '<f4']",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
    "__import__('os').system('true')",
]


def crafted_files() -> list[bytes]:
    rng = np.random.default_rng(61)
    files = []
    for header in CRAFTED_HEADERS:
        for version in ((1, 0), (2, 0), (3, 0), (1, 5), (9, 9)):
            head = npy_header(header, version)
            files += [head, head + rng.bytes(24), head + bytes(8 * 12 * 16)]
    good = io.BytesIO()
    np.save(good, rng.normal(size=(2, 3, 4, 4)).astype(np.float32))
    data = good.getvalue()
    files += [data[:cut] for cut in (6, 8, 9, 20, 60, 127, 128, len(data) - 1)]
    return files


def crafted_archives() -> list[bytes]:
    rng = np.random.default_rng(62)
    archives = []
    members = {
        "fine.npy": npy_header(CRAFTED_HEADERS[0]) + bytes(24),
        "odd.npy": npy_header(CRAFTED_HEADERS[6]) + bytes(8),
        "nested/dir.npy": npy_header(CRAFTED_HEADERS[0]) + bytes(24),
        "readme.txt": b"not an array",
        "short.npy": npy_header(CRAFTED_HEADERS[0]) + bytes(5),
        "version.npy": npy_header(CRAFTED_HEADERS[0], (9, 9)) + bytes(24),
    }
    for keep in ([*members], ["readme.txt"], ["odd.npy"], ["short.npy", "fine.npy"], ["version.npy"]):
        for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", method) as archive:
                for name in keep:
                    archive.writestr(name, members[name])
            data = buffer.getvalue()
            archives += [data, data[: len(data) // 2], data[:-10]]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.npy", npy_header(CRAFTED_HEADERS[15]) + bytes(1 << 20))
    archives.append(bomb.getvalue())
    archives.append(b"PK\x03\x04" + rng.bytes(100))
    archives.append(b"PK\x05\x06" + bytes(18))
    archives.append(zlib.compress(b"x" * 100))
    return archives


@pytest.mark.parametrize("kind", ["npy", "npz"])
def test_crafted_array_files_give_a_tensor_or_a_message(kind):
    files = crafted_files() if kind == "npy" else crafted_archives()
    outcomes = {"loaded": 0, "refused": 0}
    for index, data in enumerate(files):
        name = f"crafted{index}.{kind}"
        try:
            infos = list_arrays(name, data)
        except NormvizError as err:
            assert str(err).startswith(name)
            infos = ()
        for key in [None] + [info.key for info in infos]:
            try:
                result = load_array(name, data, key=key)
            except NormvizError as err:
                assert name in str(err) and len(str(err)) < 1200
                outcomes["refused"] += 1
            else:
                assert np.isfinite(result.x).all() and result.x.ndim == 4
                outcomes["loaded"] += 1
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 0

"""Caps, the shared result type, content hashes and file-name display."""

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from normviz import NormvizError
from normviz.inputs import MAX_ELEMENTS, MAX_UPLOAD_MB, TensorInput, content_hash, display_name
from normviz.inputs.limits import check_elements

ROOT = Path(__file__).resolve().parents[1]


def test_upload_cap_in_streamlit_config_matches_the_constant():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_element_cap_allows_the_cap_and_refuses_one_more():
    check_elements((1, 1, 1, MAX_ELEMENTS), "x", "shrink it")
    with pytest.raises(NormvizError) as caught:
        check_elements((1, 1, 1, MAX_ELEMENTS + 1), "the tensor", "shrink it")
    assert str(caught.value) == (
        f"the tensor would have shape 1×1×1×{MAX_ELEMENTS + 1} = {MAX_ELEMENTS + 1:,} values, over the cap "
        f"of {MAX_ELEMENTS:,} values per tensor; shrink it."
    )


def test_tensor_input_checks_itself_and_is_read_only():
    x = np.zeros((2, 3, 4, 5), np.float32)
    t = TensorInput(x, "d", ("a", "b"), ("R", "G", "B"))
    assert t.shape == (2, 3, 4, 5) and t.notices == ()
    with pytest.raises(ValueError):
        t.x[0, 0, 0, 0] = 1.0
    with pytest.raises(NormvizError, match="must be a 4-D float32 ndarray; got 4-D float64"):
        TensorInput(np.zeros((2, 3, 4, 5)), "d", ("a", "b"), ("R", "G", "B"))
    with pytest.raises(NormvizError, match="needs 2 labels and 3 channel names; got 1 and 3"):
        TensorInput(np.zeros((2, 3, 4, 5), np.float32), "d", ("a",), ("R", "G", "B"))


def test_content_hash_is_stable_and_tells_inputs_apart():
    rng = np.random.default_rng(50)
    data = rng.bytes(1000)
    files = (("a.png", data), ("b.png", data[::-1]))
    assert content_hash(files, (96, 96), "crop") == content_hash(files, (96, 96), "crop")
    variants = [
        content_hash(files, (96, 96), "crop"),
        content_hash(files, (96, 96), "pad"),
        content_hash(files[::-1], (96, 96), "crop"),
        content_hash(files, (96, 97), "crop"),
        content_hash("ab", "c"),
        content_hash("a", "bc"),
        content_hash(np.arange(4, dtype=np.int32)),
        content_hash(np.arange(4, dtype=np.int64)),
        content_hash(np.arange(4, dtype=np.int32).reshape(2, 2)),
    ]
    assert len(set(variants)) == len(variants)
    with pytest.raises(NormvizError, match="got object"):
        content_hash(object())
    code = "import numpy as np; from normviz.inputs import content_hash; print(content_hash(b'x', 1, np.ones(3)))"
    other_process = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert other_process.stdout.strip() == content_hash(b"x", 1, np.ones(3))


@pytest.mark.parametrize(
    "name, shown",
    [
        ("beach.png", "beach.png"),
        ("/home/me/photos/beach.png", "beach.png"),
        ("C:\\photos\\beach.png", "beach.png"),
        ("bad\x00name\r\n.png", "bad name .png"),
        ("\u202egnp.exe", "gnp.exe"),
        ("", "(unnamed file)"),
        ("x" * 200 + ".png", "x" * 39 + "…" + "x" * 36 + ".png"),
    ],
)
def test_display_name(name, shown):
    assert display_name(name) == shown


def test_inputs_do_not_import_streamlit():
    code = "import sys, normviz.inputs; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


PEAK_SCRIPT = """
import io, sys
from PIL import Image
from normviz.inputs import load_images

mode, count, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
image = Image.new(mode, (side, side), {"RGB": (10, 200, 30), "RGBA": (10, 200, 30, 128), "P": 1}[mode])
options = {}
if mode == "P":
    image.putpalette([255, 255, 255, 200, 10, 10])
    options = {"transparency": 0}
buffer = io.BytesIO()
image.save(buffer, "PNG", **options)
del image
warm = io.BytesIO()
Image.new("RGB", (8, 8)).save(warm, "PNG")
load_images([("warm.png", warm.getvalue())], size=(8, 8))

def status(field):  # this process's own memory (ru_maxrss would count the parent's before exec)
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))


baseline = status("VmRSS:")
load_images([(f"{i}.png", buffer.getvalue()) for i in range(count)], size=(32, 32))
print(status("VmHWM:") - baseline)
"""


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
def test_a_batch_of_large_flat_pngs_takes_the_memory_of_one_image(mode):
    """Six flat 3000×3000 PNGs (a few KB each) in a fresh process. Pillow holds a decoded RGB or
    RGBA image in 4 bytes a pixel (36 MB here); the loader decodes one image at a time and
    converts it a strip of ≤ 2**20 pixels at a time (a handful of 4-byte copies of a strip:
    ≤ 24 MB). So the peak above the idle process stays under 36 + 24 MB, where holding every
    decoded image (or its converted copy) at once takes over 6 × 36 MB."""
    side, count = 3000, 6
    run = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, mode, str(count), str(side)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    peak = int(run.stdout.strip())
    assert peak < 4 * side * side + 24 * 2**20, f"{peak / 2**20:.0f} MB"


def test_opening_a_png_decodes_no_pixel_even_with_its_exif_after_the_image_data(monkeypatch):
    from PIL import Image, ImageFile

    from normviz.inputs.decode import open_image
    from tests.test_inputs_images import encode, exif_after_image_data

    exif = Image.Exif()
    exif[0x0112] = 6
    data = exif_after_image_data(encode(Image.new("RGB", (40, 30), (1, 2, 3)), "PNG", exif=exif))
    assert Image.open(io.BytesIO(data)).info.get("exif") is None  # not in the header: after IDAT

    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    opened = open_image("turned.png", data)
    assert opened.orientation == 6 and opened.size == (30, 40)


def test_files_past_the_batch_pixel_cap_are_skipped_with_a_notice(monkeypatch):
    from PIL import Image

    from normviz.inputs import images
    from tests.test_inputs_images import encode

    monkeypatch.setattr(images, "MAX_BATCH_PIXELS", 3 * 64 * 64 + 10)
    files = [(f"f{i}.png", encode(Image.new("L", (64, 64), 10 * i), "PNG")) for i in range(4)]
    files.insert(2, ("small.png", encode(Image.new("L", (2, 2), 99), "PNG")))
    batch = images.load_images(files, size=(8, 8))
    assert batch.labels == ("f0.png", "f1.png", "small.png", "f2.png")
    assert (
        f"The images of one batch may decode to at most {3 * 64 * 64 + 10:,} pixels in total; 1 file past "
        "that was skipped: f3.png. Upload smaller images or fewer at a time."
    ) in batch.notices


def test_an_image_whose_decoding_would_pass_the_memory_cap_is_refused_from_its_header(monkeypatch):
    from PIL import Image, ImageFile

    from normviz.inputs import MAX_DECODE_BYTES, load_images, pixels
    from tests.test_inputs_images import encode

    assert MAX_DECODE_BYTES == 400 * 2**20
    webp = encode(Image.new("RGB", (100, 100), (1, 2, 3)), "WEBP", lossless=True)
    png = encode(Image.new("RGB", (100, 100), (1, 2, 3)), "PNG")
    monkeypatch.setattr(pixels, "MAX_DECODE_BYTES", 100_000)  # a WebP needs 16 bytes a pixel: 160,000
    real_load = ImageFile.ImageFile.load
    decoded = set()
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.add(self.format) or real_load(self))
    batch = load_images([("big.webp", webp), ("ok.png", png)], size=(8, 8))
    assert batch.labels == ("ok.png",) and decoded == {"PNG"}
    assert (
        "Skipped: big.webp (100×100 WebP, RGB) would take about 160,000 bytes to decode, over the 100,000 bytes "
        "allowed per image; downscale it or save it as PNG or JPEG, and upload it again."
    ) in batch.notices


def test_the_readme_states_the_upload_peak_memory_bound():
    from normviz.inputs.limits import UPLOAD_PEAK_BYTES, format_bytes

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Inputs and limits", 1)[1].split("\n## ", 1)[0]
    assert format_bytes(UPLOAD_PEAK_BYTES) in section
    assert "python -m bench --only uploads" in section

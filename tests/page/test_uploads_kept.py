"""Uploaded files outlive a trip to another input source; an ambiguous array keeps the chosen layout."""

import io

import numpy as np

from tests.page.conftest import open_app, png_bytes, summary


def _png(seed, h=40, w=60):
    rng = np.random.default_rng(seed)
    return png_bytes((rng.uniform(0, 1, size=(h, w, 3)) * 255).astype(np.uint8))


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _upload_two(at):
    at.file_uploader(key="uploads").set_value(
        [("first.png", _png(0), "image/png"), ("second.png", _png(1), "image/png")]
    ).run()
    assert "2 images, 32×32, RGB" in " ".join(c.value for c in at.caption)


def test_uploaded_images_survive_a_trip_to_another_source_and_can_be_forgotten():
    at = open_app({"source": "upload", "size": "32"})
    _upload_two(at)
    at.selectbox(key="source").set_value("random").run()
    at.selectbox(key="source").set_value("upload").run()
    assert not at.exception and not at.error
    assert "2,048 values each" in summary(at), "the two uploaded images are still the batch"
    assert any("uploaded earlier: first.png, second.png" in c.value.replace("\\", "") for c in at.caption)
    at.button(key="forget_uploads").click().run()
    assert "55,296 values each" not in summary(at)
    assert any("No images uploaded yet" in i.value for i in at.info)


def test_removing_the_files_from_the_uploader_forgets_them():
    at = open_app({"source": "upload", "size": "32"})
    _upload_two(at)
    at.file_uploader(key="uploads").set_value([]).run()
    assert any("No images uploaded yet" in i.value for i in at.info)
    assert not any("uploaded earlier" in c.value for c in at.caption)


def test_an_uploaded_array_survives_a_trip_and_an_ambiguous_shape_keeps_the_chosen_layout():
    nhwc = np.random.default_rng(0).normal(size=(4, 10, 12, 6)).astype(np.float32)  # N, H, W, C
    at = open_app({"source": "npy", "layout": "NHWC"})
    at.file_uploader(key="npy_file").set_value(("acts.npy", _npy(nhwc), "application/octet-stream")).run()
    assert at.radio(key="layout").value == "NHWC", "a shape that does not tell must not override the choice"
    assert "6 statistics (one per channel), 480 values each" in summary(at)
    assert any("does not tell NCHW from NHWC" in c.value for c in at.caption)
    at.selectbox(key="source").set_value("samples").run()
    at.selectbox(key="source").set_value("npy").run()
    assert not at.exception and not at.error
    assert "6 statistics (one per channel), 480 values each" in summary(at)

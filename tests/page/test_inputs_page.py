"""Every input source through the page, good and bad files, and nothing lost on an error."""

import io

import numpy as np

from tests.page.conftest import open_app, png_bytes, summary


def _photo(rng, h=40, w=60, tint=(1.0, 1.0, 1.0)):
    base = rng.uniform(0, 1, size=(h, w, 3)) * np.array(tint)
    return png_bytes(np.clip(base * 255, 0, 255).astype(np.uint8))


def test_uploaded_images_form_the_batch():
    rng = np.random.default_rng(0)
    at = open_app({"source": "upload", "size": "32"})
    at.file_uploader(key="uploads").set_value(
        [("warm.png", _photo(rng, tint=(1, 0.6, 0.3)), "image/png"), ("cool.png", _photo(rng), "image/png")]
    ).run()
    assert not at.exception and not at.error
    assert "2 images, 32×32, RGB" in " ".join(c.value for c in at.caption)
    assert "3 statistics (one per channel), 2,048 values each" in summary(at)


def test_one_bad_file_is_named_and_the_others_still_load():
    rng = np.random.default_rng(1)
    at = open_app({"source": "upload", "size": "32"})
    at.file_uploader(key="uploads").set_value(
        [
            ("good.png", _photo(rng), "image/png"),
            ("broken.png", b"\x89PNG\r\n\x1a\n" + rng.bytes(40), "image/png"),
            ("good2.png", _photo(rng), "image/png"),
        ]
    ).run()
    assert "2 images" in " ".join(c.value for c in at.caption)
    notices = " ".join(i.value for i in at.info)
    assert "broken\\.png" in notices  # named, and shown as plain text


def test_all_bad_files_show_an_error_and_keep_the_last_good_input():
    rng = np.random.default_rng(2)
    at = open_app({"source": "upload", "size": "32"})
    at.file_uploader(key="uploads").set_value([("a.png", _photo(rng), "image/png")]).run()
    before = summary(at)
    at.file_uploader(key="uploads").set_value([("notes.jpg", b"just some text", "image/jpeg")]).run()
    assert at.error and "notes\\.jpg" in at.error[0].value
    assert summary(at) == before
    assert any("last input that worked" in i.value for i in at.info)


def test_file_names_are_never_rendered_as_markdown_or_html():
    rng = np.random.default_rng(3)
    at = open_app({"source": "upload", "size": "16"})
    name = "**bold** <img src=x onerror=alert(1)> $x$.png"
    at.file_uploader(key="uploads").set_value(
        [(name, _photo(rng), "image/png"), ("bad [link](http://x).png", b"", "image/png")]
    ).run()
    captions = [c for img in at.get("image") for c in (x.caption for x in img.proto.imgs)]
    label = next(c for c in captions if "bold" in c).removeprefix("inputs\\: ")
    assert label.startswith("\\*\\*bold\\*\\* \\<img src\\=x onerror\\=alert\\(1\\)\\> \\$x\\$\\.png")
    skipped = " ".join(i.value for i in at.info)
    assert "is empty" in skipped and "](" not in skipped and "\\)\\.png" in skipped


def test_random_tensor_settings():
    at = open_app({"source": "random", "rn": "3", "rc": "5", "rh": "7", "rw": "9", "seed": "4"})
    assert "Reducing over N, H, W: 5 statistics (one per channel), 189 values each" in summary(at)
    at.number_input(key="rc").set_value(2).run()
    assert "2 statistics" in summary(at)


def test_random_tensor_over_the_element_cap_keeps_the_last_good_input():
    at = open_app({"source": "random"})
    before = summary(at)
    for key, value in (("rn", 4096), ("rc", 4096), ("rh", 8)):
        at.number_input(key=key).set_value(value)
    at.run()
    assert at.error and "67,108,864" in at.error[0].value
    assert summary(at) == before


def test_feature_maps_make_one_channel_per_filter():
    at = open_app({"source": "features", "bank": "random", "k": "5", "size": "32"})
    assert "5 statistics (one per channel)" in summary(at)
    at.radio(key="bank").set_value("named").run()
    assert "10 statistics (one per channel)" in summary(at)


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def test_npy_upload_with_a_suggested_layout():
    rng = np.random.default_rng(4)
    at = open_app({"source": "npy"})
    nhwc = rng.normal(size=(2, 10, 12, 3)).astype(np.float32)
    at.file_uploader(key="npy_file").set_value(("acts.npy", _npy(nhwc), "application/octet-stream")).run()
    assert at.radio(key="layout").value == "NHWC"
    assert "3 statistics (one per channel), 240 values each" in summary(at)


def test_npz_with_several_arrays_offers_a_choice():
    rng = np.random.default_rng(5)
    buf = io.BytesIO()
    np.savez(buf, first=rng.normal(size=(4, 8)), second=rng.normal(size=(2, 3, 4, 4)))
    at = open_app({"source": "npy"})
    at.file_uploader(key="npy_file").set_value(("acts.npz", buf.getvalue(), "application/octet-stream")).run()
    choice = at.selectbox(key="npy_key")
    assert set(choice.options) >= {"first — 4×8 float64", "second — 2×3×4×4 float64"} or len(choice.options) == 2
    assert "8 statistics (one per channel), 4 values each" in summary(at)  # (4, 8) read as (N, F, 1, 1)


def test_npy_of_objects_is_refused_with_a_reason():
    at = open_app({"source": "npy"})
    at.file_uploader(key="npy_file").set_value(
        ("objs.npy", _npy(np.array([{"a": 1}], dtype=object)), "application/octet-stream")
    ).run()
    assert at.error and "pickle" in at.error[0].value.lower()
    assert "55,296 values each" in summary(at)  # still the sample photos

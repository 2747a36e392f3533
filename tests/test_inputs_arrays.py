"""Own activations (.npy / .npz): layouts, dtypes, picking arrays, and every bad case."""

import io
import zipfile

import numpy as np
import pytest

from normviz import NormvizError
from normviz.inputs import MAX_ARRAY_BYTES, MAX_ELEMENTS, list_arrays, load_array, suggest_layout


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz(compressed: bool = False, **arrays) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def header_only(shape, descr: str = "<f4") -> bytes:
    """A .npy header declaring ``shape`` with no data after it."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def error_for(data: bytes, name: str = "acts.npy", **kwargs) -> str:
    with pytest.raises(NormvizError) as caught:
        load_array(name, data, **kwargs)
    return str(caught.value)


def test_nchw_array_is_used_as_is():
    rng = np.random.default_rng(40)
    a = rng.normal(size=(2, 5, 4, 4)).astype(np.float32)
    t = load_array("acts.npy", npy(a), layout="NCHW")
    assert np.array_equal(t.x, a) and t.x.dtype == np.float32
    assert t.description == "acts.npy: 2×5×4×4 (NCHW), float32"
    assert t.labels == ("sample 0", "sample 1") and t.channel_names == ("c0", "c1", "c2", "c3", "c4")
    assert t.notices == ()


def test_nhwc_array_is_transposed():
    rng = np.random.default_rng(41)
    a = rng.normal(size=(2, 6, 7, 3))
    t = load_array("keras.npy", npy(a), layout="NHWC")
    assert t.x.shape == (2, 3, 6, 7) and t.x.flags.c_contiguous
    n, c, h, w = 1, 2, 5, 3
    assert t.x[n, c, h, w] == np.float32(a[n, h, w, c])
    np.testing.assert_array_equal(t.x, np.moveaxis(a, 3, 1).astype(np.float32))
    assert t.description == "keras.npy: 2×3×6×7 (NHWC → NCHW), float64 → float32"


def test_without_a_layout_the_guess_is_used_and_said():
    a = np.zeros((1, 32, 32, 3), np.float32)
    t = load_array("x.npy", npy(a))
    assert t.x.shape == (1, 3, 32, 32)
    assert t.notices == (
        "x.npy was read as NHWC (axes 1 and 2 are equal (32×32), like square H×W before C); "
        "choose the other layout if that is wrong.",
    )


def test_two_d_becomes_one_by_one_images():
    rng = np.random.default_rng(42)
    a = rng.normal(size=(6, 10))
    t = load_array("emb.npy", npy(a), layout="NHWC")
    assert t.x.shape == (6, 10, 1, 1)
    np.testing.assert_array_equal(t.x[:, :, 0, 0], a.astype(np.float32))
    assert any("(N, F, 1, 1)" in n for n in t.notices)


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.int8, np.uint16, np.int32, np.int64, np.float16, np.float64, ">f8", ">i2"]
)
def test_real_dtypes_become_float32(dtype):
    rng = np.random.default_rng(43)
    a = (rng.normal(size=(2, 3, 4, 4)) * 50).astype(dtype)
    t = load_array("a.npy", npy(a), layout="NCHW")
    assert t.x.dtype == np.float32
    np.testing.assert_array_equal(t.x, a.astype(np.float32))


def test_large_integers_warn_about_float32_precision():
    a = np.full((1, 1, 2, 2), 2**24 + 1, dtype=np.int64)
    t = load_array("ids.npy", npy(a), layout="NCHW")
    assert any("16,777,216" in n and "rounded" in n for n in t.notices)


def test_npz_arrays_are_listed_and_picked_by_name():
    rng = np.random.default_rng(44)
    layers = {"conv1": rng.normal(size=(2, 4, 8, 8)), "fc": rng.normal(size=(2, 10)), "ids": np.arange(3)}
    data = npz(compressed=True, **layers)
    infos = list_arrays("model.npz", data)
    assert [(i.key, i.shape, i.dtype) for i in infos] == [
        ("conv1", (2, 4, 8, 8), "float64"),
        ("fc", (2, 10), "float64"),
        ("ids", (3,), "int64"),
    ]
    assert infos[0].problem is None and infos[1].problem is None
    assert infos[2].problem.startswith("model.npz[ids] is 1-D")
    assert infos[0].label == "conv1 — (2, 4, 8, 8) float64"

    fc = load_array("model.npz", data, key="fc")
    np.testing.assert_array_equal(fc.x[:, :, 0, 0], layers["fc"].astype(np.float32))
    assert fc.description.startswith("model.npz[fc]: 2×10×1×1")

    default = load_array("model.npz", data)
    np.testing.assert_array_equal(default.x, layers["conv1"].astype(np.float32))
    assert any("holds 3 arrays (conv1, fc and ids); 'conv1' is shown" in n for n in default.notices)

    message = error_for(data, "model.npz", key="conv2")
    assert message == "model.npz has no array named 'conv2'; it holds: conv1, fc and ids."


def test_npy_lists_one_array():
    (info,) = list_arrays("a.npy", npy(np.zeros((2, 3), np.float16)))
    assert (info.key, info.shape, info.dtype, info.problem) == (None, (2, 3), "float16", None)


def test_npz_without_arrays():
    assert error_for(npz(), "empty.npz").startswith("empty.npz holds no arrays")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "no arrays here")
    assert error_for(buffer.getvalue(), "text.npz").startswith("text.npz holds no arrays")


def test_npz_whose_arrays_are_all_unusable():
    message = error_for(npz(a=np.arange(3), b=np.zeros((2, 2, 2))), "bad.npz")
    assert message.startswith("None of the 2 arrays in bad.npz can be used.")
    assert "bad.npz[a] is 1-D" in message and "bad.npz[b] is 3-D" in message


def test_object_array_is_refused_as_a_pickle():
    data = npy(np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    message = error_for(data, "objects.npy")
    assert message.startswith("objects.npy holds Python objects (dtype object); pickled data is refused")
    assert "allow_pickle=False" in message


@pytest.mark.parametrize(
    "shape, hint",
    [
        ((7,), "save x[None] (1, F)"),
        ((3, 8, 8), "save x[None] to add the batch axis"),
        ((2, 3, 4, 4, 4), "merge the extra axes into N or C"),
        ((), "single number"),
    ],
)
def test_wrong_rank(shape, hint):
    message = error_for(npy(np.zeros(shape, np.float32)), "r.npy")
    assert message.startswith(f"r.npy is {len(shape)}-D (shape {shape}); it must be 4-D (N, C, H, W) or 2-D (N, F)")
    assert hint in message


def test_empty_array():
    message = error_for(npy(np.zeros((0, 3, 4, 4), np.float32)))
    assert message == "acts.npy is empty (shape (0, 3, 4, 4)); every axis needs at least one value."


def test_complex_array():
    message = error_for(npy(np.ones((1, 1, 2, 2), np.complex64)))
    assert message.startswith("acts.npy holds complex numbers (complex64)") and "np.abs(x)" in message


@pytest.mark.parametrize(
    "array, text",
    [
        (np.array([[["a"]]] * 2, dtype="U3").reshape(1, 2, 1, 1), "holds text (<U3), not numbers"),
        (np.zeros((1, 1, 1, 2), dtype="datetime64[s]"), "holds dates (datetime64[s]), not numbers"),
        (np.zeros((1, 1, 1, 2), dtype=[("a", "<f4"), ("b", "<i4")]), "holds records with fields (a and b)"),
    ],
)
def test_non_numeric_arrays(array, text):
    assert text in error_for(npy(array))


def test_nan_and_inf_are_counted():
    a = np.zeros((2, 2, 3, 3), np.float64)
    a[0, 1, 2, 0] = np.nan
    a[1, 0, 0, 0] = np.nan
    a[1, 1, 1, 1] = np.nan
    a[1, 1, 2, 2] = np.inf
    a[1, 0, 2, 2] = -np.inf
    message = error_for(npy(a))
    assert message == (
        "acts.npy holds 3 NaN and 2 Inf value(s) among 36; the first is at index (0, 1, 2, 0). "
        "Replace them (e.g. np.nan_to_num(x)) and upload again."
    )


def test_values_beyond_float32_are_refused():
    a = np.full((1, 1, 2, 2), 1e300)
    assert "beyond float32's largest" in error_for(npy(a))


def test_over_the_element_cap_is_refused_from_the_header():
    side = int(np.sqrt(MAX_ELEMENTS)) + 1
    data = header_only((1, 1, side, side))
    message = error_for(data, "huge.npy")
    assert message == (
        f"huge.npy has shape (1, 1, {side}, {side}) = {side * side:,} values, over the cap of "
        f"{MAX_ELEMENTS:,} values per tensor; upload a slice, e.g. x[:8]."
    )


def test_over_the_byte_cap_is_refused_from_the_header():
    count = MAX_ARRAY_BYTES // 8 + 1
    assert count <= MAX_ELEMENTS
    message = error_for(header_only((1, 1, 1, count), "<f8"), "wide.npy")
    assert message.startswith("wide.npy holds") and "save it as float32" in message


def test_truncated_npy():
    data = npy(np.ones((2, 3, 4, 4), np.float32))
    message = error_for(data[:-20], "cut.npy", layout="NCHW")
    assert message.startswith("cut.npy is truncated or damaged")


def test_not_a_numpy_file():
    message = error_for(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "photo.npy")
    assert message == (
        "photo.npy is not a NumPy .npy or .npz file (it starts with bytes 0x89 0x50 0x4E 0x47 0x0D 0x0A 0x1A "
        "0x0A); save your array with np.save or np.savez."
    )
    assert error_for(b"", "zero.npy").startswith("zero.npy is empty (0 bytes)")


def test_damaged_npz():
    data = npz(a=np.ones((2, 3)))
    message = error_for(data[:40] + b"\x00" * 30, "broken.npz")
    assert message.startswith("broken.npz is a damaged .npz (ZIP) archive")


def test_bad_layout():
    assert "layout must be one of NCHW, NHWC; got 'NHCW'." in error_for(npy(np.zeros((1, 2, 3, 4))), layout="NHCW")


@pytest.mark.parametrize(
    "shape, layout",
    [
        ((8, 64, 28, 28), "NCHW"),
        ((8, 28, 28, 64), "NHWC"),
        ((1, 3, 224, 224), "NCHW"),
        ((1, 224, 224, 3), "NHWC"),
        ((4, 3, 32, 48), "NCHW"),
        ((4, 32, 48, 3), "NHWC"),
        ((2, 5, 6, 7), "NCHW"),
        ((16, 10), "NCHW"),
    ],
)
def test_suggest_layout(shape, layout):
    guess = suggest_layout(shape)
    assert guess.layout == layout and guess.reason


def test_a_key_is_ignored_for_a_single_npy():
    a = np.ones((2, 3), np.float32)
    assert load_array("a.npy", npy(a), key="conv1").x.shape == (2, 3, 1, 1)


def test_bad_header_inside_an_npz_names_the_member():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("layer.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 'nope'}")
    message = error_for(buffer.getvalue(), "odd.npz")
    assert message.startswith("odd.npz[layer] has an unreadable .npy header")


def npy_version(array: np.ndarray, version: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def test_zero_field_records_are_refused_in_the_listing_and_the_loading():
    data = npy(np.zeros((2, 3), dtype=np.dtype([])))
    (info,) = list_arrays("empty_records.npy", data)
    assert info.dtype == "structured"
    assert info.problem.startswith("empty_records.npy holds records with no fields (dtype [])")
    assert error_for(data, "empty_records.npy") == info.problem
    archive = npz(empty=np.zeros((2, 3), dtype=np.dtype([])), good=np.ones((2, 3), np.float32))
    assert [i.problem is None for i in list_arrays("both.npz", archive)] == [False, True]
    assert load_array("both.npz", archive).x.shape == (2, 3, 1, 1)


def test_a_plain_version_3_file_loads_as_numpy_loads_it():
    rng = np.random.default_rng(48)
    a = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    data = npy_version(a, (3, 0))
    assert data[6:8] == b"\x03\x00" and np.array_equal(np.load(io.BytesIO(data)), a)
    (info,) = list_arrays("v3.npy", data)
    assert info.problem is None and info.shape == a.shape
    assert np.array_equal(load_array("v3.npy", data, layout="NCHW").x, a)


@pytest.mark.parametrize("version", [(1, 5), (9, 9), (0, 0), (2, 1)])
def test_an_unknown_npy_version_is_named_as_it_is(version):
    data = bytearray(npy_version(np.zeros((2, 3), np.float32), (2, 0)))
    data[6:8] = bytes(version)
    for call in (lambda: list_arrays("odd.npy", bytes(data)), lambda: load_array("odd.npy", bytes(data))):
        with pytest.raises(NormvizError) as caught:
            call()
        message = str(caught.value)
        assert f"version {version[0]}.{version[1]}," in message and "Unicode" not in message
        assert "save it again with np.save" in message

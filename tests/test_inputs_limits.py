"""Caps, the shared result type, content hashes and file-name display."""

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

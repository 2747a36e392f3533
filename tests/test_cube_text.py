"""The cube's text description: what is grouped, how many groups, the selected one — for each setting."""

import numpy as np
import pytest

import normviz
from normviz.figures.cube_text import cube_description, spans


def tensor(shape=(2, 6, 4, 4)) -> np.ndarray:
    return np.random.default_rng(3).normal(size=shape).astype(np.float32)


def test_batchnorm_names_groups_and_selected_group_with_its_statistics():
    x = tensor()
    res = normviz.normalize(x, "NHW")
    text = cube_description(res, (1, 4, 2, 3), view="paper", color_by="mean")
    assert text.startswith("Tensor cube of x with N = 2, C = 6, H = 4, W = 4, drawn as N × C × H·W.")
    assert "BatchNorm: reducing over N, H, W makes 6 groups (one per channel) of 32 values each" in text
    assert "coloured by its mean μ" in text
    channel = x[:, 4].astype(np.float64)
    assert (
        f"Selected cell (1, 4, 2, 3) is in group (0, 4, 0, 0), which covers n 0–1, c 4, h 0–3, w 0–3: "
        f"μ = {channel.mean():.6g}, σ² = {channel.var():.6g}." in text
    )


def test_groupnorm_and_the_exact_view():
    res = normviz.normalize(tensor(), "CHW", groups=3)
    text = cube_description(res, (1, 5, 0, 0), view="exact", color_by="group")
    assert "drawn per sample as C × H × W blocks side by side" in text
    assert "GroupNorm (G = 3): reducing over C in 3 groups, H, W makes 6 groups" in text
    assert "(one per sample and group of 2 channels) of 32 values each" in text
    assert "one colour per group" in text
    assert "group (1, 2, 0, 0), which covers n 1, c 4–5, h 0–3, w 0–3" in text


@pytest.mark.parametrize(
    ("axes", "center", "expected"),
    [
        ("NC", True, "Reducing over N, C makes 16 groups (one per pixel) of 12 values each"),
        ("NCHW", True, "Reducing over N, C, H, W makes one group of 192 values"),
        ("", True, "Reducing over no axis makes 192 groups"),
        ("CHW", False, "RMSNorm: reducing over C, H, W without centering makes 2 groups (one per sample)"),
    ],
)
def test_custom_and_whole_tensor_settings(axes, center, expected):
    res = normviz.normalize(tensor(), axes, center=center)
    assert expected in cube_description(res, None, view="paper", color_by="variance")


def test_no_selection_says_nothing_of_one_and_a_note_is_kept():
    res = normviz.normalize(tensor(), "HW")
    text = cube_description(res, None, view="paper", color_by="variance", note="Groups are merged into blocks.")
    assert "Selected" not in text
    assert text.endswith("coloured by its variance σ². Groups are merged into blocks.")


def test_the_description_changes_with_the_selection():
    res = normviz.normalize(tensor(), "HW")
    first = cube_description(res, (0, 0, 0, 0), view="paper", color_by="mean")
    other = cube_description(res, (1, 3, 0, 0), view="paper", color_by="mean")
    assert first != other and "group (1, 3, 0, 0)" in other


def test_spans_of_a_box():
    assert spans((range(0, 6), range(1, 2), range(0, 96), range(5, 6))) == "n 0–5, c 1, h 0–95, w 5"

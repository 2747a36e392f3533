"""The plain-words summary names the statistics, their sizes and the layer."""

import numpy as np
import pytest

import normviz
from normviz.explain import WARNING, remarks_for
from normviz.summary import per_what, summary_sentence, torch_spelling

X = np.random.default_rng(0).normal(size=(4, 3, 64, 48)).astype(np.float32)


@pytest.mark.parametrize(
    "axes, groups, center, expected",
    [
        (
            "NHW",
            1,
            True,
            "Reducing over N, H, W: 3 statistics (one per channel), 12,288 values each — this is "
            "BatchNorm (PyTorch `nn.BatchNorm2d(3)`).",
        ),
        (
            "HW",
            1,
            True,
            "Reducing over H, W: 12 statistics (one per sample and channel), 3,072 values each — "
            "this is InstanceNorm (PyTorch `nn.InstanceNorm2d(3)`).",
        ),
        (
            "CHW",
            1,
            True,
            "Reducing over C, H, W: 4 statistics (one per sample), 9,216 values each — this is "
            "LayerNorm (PyTorch `nn.LayerNorm([3, 64, 48])`).",
        ),
        (
            "CHW",
            3,
            True,
            "Reducing over C in 3 groups, H, W: 12 statistics (one per sample and group of 1 channel), "
            "3,072 values each — this is InstanceNorm (GroupNorm with G = C = 3) (PyTorch "
            "`nn.GroupNorm(3, 3)`).",
        ),
        (
            "C",
            1,
            True,
            "Reducing over C: 12,288 statistics (one per sample and pixel), 3 values each — this is "
            "LayerNorm channels-last (per pixel; PixelNorm) (PyTorch `nn.LayerNorm(3) on "
            "x.permute(0, 2, 3, 1)`).",
        ),
        (
            "N",
            1,
            True,
            "Reducing over N: 9,216 statistics (one per channel and pixel), 4 values each — a custom "
            "normalization (no standard layer does exactly this).",
        ),
        (
            "CHW",
            1,
            False,
            "Reducing over C, H, W without centering: 4 statistics (one per sample), 9,216 values "
            "each — this is RMSNorm (PyTorch `nn.RMSNorm([3, 64, 48])`).",
        ),
    ],
)
def test_summary_sentence(axes, groups, center, expected):
    assert summary_sentence(normviz.normalize(X, axes, groups=groups, center=center)) == expected


def test_per_what_for_rows_and_columns():
    spec = normviz.NormSpec.make("W")
    assert per_what(spec, (2, 3, 4, 5)) == "one per sample, channel and row"
    assert per_what(normviz.NormSpec.make("NCHW"), (2, 3, 4, 5)) == "one for the whole tensor"


def test_torch_spelling_is_none_without_a_layer():
    assert torch_spelling(normviz.NormSpec.make("NC"), X.shape) is None


def warnings_for(res):
    return [r.text for r in remarks_for(res.spec, res.shape) if r.severity == WARNING]


def test_warnings_for_one_image_batchnorm():
    res = normviz.normalize(X[:1], "NHW")
    assert any("equal InstanceNorm" in w for w in warnings_for(res))


def test_warnings_for_one_value_groups_appear_once():
    res = normviz.normalize(X, "")
    texts = warnings_for(res)
    assert sum("own group" in w or "one value" in w or "single value" in w for w in texts) == 1
    assert list(res.warnings) == texts

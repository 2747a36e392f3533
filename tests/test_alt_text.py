"""Alternative text of the page's images: each names the sample, the channel, and the layer."""

import pytest

from normviz.figures.alt_text import colorbar_alt, layer_phrase, tile_alt
from normviz.spec import NormSpec

SHAPE = (6, 3, 96, 96)


@pytest.mark.parametrize(
    ("axes", "groups", "center", "shape", "expected"),
    [
        ("NHW", 1, True, SHAPE, "BatchNorm"),
        ("HW", 1, True, SHAPE, "InstanceNorm"),
        ("CHW", 1, True, SHAPE, "LayerNorm"),
        ("CHW", 1, False, SHAPE, "RMSNorm"),
        ("CHW", 2, True, (2, 6, 4, 4), "GroupNorm (G = 2)"),
        ("NC", 1, True, SHAPE, "normalization over N, C"),
        ("NCW", 3, True, (2, 6, 4, 4), "normalization over N, C in 3 groups, W"),
        ("NH", 1, False, SHAPE, "normalization over N, H without centering"),
        ("", 1, True, SHAPE, "no normalization (every value its own group)"),
    ],
)
def test_layer_phrase_names_the_layer_or_what_it_reduces_over(axes, groups, center, shape, expected):
    assert layer_phrase(NormSpec.make(axes, groups=groups, center=center), shape) == expected


def test_tile_alt_says_sample_channel_and_layer():
    assert tile_alt("coffee", "output", channel=2, layer="InstanceNorm") == "coffee, channel 2, after InstanceNorm"
    assert tile_alt("coffee", "output", channel=2, layer="InstanceNorm", rgb_names=True) == (
        "coffee, channel 2 (blue), after InstanceNorm"
    )
    assert tile_alt("sample 3", "input", channel=7, layer="BatchNorm") == "sample 3, channel 7, input in grey"
    assert tile_alt("rocket", "input RGB", channel=None, layer="BatchNorm") == "rocket, input as colour"
    assert tile_alt("rocket", "output RGB", channel=None, layer="BatchNorm") == (
        "rocket, after BatchNorm, recomposed as colour"
    )


def test_tile_alt_says_when_the_image_holds_the_selected_group():
    text = tile_alt("camera", "output", channel=0, layer="BatchNorm", rgb_names=True, selected=True)
    assert text == "camera, channel 0 (red), after BatchNorm, outlined: holds the selected group"


def test_rgb_names_only_for_the_first_three_channels():
    assert tile_alt("x", "output", channel=3, layer="L", rgb_names=True) == "x, channel 3, after L"


def test_tile_alt_refuses_unknown_kinds_and_a_missing_channel():
    with pytest.raises(ValueError, match="kind must be one of"):
        tile_alt("x", "histogram", channel=0, layer="L")
    with pytest.raises(ValueError, match="give its index"):
        tile_alt("x", "output", channel=None, layer="L")


def test_colorbar_alt_gives_the_colours_of_the_ends():
    assert colorbar_alt(-3, 3, diverging=True) == "Output colour scale: dark blue at −3, white at 0, dark red at +3"
    assert colorbar_alt(-0.25, 1.5, diverging=False) == "Input grey scale: black at −0.25, white at 1.5"

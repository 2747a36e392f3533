"""Axis parsing, presets, GroupNorm's default G, and naming a spec."""

import pytest

import normviz
from normviz.spec import NormSpec


@pytest.mark.parametrize(
    "given, canonical",
    [("NHW", "NHW"), ("wHn", "NHW"), ("n, h, w", "NHW"), (["H", "W"], "HW"), (("C",), "C"), ("", ""), ([], "")],
)
def test_axes_in_any_order_or_case(given, canonical):
    assert normviz.parse_axes(given) == canonical


@pytest.mark.parametrize(
    "name, axes, center, groups_for_64",
    [
        ("BatchNorm", "NHW", True, 1),
        ("LayerNorm", "CHW", True, 1),
        ("LayerNorm channels-last", "C", True, 1),
        ("InstanceNorm", "HW", True, 1),
        ("GroupNorm", "CHW", True, 32),
        ("RMSNorm", "CHW", False, 1),
    ],
)
def test_presets(name, axes, center, groups_for_64):
    preset = normviz.PRESETS[name]
    spec = preset.spec(64)
    assert (spec.axes, spec.center, spec.groups) == (axes, center, groups_for_64)
    assert normviz.identify(spec, (8, 64, 4, 4)).name == name


@pytest.mark.parametrize(
    "channels, expected", [(64, 32), (32, 16), (48, 24), (6, 3), (3, 3), (7, 7), (96, 32), (100, 25), (37, 1)]
)
def test_groupnorm_default_is_32_or_the_largest_divisor_below_that_still_groups(channels, expected):
    assert normviz.default_groups(channels) == expected
    assert channels % expected == 0


@pytest.mark.parametrize("alias", ["bn", "BatchNorm2d", "batch-norm", "BATCHNORM"])
def test_preset_aliases(alias):
    assert normviz.get_preset(alias).name == "BatchNorm"


def test_unknown_preset_lists_the_choices():
    with pytest.raises(normviz.NormvizError, match="unknown preset 'WeightNorm'; choose one of BatchNorm, LayerNorm"):
        normviz.get_preset("WeightNorm")


@pytest.mark.parametrize(
    "axes, groups, center, shape, name, label_part",
    [
        ("NHW", 1, True, (4, 3, 8, 8), "BatchNorm", "BatchNorm"),
        ("HW", 1, True, (4, 3, 8, 8), "InstanceNorm", "InstanceNorm"),
        ("CHW", 3, True, (4, 3, 8, 8), "InstanceNorm", "GroupNorm with G = C = 3"),
        ("CHW", 2, True, (4, 4, 8, 8), "GroupNorm", "G = 2"),
        ("CHW", 1, True, (4, 4, 8, 8), "LayerNorm", "LayerNorm"),
        ("C", 1, True, (4, 4, 8, 8), "LayerNorm channels-last", "PixelNorm"),
        ("CHW", 1, False, (4, 4, 8, 8), "RMSNorm", "RMSNorm"),
        ("NHW", 1, False, (4, 4, 8, 8), "Custom", "without centering"),
        ("N", 1, True, (4, 4, 8, 8), "Custom", "reduce over N"),
        ("NC", 2, True, (4, 4, 8, 8), "Custom", "in 2 channel groups"),
        ("", 1, True, (4, 4, 8, 8), "None", "no reduction"),
    ],
)
def test_identify_names_the_spec(axes, groups, center, shape, name, label_part):
    ident = normviz.identify(NormSpec.make(axes, groups, 1e-5, center), shape)
    assert ident.name == name
    assert label_part in ident.label


def test_stats_shape_per_preset():
    shape = (4, 6, 5, 7)
    assert NormSpec.make("NHW").stats_shape(shape) == (1, 6, 1, 1)
    assert NormSpec.make("CHW").stats_shape(shape) == (4, 1, 1, 1)
    assert NormSpec.make("HW").stats_shape(shape) == (4, 6, 1, 1)
    assert NormSpec.make("CHW", groups=3).stats_shape(shape) == (4, 3, 1, 1)
    assert NormSpec.make("C").stats_shape(shape) == (4, 1, 5, 7)


@pytest.mark.parametrize("channels", range(1, 130))
def test_the_groupnorm_preset_shows_real_groups_where_c_allows(channels):
    g = normviz.PRESETS["GroupNorm"].spec(channels).groups
    assert channels % g == 0 and g == normviz.default_groups(channels)
    proper = [d for d in range(2, channels) if channels % d == 0]
    assert (1 < g < channels) == bool(proper), "G = C (InstanceNorm) only when no proper divisor exists"
    paper = max(d for d in range(1, 33) if channels % d == 0)
    assert g == (paper if paper < channels else max(proper, default=channels))


def test_the_library_groupnorm_preset_on_six_channels_is_not_instancenorm():
    spec = normviz.PRESETS["GroupNorm"].spec(6)
    assert spec.groups == 3 and normviz.identify(spec, (2, 6, 4, 4)).name == "GroupNorm"


def test_fit_groups_keeps_a_dividing_wish_and_else_takes_the_nearest_divisor_below():
    from normviz.spec import fit_groups

    assert fit_groups(4, 16) == 4
    assert fit_groups(4, 6) == 3
    assert fit_groups(5, 3) == 3
    assert fit_groups("auto", 12) == 6

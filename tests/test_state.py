"""Settings ⇄ URL query parameters: round trip, clean links, and notices for bad values."""

import pytest

from normviz import state


def test_defaults_make_a_clean_link():
    assert state.to_query(state.defaults()) == {}


def test_round_trip_of_every_changed_setting():
    values = state.defaults() | {
        "source": "random",
        "rn": 8,
        "axes": "CHW",
        "groups": 4,
        "eps": 1e-3,
        "center": False,
        "cell": (1, 2, 3, 4),
        "gamma": (1.0, 2.5),
        "view": "exact",
        "caxes": "",
        "preset": "Custom",
    }
    query = state.to_query(values)
    assert query["axes"] == "CHW" and query["caxes"] == "-" and query["center"] == "0"
    parsed, notices = state.from_query(query)
    assert notices == []
    assert state.defaults() | parsed == values


@pytest.mark.parametrize(
    "key, raw, reason",
    [
        ("axes", "NXW", "unknown axis letter"),
        ("groups", "zero", "not a whole number"),
        ("groups", "0", "between 1 and 4096"),
        ("eps", "-1", "> 0"),
        ("eps", "nan", "> 0"),
        ("source", "webcam", "choose one of samples, upload"),
        ("cell", "1,2,3", "four indices"),
        ("center", "maybe", "use 1 or 0"),
        ("gamma", "1,x", "comma-separated numbers"),
    ],
)
def test_bad_values_fall_back_with_a_notice(key, raw, reason):
    values, notices = state.from_query({key: raw, "rn": "7"})
    assert key not in values and values["rn"] == 7
    assert len(notices) == 1 and reason in notices[0] and "using the default" in notices[0]


def test_unknown_parameters_are_named():
    values, notices = state.from_query({"zoom": "3"})
    assert values == {} and "zoom" in notices[0]


def test_repeated_parameter_uses_the_last_value():
    values, _ = state.from_query({"rn": ["3", "5"]})
    assert values["rn"] == 5


@pytest.mark.parametrize(
    "axes, groups, center, preset",
    [
        ("NHW", 1, True, "BatchNorm"),
        ("CHW", 1, True, "LayerNorm"),
        ("CHW", 8, True, "GroupNorm"),
        ("HW", 1, True, "InstanceNorm"),
        ("C", 1, True, "LayerNorm channels-last"),
        ("CHW", 1, False, "RMSNorm"),
        ("NHW", 1, False, "Custom"),
        ("NW", 1, True, "Custom"),
        ("C", 2, True, "Custom"),
    ],
)
def test_toggles_name_their_preset(axes, groups, center, preset):
    assert state.match_preset(axes, groups, center) == preset


@pytest.mark.parametrize(
    ("channels", "groups"),
    [(64, 32), (96, 32), (48, 24), (16, 8), (12, 6), (6, 3), (10, 5), (4, 2), (3, 3), (7, 7), (1, 1)],
)
def test_the_page_groupnorm_preset_shows_real_groups_where_c_allows(channels, groups):
    g = state.page_groups(channels)
    assert g == groups and channels % g == 0
    proper = [d for d in range(2, channels) if channels % d == 0]
    assert (1 < g < channels) == bool(proper), "G = C only when no proper divisor exists"


def test_fit_groups_keeps_a_dividing_wish_and_else_takes_the_nearest_divisor_below():
    assert state.fit_groups(4, 16) == 4
    assert state.fit_groups(4, 6) == 3
    assert state.fit_groups(5, 3) == 3
    assert state.fit_groups("auto", 12) == 6

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


NUMBERS = [f for f in state.FIELDS if f.widget == "number"]


@pytest.mark.parametrize("field", NUMBERS, ids=[f.key for f in NUMBERS])
def test_a_link_accepts_exactly_what_the_widget_accepts(field):
    """The widget is built from the same row: its bounds are the link's."""
    assert field.parse(str(field.lo)) == field.lo and field.parse(str(field.hi)) == field.hi
    below, above = (field.lo - 1, field.hi + 1) if isinstance(field.hi, int) else (field.lo - 1e-3, field.hi * 1.01)
    for outside in (below, above):
        with pytest.raises(ValueError, match="between"):
            field.parse(str(outside))


def test_random_sizes_from_the_issue_link_are_kept():
    values, notices = state.from_query({"source": "random", "rn": "1000", "rc": "2", "rh": "4", "rw": "4"})
    assert notices == [] and (values["rn"], values["rc"], values["rh"], values["rw"]) == (1000, 2, 4, 4)


@pytest.mark.parametrize("raw, name", [("custom", "Custom"), ("gn", "GroupNorm"), ("layernorm", "LayerNorm")])
def test_a_preset_in_a_link_may_be_any_case_or_alias(raw, name):
    assert state.from_query({"preset": raw}) == ({"preset": name}, [])


def test_every_setting_with_a_widget_of_its_own_declares_its_label_and_options():
    for field in state.FIELDS:
        if field.widget:
            assert field.label, field.key
        if field.widget in ("radio", "multiselect") or (field.widget == "select" and field.lo is None):
            assert field.options and field.default in (*field.options, field.options), field.key

"""Links, widgets, the library and the page agree: sizes, GroupNorm's G, warnings, capped numbers."""

import pytest

import normviz
from normviz import state
from normviz.ui import explain_tabs
from tests.page.conftest import open_app, open_tab, summary


def test_a_link_keeps_random_sizes_that_the_widgets_accept():
    at = open_app({"source": "random", "rn": "1000", "rc": "2", "rh": "4", "rw": "4"})
    assert not at.warning, [w.value for w in at.warning]
    assert at.number_input(key="rn").value == 1000
    assert summary(at).startswith("Reducing over N, H, W: 2 statistics (one per channel), 16,000 values each")
    assert at.query_params["rn"] == "1000"


RANDOM, FEATURES = {"source": "random"}, {"source": "features", "bank": "random"}


@pytest.mark.parametrize(
    "key, query",
    [("rn", RANDOM), ("rc", RANDOM), ("rh", RANDOM), ("rw", RANDOM), ("nshift", RANDOM), ("nscale", RANDOM),
     ("size", {}), ("eps", {}), ("k", FEATURES), ("draws", {"tab": "Batch size"}), ("epochs", {"tab": "Train vs eval"})],
)  # fmt: skip
def test_every_number_widget_has_the_bounds_of_its_link(key, query):
    field = state.BY_KEY[key]
    at = open_app(query)
    proto = at.number_input(key=key).proto
    assert (proto.min, proto.max) == (field.lo, field.hi)


@pytest.mark.parametrize("channels", [6, 12, 16, 32, 64])
def test_the_page_and_compare_take_the_librarys_groupnorm(channels):
    expected = normviz.PRESETS["GroupNorm"].spec(channels).groups
    at = open_app({"source": "random", "rc": str(channels), "rn": "2", "rh": "4", "rw": "4", "tab": "Compare"})
    at.selectbox(key="preset").set_value("GroupNorm").run()
    at.selectbox(key="cpreset").set_value("GroupNorm").run()
    assert at.selectbox(key="groups").value == expected
    assert at.selectbox(key="cgroups").value == expected
    assert f"GroupNorm (G = {expected})" in summary(at)


def test_no_axis_without_centering_warns_what_the_output_really_is():
    at = open_app({"source": "random", "axes": "", "center": "0", "preset": "custom"})
    warnings = [w.value for w in at.warning]
    assert not any("is β" in w or "output is β" in w for w in warnings), warnings
    assert any("every value is its own group" in w and "x / √(x² + ε)" in w for w in warnings), warnings
    assert at.selectbox(key="preset").value == "Custom" and at.toggle(key="center").value is False


def test_the_batch_size_tab_fits_the_crop_to_a_small_input_without_writing_it_into_the_link():
    explain_tabs._EXPERIMENTS.clear()
    at = open_app({"source": "random", "tab": "Batch size"})  # 4 × 6 × 16 × 16: the default crop 32 does not fit
    assert at.number_input(key="crop").value == 16
    assert "crop" not in at.query_params
    assert [key[1] for key in explain_tabs._EXPERIMENTS] == [16], "the experiment ran on 16 × 16 crops"
    at.selectbox(key="source").set_value("samples").run()  # 96 × 96: the crop asked for fits again
    assert at.number_input(key="crop").value == 32
    at.number_input(key="crop").set_value(12).run()
    assert at.query_params["crop"] == "12"


def test_the_training_batch_fits_a_one_image_input_and_comes_back():
    at = open_app({"photos": "coffee", "tab": "Train vs eval", "tbatch": "3"})
    assert at.number_input(key="tbatch").value == 1
    assert at.query_params["tbatch"] == "3"
    at.multiselect(key="photos").set_value(["coffee", "astronaut", "camera", "chelsea"]).run()
    assert at.number_input(key="tbatch").value == 3


def test_the_settings_widgets_are_all_built_from_the_table():
    at = open_app({"source": "random", "tab": "Train vs eval"})
    open_tab(at, "Train vs eval")
    for key in ("rn", "seed", "nshift", "eps", "gscale", "tbatch", "momentum", "epochs"):
        assert at.number_input(key=key).label == state.BY_KEY[key].label, key


@pytest.mark.parametrize(
    "query, preset_key, preset",
    [
        ({"groups": "5"}, "preset", "BatchNorm"),  # G without C reduced changes nothing
        ({"caxes": "-", "tab": "Compare"}, "cpreset", "Custom"),
        ({"caxes": "CHW", "tab": "Compare"}, "cpreset", "LayerNorm"),
    ],
)
def test_toggles_in_a_link_without_a_preset_name_the_preset_they_amount_to(query, preset_key, preset):
    at = open_app(query)
    assert at.selectbox(key=preset_key).value == preset

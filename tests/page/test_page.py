"""The page through AppTest: first open, presets and toggles, groups, selection, tabs, URL, errors."""

import numpy as np
import pytest

import normviz
from normviz import inputs
from normviz.state import PRESET_CHOICES
from tests.page.conftest import open_app, open_tab, summary

SAMPLES = inputs.load_samples(size=(96, 96))


def test_first_open_shows_the_samples_under_batchnorm(app):
    assert summary(app).startswith("Reducing over N, H, W: 3 statistics (one per channel), 55,296 values each")
    assert "this is BatchNorm (PyTorch `nn.BatchNorm2d(3)`)" in summary(app)
    assert app.selectbox(key="preset").value == "BatchNorm"
    assert app.pills(key="axes_pick").value == ["N", "H", "W"]
    assert not app.error
    assert dict(app.query_params) == {}
    assert [t.label for t in app.tabs][:4] == ["Channels", "Statistics", "Histograms", "Compare"]
    # the gallery shows the six photos' inputs and outputs
    images = app.get("image")
    assert images, "the channel gallery renders images"


@pytest.mark.parametrize("preset", [p for p in PRESET_CHOICES if p != "Custom"])
def test_each_preset_sets_the_toggles_and_the_statistics_match_normalize(app, preset):
    app.selectbox(key="preset").set_value(preset).run()
    spec = normviz.PRESETS[preset].spec(3)
    assert app.pills(key="axes_pick").value == list(spec.axes)
    assert app.toggle(key="center").value == spec.center
    expected_name = normviz.identify(spec, SAMPLES.shape).label
    assert expected_name in summary(app)
    open_tab(app, "Statistics")
    table = app.dataframe[0].value
    res = normviz.normalize(SAMPLES.x, spec.axes, groups=spec.groups, center=spec.center)
    shown = min(len(table), res.n_groups)
    np.testing.assert_allclose(table["mean μ"].to_numpy()[:shown], res.mean.reshape(-1)[:shown], rtol=1e-12)
    np.testing.assert_allclose(table["variance σ²"].to_numpy()[:shown], res.var.reshape(-1)[:shown], rtol=1e-12)
    assert (table["count"] == res.count).all()


@pytest.mark.parametrize(
    "axes, preset, words",
    [
        (["H", "W"], "InstanceNorm", "InstanceNorm"),
        (["C", "H", "W"], "LayerNorm", "LayerNorm"),
        (["C"], "LayerNorm channels-last", "one per sample and pixel"),
        (["N"], "Custom", "a custom normalization"),
        (["N", "W"], "Custom", "one per channel and row"),
        ([], "Custom", "no axis"),
    ],
)
def test_axis_toggles_show_the_matching_preset(app, axes, preset, words):
    app.pills(key="axes_pick").set_value(axes).run()
    assert app.selectbox(key="preset").value == preset
    assert words in summary(app)


def test_no_axis_warns_that_every_value_is_its_own_group(app):
    app.pills(key="axes_pick").set_value([]).run()
    assert any("every value is its own group" in w.value for w in app.warning)


def test_groups_offer_only_divisors_and_name_groupnorm():
    at = open_app({"source": "random", "rc": "12", "rn": "2", "rh": "4", "rw": "4"})
    at.selectbox(key="preset").set_value("GroupNorm").run()
    groups = at.selectbox(key="groups")
    assert groups.options == ["1", "2", "3", "4", "6", "12"]
    # the paper's G = 32 would be every channel alone (InstanceNorm): the page shows real groups
    assert groups.value == 6
    assert "GroupNorm (G = 6)" in summary(at) and "one per sample and group of 2 channels" in summary(at)
    groups.set_value(12).run()
    assert "InstanceNorm (GroupNorm with G = C = 12)" in summary(at)
    at.selectbox(key="groups").set_value(4).run()
    assert "GroupNorm (G = 4)" in summary(at)
    assert "one per sample and group of 3 channels" in summary(at)
    assert at.selectbox(key="preset").value == "GroupNorm"


def test_turning_off_centering_gives_rmsnorm(app):
    app.selectbox(key="preset").set_value("LayerNorm").run()
    app.toggle(key="center").set_value(False).run()
    assert app.selectbox(key="preset").value == "RMSNorm"
    assert "without centering" in summary(app) and "RMSNorm" in summary(app)


def test_selection_by_widgets_moves_the_group_and_the_arithmetic(app):
    app.selectbox(key="preset").set_value("InstanceNorm").run()
    for key, value in zip(("cell_n", "cell_c", "cell_h", "cell_w"), (3, 2, 10, 20)):
        app.number_input(key=key).set_value(value)
    app.run()
    card = next(m.value for m in app.markdown if m.value.startswith("**Selected group"))
    res = normviz.normalize(SAMPLES.x, "HW")
    assert card.startswith("**Selected group (3, 2, 0, 0)**")
    assert f"μ = {res.mean[3, 2, 0, 0]:.6g}" in card
    latex = app.get("latex")[0].proto.body
    assert f"{SAMPLES.x[3, 2, 10, 20]:.6g}" in latex
    expected_y = (SAMPLES.x[3, 2, 10, 20] - res.mean[3, 2, 0, 0]) / np.sqrt(res.var[3, 2, 0, 0] + 1e-5)
    assert f"{expected_y:.6g}" in latex


def test_a_click_on_the_cube_selects_its_cell(app):
    app.session_state["cube"] = {"cell": [4, 1, 7, 9], "nonce": "click-1"}
    app.run()
    assert [app.number_input(key=k).value for k in ("cell_n", "cell_c", "cell_h", "cell_w")] == [4, 1, 7, 9]


def test_selection_is_kept_inside_a_smaller_input():
    at = open_app({"cell": "5,2,90,90"})
    at.selectbox(key="source").set_value("random").run()
    cell = [at.number_input(key=k).value for k in ("cell_n", "cell_c", "cell_h", "cell_w")]
    assert cell == [3, 2, 15, 15]  # random default 4×6×16×16


def test_histograms_and_compare_tabs(app):
    open_tab(app, "Histograms")
    assert len(app.get("plotly_chart")) >= 1
    open_tab(app, "Compare")
    sentences = [m.value for m in app.markdown if m.value.startswith("**Reducing")]
    assert any("BatchNorm" in s for s in sentences) and any("InstanceNorm" in s for s in sentences)
    app.selectbox(key="cpreset").set_value("LayerNorm").run()
    sentences = [m.value for m in app.markdown if m.value.startswith("**Reducing")]
    assert any("LayerNorm" in s for s in sentences)
    assert app.pills(key="caxes_pick").value == ["C", "H", "W"]


def test_settings_travel_in_the_url_and_come_back(app):
    app.selectbox(key="preset").set_value("GroupNorm").run()
    app.number_input(key="cell_c").set_value(2).run()
    query = dict(app.query_params)
    assert query["preset"] == "GroupNorm" and query["axes"] == "CHW" and query["cell"] == "0,2,0,0"
    again = open_app(query)
    assert again.selectbox(key="preset").value == "GroupNorm"
    assert again.number_input(key="cell_c").value == 2
    assert summary(again) == summary(app)


def test_bad_link_values_fall_back_with_a_notice():
    at = open_app({"axes": "NQ", "eps": "-3", "zoom": "2"})
    texts = " ".join(w.value for w in at.warning)
    assert "unknown axis letter" in texts and "ε" in texts and "zoom" in texts
    assert "BatchNorm" in summary(at)


def test_an_uploaded_source_in_a_link_falls_back_to_the_samples():
    at = open_app({"source": "upload"})
    assert any("No images uploaded yet" in i.value for i in at.info)
    assert "55,296 values each" in summary(at)


def test_eps_reaches_the_arithmetic(app):
    app.number_input(key="eps").set_value(0.25).run()
    latex = app.get("latex")[0].proto.body
    assert "0.25" in latex and not app.error
    assert app.query_params["eps"] == "0.25"


def test_downloads_are_offered(app):
    labels = [b.proto.label for b in app.get("download_button")]
    assert any(".npy" in label for label in labels) and any(".csv" in label for label in labels)


@pytest.mark.parametrize("query", [{"rh": "1", "rw": "1000", "rn": "6", "rc": "3"}, {"rh": "2", "rw": "1024"}])
def test_long_thin_random_tensors_show_their_gallery(query):
    at = open_app({"source": "random", **query})
    assert not at.exception and not at.error
    assert sum(len(img.proto.imgs) for img in at.get("image")) >= 2, "the channel gallery is drawn"

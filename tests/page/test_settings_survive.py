"""Choices survive while their widgets are not drawn: another input source, another tab."""

from streamlit.testing.v1 import AppTest

from .conftest import APP, open_app, open_tab, summary


def switch_source(at, source):
    at.selectbox(key="source").set_value(source).run()
    assert not at.exception, at.exception
    return at


def test_sample_photos_survive_a_trip_to_the_random_tensor():
    at = open_app({"photos": "astronaut,coffee", "size": "64"})
    switch_source(at, "random")
    switch_source(at, "samples")
    assert at.multiselect(key="photos").value == ["astronaut", "coffee"]
    assert at.number_input(key="size").value == 64
    assert not at.error, [e.value for e in at.error]
    assert "Reducing over N, H, W: 3 statistics (one per channel), 8,192 values each" in summary(at)


def test_random_tensor_settings_survive_a_trip_to_the_samples():
    at = open_app({"source": "random", "rn": "8", "rc": "16", "nshift": "2", "axes": "CHW", "groups": "4"})
    switch_source(at, "samples")
    switch_source(at, "random")
    values = {key: at.number_input(key=key).value for key in ("rn", "rc", "rh", "rw", "nshift")}
    assert values == {"rn": 8, "rc": 16, "rh": 16, "rw": 16, "nshift": 2.0}
    assert at.selectbox(key="groups").value == 4
    assert "this is GroupNorm" in summary(at)


def test_feature_map_settings_survive_a_trip_to_the_samples():
    at = open_app({"source": "features", "bank": "random", "k": "16", "ksize": "5", "relu": "0"})
    switch_source(at, "samples")
    switch_source(at, "features")
    assert at.number_input(key="k").value == 16
    assert at.toggle(key="relu").value is False
    assert "16 statistics (one per channel)" in summary(at)


def test_a_tab_keeps_its_settings_while_another_tab_is_open():
    at = open_app({"tab": "Train vs eval", "tbatch": "4", "momentum": "0.3"})
    assert at.number_input(key="tbatch").value == 4
    open_tab(at, "Statistics")
    open_tab(at, "Train vs eval")
    assert at.number_input(key="tbatch").value == 4
    assert at.number_input(key="momentum").value == 0.3
    assert not at.error, [e.value for e in at.error]
    open_tab(at, "Compare")
    at.selectbox(key="cpreset").set_value("LayerNorm").run()
    open_tab(at, "Channels")
    open_tab(at, "Compare")
    assert at.selectbox(key="cpreset").value == "LayerNorm"


def test_the_batch_size_experiment_is_served_again_without_error():
    query = {"tab": "Batch size", "draws": "41"}
    first = open_app(query)
    assert any("At batch size 1 BatchNorm's statistics are InstanceNorm's" in c.value for c in first.caption)
    again = AppTest.from_file(APP, default_timeout=120)  # a second visitor: nothing cleared, results kept
    again.query_params.update(query)
    again.run()
    assert not again.exception, again.exception
    assert any("At batch size 1 BatchNorm's statistics are InstanceNorm's" in c.value for c in again.caption)
    open_tab(again, "Channels")
    open_tab(again, "Batch size")
    assert len(again.get("plotly_chart")) >= 2


def test_a_preset_alone_in_the_link_sets_its_axes():
    at = open_app({"preset": "InstanceNorm"})
    assert "this is InstanceNorm" in summary(at)
    assert at.pills(key="axes_pick").value == ["H", "W"]
    at = open_app({"preset": "GroupNorm", "source": "random", "rc": "16"})
    assert at.selectbox(key="groups").value == 8
    assert "GroupNorm (G = 8)" in summary(at)
    at = open_app({"preset": "RMSNorm"})
    assert at.toggle(key="center").value is False and "RMSNorm" in summary(at)


def test_groupnorm_follows_the_input_and_comes_back():
    at = open_app({"source": "random", "rc": "64", "preset": "GroupNorm"})
    assert at.selectbox(key="groups").value == 32
    at.number_input(key="rc").set_value(6).run()
    assert at.selectbox(key="groups").value == 3 and at.selectbox(key="preset").value == "GroupNorm"
    at.number_input(key="rc").set_value(7).run()  # a prime: only G = 1 or G = C exist
    assert "InstanceNorm (GroupNorm with G = C = 7)" in summary(at)
    at.number_input(key="rc").set_value(64).run()
    assert at.selectbox(key="groups").value == 32
    assert not at.info or all("does not divide" not in i.value for i in at.info)


def test_a_short_gamma_list_in_the_link_is_padded_with_a_notice():
    at = open_app({"gamma": "1,2"})
    assert any("γ per channel has 2 values for C \\= 3 channels" in i.value for i in at.info)  # Markdown-escaped
    assert at.session_state["gamma"] == (1.0, 2.0, 1.0)


def test_layernorm_note_is_an_aside_not_a_warning():
    at = open_app({"preset": "LayerNorm"})
    assert not any("GroupNorm with G = 1" in w.value for w in at.warning)
    assert any("GroupNorm with G = 1 has these statistics too" in c.value for c in at.caption)


def test_a_groupnorm_link_keeps_its_g_or_takes_the_presets():
    at = open_app({"preset": "GroupNorm", "groups": "2", "source": "random", "rc": "16"})
    assert at.selectbox(key="groups").value == 2
    at = open_app({"preset": "GroupNorm", "axes": "CHW", "source": "random", "rc": "16"})
    assert at.selectbox(key="groups").value == 8 and "GroupNorm (G = 8)" in summary(at)

"""The Training tab through AppTest: the link's choices, Run, results shared with the next visitor."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from normviz.train import TrainSettings
from normviz.ui import training_tab
from tests.page.conftest import APP, open_app, open_tab

QUERY = {"tab": "Training", "trnorms": "Your setting,BatchNorm,InstanceNorm", "trbatches": "2,8", "trseeds": "1"}


@pytest.fixture
def quick(monkeypatch):
    """One epoch instead of five: the same code, a few seconds."""
    monkeypatch.setattr(training_tab, "SETTINGS", TrainSettings(epochs=1))


def test_link_sets_the_choices_and_run_shows_the_results(quick):
    at = open_app(QUERY)
    assert at.radio(key="trtask").value == "photo"
    assert list(at.button_group(key="trnorms").value) == ["Your setting", "BatchNorm", "InstanceNorm"]
    assert list(at.button_group(key="trbatches").value) == [2, 8]
    # the page's setting is BatchNorm: it is trained once, as BatchNorm
    assert any("3 distinct runs (0 already trained" in c.value for c in at.caption)
    at.button(key="train_run").click().run(timeout=300)
    assert not at.exception, at.exception
    reading = next(m.value for m in at.markdown if m.value.startswith("**As measured here:**"))
    assert "BatchNorm's test error" in reading and "at batch 8 to" in reading and "InstanceNorm (" in reading
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert any(t.startswith("Test error against batch size") for t in titles)
    assert any(t.startswith("Learning curves at batch size 2") for t in titles)
    assert any(t.startswith("Eval mode against batch statistics") for t in titles)
    table = at.dataframe[0].value
    assert list(table.columns) == ["normalization", "B = 8", "B = 2"]
    own = "BatchNorm, test batches of B with their own statistics"
    assert list(table["normalization"]) == ["BatchNorm", "InstanceNorm", own]
    assert table["B = 2"][1] == table["B = 8"][1], "one InstanceNorm run serves every batch size"
    assert at.get("download_button")

    # A second visitor with the same choices sees the results at once, without training.
    other = AppTest.from_file(APP, default_timeout=120)
    other.query_params.update(QUERY)
    other.run()
    assert not other.exception, other.exception
    assert any("All 3 runs are trained" in c.value for c in other.caption)
    assert any(m.value.startswith("**As measured here:**") for m in other.markdown)
    assert other.button(key="train_run").disabled


def test_your_setting_is_trained_when_it_is_no_preset(quick):
    at = open_app({**QUERY, "preset": "Custom", "axes": "NC", "trnorms": "Your setting", "trbatches": "4"})
    open_tab(at, "Training")
    at.button(key="train_run").click().run(timeout=300)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["normalization"])[0] == "Your setting (NC)"  # it pools over N: a row for batch statistics too
    assert len(table) == 2


def test_nothing_picked_says_what_to_do(quick):
    at = open_app(QUERY)
    at.button_group(key="trnorms").set_value([]).run()
    assert any("Pick at least one normalization" in i.value for i in at.info)


def test_bad_link_values_fall_back_with_a_notice():
    at = open_app({"tab": "Training", "trbatches": "3,64"})
    assert list(at.button_group(key="trbatches").value) == [2, 4, 8, 16, 32]
    assert any("training batch sizes" in w.value for w in at.warning)

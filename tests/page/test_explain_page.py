"""The explaining tabs and notes through AppTest."""

from normviz.codegen import translate
from tests.page.conftest import open_tab


def test_notes_follow_the_selection(app):
    titles = [e.label for e in app.expander]
    assert any("BatchNorm pools N, H and W" in t for t in titles)
    app.selectbox(key="preset").set_value("InstanceNorm").run()
    titles = [e.label for e in app.expander]
    assert not any("BatchNorm pools N, H and W" in t for t in titles)
    assert any("style transfer" in t for t in titles)


def test_code_tab_shows_the_translators_snippets_for_the_layout(app):
    app.selectbox(key="preset").set_value("GroupNorm").run()
    open_tab(app, "Code")
    shown = [c.value for c in app.code]
    import normviz

    res = normviz.normalize(normviz.inputs.load_samples(size=(96, 96)).x, "CHW", groups=3)
    expected = translate(res.spec, res.shape, layout="NCHW", affine=False)
    assert shown == [s.code.rstrip("\n") for s in expected.values()]
    app.radio(key="clayout").set_value("NHWC").run()
    expected = translate(res.spec, res.shape, layout="NHWC", affine=False)
    assert [c.value for c in app.code] == [s.code.rstrip("\n") for s in expected.values()]


def test_train_vs_eval_switches_momentum_with_the_convention(app):
    open_tab(app, "Train vs eval")
    assert app.number_input(key="momentum").value == 0.1
    app.selectbox(key="conv").set_value("keras").run()
    assert app.number_input(key="momentum").value == 0.99
    assert any("biased variance" in c.value for c in app.caption)
    assert len(app.get("plotly_chart")) == 2


def test_batch_size_tab_reports_bn_equals_in_at_one(app):
    open_tab(app, "Batch size")
    assert any("At batch size 1 BatchNorm's statistics are InstanceNorm's" in c.value for c in app.caption)
    assert len(app.get("plotly_chart")) >= 2

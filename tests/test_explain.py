"""Contextual notes appear exactly where they apply, are short, and name their sources."""

import re

import numpy as np
import pytest

import normviz
from normviz import NormSpec
from normviz.explain import ASIDE, SMALL_BATCH, WARNING, Note, Remark, notes_for, remarks_for

SHAPE = (16, 6, 8, 8)


def _keys(axes, groups=1, center=True, shape=SHAPE, layout="NCHW"):
    return [note.key for note in notes_for(NormSpec.make(axes, groups, 1e-5, center), shape, layout)]


@pytest.mark.parametrize(
    ("key", "applies", "does_not_apply"),
    [
        ("bn_per_channel", [("NHW",)], [("HW",), ("CHW",), ("NCHW",)]),
        ("train_eval", [("NHW",)], [("HW",), ("N",)]),
        ("per_image", [("HW",), ("CHW", 6)], [("NHW",), ("CHW", 3), ("HW", 1, False)]),
        ("style_transfer", [("HW",), ("CHW", 6)], [("NHW",), ("CHW",)]),
        ("which_layernorm", [("CHW",), ("C",), ("CHW", 1, False)], [("NHW",), ("HW",), ("CHW", 2), ("C", 2)]),
        ("group_gamma", [("CHW", 2), ("CHW", 6)], [("CHW",), ("NHW",), ("C", 2), ("CHW", 2, False)]),
        ("rms", [("CHW", 1, False), ("HW", 1, False)], [("CHW",), ("", 1, False)]),
        ("batch_dependence", [("N",), ("NC",), ("NCHW",)], [("NHW",), ("CHW",)]),
        ("keras_axis", [("NHW",), ("CHW",), ("C",), ("CHW", 2), ("HW",)], [("W",), ("NC",), ("CHW", 1, False)]),
    ],
)
def test_a_note_appears_exactly_where_it_applies(key, applies, does_not_apply):
    for args in applies:
        assert key in _keys(*args), args
    for args in does_not_apply:
        assert key not in _keys(*args), args


def test_small_batch_note_depends_on_n():
    assert "small_batch" in _keys("NHW", shape=(4, 3, 8, 8))
    assert "small_batch" not in _keys("NHW", shape=(32, 3, 8, 8))
    one = [n for n in notes_for(NormSpec.make("NHW"), (1, 3, 8, 8)) if n.key == "small_batch"]
    assert "equals InstanceNorm" in one[0].body
    four = [n for n in notes_for(NormSpec.make("NHW"), (4, 3, 8, 8)) if n.key == "small_batch"]
    assert "N = 4" in four[0].body and "34.7" in four[0].body


def test_one_value_note_only_when_n_h_w_is_one():
    assert "one_value" in _keys("NHW", shape=(1, 3, 1, 1))
    assert "one_value" not in _keys("NHW", shape=(2, 3, 1, 1))
    assert "one_value" not in _keys("CHW", shape=(1, 3, 1, 1))


def test_keras_axis_numbers_follow_the_layout():
    spec = NormSpec.make("NHW")
    nchw = next(n for n in notes_for(spec, SHAPE, "NCHW") if n.key == "keras_axis")
    nhwc = next(n for n in notes_for(spec, SHAPE, "NHWC") if n.key == "keras_axis")
    assert "`BatchNormalization(axis=1)`: axis 1 is KEPT and 0, 2, 3 are reduced" in nchw.body
    assert "`BatchNormalization(axis=-1)`: axis -1 is KEPT and 0, 1, 2 are reduced" in nhwc.body


def test_group_note_names_this_g_and_c():
    note = next(n for n in notes_for(NormSpec.make("CHW", 3), SHAPE) if n.key == "group_gamma")
    assert "GroupNorm(3, 6)" in note.body and "group of 2 channels" in note.body
    same = next(n for n in notes_for(NormSpec.make("CHW", 6), SHAPE) if n.key == "group_gamma")
    assert "G = C, so this is InstanceNorm" in same.body


def _all_notes():
    seen = {}
    for shape in (SHAPE, (1, 6, 1, 1), (4, 6, 8, 8)):
        for preset in normviz.PRESETS.values():
            for layout in ("NCHW", "NHWC"):
                for note in notes_for(preset.spec(shape[1]), shape, layout):
                    seen[note.key] = note
        for axes in ("N", "NC", "CHW"):
            for note in notes_for(NormSpec.make(axes, 2 if axes == "CHW" else 1), shape):
                seen[note.key] = note
    return seen


def test_every_note_is_short_and_titled():
    notes = _all_notes()
    assert len(notes) >= 11
    for note in notes.values():
        assert isinstance(note, Note) and note.title and note.key
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", note.body) if s]
        assert 2 <= len(sentences) <= 4, (note.key, sentences)
        assert len(note.body) < 700, note.key


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("bn_per_channel", "Ioffe & Szegedy 2015, §3.2"),
        ("per_image", "1803.08494"),
        ("small_batch", "Wu & He"),
        ("which_layernorm", "pytorch #71465"),
        ("group_gamma", "pytorch #69071"),
    ],
)
def test_notes_name_their_sources(key, source):
    assert source in _all_notes()[key].body


def test_a_custom_selection_without_a_story_gets_no_notes():
    assert notes_for(NormSpec.make("W"), SHAPE) == []


X = np.random.default_rng(7).normal(size=(2, 3, 4, 5)).astype(np.float32) * 3


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("axes, shape", [("", (2, 3, 4, 5)), ("HW", (2, 3, 1, 1)), ("NHW", (1, 3, 1, 1))])
def test_one_value_groups_say_what_the_output_really_is(axes, shape, center):
    """The warning's claim about the output holds, with centering and without."""
    x = X[: shape[0], :, : shape[2], : shape[3]]
    res = normviz.normalize(x, axes, center=center, eps=1e-5)
    warning = next(r.text for r in remarks_for(res.spec, res.shape) if r.kind in ("no_axis", "one_value"))
    assert list(res.warnings)[0] == warning
    if center:
        assert "every output is β" in warning
        np.testing.assert_array_equal(res.y, 0)
    else:
        assert "β" not in warning.split("(")[0] and "x / √(x² + ε)" in warning
        x64 = x.astype(np.float64)
        np.testing.assert_allclose(res.y, x64 / np.sqrt(x64 * x64 + 1e-5), rtol=4 * np.finfo(np.float32).eps)
        assert (np.abs(res.y[np.abs(x) > 1e-2]) > 0.9).all()


def test_remarks_are_data_with_a_severity_and_come_from_one_place():
    shape = (1, 3, 8, 8)
    ln = remarks_for(NormSpec.make("CHW"), shape)
    assert [(r.kind, r.severity) for r in ln] == [("layernorm_is_gn1", ASIDE)]
    assert [(r.kind, r.severity) for r in remarks_for(NormSpec.make("NCHW"), shape)] == [("n_of_one", ASIDE)]
    bn = remarks_for(NormSpec.make("NHW"), shape)
    assert [(r.kind, r.severity) for r in bn] == [("bn_one_sample", WARNING)]
    assert all(isinstance(r, Remark) and r.text for r in ln + bn)


def test_small_batch_has_one_threshold():
    inside = (SMALL_BATCH, 3, 4, 4)
    outside = (SMALL_BATCH + 1, 3, 4, 4)
    assert "small_batch" in _keys("NHW", shape=inside) and "small_batch" not in _keys("NHW", shape=outside)

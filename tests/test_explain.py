"""Contextual notes appear exactly where they apply, are short, and name their sources."""

import re

import pytest

import normviz
from normviz import NormSpec
from normviz.explain import Note, notes_for

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

"""The generated framework code runs and computes what normviz.normalize computes.

Every PyTorch (module and functional), Keras (torch backend), NumPy and — when JAX/Flax import —
Flax snippet is executed on random data for every preset and a set of custom selections, in both
layouts, with and without γ/β, and compared with normviz.normalize to 1e-5. Flax's layer arguments
are also always checked against a table of the arguments each selection needs.
"""

import importlib.util
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import normviz
from normviz import NormSpec, NormvizError
from normviz.codegen import FRAMEWORKS, LAYOUTS, layer_kind, snippet, translate
from tests.data import channel_data

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

HAS_FLAX = importlib.util.find_spec("flax") is not None and importlib.util.find_spec("jax") is not None

# W == C in the first shape: a layer reducing the wrong one of the two would still run, so only the
# values can catch it (Keras 3.15's torch backend does exactly that for LayerNormalization(axis=1)).
SHAPES = [(4, 6, 5, 6), (3, 4, 3, 5)]
CUSTOM = [
    ("N", 1, True), ("W", 1, True), ("NC", 1, True), ("C", 2, True), ("NCHW", 1, True), ("", 1, True),
    ("NW", 1, True), ("CH", 1, True), ("CHW", 2, False), ("HW", 1, False), ("NHW", 1, False), ("", 1, False),
    ("C", 2, False),
]  # fmt: skip


def _specs(channels):
    out = [(name, preset.spec(channels)) for name, preset in normviz.PRESETS.items()]
    out.append(("GroupNorm G=2", NormSpec.make("CHW", 2)))
    out.append(("LayerNorm eps=1e-3", NormSpec.make("CHW", 1, 1e-3)))
    out += [(f"custom {axes or '-'} G={g}{'' if center else ' rms'}", NormSpec.make(axes, g, 1e-5, center))
            for axes, g, center in CUSTOM]  # fmt: skip
    return out


CASES = [
    pytest.param(shape, spec, layout, affine, id=f"{name}-{'x'.join(map(str, shape))}-{layout}-{'affine' if affine else 'plain'}")
    for shape in SHAPES
    for name, spec in _specs(shape[1])
    for layout in LAYOUTS
    for affine in (True, False)
]  # fmt: skip


def _to_layout(x, layout):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if layout == "NHWC" else x


def _from_layout(y, layout):
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if layout == "NHWC" else y


def _reference(x, spec, gamma, beta):
    return normviz.normalize(
        x, spec.axes, groups=spec.groups, eps=spec.eps, center=spec.center, gamma=gamma, beta=beta
    ).y


def _run(snip, x, gamma, beta, convert, back):
    namespace = {}
    exec(compile(snip.code, f"<{snip.framework} snippet>", "exec"), namespace)
    args = [convert(x)] + ([convert(gamma), convert(beta)] if snip.affine else [])
    return back(namespace["normalize"](*args))


def _torch_io():
    torch = pytest.importorskip("torch")
    return torch.from_numpy, lambda y: y.detach().cpu().numpy()


def _keras_io():
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "torch", "set KERAS_BACKEND=torch before keras is imported"
    return (lambda a: a), keras.ops.convert_to_numpy


def _flax_io():
    jnp = pytest.importorskip("jax.numpy")
    return jnp.asarray, np.asarray


def _numpy_io():
    return (lambda a: a), np.asarray


IO = {"pytorch": _torch_io, "pytorch_functional": _torch_io, "keras": _keras_io, "numpy": _numpy_io}


@pytest.mark.parametrize("framework", ["pytorch", "pytorch_functional", "keras", "numpy"])
@pytest.mark.parametrize(("shape", "spec", "layout", "affine"), CASES)
def test_snippet_matches_normalize(framework, shape, spec, layout, affine):
    convert, back = IO[framework]()
    x, gamma, beta = channel_data(shape, seed=sum(shape) + len(spec.axes), affine=affine)
    snip = snippet(spec, shape, framework, layout, affine=affine)
    y = _from_layout(_run(snip, _to_layout(x, layout), gamma, beta, convert, back), layout)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, _reference(x, spec, gamma, beta), rtol=0, atol=1e-5)


@pytest.mark.skipif(not HAS_FLAX, reason="JAX/Flax are not installed: Flax arguments are checked by the table test")
@pytest.mark.parametrize(("shape", "spec", "layout", "affine"), CASES)
def test_flax_snippet_matches_normalize(shape, spec, layout, affine):
    convert, back = _flax_io()
    x, gamma, beta = channel_data(shape, seed=sum(shape) + len(spec.axes), affine=affine)
    snip = snippet(spec, shape, "flax", layout, affine=affine)
    y = _from_layout(_run(snip, _to_layout(x, layout), gamma, beta, convert, back), layout)
    np.testing.assert_allclose(y, _reference(x, spec, gamma, beta), rtol=0, atol=1e-5)


# The arguments a Flax linen layer needs for each named normalization, by layout (from
# flax/linen/normalization.py): BatchNorm's axis is the kept feature axis; LayerNorm/RMSNorm reduce
# reduction_axes and keep scale on feature_axes; InstanceNorm keeps feature_axes; GroupNorm splits the
# last axis, so NCHW input is transposed first.
FLAX_EXPECTED = {
    ("batch", "NCHW"): ("flax.linen.BatchNorm", {"use_running_average": False, "axis": 1}, False),
    ("batch", "NHWC"): ("flax.linen.BatchNorm", {"use_running_average": False, "axis": -1}, False),
    ("instance", "NCHW"): ("flax.linen.InstanceNorm", {"feature_axes": 1}, False),
    ("instance", "NHWC"): ("flax.linen.InstanceNorm", {"feature_axes": -1}, False),
    ("group", "NCHW"): ("flax.linen.GroupNorm", {"num_groups": 2}, True),
    ("group", "NHWC"): ("flax.linen.GroupNorm", {"num_groups": 2}, False),
    ("layer", "NCHW"): ("flax.linen.LayerNorm", {"reduction_axes": (1, 2, 3), "feature_axes": 1}, False),
    ("layer", "NHWC"): ("flax.linen.LayerNorm", {"reduction_axes": (1, 2, 3), "feature_axes": -1}, False),
    ("layer_channels_last", "NCHW"): ("flax.linen.LayerNorm", {"reduction_axes": 1, "feature_axes": 1}, False),
    ("layer_channels_last", "NHWC"): ("flax.linen.LayerNorm", {"reduction_axes": -1, "feature_axes": -1}, False),
    ("rms", "NCHW"): ("flax.linen.RMSNorm", {"reduction_axes": (1, 2, 3), "feature_axes": 1}, False),
    ("rms", "NHWC"): ("flax.linen.RMSNorm", {"reduction_axes": (1, 2, 3), "feature_axes": -1}, False),
    ("rms_channels_last", "NCHW"): ("flax.linen.RMSNorm", {"reduction_axes": 1, "feature_axes": 1}, False),
    ("rms_channels_last", "NHWC"): ("flax.linen.RMSNorm", {"reduction_axes": -1, "feature_axes": -1}, False),
}
KIND_SPECS = {
    "batch": NormSpec.make("NHW"), "instance": NormSpec.make("HW"), "group": NormSpec.make("CHW", 2),
    "layer": NormSpec.make("CHW"), "layer_channels_last": NormSpec.make("C"),
    "rms": NormSpec.make("CHW", center=False), "rms_channels_last": NormSpec.make("C", center=False),
}  # fmt: skip


@pytest.mark.parametrize(("kind", "layout"), list(FLAX_EXPECTED))
@pytest.mark.parametrize("affine", [True, False])
def test_flax_arguments_match_the_table(kind, layout, affine):
    spec = KIND_SPECS[kind]
    layer, expected, transposes = FLAX_EXPECTED[kind, layout]
    snip = snippet(spec, (4, 6, 5, 7), "flax", layout, affine=affine)
    assert layer_kind(spec) == kind
    assert snip.layer == layer
    assert {k: snip.arguments[k] for k in expected} == expected
    assert snip.arguments["epsilon"] == spec.eps
    for key, value in expected.items():
        assert f"{key}={value!r}" in snip.code
    assert ("jnp.transpose(x, (0, 2, 3, 1))" in snip.code) == transposes
    if not affine:
        assert snip.arguments["use_scale"] is False
    assert "self.param" not in snip.code and "def normalize(" in snip.code


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("axes", "groups", "center"), [(a, g, c) for a, g, c in CUSTOM])
def test_no_layer_is_offered_for_a_custom_selection(axes, groups, center, layout):
    spec = NormSpec.make(axes, groups, 1e-5, center)
    for snip in translate(spec, (4, 6, 5, 6), layout, affine=True).values():
        assert not snip.dedicated and snip.layer is None
        assert "layers." not in snip.code and "nn.BatchNorm" not in snip.code and "F.layer_norm" not in snip.code
        if snip.framework != "numpy":
            assert "general form" in snip.notes[0]


@pytest.mark.parametrize("name", list(normviz.PRESETS))
def test_every_preset_has_a_layer_in_every_framework(name):
    spec = normviz.PRESETS[name].spec(6)
    snips = translate(spec, (4, 6, 5, 7), "NCHW")
    assert all(snips[f].dedicated for f in ("pytorch", "pytorch_functional", "keras", "flax"))
    assert not snips["numpy"].dedicated


def test_keras_notes_say_which_axis_is_kept_reduced_or_split():
    shape = (4, 6, 5, 7)
    bn = snippet(NormSpec.make("NHW"), shape, "keras", "NCHW")
    assert "`BatchNormalization(axis=1)`: axis is the axis that is KEPT; it reduces over 0, 2, 3." in bn.notes
    assert "training=True" in bn.code
    ln = snippet(NormSpec.make("CHW"), shape, "keras", "NHWC")
    assert ln.arguments["axis"] == [1, 2, 3] and "REDUCED" in ln.notes[0]
    gn = snippet(NormSpec.make("CHW", 3), shape, "keras", "NHWC")
    assert gn.arguments == {"groups": 3, "axis": -1, "epsilon": 1e-5, "center": False, "scale": False}
    assert "SPLIT" in gn.notes[0]


def test_torch_batchnorm_note_names_the_one_value_error_and_torch_raises_it():
    torch = pytest.importorskip("torch")
    snip = snippet(NormSpec.make("NHW"), (1, 3, 1, 1), "pytorch", "NCHW")
    message = "Expected more than 1 value per channel when training"
    assert any(message in note for note in snip.notes)
    namespace = {}
    exec(snip.code, namespace)
    with pytest.raises(ValueError, match=message):
        namespace["normalize"](torch.ones(1, 3, 1, 1))


def test_keras_layernorm_on_a_middle_axis_is_why_the_code_transposes():
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3.15"):
        pytest.skip(f"the note describes Keras 3.15; installed {keras.__version__}")
    x, _, _ = channel_data((2, 4, 5, 4), seed=3, affine=False)
    direct = keras.ops.convert_to_numpy(
        keras.layers.LayerNormalization(axis=1, epsilon=1e-5, center=False, scale=False)(x)
    )
    expected = _reference(x, NormSpec.make("C"), None, None)
    assert np.abs(direct - expected).max() > 0.1
    snip = snippet(NormSpec.make("C"), x.shape, "keras", "NCHW")
    assert "ops.transpose(x, (0, 2, 3, 1))" in snip.code
    assert any("keras-team/keras#23510" in note for note in snip.notes)


def test_every_framework_and_layout_is_offered():
    snips = translate(NormSpec.make("NHW"), (2, 3, 4, 4), "NHWC", affine=True)
    assert list(snips) == list(FRAMEWORKS)
    assert all(s.layout == "NHWC" and s.signature == "normalize(x, gamma, beta)" for s in snips.values())
    assert all(isinstance(note, str) and note for s in snips.values() for note in s.notes)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: snippet(NormSpec.make("NHW"), (2, 3, 4, 4), "jax"), "unknown framework 'jax'"),
        (lambda: snippet(NormSpec.make("NHW"), (2, 3, 4, 4), "numpy", "CHWN"), "layout must be"),
        (lambda: translate(NormSpec.make("CHW", 2), (2, 3, 4, 4)), "groups=2 must divide"),
        (lambda: translate(NormSpec.make("NHW"), (2, 3, 4)), "four sizes"),
        (lambda: translate("NHW", (2, 3, 4, 4)), "spec must be a NormSpec"),
    ],
)
def test_bad_arguments_raise_normviz_error(call, message):
    with pytest.raises(NormvizError, match=message):
        call()

"""The generated framework code runs and computes what normviz.normalize computes.

Every PyTorch (module and functional), Keras (torch backend), NumPy and — when JAX/Flax import —
Flax snippet is executed on random data for every preset and a set of custom selections, in both
layouts, with and without γ/β, and compared with normviz.normalize to 1e-5. Flax's layer arguments
are also always checked against a table of the arguments each selection needs.
"""

import importlib.util
import os
import re

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


# -- every call a note recommends runs --------------------------------------------------------------
# A note may name the snippet's own layer in words; any other call it recommends is written as one
# executable line `y = …` of x in the snippet's layout, which these tests run against a float64 NumPy
# reference (no γ/β: the layers start with scale 1 and bias 0). Shapes where sizes coincide (W = C,
# H = W = C, H = W = C/…) and where they differ: a call that reduces the wrong axis only shows in values.
NOTE_SHAPES = [(4, 6, 5, 6), (3, 4, 3, 5), (2, 4, 4, 4), (2, 3, 5, 5)]
NORM_CALL = re.compile(
    r"\b(LayerNormalization|RMSNormalization|GroupNormalization|BatchNormalization|LayerNorm|RMSNorm|GroupNorm|"
    r"InstanceNorm2d|BatchNorm2d|InstanceNorm|BatchNorm|layer_norm|rms_norm|group_norm|instance_norm|batch_norm)"
    r"\(([^)]*)\)"
)
U32 = 2.0**-24
FUNCTIONAL_MODULES = {"batch_norm": "BatchNorm2d", "instance_norm": "InstanceNorm2d", "group_norm": "GroupNorm",
                      "layer_norm": "LayerNorm", "rms_norm": "RMSNorm"}  # fmt: skip


def _general_selections():
    """Every plain selection (no N, no groups) no layer makes directly, centred and not."""
    out = []
    for axes in ("H", "W", "CH", "CW", "HW", "C", "CHW"):
        for center in (True, False):
            spec = NormSpec.make(axes, 1, 1e-5, center)
            if layer_kind(spec) is None:
                out.append(spec)
    return out


def _note_reference(x, axes, eps, center):
    x = x.astype(np.float64)
    if center:
        return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return x / np.sqrt(np.square(x).mean(axis=axes, keepdims=True) + eps)


def _note_tolerance(x, axes, reference, eps=1e-5):
    """Float32 mean and variance over m values err by at most about m·u relative to the largest |x|
    (recursive summation), which moves x̂ by about m·u·(1 + |x̂|); 8× that covers the square root and
    the division. Kernels that apply x̂ as x·r − μ·r (r = 1/√(σ² + ε)) round each product: 4·u·|x|·r
    more, which matters only where σ² ≈ 0 and r ≈ 1/√ε."""
    m = int(np.prod([x.shape[a] for a in axes]))
    x64 = x.astype(np.float64)
    r = 1 / np.sqrt(x64.var(axis=axes) + eps).min()
    return 8 * m * U32 * (1 + float(np.abs(reference).max())) + 4 * U32 * float(np.abs(x64).max()) * r


def _note_namespace(framework, x):
    if framework in ("pytorch", "pytorch_functional"):
        torch = pytest.importorskip("torch")
        return {"x": torch.from_numpy(x), "torch": torch, "F": torch.nn.functional, "nn": torch.nn}, (
            lambda y: y.detach().cpu().numpy()
        )
    if framework == "keras":
        keras = pytest.importorskip("keras")
        return {"x": x, "layers": keras.layers, "ops": keras.ops}, keras.ops.convert_to_numpy
    if not HAS_FLAX:
        pytest.skip("JAX/Flax are not installed")
    import flax.linen
    import jax
    import jax.numpy as jnp

    return {"x": jnp.asarray(x), "nn": flax.linen, "jax": jax, "jnp": jnp}, np.asarray


def _run_note_line(line, framework, x):
    namespace, back = _note_namespace(framework, x)
    exec(compile(line, f"<{framework} note>", "exec"), namespace)
    return back(namespace["y"])


def _executable_lines(snip):
    return [line for note in snip.notes for line in re.findall(r"`(y = [^`]+)`", note)]


def _named_calls(snip):
    """Calls with concrete arguments a note names that are not executable lines and not the snippet's
    own layer (``GroupNorm(G, C)`` with letters describes a layer; ``GroupNorm(1, 6)`` is a call)."""
    own = (snip.layer or "").rsplit(".", 1)[-1]
    own = FUNCTIONAL_MODULES.get(own, own)
    loose = []
    for note in snip.notes:
        for span in re.findall(r"`([^`]+)`", note):
            if span.startswith("y = "):
                continue
            concrete = [name for name, args in NORM_CALL.findall(span) if re.search(r"\d", args) and "…" not in args]
            loose += [span for name in concrete if name != own]
    return loose


GENERAL_NOTE_CASES = [
    pytest.param(framework, spec, shape, layout, id=f"{framework}-{spec.axes}{'' if spec.center else '-rms'}-"
                 f"{'x'.join(map(str, shape))}-{layout}")
    for framework in ("pytorch", "pytorch_functional", "keras", "flax")
    for spec in _general_selections()
    for shape in NOTE_SHAPES
    for layout in LAYOUTS
]  # fmt: skip


@pytest.mark.parametrize(("framework", "spec", "shape", "layout"), GENERAL_NOTE_CASES)
def test_every_layer_call_a_general_form_note_recommends_runs_and_matches(framework, spec, shape, layout):
    snip = snippet(spec, shape, framework, layout)
    assert _named_calls(snip) == []
    lines = _executable_lines(snip)
    assert len(lines) == 1, snip.notes
    x, _, _ = channel_data(shape, seed=sum(shape) + len(spec.axes), affine=False)
    x = _to_layout(x, layout)
    axes = tuple(layout.index(a) for a in spec.axes)
    reference = _note_reference(x, axes, spec.eps, spec.center)
    y = _run_note_line(lines[0], framework, x)
    np.testing.assert_allclose(y, reference, rtol=0, atol=_note_tolerance(x, axes, reference))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", NOTE_SHAPES + [(2, 3, 1, 1), (1, 3, 1, 1)])
@pytest.mark.parametrize("name", list(normviz.PRESETS))
def test_every_call_a_layer_note_recommends_runs_and_matches(name, shape, layout):
    spec = normviz.PRESETS[name].spec(shape[1])
    x, _, _ = channel_data(shape, seed=sum(shape), affine=False)
    x = _to_layout(x, layout)
    axes = tuple(layout.index(a) for a in spec.axes)
    for framework in ("pytorch", "pytorch_functional", "keras", "flax"):
        snip = snippet(spec, shape, framework, layout)
        assert _named_calls(snip) == [], (framework, snip.notes)
        for line in _executable_lines(snip):
            groups = re.search(r"GroupNorm\((\d+), (\d+)", line)
            if groups and shape[0] * shape[1] // int(groups[1]) * shape[2] * shape[3] == 1:
                with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
                    _run_note_line(line, framework, x)
                continue
            group_axes = tuple(layout.index(a) for a in "CHW") if "GroupNorm(1," in line else axes
            reference = _note_reference(x, group_axes, spec.eps, spec.center)
            y = _run_note_line(line, framework, x)
            np.testing.assert_allclose(y, reference, rtol=0, atol=_note_tolerance(x, group_axes, reference))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("axes", ["W", "H", "CH", "CW"])
def test_keras_general_form_notes_avoid_layer_axes_that_keras_gets_wrong(axes, layout):
    """Keras 3.15's LayerNormalization(axis=…) on the reduced axes themselves, as the notes used to
    recommend, raises or is wrong (on some shape) exactly when they are consecutive but not trailing,
    as the note says; the recommended line moves them last whenever they are not trailing."""
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3.15"):
        pytest.skip(f"this describes Keras 3.15; installed {keras.__version__}")
    reduced = sorted(layout.index(a) for a in axes)
    trailing = reduced == list(range(4 - len(reduced), 4))
    consecutive = reduced == list(range(reduced[0], reduced[-1] + 1))
    failures = 0
    for shape in NOTE_SHAPES:
        x = _to_layout(channel_data(shape, seed=5, affine=False)[0], layout)
        reference = _note_reference(x, tuple(reduced), 1e-5, True)
        try:
            y = keras.ops.convert_to_numpy(keras.layers.LayerNormalization(axis=reduced, epsilon=1e-5)(x))
            failures += bool(np.abs(y - reference).max() > 1e-3)
        except Exception:
            failures += 1
        (line,) = _executable_lines(snippet(NormSpec.make(axes), shape, "keras", layout))
        assert ("ops.transpose" in line) != trailing
    assert (failures > 0) == (consecutive and not trailing)


def test_flax_note_on_use_fast_variance_holds_for_data_far_from_zero():
    """The note's call with use_fast_variance=False stays within float32 rounding of the reference on
    data whose mean is 1000 times its spread; Flax's default E[x²] − E[x]² does not."""
    if not HAS_FLAX:
        pytest.skip("JAX/Flax are not installed")
    shape, layout = (2, 3, 8, 8), "NHWC"
    spec = NormSpec.make("HW", 1, 1e-5, True)
    x = _to_layout(channel_data(shape, seed=9, affine=False)[0] + 1000, layout)
    (line,) = _executable_lines(snippet(NormSpec.make("W"), shape, "flax", layout))
    assert "use_fast_variance=False" in line
    line = line.replace("reduction_axes=(2,)", "reduction_axes=(1, 2)")
    reference = _note_reference(x, (1, 2), spec.eps, True)
    exact = _run_note_line(line, "flax", x)
    fast = _run_note_line(line.replace(", use_fast_variance=False", ""), "flax", x)
    assert np.abs(exact - reference).max() < 8 * 64 * U32 * 1000
    assert np.abs(fast - reference).max() > 10 * np.abs(exact - reference).max()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_torch_notes_say_when_groupnorm_raises_and_torch_raises_it(layout):
    torch = pytest.importorskip("torch")
    message = "Expected more than 1 value per channel when training"
    for shape, raises in (((1, 3, 1, 1), True), ((4, 3, 1, 1), False)):
        instance = snippet(NormSpec.make("HW"), shape, "pytorch", layout)
        text = " ".join(instance.notes)
        assert "Expected more than 1 spatial element when training" in text
        assert ("`GroupNorm(C, C)` raises too" in text) == raises
        assert ("`GroupNorm(C, C)` does not raise" in text) != raises
        x = torch.ones(shape)
        for call in (lambda: torch.nn.GroupNorm(3, 3)(x), lambda: torch.nn.functional.group_norm(x, 3)):
            if raises:
                with pytest.raises(ValueError, match=message):
                    call()
            else:
                assert float(call().abs().max()) < 1e-4
    group = snippet(NormSpec.make("CHW", 3), (1, 3, 1, 1), "pytorch_functional", layout)
    assert any("N·(C/G)·H·W = 1" in note and message in note for note in group.notes)
    namespace = {}
    exec(group.code, namespace)
    with pytest.raises(ValueError, match=message):
        namespace["normalize"](torch.ones((1, 3, 1, 1) if layout == "NCHW" else (1, 1, 1, 3)))

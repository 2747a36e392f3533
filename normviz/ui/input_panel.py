"""The input source and its settings; returns the tensor to normalize, cached by content."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from .. import budget, inputs, state
from ..errors import NormvizError
from ..inputs import TensorInput, content_hash
from . import session, widgets
from . import uploads as uploads_kept
from .text import md_escape, show_problem

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]


@dataclass(frozen=True, eq=False)
class PageInput:
    """A TensorInput with the digest that keys every cache, and whether it holds photo pixels."""

    tensor: TensorInput
    digest: str
    is_image: bool

    @property
    def x(self):
        return self.tensor.x

    @property
    def shape(self):
        return self.tensor.shape

    @property
    def labels(self):
        return self.tensor.labels


# -- loaders held under the server's memory budget: the key names the content ---------------------
_FLOAT = 4  # bytes per float32 value


def _held(key: tuple, make, values: int, peak: float, what: str, spinner: str):
    """``make()`` for ``key`` under the memory budget: a tensor of ``values`` float32 values whose
    making needs ``peak`` times its size; the spinner shows only when it is made."""

    def made():
        with st.spinner(spinner):
            return make()

    return budget.held(key, made, need=int(values * _FLOAT * peak) + 2**20, what=what)


def _dims(*sizes) -> str:
    return "×".join(str(int(s)) for s in sizes)


def _images(key: tuple, files) -> TensorInput:
    _, size, fit, colour = key
    return _held(
        ("images",) + key,
        lambda: inputs.load_images(files, size=(size, size), fit=fit, colour=colour),
        min(len(files), inputs.MAX_IMAGES) * 3 * size * size,
        2.0,
        f"the image batch {_dims(len(files), 3, size, size)}",
        "Reading images…",
    )


def _random(key: tuple) -> TensorInput:
    n, c, h, w, dist, nshift, nscale, cshift, cscale, seed = key
    spreads = {"sample_shift": nshift, "sample_scale": nscale, "channel_shift": cshift, "channel_scale": cscale}
    return _held(
        ("random",) + key,
        partial(inputs.random_tensor, n, c, h, w, distribution=dist, seed=seed, **spreads),
        min(n * c * h * w, inputs.MAX_ELEMENTS),
        1.0,
        f"the random tensor {_dims(n, c, h, w)}",
        "Making the tensor…",
    )


def _features(key: tuple, images: TensorInput) -> TensorInput:
    _, bank, names, k, ksize, relu, seed = key
    filters = names if bank == "named" else k
    n, c, h, w = images.shape
    out_channels = len(names) if bank == "named" else int(k)
    return _held(
        ("features",) + key,
        lambda: inputs.feature_maps(images, filters=filters, kernel_size=ksize, relu=relu, seed=seed),
        min(n * out_channels * h * w, inputs.MAX_ELEMENTS),
        2.0,
        f"the feature maps {_dims(n, out_channels, h, w)}",
        "Computing feature maps…",
    )


def _array(key: tuple, name: str, data: bytes, shape) -> TensorInput:
    values = 1
    for s in shape:
        values *= int(s)
    return _held(
        ("array",) + key,
        lambda: inputs.load_array(name, data, key=key[1], layout=key[2]),
        min(values, inputs.MAX_ELEMENTS),
        2.0,
        f"the array {_dims(*shape)}",
        "Reading the array…",
    )


# -- the panel -----------------------------------------------------------------------------------
def choose_input() -> tuple[PageInput, list[str]]:
    """Source picker and its settings. Returns the input and messages for the page; on a bad
    file or setting it shows the error and keeps the last good input (or the sample photos)."""
    source = widgets.draw("source")
    messages: list[str] = []
    uploads_kept.new_run()
    try:
        page_input = _load(source, messages)
    except NormvizError as err:
        show_problem(err)
        page_input = session.page_state().last_good_input
        if page_input is None:
            page_input = _first_samples()
            messages.append("Showing the sample photos until then; fix the setting or file above to replace them.")
        else:
            messages.append("Showing the last input that worked; fix the setting or file above to replace it.")
    else:
        session.page_state().last_good_input = page_input
    st.caption(md_escape(page_input.tensor.description))
    for notice in page_input.tensor.notices:
        if source == "samples":
            st.caption("ℹ️ " + md_escape(notice))  # expected for the bundled photos: keep it small
        else:
            st.info(md_escape(notice), icon="ℹ️")
    return page_input, messages


def _first_samples() -> PageInput:
    """The sample photos for a visitor with no earlier input; if even they do not fit in memory
    now, the page stops after saying so."""
    try:
        return _default_samples()
    except NormvizError as err:
        show_problem(err)
        st.stop()


def _load(source: str, messages: list[str]) -> PageInput:
    if source == "random":
        return _random_input()
    if source == "npy":
        return _array_input(messages)
    if source == "features":
        base = widgets.draw("fbase")
        images = _images_input(base, messages)
        return _features_input(images)
    return _images_input(source, messages)


def _image_settings() -> tuple[int, str, str]:
    return int(widgets.draw("size")), widgets.draw("fit"), widgets.draw("colour")


def _images_input(source: str, messages: list[str]) -> PageInput:
    if source == "upload":
        uploads = st.file_uploader(
            f"Images (PNG, JPEG, WebP, BMP, GIF, TIFF; up to {inputs.MAX_IMAGES}, {inputs.MAX_UPLOAD_MB} MB each)",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key="uploads",
        )
        chosen, kept = uploads_kept.files("uploads", uploads)
        if kept:
            uploads_kept.kept_note("uploads", chosen)
        size, fit, colour = _image_settings()
        if not chosen:
            messages.append(
                "No images uploaded yet: showing the sample photos. Uploaded files never travel in a shared link."
            )
            return _samples_input(state.SAMPLE_NAMES, size, fit, colour)
        key = (tuple((name, digest) for name, digest, _ in chosen), size, fit, colour)
        files = tuple((name, data) for name, _, data in chosen)
        return PageInput(_images(key, files), content_hash(("images",) + key), True)
    photos = widgets.draw("photos")
    size, fit, colour = _image_settings()
    if not photos:
        raise NormvizError("No photo is selected; pick at least one sample photo.")
    return _samples_input(tuple(photos), size, fit, colour)


@st.cache_resource(show_spinner=False)
def _sample_files() -> tuple[tuple[str, bytes], ...]:
    """The bundled photos, read from disk once per process."""
    return inputs.sample_files()


def _samples_input(photos, size, fit, colour) -> PageInput:
    files = tuple((name, data) for name, data in _sample_files() if name in photos)
    key = (tuple((name, "sample") for name, _ in files), size, fit, colour)
    return PageInput(_images(key, files), content_hash(("samples",) + key), True)


def _default_samples() -> PageInput:
    """The sample photos at the default image settings: what the page shows until an input works."""
    return _samples_input(state.SAMPLE_NAMES, *(state.BY_KEY[k].default for k in ("size", "fit", "colour")))


def _random_input() -> PageInput:
    for col, key in zip(st.columns(4), ("rn", "rc", "rh", "rw")):
        widgets.draw(key, col)
    widgets.draw("dist")
    st.caption(
        "Spread between samples (removed by per-sample norms) and between channels (removed by per-channel norms):"
    )
    cols = st.columns(2)
    for col, key in zip(cols * 2, ("nshift", "nscale", "cshift", "cscale")):
        widgets.draw(key, col)
    widgets.draw("seed")
    key = tuple(
        session.get(k) for k in ("rn", "rc", "rh", "rw", "dist", "nshift", "nscale", "cshift", "cscale", "seed")
    )
    return PageInput(_random(key), content_hash(("random",) + key), False)


def _features_input(images: PageInput) -> PageInput:
    bank = widgets.draw("bank")
    if bank == "named":
        names = widgets.draw("fnames")
        if not names:
            raise NormvizError("No filter is selected; pick at least one named filter.")
    else:
        names = ()
        widgets.draw("k")
        widgets.draw("seed", label="Filter seed")
    ksize = widgets.draw("ksize")
    relu = widgets.draw("relu")
    key = (images.digest, bank, tuple(names), session.get("k"), ksize, relu, session.get("seed"))
    return PageInput(_features(key, images.tensor), content_hash(("features",) + key), False)


def _array_input(messages: list[str]) -> PageInput:
    upload = st.file_uploader("Array file (.npy or .npz)", type=["npy", "npz"], key="npy_file")
    chosen_file, kept = uploads_kept.files("npy_file", upload)
    if kept:
        uploads_kept.kept_note("npy_file", chosen_file)
    if not chosen_file:
        messages.append(
            "No array uploaded yet: showing the sample photos. Uploaded files never travel in a shared link."
        )
        return _default_samples()
    ((name, digest, data),) = chosen_file
    arrays = inputs.list_arrays(name, data)
    usable = [a for a in arrays if not a.problem]
    if not usable:
        raise NormvizError(" ".join(a.problem for a in arrays) or f"{inputs.display_name(name)} holds no arrays.")
    for a in arrays:
        if a.problem:
            st.warning(md_escape(f"{a.label}: {a.problem}"))
    array_key = None
    if len(arrays) > 1:
        labels = {a.key: a.label for a in usable}
        array_key = st.selectbox(
            "Array", list(labels), format_func=labels.get, key="npy_key", persist_state=widgets.PERSIST
        )
    chosen = next(a for a in usable if array_key in (None, a.key))
    layout = None
    if len(chosen.shape) == 4:
        guess = inputs.suggest_layout(chosen.shape)
        page = session.page_state()
        if page.layout_for != (digest, chosen.key):
            if guess.certain:  # a shape that does not tell keeps the layout the user chose
                session.put("layout", guess.layout)
            page.layout_for = (digest, chosen.key)
        layout = widgets.draw("layout")
        if guess.certain:
            st.caption(md_escape(f"Suggested {guess.layout}: {guess.reason}"))
        else:
            st.caption(md_escape(f"The shape {chosen.shape} does not tell NCHW from NHWC: check the layout above."))
    key = (digest, array_key, layout)
    return PageInput(_array(key, name, data, chosen.shape), content_hash(("array",) + key), False)

"""The explaining parts of the page: notes in place, code, train vs eval, the batch-size experiment."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

from ..codegen import FRAMEWORKS, translate
from ..core import NormResult
from ..errors import NormvizError
from ..experiment import GN_PAPER_IMAGENET, batch_size_experiment
from ..explain import notes_for
from ..figures.batchsize import draws_figure, paper_figure, spread_figure
from ..figures.running import running_stats_figure, train_eval_figure
from ..running import CONVENTIONS, simulate_running_stats
from . import session, widgets
from .text import md_escape

PLOT_CONFIG = {"displaylogo": False}


def notes(res: NormResult) -> None:
    """Short notes that apply to the current selection, each folded under its title."""
    for i, note in enumerate(notes_for(res.spec, res.shape, session.get("clayout"))):
        with st.expander(note.title, expanded=i == 0):
            st.markdown(note.body)


def code(res: NormResult) -> None:
    """The current settings as PyTorch, Keras, Flax and NumPy code, for NCHW or NHWC data."""
    layout = widgets.draw("clayout")
    snippets = translate(res.spec, res.shape, layout=layout, affine=res.gamma is not None or res.beta is not None)
    tabs = st.tabs([FRAMEWORKS[name] for name in snippets])
    for (name, snip), tab in zip(snippets.items(), tabs):
        with tab:
            if snip.dedicated:
                st.success(f"Dedicated layer: `{snip.layer}`", icon="✅")
            elif name == "numpy":
                st.caption("NumPy has no layers: the mean and variance over the reduced axes, then the formula.")
            else:
                st.info("No layer of this framework does exactly this; here is the general form.", icon="ℹ️")
            st.code(snip.code, language="python")
            for line in snip.notes:
                st.markdown(f"- {line}")
    st.caption(
        "Each snippet defines `normalize(x[, gamma, beta])` for x in the chosen layout; the tests run every "
        "PyTorch, Keras, Flax and NumPy snippet and compare it with normviz."
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _running(digest: str, _x, batch: int, convention: str, momentum, epochs: int, drop_last: bool, eps: float):
    return simulate_running_stats(
        _x, batch, convention=convention, momentum=momentum, eps=eps, epochs=epochs, drop_last=drop_last
    )


def _set_default_momentum() -> None:
    """Callback of the convention: its framework's default momentum."""
    session.put("momentum", CONVENTIONS[session.get("conv")].momentum)
    session.put("cumulative", False)


def train_vs_eval(inp, res: NormResult) -> None:
    """BatchNorm trained on mini-batches in order, then evaluated with its running statistics."""
    n = inp.shape[0]
    st.markdown(
        "Training-mode BatchNorm normalizes each mini-batch with **its own** statistics and keeps running "
        "averages; eval mode (`model.eval()`) normalizes with those averages instead."
    )
    cols = st.columns(4)
    batch = widgets.draw("tbatch", cols[0], hi=n)
    convention = widgets.draw("conv", cols[1], on_change=_set_default_momentum)
    epochs = widgets.draw("epochs", cols[2])
    drop_last = widgets.draw("droplast", cols[3])
    cols = st.columns(2)
    cumulative = convention == "pytorch" and widgets.draw("cumulative", cols[1])
    momentum = None if cumulative else widgets.draw("momentum", cols[0])
    try:
        run = _running(inp.digest, inp.x, int(batch), convention, momentum, int(epochs), bool(drop_last), res.spec.eps)
    except NormvizError as err:
        st.error(md_escape(str(err)), icon="🚫")
        return
    st.plotly_chart(running_stats_figure(run), width="stretch", key="running_chart", config=PLOT_CONFIG)
    st.plotly_chart(train_eval_figure(run), width="stretch", key="train_eval_chart", config=PLOT_CONFIG)
    diff = float(np.abs(run.difference).max()) if run.difference.size else 0.0
    st.caption(
        f"{len(run.batches)} batch(es) per epoch; the largest |train − eval| output difference is {diff:.4g}. "
        + (
            "PyTorch's running_var stores the unbiased variance n/(n−1)·σ²."
            if convention == "pytorch"
            else "Keras and Flax store the biased variance."
        )
    )


_EXPERIMENTS: OrderedDict = OrderedDict()
_EXPERIMENTS_LOCK = threading.Lock()
_EXPERIMENTS_KEPT = 8


def _experiment(digest: str, x, crop: int, draws: int, groups: int, seed: int, progress):
    """The batch-size experiment, kept per (input, settings) for every session. Not st.cache_data:
    a cached function may not draw into the progress bar the page made for it."""
    key = (digest, crop, draws, groups, seed)
    with _EXPERIMENTS_LOCK:
        if key in _EXPERIMENTS:
            _EXPERIMENTS.move_to_end(key)
            return _EXPERIMENTS[key]
    exp = batch_size_experiment(x, crop=crop, draws=draws, groups=groups, seed=seed, on_progress=progress)
    with _EXPERIMENTS_LOCK:
        _EXPERIMENTS[key] = exp
        while len(_EXPERIMENTS) > _EXPERIMENTS_KEPT:
            _EXPERIMENTS.popitem(last=False)
    return exp


def batch_size(inp, res: NormResult) -> None:
    """How noisy BatchNorm's statistics are at each batch size, next to GroupNorm's."""
    n, c, h, w = inp.shape
    st.markdown(
        "Draw many random batches of each size from your input (random crops), compute BatchNorm's "
        "per-channel statistics for each, and see how much they move. GroupNorm's statistics come from one "
        "sample, so they do not depend on the batch."
    )
    cols = st.columns(3)
    side = min(h, w)
    crop = widgets.draw("crop", cols[0], hi=side)
    draws = widgets.draw("draws", cols[1])
    groups = res.spec.groups if res.spec.axes == "CHW" and res.spec.groups > 1 else 1
    cols[2].markdown(
        f"**Compared with** GroupNorm, G = {groups}"
        + (" (your setting)" if groups > 1 else " — LayerNorm's statistics; choose GroupNorm above for another G")
    )
    bar = st.progress(0.0, text="Drawing batches…")
    exp = _experiment(
        inp.digest,
        inp.x,
        int(crop),
        int(draws),
        int(groups),
        0,
        lambda f: bar.progress(min(1.0, f), text="Drawing batches…"),
    )
    bar.empty()
    st.plotly_chart(spread_figure(exp), width="stretch", key="spread_chart", config=PLOT_CONFIG)
    st.plotly_chart(draws_figure(exp), width="stretch", key="draws_chart", config=PLOT_CONFIG)
    check = exp.bn_equals_in_at_1
    if check is not None:
        st.caption(
            f"At batch size 1 BatchNorm's statistics are InstanceNorm's: they differ by at most {check:.2g} "
            f"here (float rounding). Computed in {exp.seconds:.2f} s."
        )
    with st.expander("The paper's numbers (ImageNet, not computed here)"):
        st.plotly_chart(paper_figure(), width="stretch", key="paper_chart", config=PLOT_CONFIG)
        st.caption(GN_PAPER_IMAGENET.source)

"""The Training tab: train a small CNN with the normalizations the user picks, at several batch
sizes and seeds, and show what the choice of axes does to learning."""

from __future__ import annotations

import time

import streamlit as st

from ..errors import NormvizError
from ..experiment import GN_PAPER_IMAGENET
from ..figures.training import error_vs_batch_figure, learning_curves_figure, train_eval_figure
from ..spec import PRESETS, default_groups, fit_groups
from ..state import BY_KEY, TRAIN_NORMS
from ..train.data import Dataset, make_dataset
from ..train.loop import TrainSettings, plan
from ..train.model import NormChoice
from ..train.results import pivot, reading, rows, summarize, to_csv
from ..train.shared import Busy, TrainingService
from . import widgets
from .controls import NormSettings
from .text import md_escape

PLOT_CONFIG = {"displaylogo": False}
SETTINGS = TrainSettings()
#: Channels of the first convolution: G of a GroupNorm must divide it (and the second layer's 2×).
FIRST_WIDTH = SETTINGS.widths[0]

ABOUT_TASK = (
    "**The task.** Which of the six bundled photos (astronaut, camera, chelsea, coffee, hubble deep field, "
    "rocket) does a 16×16 crop come from? Each photo is cut into 32×32 blocks; a quarter of the blocks "
    "(fixed by a seed) give the test crops, the rest the training crops, so train and test never share "
    "pixels. 1,536 training and 960 test crops; chance is 83 % error. The photos are public domain or CC0 "
    "(NASA, SpaceX, scikit-image contributors; see assets/CREDITS.md); nothing is downloaded. "
    "In the *control* task each crop's brightness, contrast and colour cast are replaced by random ones, "
    "so only the pattern inside the crop tells the photo apart.\n\n"
    "**The network.** conv 3×3 (8 channels) → norm → ReLU → max-pool → conv 3×3 (16) → norm → ReLU → "
    "max-pool → global average → linear, trained from scratch in numpy: {epochs} epochs of SGD (momentum "
    "0.9, weight decay 5e-4, learning rate 0.05 on a cosine schedule), 32 images per step. **Batch size B** "
    "is the number of images a norm layer pools its statistics over: each step's 32 images are normalized "
    "in 32/B separate batches of B — as each of the 8 GPUs in the Group Normalization paper normalizes its "
    "own images. Every run sees the same images in the same order; only the statistics change. γ and β are "
    "learned; BatchNorm keeps running statistics with PyTorch's convention (momentum 0.1, unbiased "
    "variance) for eval mode."
)


@st.cache_resource(show_spinner=False)
def _service() -> TrainingService:
    """One trainer, cache and queue per server process, shared by every visitor."""
    return TrainingService()


@st.cache_resource(show_spinner=False, max_entries=4)
def _dataset(task: str, seed: int) -> Dataset:
    return make_dataset(task, seed)


def _choices(picked, settings: NormSettings) -> list[NormChoice]:
    """The normalizations to train, in the order picked; the page's setting first unless it equals
    a preset that is also picked."""
    preset_choices = {}
    for name in TRAIN_NORMS:
        preset = PRESETS.get(name)
        if preset is not None:
            groups = default_groups(FIRST_WIDTH) if preset.grouped else 1
            preset_choices[name] = NormChoice(name, preset.axes, groups, preset.center)
    preset_choices["No normalization"] = NormChoice("No normalization", None)
    out = []
    if "Your setting" in picked:
        groups = fit_groups(settings.groups, FIRST_WIDTH)
        axes = settings.axes
        mine = NormChoice("", axes, groups if "C" in axes else 1, settings.center, eps=settings.eps)
        same = [n for n in picked if n in preset_choices and preset_choices[n].axes == mine.axes
                and preset_choices[n].groups == mine.groups and preset_choices[n].center == mine.center]  # fmt: skip
        if not same:
            label = f"Your setting ({axes or 'no axes'}" + (f", G={mine.groups}" if mine.groups > 1 else "")
            label += ", no centering)" if not mine.center else ")"
            out.append(NormChoice(label, mine.axes, mine.groups, mine.center, eps=mine.eps))
    out += [preset_choices[n] for n in picked if n in preset_choices]
    return out


def _pills(key: str, where):
    """The multi-select pills of a training setting (its options, label and help from the table)."""
    field = BY_KEY[key]
    return where.pills(
        field.label, list(field.options), selection_mode="multi", key=key, help=field.help,
        persist_state=widgets.PERSIST,
    )  # fmt: skip


def _describe_wait(busy: Busy) -> str:
    return (
        f"⏳ Another visitor's training is running in this server (one at a time, so the page stays quick "
        f"for everyone): about {busy.seconds_left:.0f} s left ({busy.runs_left} run(s)). Yours starts right "
        "after it; **Cancel** stops waiting."
    )


def training(settings: NormSettings) -> None:
    """The tab: controls, Run/Cancel, progress, then the results of every finished run."""
    st.markdown(
        "Does the choice of axes matter for *learning*? Train the same small CNN with each normalization "
        "and compare test errors — against the batch size, like Figure 1 of the Group Normalization paper "
        "(Wu & He, 2018)."
    )
    with st.expander("The task, the data and the network", expanded=False):
        st.markdown(ABOUT_TASK.format(epochs=SETTINGS.epochs))
    picked = _pills("trnorms", st)
    cols = st.columns([3, 3, 1])
    task = widgets.draw("trtask", cols[0])
    batches = _pills("trbatches", cols[1])
    n_seeds = widgets.draw("trseeds", cols[2])
    norms = _choices(picked or (), settings)
    if not norms or not batches:
        st.info("Pick at least one normalization and one batch size.", icon="ℹ️")
        return
    seeds = list(range(int(n_seeds)))
    try:
        data = _dataset(task, 0)
    except NormvizError as err:
        st.error(md_escape(str(err)), icon="🚫")
        return
    service = _service()
    runs = plan(norms, batches, seeds)
    done = service.cached(data, SETTINGS, runs)
    missing = len(runs) - len(done)
    cols = st.columns([1, 1, 4])
    start = cols[0].button("Run", type="primary", disabled=missing == 0, key="train_run")
    cancel = cols[1].button("Cancel", key="train_cancel", help="Stop; finished runs are kept.")
    status = cols[2].empty()
    if missing:
        status.caption(
            f"{len(runs)} distinct runs ({len(runs) - missing} already trained and shared by every visitor); "
            f"{missing} to train, about {service.estimate(missing):.0f} s."
        )
    else:
        status.caption(f"All {len(runs)} runs are trained (kept for every visitor of this server).")
    if cancel:
        st.info(f"Cancelled. {len(done)} of {len(runs)} runs are finished and kept; **Run** trains the rest.", icon="⏹️")
    if start:
        bar = st.progress(0.0, text="Starting…")
        waiting = st.empty()

        def progress(fraction: float, text: str) -> None:
            waiting.empty()
            bar.progress(min(1.0, fraction), text=text)

        started = time.perf_counter()
        try:
            done = service.sweep(data, SETTINGS, runs, progress, lambda busy: waiting.info(_describe_wait(busy)))
        except NormvizError as err:  # a setting the network cannot take; the finished runs are kept
            bar.empty()
            st.error(md_escape(str(err)), icon="🚫")
            done = service.cached(data, SETTINGS, runs)
        else:
            bar.empty()
            status.caption(f"Trained {missing} run(s) in {time.perf_counter() - started:.1f} s.")
    if not done:
        return
    _results(norms, batches, seeds, done, len(runs))


def _results(norms, batches, seeds, done, total: int) -> None:
    table = rows(norms, batches, seeds, done)
    summaries = summarize(table)
    pooling = {n.label for n in norms if n.pools_batch}
    if len(done) < total:
        st.warning(f"Showing {len(done)} of {total} runs; **Run** trains the rest.", icon="⚠️")
    sentence = reading(summaries, pooling)
    paper = GN_PAPER_IMAGENET
    st.markdown(
        f"**As measured here:** {sentence} "
        f"The paper (ResNet-50 on ImageNet) found BatchNorm at {paper.batchnorm[0]} % with 32 images per GPU and "
        f"{paper.batchnorm[-1]} % with 2, GroupNorm flat near {paper.groupnorm[0]} %, InstanceNorm worst "
        f"({paper.at_32['InstanceNorm']} %). A two-layer network trained for a few epochs on six photos is a much "
        "smaller problem — noisier, and with seeds that spread — so its numbers need not follow the paper's."
    )
    st.plotly_chart(error_vs_batch_figure(summaries, pooling), width="stretch", key="train_error_chart",
                    config=PLOT_CONFIG)  # fmt: skip
    shown = st.columns([1, 3])[0].selectbox("Learning curves at batch size", sorted(batches), key="train_curve_batch")
    st.plotly_chart(learning_curves_figure(table, int(shown)), width="stretch", key="train_curves_chart",
                    config=PLOT_CONFIG)  # fmt: skip
    if pooling:
        st.plotly_chart(train_eval_figure(summaries, pooling), width="stretch", key="train_eval_mode_chart",
                        config=PLOT_CONFIG)  # fmt: skip
        st.caption(
            "A network left in training mode at test time normalizes each test batch with its own statistics; "
            "at small B those are noisy. Eval mode uses the running statistics gathered during training."
        )
    header, body = pivot(summaries, pooling)
    st.markdown("**Test error (%)**, mean over seeds (lowest–highest)")
    st.dataframe([dict(zip(header, row)) for row in body], hide_index=True, width="stretch", key="train_table")
    st.download_button("Download every run (CSV)", to_csv(table), file_name="normviz_training.csv", mime="text/csv",
                       key="train_csv", icon="⬇️")  # fmt: skip

"""Compare: a second normalization beside the first on the same input (BatchNorm vs InstanceNorm)."""

from __future__ import annotations

import dataclasses

import streamlit as st

from ..figures import gallery as gallery_fig
from ..spec import PRESETS, divisors
from ..summary import summary_sentence
from . import compute, controls, session, widgets
from .controls import NormSettings
from .text import md_escape


def compare_controls(channels: int, main: NormSettings) -> NormSettings:
    """The second configuration: a preset and axis toggles (ε, γ, β are the main ones)."""
    cols = st.columns([2, 3, 2])
    widgets.draw("cpreset", cols[0], on_change=session.apply_preset, args=("compare", channels))
    axes = controls.axis_pills("caxes", cols[1], "compare")
    groups = 1
    if "C" in axes:
        groups = widgets.draw(
            "cgroups", cols[2], options=divisors(channels), on_change=session.follow_toggles, args=("compare",)
        )
    name = session.get("cpreset")
    center = PRESETS[name].center if name in PRESETS else True
    return dataclasses.replace(main, axes=axes, groups=int(groups), center=center)


def compare(inp, main_res, main: NormSettings) -> None:
    """Both configurations side by side: summary, colour (or first-channel) images, statistics."""
    other = compare_controls(inp.shape[1], main)
    other_res = compute.run(inp, other)
    n, c = inp.shape[:2]
    shown = tuple(range(min(n, 8)))
    channels = tuple(range(min(c, 3)))
    # one output scale for both sides, so their images compare
    span = max(
        compute.output_span(inp.digest, compute.result_key(main_res), main_res),
        compute.output_span(inp.digest, compute.result_key(other_res), other_res),
    )
    left, right = st.columns(2, gap="large")
    for col, res, side in ((left, main_res, "main"), (right, other_res, "compare")):
        with col:
            st.markdown(f"**{summary_sentence(res)}**")
            gal = compute.gallery_for(
                inp.digest,
                compute.result_key(res),
                inp.x,
                res,
                shown,
                channels,
                None,
                inp.is_image,
                tuple(inp.labels),
                span,
            )
            kind = "output RGB" if c == 3 else "output"
            tiles = [t for row in gal.rows for t in row if t.kind == kind]
            st.image(
                [t.jpeg for t in tiles],
                caption=[md_escape(t.caption) for t in tiles],
                width=110,
                output_format="JPEG",
                alt=[t.alt for t in tiles],
            )
            fig = compute.stats_figure_for(inp.digest, compute.result_key(res), res, None, None)
            if fig is not None:
                st.plotly_chart(fig, width="stretch", key=f"compare_stats_{side}", config={"displaylogo": False})
            else:
                st.caption(
                    f"One group: μ = {float(res.mean.reshape(-1)[0]):.6g}, σ² = {float(res.var.reshape(-1)[0]):.6g}"
                )
    st.caption(
        f"Both sides use one output scale (±{span:g}). "
        + (f"Colour recomposition: 0.5 + y / {2 * gallery_fig.RGB_SPAN:g}." if c == 3 else "")
    )

"""normviz — which values share a mean and a variance?   Run:  streamlit run app.py"""

import streamlit as st

from normviz.ui import compare, controls, cube_section, explain_tabs, input_panel, page, sections, session, training_tab

st.set_page_config(page_title="normviz — what a normalization layer pools", page_icon="🧊", layout="wide")
session.start()
page.header()

# 1. pick the input
with st.sidebar:
    st.header("1 · Input")
    inp, input_messages = input_panel.choose_input()
    shape_notices = controls.fit_to_shape(inp.shape)
    # the details change rarely: drawn outside the fragment below, so an axis click does not re-send them
    st.header("2 · Details")
    details = controls.detail_controls(inp.shape[1])


def explore(inp, input_messages, shape_notices, details, in_fragment: bool) -> None:
    """Everything below the input: the setting, what it does, and the tabs."""
    if in_fragment and session.page_state().whole_page_run:
        session.page_state().whole_page_run = False
        st.rerun(scope="app")  # a preset changed the centering switch, drawn outside this fragment
    # 2. pick what shares a mean and a variance
    axes, groups = controls.layer_controls(inp.shape[1])
    settings = controls.NormSettings(axes, groups, *details)

    # 3. look
    inp, res, run_error = page.normalize_or_last_good(inp, settings)
    with st.container():  # one slot, however many notes: the cube below keeps its place (and its camera)
        page.notices(input_messages, shape_notices, run_error)
        sections.summary(res)

    cube_section.apply_pending_click(inp.shape)
    cube_col, side_col = st.columns([3, 2], gap="medium")
    with side_col:
        cell = controls.selection_controls(inp.shape)
        group = res.group_of(*cell)
        box = res.group_box(group)
        page.selected_group(res, cell, group, box)
        sections.arithmetic(inp, res, cell)
        explain_tabs.notes(res)
    with cube_col:
        cube_section.cube(inp, res, cell)

    tabs = page.tabs()
    if in_fragment and tabs["Training"].open:
        st.rerun(scope="app")  # the Training tab runs in whole-script runs (see below)
    with tabs["Channels"].container:
        if tabs["Channels"].open:
            sections.gallery(inp, res, box)
    with tabs["Statistics"].container:
        if tabs["Statistics"].open:
            sections.statistics(inp, res, group)
    with tabs["Histograms"].container:
        if tabs["Histograms"].open:
            sections.histograms(inp, res, box)
    with tabs["Compare"].container:
        if tabs["Compare"].open:
            compare.compare(inp, res, settings)
    with tabs["Code"].container:
        if tabs["Code"].open:
            explain_tabs.code(res)
    with tabs["Train vs eval"].container:
        if tabs["Train vs eval"].open:
            explain_tabs.train_vs_eval(inp, res)
    with tabs["Batch size"].container:
        if tabs["Batch size"].open:
            explain_tabs.batch_size(inp, res)
    with tabs["Training"].container:
        if tabs["Training"].open:
            training_tab.training(settings)

    sections.downloads(inp, res)
    session.write_url(session.current())


# A click on an axis, a cell or a tab's control reruns only `explore` (a fragment): the input panel and
# the header are neither rerun nor re-sent. With the Training tab open the whole script runs instead,
# so that Cancel can stop a training run (a fragment's rerun waits for the run in progress).
if session.get("tab") == "Training":
    with st.container():  # the tree a fragment has (its own container): a switch keeps every element in its place
        explore(inp, input_messages, shape_notices, details, in_fragment=False)
else:
    st.fragment(explore)(inp, input_messages, shape_notices, details, in_fragment=True)
page.freeze_long_lived()

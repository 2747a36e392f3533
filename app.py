"""normviz — which values share a mean and a variance? (streamlit run app.py)"""

import numpy as np
import pandas as pd
import streamlit as st

import normviz

st.set_page_config(page_title="normviz", layout="wide")
st.title("normviz")
st.caption("Every normalization layer is a choice of which values share a mean and a variance.")

with st.sidebar:
    st.header("Input: random tensor")
    n = st.number_input("N (batch)", 1, 64, 4)
    c = st.number_input("C (channels)", 1, 64, 6)
    h = st.number_input("H (height)", 1, 64, 8)
    w = st.number_input("W (width)", 1, 64, 8)
    seed = st.number_input("seed", 0, 2**31 - 1, 0)
    st.header("Normalization")
    preset = st.selectbox("preset", list(normviz.PRESETS))
    spec_default = normviz.PRESETS[preset].spec(int(c))
    axes = st.multiselect("reduce over", list(normviz.AXES), default=list(spec_default.axes))
    groups = 1
    if "C" in axes:
        divisors = normviz.divisors(int(c))
        groups = st.selectbox("groups G", divisors, index=divisors.index(spec_default.groups)
                              if spec_default.groups in divisors else 0)

x = np.random.default_rng(int(seed)).normal(size=(int(n), int(c), int(h), int(w))).astype(np.float32)
try:
    res = normviz.normalize(x, axes, groups=groups, center=spec_default.center)
except normviz.NormvizError as err:
    st.error(str(err))
    st.stop()

ident = res.identity()
st.subheader(ident.label)
for note in ident.notes + res.warnings:
    st.info(note)
st.write(f"Statistics grid {res.stats_shape}: {res.n_groups:,} groups of {res.count:,} values.")
st.dataframe(pd.DataFrame({"mean": res.mean.ravel(), "variance": res.var.ravel()}))

"""The floor for the browser benchmark: an empty Streamlit app with one checkbox."""

import streamlit as st

st.checkbox("a checkbox")

"""A floor for the browser benchmark's page size: one checkbox and 30 short paragraphs that change
with it, the cheapest elements Streamlit draws (a toggle on the normviz page sends about 80
elements and blocks)."""

import streamlit as st

checked = st.checkbox("a checkbox")
for line in range(30):
    st.markdown(f"Paragraph {line}: the checkbox is **{'on' if checked else 'off'}**.")

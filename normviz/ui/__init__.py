"""The Streamlit layer: widgets and page sections. Holds no math; only it and app.py import streamlit."""

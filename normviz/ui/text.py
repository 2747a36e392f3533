"""Showing user-supplied text (file names, array keys, messages quoting them) as plain text."""

import re

import streamlit as st

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md_escape(text: str) -> str:
    r"""Escape every character Markdown (and Streamlit's LaTeX, emoji and HTML) would interpret.

    >>> print(md_escape("**bold** <b>x</b> $a$"))
    \*\*bold\*\* \<b\>x\</b\> \$a\$
    """
    return _MARKDOWN.sub(r"\\\1", str(text))


def show_problem(err) -> None:
    """Show a NormvizError: a warning when the same request may work later (the server was busy),
    an error otherwise (something to change)."""
    if getattr(err, "retry", False):
        st.warning(md_escape(str(err)), icon="⏳")
    else:
        st.error(md_escape(str(err)), icon="🚫")

"""Showing user-supplied text (file names, array keys, messages quoting them) as plain text."""

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md_escape(text: str) -> str:
    r"""Escape every character Markdown (and Streamlit's LaTeX, emoji and HTML) would interpret.

    >>> print(md_escape("**bold** <b>x</b> $a$"))
    \*\*bold\*\* \<b\>x\</b\> \$a\$
    """
    return _MARKDOWN.sub(r"\\\1", str(text))

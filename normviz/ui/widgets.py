"""Widgets drawn from the settings table (``normviz.state.FIELDS``): one row, one widget.

Every widget keeps its value while it is not drawn (another input source, a closed tab) through
Streamlit's own ``persist_state="session"``. The link is not Streamlit's ``bind="query-params"``
(checked on 1.67): a bound widget spells its parameter its own way (``center=false``, not the
links' ``center=0``; a select box's option label, ``source=Random tensor``; pills as repeated
``axes=C&axes=H``, not ``axes=CH``), so existing links would stop working; it drops a bad or
out-of-range value without a word (``rn=5000`` opens at the widget's minimum) where the page names
it in a notice; its parameter leaves the link while the widget is not drawn; the γ/β lists and the
cell have no single widget to bind; and a preset alone in a link, which sets its axes, still needs
code before the widgets are drawn. So ``normviz.ui.session``
reads the link once with ``state.from_query`` and writes it with ``state.to_query``.
"""

from __future__ import annotations

import streamlit as st

from .. import state
from . import session

#: Keep a widget's value while the widget is not drawn (Streamlit ≥ 1.67).
PERSIST = "session"


def draw(key: str, where=st, *, label: str | None = None, options=None, hi=None, on_change=None, args=None, width=None):
    """Draw the widget of setting ``key`` in ``where`` (st, a column, a row, the sidebar) and return its value.

    ``label`` overrides the table's; ``options`` replaces the table's (G: the divisors of C); ``hi``
    lowers a number's upper bound to what this input allows (a crop no larger than the image):
    the value asked for is kept (``session.wish``) and shown as ``min(wish, hi)``, so a smaller input
    neither resets it nor writes the smaller value into the link. ``width`` (pixels) sizes the widget in
    a horizontal container (default: the widget's own).
    """
    field = state.BY_KEY[key]
    label = label or field.label
    common = {"key": key, "help": field.help, "on_change": on_change, "args": args, "persist_state": PERSIST}
    if width is not None:
        common["width"] = width
    if field.widget == "number":
        top = field.hi
        if hi is not None:
            top = min(top, type(field.hi)(hi))
            session.show_within(key, top)
            common["on_change"], common["args"] = session.record_wish, (key, on_change, args)
        return where.number_input(
            label, min_value=field.lo, max_value=top, step=field.step, format=field.format, **common
        )
    if field.widget == "toggle":
        return where.toggle(label, **common)
    choices = list(field.options if options is None else options)
    shown = field.option_labels.get if field.option_labels else str
    if field.widget == "select":
        return where.selectbox(label, choices, format_func=shown, **common)
    if field.widget == "radio":
        return where.radio(label, choices, format_func=shown, horizontal=True, **common)
    if field.widget == "multiselect":
        return where.multiselect(label, choices, format_func=shown, **common)
    raise ValueError(f"setting {key!r} has no widget of its own (kind {field.widget!r}); the page draws it by hand")

"""Uploaded files that outlive their uploader: Streamlit drops a file uploader's files after a run
that does not draw it (another input source was picked), so the page keeps its own copy per session.

Streamlit's ``persist_state`` cannot serve here: ``st.file_uploader`` does not take it (1.67).
A kept upload is used when the uploader comes back empty; the user replaces it by uploading again,
or forgets it with a button. Removing every file in the uploader (while it is shown) forgets it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from ..inputs import content_hash
from . import session
from .text import md_escape

#: One stored upload: (file name, content hash, bytes).
KeptFile = tuple[str, str, bytes]


@dataclass
class KeptUploads:
    """One session's uploads: which uploaders the previous run and this run drew, which of them
    held files, each file's content hash (by Streamlit's file id), and the files kept per uploader."""

    drawn_before: set[str] = field(default_factory=set)
    drawn_now: set[str] = field(default_factory=set)
    had_files: dict[str, bool] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    kept: dict[str, tuple[KeptFile, ...]] = field(default_factory=dict)


def _kept() -> KeptUploads:
    page = session.page_state()
    if page.uploads is None:
        page.uploads = KeptUploads()
    return page.uploads


def new_run() -> None:
    """Call once per run before any uploader: remembers which uploaders the previous run drew."""
    kept = _kept()
    kept.drawn_before, kept.drawn_now = kept.drawn_now, set()


def files(uploader_key: str, current) -> tuple[tuple[KeptFile, ...], bool]:
    """The files to use for the uploader at ``uploader_key``, whose value this run is ``current``
    (an UploadedFile, a list of them, or None). Returns (files, kept): kept is True when they come
    from an earlier upload rather than from the uploader now."""
    store = _kept()
    drawn_before = uploader_key in store.drawn_before
    store.drawn_now.add(uploader_key)
    now = [current] if current is not None and not isinstance(current, list) else list(current or [])
    if now:
        out = []
        for f in now:
            if f.file_id not in store.digests:
                store.digests[f.file_id] = content_hash(f.getvalue())
            out.append((f.name, store.digests[f.file_id], f.getvalue()))
        store.kept[uploader_key] = tuple(out)
        store.had_files[uploader_key] = True
        return tuple(out), False
    if drawn_before and store.had_files.get(uploader_key):  # shown with files last run, empty now: removed
        store.had_files[uploader_key] = False
        store.kept.pop(uploader_key, None)
        return (), False
    store.had_files[uploader_key] = False
    kept = store.kept.get(uploader_key, ())
    return kept, bool(kept)


def kept_note(uploader_key: str, kept: tuple[KeptFile, ...]) -> None:
    """Say that an earlier upload is in use, with a button that forgets it."""
    names = ", ".join(name for name, _, _ in kept[:3]) + (f" and {len(kept) - 3} more" if len(kept) > 3 else "")
    plural = "s" if len(kept) > 1 else ""
    st.caption(md_escape(f"Using the file{plural} you uploaded earlier: {names}. Upload again to replace."))
    if st.button("Forget the earlier upload", key=f"forget_{uploader_key}"):
        _kept().kept.pop(uploader_key, None)
        st.rerun()

"""Uploaded files that outlive their uploader: Streamlit drops a file uploader's files after a run
that does not draw it (another input source was picked), so the page keeps its own copy per session.

A kept upload is used when the uploader comes back empty; the user replaces it by uploading again,
or forgets it with a button. Removing every file in the uploader (while it is shown) forgets it too.
"""

from __future__ import annotations

import streamlit as st

from ..inputs import content_hash
from .text import md_escape

#: One stored upload: (file name, content hash, bytes).
KeptFile = tuple[str, str, bytes]


def new_run() -> None:
    """Call once per run before any uploader: remembers which uploaders the previous run drew."""
    st.session_state["_uploaders_before"] = st.session_state.get("_uploaders_now", set())
    st.session_state["_uploaders_now"] = set()


def files(uploader_key: str, current) -> tuple[tuple[KeptFile, ...], bool]:
    """The files to use for the uploader at ``uploader_key``, whose value this run is ``current``
    (an UploadedFile, a list of them, or None). Returns (files, kept): kept is True when they come
    from an earlier upload rather than from the uploader now."""
    had_files = st.session_state.setdefault("_uploader_had_files", {})
    drawn_before = uploader_key in st.session_state.get("_uploaders_before", set())
    st.session_state.setdefault("_uploaders_now", set()).add(uploader_key)
    store = f"_kept_{uploader_key}"
    now = [current] if current is not None and not isinstance(current, list) else list(current or [])
    if now:
        digests = st.session_state.setdefault("_upload_digests", {})
        out = []
        for f in now:
            if f.file_id not in digests:
                digests[f.file_id] = content_hash(f.getvalue())
            out.append((f.name, digests[f.file_id], f.getvalue()))
        st.session_state[store] = tuple(out)
        had_files[uploader_key] = True
        return tuple(out), False
    if drawn_before and had_files.get(uploader_key):  # shown with files last run, empty now: removed
        had_files[uploader_key] = False
        st.session_state.pop(store, None)
        return (), False
    had_files[uploader_key] = False
    kept = st.session_state.get(store, ())
    return kept, bool(kept)


def kept_note(uploader_key: str, kept: tuple[KeptFile, ...]) -> None:
    """Say that an earlier upload is in use, with a button that forgets it."""
    names = ", ".join(name for name, _, _ in kept[:3]) + (f" and {len(kept) - 3} more" if len(kept) > 3 else "")
    plural = "s" if len(kept) > 1 else ""
    st.caption(md_escape(f"Using the file{plural} you uploaded earlier: {names}. Upload again to replace."))
    if st.button("Forget the earlier upload", key=f"forget_{uploader_key}"):
        st.session_state.pop(f"_kept_{uploader_key}", None)
        st.rerun()

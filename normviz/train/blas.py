"""Run a block of code with OpenBLAS on one thread (the training's matrices are small).

OpenBLAS splits even small products over all cores; on a loaded 2-core machine the threads spin
against each other and a training step took 5–8× longer than on one thread. The thread count is
process-wide, so it is set for the duration of a training and restored after; other work in the
process meanwhile also gets one BLAS thread, which leaves the other core to it. Without an OpenBLAS
numpy (or when its symbols are not found) this does nothing.
"""

from __future__ import annotations

import ctypes
import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS numpy loaded, or None."""
    import numpy  # noqa: F401  (loads the library)

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for path in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (
            ("scipy_openblas", "64_"),
            ("scipy_openblas", ""),
            ("openblas", "64_"),
            ("openblas", ""),
        ):
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                return setter, getter
    return None


@contextmanager
def one_blas_thread():
    """Within the block, OpenBLAS uses one thread; the previous count is restored after."""
    funcs = _openblas()
    if funcs is None:
        yield
        return
    setter, getter = funcs
    with _LOCK:
        before = getter()
        setter(1)
    try:
        yield
    finally:
        with _LOCK:
            setter(before)

"""One memory budget for every array the server holds across sessions.

Every cache and loader asks the budget before it makes a large array (``MemoryBudget.get``): the
budget counts the real ``nbytes`` of each array it has handed out for as long as the array is
alive — in a cache, in a visitor's session, or both — plus what computations in flight have
reserved. When a new request does not fit, cached entries are dropped least recently used first;
if that is not enough, the request waits briefly for other visitors' work to finish, then is
refused with a ``NormvizError`` (``retry=True``) that says why and what to do.

The limit is ``NORMVIZ_MEMORY_MB`` megabytes (default 2048, for a 4 GB container). One budget
serves the whole process (``shared()``); tests make their own ``MemoryBudget``.

>>> import numpy as np
>>> budget = MemoryBudget(limit_bytes=10 * 2**20, wait_seconds=0)
>>> a = budget.get(("zeros", 1), lambda: np.zeros(2**20, np.float32), need=4 * 2**20, what="a test array")
>>> budget.used_bytes
4194304
>>> del a
>>> budget.used_bytes  # still cached
4194304
>>> budget.clear(); budget.used_bytes
0
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from typing import TypeVar

import numpy as np

from .errors import NormvizError

_LOG = logging.getLogger(__name__)  # refusals go to the server's log: a sign the budget is too small

ENV_VAR = "NORMVIZ_MEMORY_MB"
DEFAULT_MB = 2048
#: How long a request that does not fit waits for other visitors' work before it is refused.
WAIT_SECONDS = 5.0

T = TypeVar("T")


def arrays_in(value) -> list[np.ndarray]:
    """The distinct memory owners of every ndarray in ``value`` (an array, a dataclass, or a
    tuple/list/dict of them, nested): a view counts as the array it looks into."""
    found: dict[int, np.ndarray] = {}
    _walk(value, found, 0)
    return list(found.values())


def _walk(obj, found: dict, depth: int) -> None:
    # A plain function, not a closure: a recursive closure is a reference cycle that would keep
    # the arrays it saw alive until the next garbage collection.
    if depth > 4:
        return
    if isinstance(obj, np.ndarray):
        owner = obj
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        found.setdefault(id(owner), owner)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _walk(getattr(obj, f.name, None), found, depth + 1)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _walk(item, found, depth + 1)
    elif isinstance(obj, dict):
        for item in obj.values():
            _walk(item, found, depth + 1)


def format_mb(nbytes: float) -> str:
    """``3 * 2**20`` → ``'3 MB'``."""
    return f"{nbytes / 2**20:,.0f} MB"


def limit_from_env(environ=None) -> int:
    """The budget in bytes from ``NORMVIZ_MEMORY_MB`` (a positive number of megabytes)."""
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_MB * 2**20
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = float("nan")
    if not megabytes > 0 or megabytes == float("inf"):
        raise NormvizError(
            f"{ENV_VAR}={raw!r} is not a memory budget; set it to a positive number of megabytes "
            f"(e.g. {DEFAULT_MB}) or leave it unset for {DEFAULT_MB}."
        )
    return int(megabytes * 2**20)


class MemoryBudget:
    """Counts the bytes of live arrays handed out through ``get`` and keeps them under a limit.

    Parameters
    ----------
    limit_bytes : int
        The most bytes held at once: live tracked arrays plus reservations in flight.
    wait_seconds : float
        How long a request that does not fit waits for memory to be released before refusal.
    """

    def __init__(self, limit_bytes: int, wait_seconds: float = WAIT_SECONDS):
        self.limit_bytes = int(limit_bytes)
        self.wait_seconds = float(wait_seconds)
        self._cond = threading.Condition(threading.RLock())  # re-entrant: finalizers run anywhere
        self._entries: OrderedDict[Hashable, object] = OrderedDict()  # least recently used first
        self._ghosts: dict[Hashable, weakref.ref] = {}  # evicted entries still alive elsewhere
        self._live: dict[int, int] = {}  # id(array owner) -> nbytes, while the array is alive
        self._live_bytes = 0
        self._reserved = 0
        self._making: dict[Hashable, threading.Event] = {}  # keys being made, to wait for

    # -- what is held --------------------------------------------------------------------------
    @property
    def used_bytes(self) -> int:
        """Bytes of tracked arrays still alive plus bytes reserved by computations in flight."""
        with self._cond:
            return self._live_bytes + self._reserved

    @property
    def cached_keys(self) -> list:
        """Keys of the cached entries, least recently used first."""
        with self._cond:
            return list(self._entries)

    def track(self, value) -> int:
        """Count every array in ``value`` until it is garbage; returns the bytes newly counted."""
        added = 0
        with self._cond:
            for arr in arrays_in(value):
                key = id(arr)
                if key in self._live:
                    continue
                self._live[key] = arr.nbytes
                self._live_bytes += arr.nbytes
                added += arr.nbytes
                weakref.finalize(arr, self._released, key)
        return added

    def _released(self, key: int) -> None:
        with self._cond:
            self._live_bytes -= self._live.pop(key, 0)
            self._cond.notify_all()

    # -- the cache -----------------------------------------------------------------------------
    def get(self, key: Hashable, make: Callable[[], T], *, need: int, what: str) -> T:
        """The value cached under ``key``, or ``make()`` run with ``need`` bytes reserved (its
        peak memory), then cached and counted at its arrays' real size.

        Raises NormvizError (``retry=True``) if ``need`` bytes cannot be found within
        ``wait_seconds``, or (``retry=False``) if ``need`` exceeds the whole budget. ``what``
        names the request for the message ("the random tensor 32×64×181×181").
        """
        while True:
            with self._cond:
                found = self._lookup(key)
                if found is not None:
                    return found
                running = self._making.get(key)
                if running is None:
                    running = self._making[key] = threading.Event()
                    break
            running.wait()  # another visitor is making the same value: use theirs
        try:
            with self.reserve(need, what):
                value = make()
            self.track(value)
            with self._cond:
                self._entries[key] = value
                self._ghosts.pop(key, None)
                self._evict_until(0, keep=key)
            return value
        finally:
            with self._cond:
                self._making.pop(key, None)
            running.set()

    def _lookup(self, key: Hashable):
        with self._cond:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            ghost = self._ghosts.pop(key, None)
            value = ghost() if ghost is not None else None
            if value is not None:  # evicted, but a session still holds it: use it, cache it again
                self._entries[key] = value
            return value

    def clear(self) -> None:
        """Forget every cached entry (arrays held elsewhere stay counted until released)."""
        with self._cond:
            self._entries.clear()
            self._ghosts.clear()
        gc.collect()

    def _evict_until(self, need: int, keep: Hashable = None) -> bool:
        """Drop least recently used entries until ``need`` more bytes fit; True if they do."""
        while self._live_bytes + self._reserved + need > self.limit_bytes:
            victim = next((k for k in self._entries if k != keep), None)
            if victim is None:
                return False
            value = self._entries.pop(victim)
            with contextlib.suppress(TypeError):  # a tuple has no weak reference: not found again
                self._ghosts[victim] = weakref.ref(value, partial(self._forget_ghost, victim))
            del value  # freed now unless a session still holds it
        return True

    def _forget_ghost(self, key: Hashable, ref: weakref.ref) -> None:
        with self._cond:
            if self._ghosts.get(key) is ref:
                del self._ghosts[key]

    # -- reservations ----------------------------------------------------------------------------
    def reserve(self, need: int, what: str) -> _Reservation:
        """Hold ``need`` bytes for a computation: ``with budget.reserve(n, what): …``.

        Evicts cached entries, then waits up to ``wait_seconds`` for other work to release memory,
        then raises NormvizError saying why and what to do.
        """
        need = int(need)
        if need > self.limit_bytes:
            _LOG.warning("memory budget: refused %s (needs %s; the budget is %s)", what, format_mb(need),
                         format_mb(self.limit_bytes))  # fmt: skip
            raise NormvizError(
                f"{what} needs about {format_mb(need)}, more than this server's whole memory budget of "
                f"{format_mb(self.limit_bytes)} for all visitors; choose a smaller size."
            )
        deadline = time.monotonic() + self.wait_seconds
        collected = False
        while True:
            with self._cond:
                if self._evict_until(need):
                    self._reserved += need
                    return _Reservation(self, need)
                if collected:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        _LOG.warning(
                            "memory budget: refused %s (needs %s; %s of %s in use)", what, format_mb(need),
                            format_mb(self._live_bytes + self._reserved), format_mb(self.limit_bytes),
                        )  # fmt: skip
                        raise NormvizError(
                            f"The server is busy: {what} needs about {format_mb(need)}, and the data it "
                            f"holds for its visitors already fill {format_mb(self._live_bytes + self._reserved)} "
                            f"of its {format_mb(self.limit_bytes)} memory budget. Try again in a minute, or "
                            "choose a smaller size.",
                            retry=True,
                        )
                    self._cond.wait(remaining)
                    continue
            gc.collect()  # outside the lock: data in reference cycles (a closed session) is freed only here
            collected = True

    def _unreserve(self, need: int) -> None:
        with self._cond:
            self._reserved -= need
            self._cond.notify_all()


class _Reservation:
    """Bytes held for a computation in flight; released when the ``with`` block ends."""

    def __init__(self, budget: MemoryBudget, need: int):
        self._budget, self._need = budget, need

    def __enter__(self) -> _Reservation:
        return self

    def __exit__(self, *exc) -> None:
        self._budget._unreserve(self._need)


_SHARED: MemoryBudget | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> MemoryBudget:
    """The process's one budget, sized from ``NORMVIZ_MEMORY_MB`` on first use."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = MemoryBudget(limit_from_env())
        return _SHARED


def held(key: Hashable, make: Callable[[], T], *, need: int, what: str) -> T:
    """``shared().get(key, make, need=need, what=what)``: the one call every cache makes."""
    return shared().get(key, make, need=need, what=what)

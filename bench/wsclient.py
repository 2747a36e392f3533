"""A client that speaks Streamlit's websocket, as a browser tab does, for load and CPU benchmarks.

One ``Session`` is one browser tab: it opens ``ws://HOST:PORT/_stcore/stream`` (subprotocol
``streamlit``), sends ``BackMsg.rerun_script`` with the widget states, and reads ``ForwardMsg``s until
the run finishes. Widgets are found by their ``key`` in the first run's deltas; setting one sends
every widget state this tab has set so far (as the browser does). Like a browser it keeps the
cookies of the page load and of the websocket upgrade (a sticky-session proxy needs them), reports
the hashes of messages it has cached, and fetches the ``/media/…`` files a run refers to.

    async with Session.open("http://127.0.0.1:8501") as tab:      # first run done
        run = await tab.set("axes_pick", ["N · batch", "C · channel"])
        run.seconds, run.bytes, run.errors

``load(url, sessions=20, interactions=…, plan=…)`` drives many tabs at once and, given the server's
process ids, reports the server CPU time per interaction and its peak resident memory (``Stats``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import http.cookies
import statistics
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: Status of a script run that another run replaced (st.rerun, a callback's rerun): not the end.
_EARLY = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


class SessionError(RuntimeError):
    """The server closed the connection, timed out, or the app raised."""


@dataclass
class Widget:
    """A widget seen in a run: its element id, proto type (``button_group``, ``selectbox``, …), labels,
    and the fragment it was drawn in ("" outside any): a change reruns only that fragment, as a
    browser asks."""

    id: str
    kind: str
    options: tuple[str, ...] = ()
    fragment: str = ""

    @property
    def key(self) -> str | None:
        """The user key the id ends with (``$$ID-<hash>-<key>``), if any."""
        parts = self.id.split("-", 2)
        return parts[2] if self.id.startswith("$$ID") and len(parts) == 3 and parts[2] != "None" else None


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float
    bytes: int = 0
    messages: int = 0
    media: int = 0
    errors: list[str] = field(default_factory=list)


def _option_labels(kind: str, proto) -> tuple[str, ...]:
    if kind == "button_group":
        return tuple(o.content for o in proto.options)
    if kind in ("selectbox", "radio", "multiselect", "segmented_control"):
        return tuple(proto.options)
    if kind == "tab_container":
        return ()
    return ()


def _cookies_from(headers, jar: dict[str, str]) -> None:
    for value in headers.get_all("Set-Cookie") or ():
        parsed = http.cookies.SimpleCookie()
        with contextlib.suppress(http.cookies.CookieError):
            parsed.load(value)
            for name, morsel in parsed.items():
                jar[name] = morsel.value


class Session:
    """One browser tab on a Streamlit app, over its websocket (use ``await Session.open(url)``)."""

    def __init__(self, base_url: str, *, query: str = "", headers: dict | None = None, fetch_media: bool = True):
        self.base_url = base_url.rstrip("/")
        self.query = query.lstrip("?")
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self.fetch_media = fetch_media
        self.widgets: dict[str, Widget] = {}  # by key (or id when the widget has no key)
        self.states: dict[str, WidgetState] = {}  # by widget id: what this tab has set
        self.cached: set[str] = set()  # hashes of cacheable messages received
        self.media_seen: set[str] = set()
        self.session_id = ""
        self.first_run: Run | None = None
        self._ws = None
        self._http: http.client.HTTPConnection | None = None  # kept alive, as a browser does

    # -- connecting -------------------------------------------------------------------------
    @classmethod
    async def open(cls, base_url: str, *, timeout: float = 120, **kwargs) -> Session:
        """Load the page (for its cookies), open the websocket and run the script once."""
        tab = cls(base_url, **kwargs)
        await tab.connect(timeout=timeout)
        tab.first_run = await tab.rerun(timeout=timeout)
        return tab

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _cookie_header(self) -> dict[str, str]:
        extra = dict(self.headers)
        if self.cookies:
            extra["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return extra

    def _http_get(self, path: str) -> bytes:
        """GET ``path`` on one kept-alive connection (opened again if the server closed it)."""
        for attempt in (0, 1):
            if self._http is None:
                parts = urllib.parse.urlsplit(self.base_url)
                kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
                self._http = kind(parts.hostname, parts.port, timeout=60)
            prefix = urllib.parse.urlsplit(self.base_url).path.rstrip("/")
            try:
                self._http.request("GET", prefix + path, headers=self._cookie_header())
                response = self._http.getresponse()
                body = response.read()
            except (http.client.HTTPException, ConnectionError):
                self._http.close()
                self._http = None
                if attempt:
                    raise
                continue
            _cookies_from(response.headers, self.cookies)
            if response.status >= 400:
                raise SessionError(f"GET {path}: HTTP {response.status}")
            return body
        raise AssertionError("unreachable")

    async def connect(self, timeout: float = 120) -> None:
        import websockets

        await asyncio.to_thread(self._http_get, "/" + (f"?{self.query}" if self.query else ""))
        ws_url = urllib.parse.urlsplit(self.base_url)._replace(
            scheme="wss" if self.base_url.startswith("https") else "ws"
        )
        url = urllib.parse.urlunsplit(ws_url) + "/_stcore/stream"
        self._ws = await websockets.connect(
            url,
            subprotocols=["streamlit"],
            additional_headers=self._cookie_header(),
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
            compression=None,
        )
        _cookies_from(self._ws.response.headers, self.cookies)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- interacting ------------------------------------------------------------------------
    def widget(self, key: str) -> Widget:
        try:
            return self.widgets[key]
        except KeyError:
            raise SessionError(f"no widget with key {key!r} in the last run; known: {sorted(self.widgets)}") from None

    def state_for(self, key: str, value) -> WidgetState:
        """The WidgetState a browser sends for ``value`` on widget ``key`` (labels as shown)."""
        w = self.widget(key)
        state = WidgetState(id=w.id)
        if isinstance(value, bool):
            state.bool_value = value
        elif w.kind in ("button_group", "multiselect"):
            state.string_array_value.data.extend(value)
        elif isinstance(value, str):
            state.string_value = value
        elif isinstance(value, int) and w.kind not in ("number_input", "slider"):
            state.int_value = value
        elif isinstance(value, (int, float)):
            state.double_value = float(value)
        else:
            raise SessionError(f"cannot send {value!r} to a {w.kind} widget")
        return state

    async def set(self, key: str, value, *, timeout: float = 120) -> Run:
        """Set widget ``key`` to ``value`` and wait for the rerun (of its fragment, if it has one) to finish."""
        state = self.state_for(key, value)
        self.states[state.id] = state
        return await self.rerun(timeout=timeout, fragment=self.widget(key).fragment)

    async def rerun(self, timeout: float = 120, fragment: str = "") -> Run:
        """Send rerun_script with every widget state set so far (for ``fragment`` only, if given);
        read until the run finishes."""
        if self._ws is None:
            raise SessionError("not connected")
        msg = BackMsg()
        client = msg.rerun_script
        client.query_string = self.query
        client.fragment_id = fragment
        client.widget_states.widgets.extend(self.states.values())
        client.cached_message_hashes.extend(sorted(self.cached))
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        run = Run(seconds=0.0)
        media: list[str] = []
        try:
            async with asyncio.timeout(timeout):
                await self._read_until_finished(run, media)
        except TimeoutError:
            run.errors.append(f"no end of the run within {timeout:g} s")
        except Exception as err:  # the connection closed under us
            run.errors.append(f"{type(err).__name__}: {err}")
        if self.fetch_media and media and not run.errors:
            try:
                run.media = await asyncio.to_thread(self._fetch_all, media)
            except (OSError, http.client.HTTPException, SessionError) as err:
                run.errors.append(f"media: {type(err).__name__}: {err}")
        run.seconds = time.perf_counter() - start
        return run

    def _fetch_all(self, urls: Sequence[str]) -> int:
        total = 0
        for url in urls:
            total += len(self._http_get(url if url.startswith("/") else "/" + url))
        return total

    async def _read_until_finished(self, run: Run, media: list[str]) -> None:
        while True:
            data = await self._ws.recv()
            run.bytes += len(data)
            run.messages += 1
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if fwd.metadata.cacheable and fwd.hash:
                self.cached.add(fwd.hash)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            elif kind == "delta":
                self._read_delta(fwd.delta, run, media)
            elif kind == "session_event" and fwd.session_event.HasField("script_compilation_exception"):
                run.errors.append("script compilation error")
            elif kind == "script_finished" and fwd.script_finished != _EARLY:
                return

    def _read_delta(self, delta, run: Run, media: list[str]) -> None:
        which = delta.WhichOneof("type")
        if which == "new_element":
            kind = delta.new_element.WhichOneof("type")
            proto = getattr(delta.new_element, kind) if kind else None
            if kind == "exception":
                run.errors.append(f"{proto.type}: {proto.message}")
            elif kind == "imgs":
                for img in proto.imgs:
                    if img.url.startswith("/media/") and img.url not in self.media_seen:
                        self.media_seen.add(img.url)
                        media.append(img.url)
        elif which == "add_block":
            kind = delta.add_block.WhichOneof("type")
            proto = getattr(delta.add_block, kind) if kind else None
        else:
            return
        element_id = getattr(proto, "id", "") if proto is not None else ""
        if isinstance(element_id, str) and element_id.startswith("$$ID"):
            w = Widget(element_id, kind, _option_labels(kind, proto), delta.fragment_id)
            self.widgets[w.key or w.id] = w


# -- many tabs at once ------------------------------------------------------------------------
def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time of processes ``pids`` so far (Linux /proc), in seconds."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLOCK_TICKS


def rss_bytes(pids: Iterable[int]) -> int:
    """Resident memory of processes ``pids`` now, summed, in bytes."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class Stats:
    """What a load run measured. Latencies in seconds; ``cpu_per_interaction`` None without pids."""

    sessions: int
    interactions: int
    wall: float
    latencies: list[float]
    errors: list[str]
    cpu: float | None = None
    peak_rss: int | None = None
    bytes: int = 0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        return _quantile(self.latencies, 0.95)

    @property
    def throughput(self) -> float:
        """Interactions finished per second of wall time."""
        return self.interactions / self.wall if self.wall else 0.0

    @property
    def cpu_per_interaction(self) -> float | None:
        return None if self.cpu is None or not self.interactions else self.cpu / self.interactions

    def summary(self) -> str:
        cpu = "" if self.cpu is None else f", server CPU {self.cpu_per_interaction * 1e3:.0f} ms/interaction"
        rss = "" if self.peak_rss is None else f", peak RSS {self.peak_rss / 2**20:.0f} MB"
        return (
            f"{self.sessions} session(s), {self.interactions} interactions in {self.wall:.1f} s "
            f"({self.throughput:.1f}/s): p50 {self.p50 * 1e3:.0f} ms, p95 {self.p95 * 1e3:.0f} ms, "
            f"{len(self.errors)} error(s){cpu}{rss}"
        )


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


#: An interaction plan: given a tab and the interaction's number, do one thing and return its Run.
Plan = Callable[[Session, int], Awaitable[Run]]

AXIS_LABELS = {"N": "N · batch", "C": "C · channel", "H": "H · height", "W": "W · width"}
#: Axis sets a visitor toggles through on the normviz page (each differs from the one before).
AXIS_SETS = ("HW", "NHW", "CHW", "NHW", "C", "NCHW", "NHW", "N")


def toggle_axes(tab: Session, i: int) -> Awaitable[Run]:
    """normviz: set the reduced axes to the i-th set of AXIS_SETS, as clicking the pills does."""
    axes = AXIS_SETS[i % len(AXIS_SETS)]
    return tab.set("axes_pick", [AXIS_LABELS[a] for a in axes])


def choose_presets(tab: Session, i: int) -> Awaitable[Run]:
    """normviz: pick the i-th of the preset box's options (wrapping)."""
    options = [o for o in tab.widget("preset").options if o != "Custom"]
    return tab.set("preset", options[i % len(options)])


def toggle_checkbox(tab: Session, i: int) -> Awaitable[Run]:
    """The empty app (bench/empty_app.py): click its one checkbox."""
    checkbox = next(k for k, w in tab.widgets.items() if w.kind == "checkbox")
    return tab.set(checkbox, i % 2 == 0)


async def _sample_rss(pids, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(OSError):
            peak[0] = max(peak[0], rss_bytes(pids))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


async def load_async(
    base_url: str,
    *,
    sessions: int = 1,
    interactions: int = 10,
    plan: Plan = toggle_axes,
    think: float = 0.0,
    pids: Sequence[int] = (),
    query: str = "",
    headers: dict | None = None,
    fetch_media: bool = True,
    timeout: float = 120,
) -> Stats:
    """Open ``sessions`` tabs (first runs not counted), then each does ``interactions`` steps of
    ``plan``, waiting ``think`` seconds after each; server CPU and RSS are read from ``pids``."""
    tabs = await asyncio.gather(
        *(Session.open(base_url, query=query, headers=headers, fetch_media=fetch_media, timeout=timeout)
          for _ in range(sessions))
    )  # fmt: skip
    errors = [f"first run: {e}" for tab in tabs for e in tab.first_run.errors]
    latencies: list[float] = []
    received = [0]
    peak = [rss_bytes(pids) if pids else 0]
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pids, peak, stop)) if pids else None

    async def visitor(tab: Session, offset: int) -> None:
        for i in range(interactions):
            run = await plan(tab, i + offset)
            latencies.append(run.seconds)
            received[0] += run.bytes + run.media
            errors.extend(run.errors)
            if think:
                await asyncio.sleep(think)

    cpu_before = cpu_seconds(pids) if pids else None
    start = time.perf_counter()
    try:
        await asyncio.gather(*(visitor(tab, k) for k, tab in enumerate(tabs)))
    finally:
        wall = time.perf_counter() - start
        cpu = cpu_seconds(pids) - cpu_before if pids else None
        stop.set()
        if sampler:
            await sampler
        await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)
    return Stats(
        sessions=sessions,
        interactions=len(latencies),
        wall=wall,
        latencies=latencies,
        errors=errors,
        cpu=cpu,
        peak_rss=peak[0] if pids else None,
        bytes=received[0],
    )


def load(base_url: str, **kwargs) -> Stats:
    """``load_async`` from synchronous code."""
    return asyncio.run(load_async(base_url, **kwargs))

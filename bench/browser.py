"""The page in a real browser: time to first full render, and time from toggling an axis until the
page settles, against an empty one-checkbox Streamlit app started the same way (the floor).

A toggle has settled when the run's last message has arrived and the page's last DOM change after
the click (a MutationObserver in the page and in the cube's frame) is followed by a quiet spell with
the script finished: a run that changes nothing on the page (the empty app's) ends with its last
message, not with the click's own change. Also counts the bytes each toggle brings (WebSocket frames
and fetched media).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_for_app

ROOT = Path(__file__).resolve().parents[1]
EMPTY_APP = "bench/empty_app.py"
#: A checkbox and 30 paragraphs that change with it: what a page of that size costs per toggle.
FLOOR_APP = "bench/floor_app.py"
QUIET_MS = 600

OBSERVE = """() => {
  window.__lastChange = performance.now();
  const note = () => { window.__lastChange = performance.now(); };
  new MutationObserver(note).observe(document, {subtree: true, childList: true, attributes: true,
                                                characterData: true});
}"""


def _observe_all(page) -> None:
    for frame in page.frames:
        with contextlib.suppress(Exception):  # a frame that went away
            frame.evaluate(OBSERVE)


def _last_change(page) -> float:
    """Latest DOM change over the page and its frames, on the page's clock (ms)."""
    origin = page.evaluate("performance.timeOrigin")
    latest = 0.0
    for frame in page.frames:
        try:
            t, o = frame.evaluate("[window.__lastChange || 0, performance.timeOrigin]")
        except Exception:
            continue
        latest = max(latest, t + o - origin)
    return latest


def _settle(page, timeout_s: float = 60) -> float:
    """Wait until the script is done and nothing changed for QUIET_MS; return the last change (ms)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        running = page.evaluate(
            "document.querySelector('[data-testid=stApp]')?.dataset.testScriptState !== 'notRunning'"
        )
        if running:
            continue
        last = _last_change(page)
        if page.evaluate("performance.now()") - last >= QUIET_MS:
            return last
    raise TimeoutError("the page did not settle")


#: Wraps the page's WebSocket before Streamlit opens it: when each frame is sent or received.
WS_CLOCK = """
window.__ws = [];
const NativeSocket = window.WebSocket;
const send = NativeSocket.prototype.send;
NativeSocket.prototype.send = function (data) {
  window.__ws.push(['sent', performance.now()]);
  return send.call(this, data);
};
window.WebSocket = function (...args) {
  const socket = new NativeSocket(...args);
  socket.addEventListener('message', () => window.__ws.push(['received', performance.now()]));
  return socket;
};
window.WebSocket.prototype = NativeSocket.prototype;
Object.assign(window.WebSocket, NativeSocket);
"""


#: A toggle's phases, in the order they happen.
PHASES = ("sent", "first", "last", "settled")


def _phases(page, clicked_at: float, last_change: float) -> dict:
    """Where one toggle's time went, in ms from the click: the rerun request sent, the server's first
    and last message of the run received, the page settled (its last change, or the last message if
    that came later)."""
    frames = page.evaluate("window.__ws.splice(0)")
    sent = [t for kind, t in frames if kind == "sent"]
    received = [t for kind, t in frames if kind == "received"]
    if not sent or not received:
        raise RuntimeError("a toggle sent or received no WebSocket frame: the page's socket was not wrapped")
    times = (sent[0], received[0], received[-1], max(last_change, received[-1]))
    return dict(zip(PHASES, (t - clicked_at for t in times), strict=True))


def _toggle_once(page, toggle, i: int, mark: str | None = None) -> dict:
    """Toggle once and wait until the page settles: the toggle's phases. ``mark`` names a performance
    mark made at the click (to find the toggle in a trace)."""
    _observe_all(page)
    page.evaluate("window.__ws.splice(0)")  # frames from before the click
    clicked_at = page.evaluate(f"performance.mark({mark!r}).startTime" if mark else "performance.now()")
    toggle(page, i)
    return _phases(page, clicked_at, _settle(page))


#: Trace categories for the main thread's tasks and the page's own marks.
TRACE_CATEGORIES = ["toplevel", "blink.user_timing"]
#: A task at least this long on the main thread is counted apart: React's pass over a batch of messages
#: runs as one task, and so do style, layout and paint.
LONG_TASK_MS = 10


def _main_thread(trace: bytes, windows: list[tuple[str, float]]) -> list[tuple[float, int]]:
    """Per toggle (its mark's name, ms until settled): ms the page's main thread spent in tasks, and how
    many of them took LONG_TASK_MS or more. The cube's frame runs on the same thread."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    main = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
            and e.get("args", {}).get("name") == "CrRendererMain"}  # fmt: skip
    runs = sorted((e["pid"], e["tid"], e["ts"], e["dur"]) for e in events if e.get("ph") == "X"
                  and (e.get("pid"), e.get("tid")) in main and e.get("name") == "ThreadControllerImpl::RunTask"
                  and "dur" in e)  # fmt: skip
    tasks, ends = [], {}
    for pid, tid, ts, dur in runs:  # a task run inside another (a nested loop) is part of it
        if ts >= ends.get((pid, tid), 0):
            tasks.append((ts, dur / 1000))
            ends[pid, tid] = ts + dur
    marks = {e["name"]: e["ts"] for e in events if "blink.user_timing" in e.get("cat", "")}
    out = []
    for name, duration in windows:
        start = marks[name]
        inside = [ms for ts, ms in tasks if start <= ts <= start + duration * 1000]
        out.append((sum(inside), sum(ms >= LONG_TASK_MS for ms in inside)))
    return out


class _Bytes:
    """WebSocket frames received and media fetched, in bytes."""

    def __init__(self, page):
        self.count = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("response", self._response)

    def _frame(self, payload):
        self.count += len(payload)

    def _response(self, response):
        if "/media/" in response.url or "/component/" in response.url:
            with contextlib.suppress(Exception):
                self.count += len(response.body())


def _open(browser, url: str, first_ready):
    """A new visitor opens the page: (context, page, byte counter, ready ms, settled ms), from navigation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(WS_CLOCK)
    counter = _Bytes(page)
    page.goto(url)
    wait_for_app(page, timeout=120_000)
    ready = first_ready(page)  # ms from navigation start until the page's main content is drawn
    _observe_all(page)
    settled = _settle(page)  # ms from navigation start to the last change
    return context, page, counter, settled if ready is None else ready, settled


def _measure(browser, url: str, toggle, first_ready, toggles: int, visitors: int, traced: int) -> dict:
    """``visitors`` new visitors open the page one after another (the first meets a fresh server
    process); the last one toggles ``toggles`` times, then ``traced`` more times under Chromium's
    trace (for the main thread's work, not timed)."""
    opens = []
    for _ in range(visitors):
        context, page, counter, ready, settled = _open(browser, url, first_ready)
        opens.append((ready, settled))
        if len(opens) < visitors:
            context.close()
    latencies, sizes, phases = [], [], []
    for i in range(toggles):
        before = counter.count
        phases.append(_toggle_once(page, toggle, i))
        latencies.append(phases[-1]["settled"])
        sizes.append(counter.count - before)
    work = []
    if traced:
        windows = []
        browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        for i in range(traced):
            windows.append((f"toggle-{i}", _toggle_once(page, toggle, toggles + i, f"toggle-{i}")["settled"]))
        work = _main_thread(browser.stop_tracing(), windows)
    context.close()
    later = opens[1:] or opens
    return {
        "fresh": opens[0][0],
        "ready": statistics.median(r for r, _ in later),
        "first": statistics.median(s for _, s in later),
        "toggle": statistics.median(latencies),
        "bytes": statistics.median(sizes),
        "phases": {k: statistics.median(p[k] for p in phases) for k in PHASES},
        "busy": statistics.median(ms for ms, _ in work) if work else None,
        "long_tasks": statistics.median(n for _, n in work) if work else None,
    }


def _split(phases: dict) -> str:
    """A toggle's median phases as a note."""
    return (
        f"from the click (ms): request sent {phases['sent']:.0f}, the run's first message {phases['first']:.0f}, "
        f"its last {phases['last']:.0f}, settled {phases['settled']:.0f}"
    )


def _pill(page, i):
    page.get_by_role("button", name="C · channel").click()


def _checkbox(page, i):
    page.get_by_text("a checkbox").click()


def _cube_drawn(page) -> float:
    """Wait for the cube's first draw; when it happened, in ms from the page's navigation start."""
    frame = page.frame_locator("iframe[title*='cube']").first
    frame.locator("body[data-first-drawn]").wait_for(state="attached", timeout=120_000)
    drawn = float(frame.locator("body").get_attribute("data-first-drawn"))
    return drawn - page.evaluate("performance.timeOrigin")


def _checkbox_shown(page) -> None:
    page.get_by_text("a checkbox").wait_for()


def run(smoke: bool = False) -> list[dict]:
    if not CHROMIUM.exists():
        return [{"group": "browser", "name": "skipped", "note": f"no Chromium at {CHROMIUM}"}]
    from playwright.sync_api import sync_playwright

    toggles = 2 if smoke else 9
    visitors = 2 if smoke else 6
    traced = 2 if smoke else 7
    servers = [start_server("app.py"), start_server(EMPTY_APP)] + ([] if smoke else [start_server(FLOOR_APP)])
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            ours = _measure(browser, servers[0][0], _pill, _cube_drawn, toggles, visitors, traced)
            floor = _measure(browser, servers[1][0], _checkbox, _checkbox_shown, toggles, visitors, traced)
            sized = None if smoke else _measure(browser, servers[2][0], _checkbox, _checkbox_shown, toggles, 1, 0)
            browser.close()
    finally:
        for _, process in servers:
            stop_server(process)
    later = f"median of {visitors - 1}" if visitors > 2 else "one"
    return [
        {"group": "browser", "name": f"first open until the cube is drawn (a new visitor, {later})",
         "ours_ms": ours["ready"], "ref_ms": floor["ready"], "ratio": ours["ready"] / floor["ready"], "budget": "≤ 3×",
         "note": "navigation → the cube's first draw, server already running; baseline: the empty app's first render"},
        {"group": "browser", "name": "first open on a fresh server (its first visitor)", "ours_ms": ours["fresh"],
         "ref_ms": floor["fresh"], "ratio": ours["fresh"] / floor["fresh"],
         "note": "the same, for the first visitor of a new process (imports, first computation)"},
        {"group": "browser", "name": "first full render (a new visitor)", "ours_ms": ours["first"],
         "ref_ms": floor["first"], "ratio": ours["first"] / floor["first"],
         "note": "page load until the page settles; baseline: empty app"},
        {"group": "browser", "name": f"axis toggle until settled (median of {toggles})", "ours_ms": ours["toggle"],
         "ref_ms": floor["toggle"], "ratio": ours["toggle"] / floor["toggle"], "budget": "≤ 3×",
         "note": "click → the later of the run's last message and the last DOM change (page and cube frame); "
                 "baseline: a checkbox in an empty app. Ours "
                 + _split(ours["phases"]) + "; the empty app's " + _split(floor["phases"]),
         "phases": ours["phases"], "ref_phases": floor["phases"]},
        {"group": "browser", "name": f"main thread busy per toggle (Chromium's trace, median of {traced})",
         "ours_ms": ours["busy"], "ref_ms": floor["busy"], "ratio": ours["busy"] / max(floor["busy"], 1e-3),
         "note": "the page's tasks from the click until settled (the cube's frame included); tasks of "
                 f"{LONG_TASK_MS} ms or more: ours {ours['long_tasks']:g}, the empty app's {floor['long_tasks']:g}"},
        *([] if sized is None else [
            {"group": "browser", "name": "toggle in a page of 30 paragraphs (bench/floor_app.py)",
             "ours_ms": sized["toggle"], "ref_ms": floor["toggle"], "ratio": sized["toggle"] / floor["toggle"],
             "note": "what 30 changed elements cost in Streamlit's frontend; baseline: the empty app"}]),
        {"group": "browser", "name": "bytes received per toggle (median)", "bytes": int(ours["bytes"]),
         "note": f"WebSocket frames + media; empty app: {int(floor['bytes'])} B"},
    ]  # fmt: skip

"""Run ``deploy/serve.sh`` for tests and benchmarks: start it, read what it prints (replica pids and
ports, the proxy's reports of replicas going down and up), and stop it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "deploy" / "serve.sh"
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
START_SECONDS = 180
needs_haproxy = pytest.mark.skipif(
    HAPROXY is None, reason="no haproxy: install Debian's haproxy package (apt-get install haproxy)"
)

_REPLICA = re.compile(r"replica (r\d+) pid (\d+) port (\d+)")
_RUNDIR = re.compile(r"config and logs in (\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """``bash deploy/serve.sh --replicas K --port P`` running in the background.

    ``replicas`` maps r1, r2, … to the (pid, port) serve.sh last reported for it; ``lines`` is
    everything it printed so far (stdout and stderr).
    """

    def __init__(self, replicas: int, *, env: dict | None = None, logs: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.replicas: dict[str, tuple[int, int]] = {}
        self.rundir: Path | None = None
        self._changed = threading.Condition()
        environ = dict(os.environ, PYTHON=sys.executable, **(env or {}))
        self.process = subprocess.Popen(
            ["bash", str(SERVE), "--replicas", str(replicas), "--port", str(self.port), "--address", "127.0.0.1",
             *(["--logs", str(logs)] if logs else [])],
            cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.wait_for("serving normviz with", START_SECONDS)
            self.wait_healthy(START_SECONDS)
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                if m := _REPLICA.search(line):
                    self.replicas[m[1]] = (int(m[2]), int(m[3]))
                if m := _RUNDIR.search(line):
                    self.rundir = Path(m[1].rstrip(";"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float, *, after: int = 0) -> str:
        """The first line from index ``after`` on that contains ``text``; waits up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"serve.sh did not print {text!r} within {timeout:g} s:\n" + self.output())
                self._changed.wait(min(left, 0.5))

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def get(self, path: str = "/", cookies: dict | None = None, timeout: float = 30):
        """GET through the proxy: (status, headers, body)."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/_stcore/health", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"the proxy at {self.url} was not healthy after {timeout:g} s:\n" + self.output())

    def pids(self) -> list[int]:
        """The replicas' process ids (for CPU and memory readings)."""
        return [pid for pid, _ in self.replicas.values()]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` to serve.sh and wait for it to exit; returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                for pid in self.pids():  # what serve.sh failed to stop: do not leave it running
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                raise
        return self.process.returncode


def in_own_thread(function, *args, **kwargs):
    """``function(*args, **kwargs)`` in a thread of its own, for code that runs an asyncio loop
    (Playwright's sync API keeps one running in the main thread while a browser is open)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def run_async(coro):
    """``asyncio.run(coro)`` in a thread of its own (see ``in_own_thread``)."""
    import asyncio

    return in_own_thread(asyncio.run, coro)

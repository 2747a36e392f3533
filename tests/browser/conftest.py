"""Shared browser-test fixtures: a real ``streamlit run`` server and Debian's Chromium via Playwright.

    def test_page(streamlit_app, page):
        page.goto(streamlit_app("app.py"))
        wait_for_app(page)

Tests skip, saying why, only when Chromium is missing; everything else that goes wrong fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NORMVIZ_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
SCREENSHOTS = ROOT / "screenshots"
SERVER_START_SECONDS = 60


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = SERVER_START_SECONDS) -> None:
    """Poll ``url``/_stcore/health until it answers "ok"; fail with the server's output if it dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"streamlit exited with code {process.returncode} before it was healthy:\n{output}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit at {url} was not healthy after {timeout:.0f} s")


def start_server(script: str, *extra_args: str) -> tuple[str, subprocess.Popen]:
    """Start ``streamlit run <script>`` (path relative to the repository) on a free port and wait until
    it is healthy; returns its URL and process."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / script),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        *extra_args,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, process)
    return url, process


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def streamlit_app():
    """``start(script)`` runs a script's server once per session and returns its URL; all stop at the end."""
    servers: dict[str, tuple[str, subprocess.Popen]] = {}

    def start(script: str, *extra_args: str) -> str:
        if script not in servers:
            servers[script] = start_server(script, *extra_args)
        return servers[script][0]

    yield start
    for _, process in servers.values():
        stop_server(process)


@pytest.fixture(scope="session")
def browser():
    """Chromium (software GPU: SwiftShader), shared by the session."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package (or set NORMVIZ_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh 1280×900 page (its own context, so no state leaks between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected and its script has finished running."""
    app = "[data-testid='stApp']"
    page.wait_for_selector(f"{app}[data-test-connection-state='CONNECTED']", state="attached", timeout=timeout)
    page.wait_for_selector(f"{app}[data-test-script-state='notRunning']", state="attached", timeout=timeout)


def save_screenshot(page, name: str) -> Path:
    """Save a full-page PNG under screenshots/ (git-ignored) and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

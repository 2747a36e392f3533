"""The app through deploy/serve.sh with two replicas: a browser session that uploads and toggles
(and carries on when its replica dies), and a replica killed while visitors use both (the others see no error, new visitors avoid the dead
one, and serve.sh restarts it)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from bench.wsclient import Session, toggle_axes
from tests.browser.conftest import CHROMIUM, wait_for_app
from tests.browser.test_page import AppPage

from .conftest import needs_haproxy
from .proxy import Served, run_async

pytestmark = [needs_haproxy]

#: How long the proxy may take to stop sending new visitors to a replica that died (it checks
#: every second and gives up on a replica after two failures).
DOWN_WITHIN_SECONDS = 5
#: How long serve.sh may take to start a dead replica again and the proxy to take it back.
REJOIN_WITHIN_SECONDS = 120


@pytest.fixture
def patient_expect():
    """Give ``expect`` as long as a rerun can take on a busy machine (its default is 5 s)."""
    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: install Debian's chromium package")
def test_a_browser_through_the_proxy_uploads_two_images_toggles_n_and_outlives_its_replica(
    proxy, page, tmp_path, patient_expect
):
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (120, 80), (220, 30, 30)).save(red)
    Image.new("RGB", (64, 100), (20, 40, 200)).save(blue)
    page.set_default_timeout(90_000)  # the proxy's first page loads plotly.js and draws the cube
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    app = AppPage(page, proxy.url)
    replica = {c["name"]: c["value"] for c in page.context.cookies()}["SRV"]
    app.select("Source", "Upload images")
    uploader = page.locator(".st-key-uploads")
    expect(uploader).to_be_visible()
    wait_for_app(page)
    with page.expect_file_chooser() as chooser:
        uploader.get_by_role("button", name="Upload", exact=True).click()
    chooser.value.set_files([red, blue])  # the uploads must reach the replica holding the session
    expect(app.summary).to_contain_text("3 statistics (one per channel), 18,432 values")
    wait_for_app(page)
    captions = page.locator("[data-testid='stTabPanel'] [data-testid='stImageCaption']").all_inner_texts()
    assert {"red.png · input", "blue.png · input"} <= set(captions), captions
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 * 2 * 3  # /media/ from the same replica
    app.axis_pill("N · batch").click()
    expect(app.summary).to_contain_text("one per sample and channel")
    wait_for_app(page)
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 * 2 * 3
    assert app.error_elements() == []
    assert failed == []
    assert {c["name"]: c["value"] for c in page.context.cookies()}["SRV"] == replica

    # The replica holding this page dies: the page reconnects to the other one by itself, and the
    # next click starts a fresh session there with the settings of its link (the uploads are gone:
    # the page says so and shows the sample photos).
    mark = len(proxy.lines)
    os.kill(proxy.replicas[replica][0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while {c["name"]: c["value"] for c in page.context.cookies()}["SRV"] == replica:
        assert time.monotonic() < deadline, "the page did not move to the other replica"
        page.wait_for_timeout(500)
    wait_for_app(page)
    app.axis_pill("C · channel").click()
    expect(page.get_by_text("No images uploaded yet")).to_be_visible()
    wait_for_app(page)
    expect(app.summary).to_contain_text("one per sample and channel")  # N stays off: from the link
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 * 6 * 3
    assert app.error_elements() == []
    proxy.wait_for(f"replicas/{replica} is UP", REJOIN_WITHIN_SECONDS, after=mark)  # restarted by serve.sh


def replica_of(tab: Session) -> str:
    return tab.cookies["SRV"]


def test_killing_a_replica_under_load_spares_the_other_visitors_and_it_rejoins():
    served = Served(2)
    try:
        run_async(_kill_under_load(served))
    finally:
        served.stop()


async def _kill_under_load(served: Served) -> None:
    tabs = [await Session.open(served.url) for _ in range(4)]  # one at a time: the proxy alternates
    by_replica = {}
    for tab in tabs:
        by_replica.setdefault(replica_of(tab), []).append(tab)
    assert sorted(by_replica) == ["r1", "r2"] and all(len(t) == 2 for t in by_replica.values()), by_replica
    victim, survivor = "r1", "r2"
    errors: dict[str, list[str]] = {"r1": [], "r2": []}
    done = {"r1": 0, "r2": 0}
    stop = asyncio.Event()

    async def visitor(tab: Session, offset: int) -> None:
        i = offset
        while not stop.is_set():
            try:
                problems = (await toggle_axes(tab, i)).errors
            except Exception as err:  # e.g. the run's images could not be fetched (a 502)
                problems = [f"{type(err).__name__}: {err}"]
            done[replica_of(tab)] += 1
            errors[replica_of(tab)].extend(problems)
            if problems and replica_of(tab) == victim:
                return  # this visitor's replica is gone
            i += 1
            await asyncio.sleep(0.2)

    visitors = [asyncio.create_task(visitor(tab, k)) for k, tab in enumerate(tabs)]
    await asyncio.sleep(3)
    before = dict(done)
    mark = len(served.lines)
    os.kill(served.replicas[victim][0], signal.SIGKILL)
    killed_at = time.monotonic()

    # new visitors meanwhile: every one gets a page, none from the dead replica
    arrivals, down_after = [], None
    while time.monotonic() - killed_at < DOWN_WITHIN_SECONDS + 1:
        status, headers, _ = await asyncio.to_thread(served.get, "/")
        back = any(f"replicas/{victim} is UP" in line for line in served.lines[mark:])  # restarted already
        arrivals.append((round(time.monotonic() - killed_at, 1), status, headers.get("X-Normviz-Replica"), back))
        if down_after is None and any(f"replicas/{victim} is DOWN" in line for line in served.lines[mark:]):
            down_after = time.monotonic() - killed_at
        await asyncio.sleep(0.25)
    await asyncio.sleep(2)  # the survivors keep toggling after the proxy took the victim out
    stop.set()
    await asyncio.gather(*visitors)

    assert all(status == 200 and (replica == survivor or back) for _, status, replica, back in arrivals), arrivals
    assert down_after is not None and down_after <= DOWN_WITHIN_SECONDS, (down_after, served.output())
    assert errors[survivor] == [], errors[survivor]
    assert done[survivor] > before[survivor] + 4, (before, done)  # they kept working through the kill
    assert errors[victim], "the killed replica's visitors must have lost their connection"

    # serve.sh starts the replica again; the proxy takes it back, and new visitors reach it
    await asyncio.to_thread(served.wait_for, f"restarting replica {victim}", 30, after=mark)
    await asyncio.to_thread(served.wait_for, f"replicas/{victim} is UP", REJOIN_WITHIN_SECONDS, after=mark)
    newcomer = await Session.open(served.url)  # fewest open pages: the restarted replica
    try:
        assert replica_of(newcomer) == victim
        assert newcomer.first_run.errors == []
        run = await toggle_axes(newcomer, 1)
        assert run.errors == []
    finally:
        await newcomer.close()
        for tab in tabs:
            await tab.close()
    assert re.search(rf"replica {victim} pid \d+ port {served.replicas[victim][1]}", "\n".join(served.lines[mark:]))

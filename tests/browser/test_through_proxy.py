"""The app in Chromium through deploy/serve.sh with two replicas: uploads and toggles reach the
replica that holds the session, and the page carries on when that replica dies."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.deploy.proxy import Served, needs_haproxy

from .conftest import wait_for_app
from .test_page import AppPage

pytestmark = [pytest.mark.browser, needs_haproxy]

#: How long serve.sh may take to start a dead replica again and the proxy to take it back.
REJOIN_WITHIN_SECONDS = 120


@pytest.fixture(scope="module")
def proxy():
    """``deploy/serve.sh --replicas 2`` on a free port, for the module."""
    served = Served(2)
    yield served
    served.stop()


@pytest.fixture
def patient_expect():
    """Give ``expect`` as long as a rerun can take on a busy machine (its default is 5 s)."""
    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=5_000)


#: In the page: the script is done, and the C pill is pressed exactly when the summary reduces over C.
AGREES = """() => {
  const pill = [...document.querySelectorAll('.st-key-axes_pick button')].find(b => b.innerText.includes('C · channel'));
  const summary = [...document.querySelectorAll('h3')].find(h => h.innerText.startsWith('Reducing over'));
  const app = document.querySelector('[data-testid=stApp]');
  return Boolean(pill && summary && app && app.dataset.testScriptState === 'notRunning'
    && (pill.getAttribute('aria-pressed') === 'true') === summary.innerText.startsWith('Reducing over C, H, W'));
}"""


def test_a_browser_through_the_proxy_uploads_two_images_toggles_n_and_outlives_its_replica(
    proxy, page, tmp_path, patient_expect
):
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (120, 80), (220, 30, 30)).save(red)
    Image.new("RGB", (64, 100), (20, 40, 200)).save(blue)
    page.set_default_timeout(90_000)  # a first page through the proxy can be slow on a busy machine
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
    assert "inputs: red.png · blue.png" in captions, captions
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 + 2  # /media/ from the same replica
    app.axis_pill("N · batch").click()
    expect(app.summary).to_contain_text("one per sample and channel")
    wait_for_app(page)
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 + 2
    assert app.error_elements() == []
    assert failed == []
    assert {c["name"]: c["value"] for c in page.context.cookies()}["SRV"] == replica

    # The replica holding this page dies: the page reconnects to the other one by itself, and the
    # next click starts a fresh session there with the settings of its link (the uploads are gone:
    # the page says so and shows the sample photos). The click itself counts when it reaches the
    # new session; made while the page is still reconnecting, it is lost.
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
    # N stays off (from the link); C is on if the click reached the new session, and the page comes
    # to agree with itself either way: the C pill is pressed exactly when the summary reduces over C
    # (a click replayed to the new session may land after a first run without it)
    expect(app.summary).to_contain_text(re.compile(r"Reducing over (C, )?H, W:"))
    page.wait_for_function(AGREES, timeout=60_000)
    expect(app.axis_pill("N · batch")).to_have_attribute("aria-pressed", "false")  # the pills show what was computed
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 + 6  # the six photos: whole images, a strip each
    assert app.error_elements() == []
    proxy.wait_for(f"replicas/{replica} is UP", REJOIN_WITHIN_SECONDS, after=mark)  # restarted by serve.sh

"""The Training tab in Chromium: progress, Cancel, and a second visitor told to wait."""

from __future__ import annotations

import pytest

from .conftest import wait_for_app

APP = "app.py"
#: 60 runs (two normalizations that pool over N), so the first visitor is still training when the
#: second one, slower to load on a busy machine, asks.
SWEEP = "?tab=Training&preset=Custom&axes=NC&trnorms=Your%20setting,BatchNorm&trbatches=1,2,4,8,16,32&trseeds=5"


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _click(page, name: str) -> None:
    """Click a button from script: the 3D cube above keeps the page moving, so Playwright never sees
    the button "stable" enough for a pointer click."""
    _button(page, name).evaluate("element => element.click()")


@pytest.mark.browser
def test_run_shows_progress_cancel_stops_and_a_second_visitor_waits(streamlit_app, browser):
    url = streamlit_app(APP)
    first = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    first.goto(url + SWEEP)
    wait_for_app(first, 120_000)
    first.get_by_text("60 distinct runs").wait_for(timeout=60_000)
    wait_for_app(first, 120_000)
    _click(first, "Run")
    progress = first.locator("[data-testid='stProgress']")
    progress.get_by_text("of 60: Your setting (NC), batch").wait_for(timeout=120_000)  # the bar names the run

    second = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    second.goto(url + "?tab=Training&trnorms=InstanceNorm&trbatches=2&trseeds=1")
    second.get_by_text("1 distinct runs").wait_for(timeout=60_000)
    wait_for_app(second, 120_000)
    _click(second, "Run")
    second.get_by_text("Another visitor's training is running").wait_for(timeout=60_000)
    assert "s left" in second.get_by_text("Another visitor's training is running").inner_text()
    _click(second, "Cancel")
    second.get_by_text("Cancelled.").wait_for(timeout=60_000)

    _click(first, "Cancel")
    first.get_by_text("Cancelled.").wait_for(timeout=60_000)
    wait_for_app(first, 60_000)
    assert _button(first, "Run").is_enabled()
    first.context.close()
    second.context.close()


#: Counts the page's tab bars after every DOM change; keeps the largest count seen.
COUNT_TAB_BARS = """() => {
  window.__mostTabBars = 0;
  const count = () => {
    const bars = document.querySelectorAll("[data-testid='stTabs']").length;
    window.__mostTabBars = Math.max(window.__mostTabBars, bars);
  };
  count();
  new MutationObserver(count).observe(document, {subtree: true, childList: true});
}"""


@pytest.mark.browser
def test_switching_to_and_from_the_training_tab_never_shows_two_tab_bars(streamlit_app, page):
    """The Training tab runs the whole script instead of the fragment: the page's tree must be the
    same in both, or the new tab bar appears beside the old one until the run ends."""
    page.goto(streamlit_app(APP))
    wait_for_app(page, 120_000)
    page.get_by_role("heading", name="Reducing over", exact=False).wait_for()
    for tab in ("Training", "Channels", "Training"):
        page.evaluate(COUNT_TAB_BARS)
        page.get_by_role("tab", name=tab, exact=True).click()
        page.wait_for_function(
            "name => [...document.querySelectorAll('[role=tab]')].some("
            "t => t.textContent.trim() === name && t.getAttribute('aria-selected') === 'true')",
            arg=tab,
        )
        wait_for_app(page, 120_000)
        page.wait_for_timeout(500)
        assert page.evaluate("window.__mostTabBars") == 1, f"two tab bars on the way to {tab}"
        assert page.locator("[data-testid='stTabs']").count() == 1

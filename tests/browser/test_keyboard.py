"""The whole journey by keyboard alone: a source, a preset, each axis, a cell, every tab, a download.

Only key presses act on the page (Tab, Shift+Tab, arrows, Enter, Space, typing); the test reads the
page to know where the focus is and what the page says, never clicks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from normviz.state import TABS

from .conftest import save_screenshot, wait_for_app

pytestmark = pytest.mark.browser

APP = "app.py"
#: Most Tab presses a control can be away from the focus (the cube's toolbar alone holds 8 stops).
MAX_TABS = 160
RERUN_TIMEOUT = 60_000

#: What the focused element is: tag, role, accessible name bits, its widget key, its test id.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) { return null; }
  const keyed = e.closest('[class*="st-key-"]');
  const key = keyed ? (keyed.className.match(/st-key-([\\w-]+)/) || [null, null])[1] : null;
  return {tag: e.tagName, role: e.getAttribute('role'), label: e.getAttribute('aria-label') || '',
          text: (e.innerText || '').trim(), key: key, testid: e.getAttribute('data-testid'),
          pressed: e.getAttribute('aria-pressed'), selected: e.getAttribute('aria-selected')};
}"""


@pytest.fixture(autouse=True)
def patient_expect():
    """Give ``expect`` as long as a rerun can take on a busy machine (its default is 5 s)."""
    expect.set_options(timeout=RERUN_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)


class Keyboard:
    """The page driven by key presses."""

    def __init__(self, page):
        self.page = page

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED) or {}

    def tab_to(self, what: str, matches, backwards: bool = False) -> dict:
        """Press Tab (Shift+Tab) until the focused element ``matches``; fail naming ``what`` if it never is."""
        seen = []
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            now = self.focused()
            if matches(now):
                return now
            seen.append(f"{now.get('tag')} {now.get('key')} {now.get('label') or now.get('text')[:20]!r}")
        pytest.fail(f"{what} was not reached in {MAX_TABS} Tab presses; the focus went through: {seen[-40:]}")

    def settle(self) -> None:
        self.page.wait_for_timeout(300)
        wait_for_app(self.page, RERUN_TIMEOUT)

    def choose(self, key: str, option: str) -> None:
        """Pick ``option`` in the selectbox with widget key ``key``: focus it, type, Enter."""
        self.tab_to(f"the {key!r} selectbox", lambda f: f.get("key") == key and f.get("role") == "combobox")
        self.page.keyboard.type(option)
        self.page.keyboard.press("Enter")
        self.settle()

    def pill(self, axis: str) -> dict:
        """Focus the axis pill of ``axis``: Tab into the pills (from where the focus is, either way),
        then the arrow keys."""

        def in_pills(f):
            return f.get("key") == "axes_pick" and f.get("tag") == "BUTTON" and not f.get("label")

        focused = self.focused()
        if not in_pills(focused):
            focused = self.tab_to("the axis pills", in_pills)
        for _ in range(8):
            if focused.get("text", "").startswith(f"{axis} ·"):
                return focused
            self.page.keyboard.press("ArrowRight")
            focused = self.focused()
            if not in_pills(focused):
                pytest.fail(f"the arrow keys left the axis pills before reaching {axis}: {focused}")
        pytest.fail(f"the arrow keys did not reach the {axis} pill: {focused}")

    def type_number(self, key: str, value: int) -> None:
        """Replace the number in the input with widget key ``key`` and press Enter."""
        self.tab_to(f"the {key!r} number input", lambda f: f.get("key") == key and f.get("tag") == "INPUT")
        self.page.keyboard.press("ControlOrMeta+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")
        self.settle()


def summary(page) -> str:
    return page.get_by_role("heading", name=re.compile(r"^Reducing over")).inner_text()


def test_the_whole_journey_by_keyboard_alone(streamlit_app, page):
    page.goto(streamlit_app(APP))
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile("Reducing over"))).to_be_visible()
    expect(page.get_by_role("combobox", name="Source")).to_be_enabled()
    keys = Keyboard(page)

    # a source: the random tensor (N = 4, C = 6, 16 × 16), under BatchNorm
    keys.choose("source", "Random tensor")
    expect(page.get_by_role("heading", name=re.compile("Reducing over"))).to_contain_text(
        "6 statistics (one per channel), 1,024 values each"
    )

    # each axis on and off: the pills are one tab stop, the arrow keys move between them, Space toggles
    for axis in "NCHW":
        pill = keys.pill(axis)
        before = pill["pressed"]
        page.keyboard.press("Space")
        keys.settle()
        pill_button = page.locator(".st-key-axes_pick").get_by_role("button", name=re.compile(f"^{axis} ·"))
        expect(pill_button).to_have_attribute("aria-pressed", "false" if before == "true" else "true")
        reduced = summary(page).split(":")[0].removeprefix("Reducing over")
        assert (axis in reduced) == (before != "true"), f"{axis} toggled from pressed={before}: {reduced!r}"
        keys.pill(axis)  # and back, so each axis starts from BatchNorm
        page.keyboard.press("Space")
        keys.settle()
        expect(pill_button).to_have_attribute("aria-pressed", before)
    expect(page.get_by_role("heading", name=re.compile("Reducing over"))).to_contain_text("BatchNorm")

    # a preset: GroupNorm takes G = 3 on six channels
    keys.choose("preset", "GroupNorm")
    expect(page.get_by_role("heading", name=re.compile("Reducing over"))).to_contain_text("GroupNorm (G = 3)")

    # a cell: n 2, c 5, h 3, w 7 is in group (2, 2, 0, 0) under GroupNorm(3)
    for letter, value in zip("nchw", (2, 5, 3, 7)):
        keys.type_number(f"cell_{letter}", value)
    expect(page.locator("[data-testid='stMarkdownContainer']", has_text="Selected group (")).to_contain_text(
        "Selected group (2, 2, 0, 0)"
    )

    # every tab: focus the tab list, then the arrow keys
    keys.tab_to("the tab list", lambda f: f.get("role") == "tab")
    for name in TABS:
        while keys.focused().get("text") != name:
            page.keyboard.press("ArrowRight")
            if keys.focused().get("role") != "tab":
                pytest.fail(f"the arrow keys left the tab list before reaching {name!r}")
        page.keyboard.press("Enter")
        keys.settle()
        tab = page.get_by_role("tab", name=name, exact=True)
        expect(tab).to_have_attribute("aria-selected", "true")
        panel = page.locator("[data-testid='stTabPanel']:visible, [role='tabpanel']:visible").first
        expect(panel).not_to_be_empty()
    save_screenshot(page, "keyboard_journey_last_tab")

    # a download: the statistics CSV
    keys.tab_to("the CSV download", lambda f: f.get("key") == "dl_csv")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "statistics.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 4 * 3, "one header and one row per GroupNorm(3) group of the random tensor"

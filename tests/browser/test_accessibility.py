"""Accessibility in Chromium: axe-core finds no serious or critical violation on first open and in
every tab, in the light and the dark theme, on the page and inside the cube's frame; the cube says
what it shows and follows the page's theme.

axe-core (tests/browser/vendor/axe.min.js, MPL-2.0) is injected into the page and run with
``axe.run(document)``; screenshots go to screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from normviz.state import TABS

from .conftest import SCREENSHOTS, wait_for_app
from .test_cube_component import FRAME
from .test_page import save_whole_page

pytestmark = pytest.mark.browser

APP = "app.py"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
#: The impacts that fail the test (axe rates each violation minor, moderate, serious or critical).
FAILING = ("serious", "critical")
RERUN_TIMEOUT = 60_000
#: Streamlit's page backgrounds: light #ffffff, dark #171614.
BACKGROUNDS = {"light": (255, 255, 255), "dark": (23, 22, 20)}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary, html: n.html.slice(0, 160)}))
  }));
}"""


@pytest.fixture(autouse=True)
def patient_expect():
    expect.set_options(timeout=RERUN_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def themed_page(browser, request):
    """A 1280×900 page with the browser's colour scheme set to ``request.param`` (Streamlit follows it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=request.param)
    context.set_default_timeout(RERUN_TIMEOUT)
    yield context.new_page(), request.param
    context.close()


def open_app(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, RERUN_TIMEOUT)
    expect(page.get_by_role("heading", name=re.compile("^Reducing over"))).to_be_visible()
    cube_frame(page)


def cube_frame(page):
    """The cube's frame once it has drawn a figure."""
    frame = page.wait_for_selector(FRAME).content_frame()
    frame.wait_for_function("Number(document.body.dataset.renders) >= 1")
    return frame


def axe_violations(frame) -> list[dict]:
    """axe-core's violations rated serious or critical in ``frame`` (a page or an iframe's frame)."""
    if not frame.evaluate("typeof window.axe !== 'undefined'"):
        frame.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return [v for v in frame.evaluate(RUN_AXE) if v["impact"] in FAILING]


def report(where: str, violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{where}] {v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} elements)")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}\n      {node['html']}\n      {node['summary'].replace(chr(10), ' ')}")
    return "\n".join(lines)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")
    page.wait_for_timeout(300)
    wait_for_app(page, RERUN_TIMEOUT)
    page.wait_for_function(  # every image of the open tab loaded (alt text is checked on real images)
        "[...document.querySelectorAll(\"[data-testid='stImage'] img\")].every(i => i.complete)"
    )


@pytest.mark.parametrize("themed_page", ["light", "dark"], indirect=True)
def test_no_serious_violation_on_first_open_and_in_every_tab(streamlit_app, themed_page):
    page, scheme = themed_page
    open_app(page, streamlit_app(APP))
    found = []
    for view in ("first open", *TABS):
        if view != "first open":
            open_tab(page, view)
        save_whole_page(page, f"axe_{scheme}_{view.replace(' ', '_')}")
        violations = axe_violations(page)
        if violations:
            found.append(report(f"{scheme}, {view}", violations))
    frame = cube_frame(page)
    violations = axe_violations(frame)
    if violations:
        found.append(report(f"{scheme}, inside the cube's frame", violations))
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


def test_the_cube_label_says_what_is_grouped_and_follows_the_setting(streamlit_app, page):
    open_app(page, streamlit_app(APP))
    frame = cube_frame(page)
    label = frame.get_by_role("figure")
    expect(label).to_have_accessible_name(re.compile(r"BatchNorm: reducing over N, H, W makes 3 groups"))
    expect(label).to_have_accessible_name(re.compile(r"Selected cell \(0, 0, 0, 0\) is in group \(0, 0, 0, 0\)"))
    page.locator(".st-key-axes_pick").get_by_role("button", name="N · batch", exact=True).click()
    wait_for_app(page, RERUN_TIMEOUT)
    expect(label).to_have_accessible_name(re.compile(r"InstanceNorm: reducing over H, W makes 18 groups"))
    cell_c = page.locator(".st-key-cell_c input")
    cell_c.fill("2")
    cell_c.press("Enter")
    wait_for_app(page, RERUN_TIMEOUT)
    expect(label).to_have_accessible_name(re.compile(r"is in group \(0, 2, 0, 0\), which covers n 0, c 2"))


@pytest.mark.parametrize("themed_page", ["light", "dark"], indirect=True)
def test_the_cube_follows_the_light_or_dark_page(streamlit_app, themed_page):
    """The cube's background is the page's, its text the page's text colour: no white box on a dark page."""
    page, scheme = themed_page
    open_app(page, streamlit_app(APP))
    frame = cube_frame(page)
    expect(frame.locator("body")).to_have_attribute("data-theme", scheme)
    page_background = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
    assert page_background == "rgb({}, {}, {})".format(*BACKGROUNDS[scheme])
    layout = frame.evaluate(
        "(() => { const l = document.getElementById('cube').layout; "
        "return {paper: l.paper_bgcolor, font: l.font.color}; })()"
    )
    assert layout["paper"] == page_background.replace(" ", "")
    text = np.array(BACKGROUNDS["dark" if scheme == "light" else "light"])
    font = np.array([int(v) for v in re.findall(r"\d+", layout["font"])[:3]])
    assert np.abs(font - text).max() < 40, f"the cube's text {layout['font']} is not the {scheme} page's text colour"
    shot = _shot(f"cube_{scheme}")
    page.wait_for_timeout(500)
    page.locator(FRAME).screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    corner = pixels[-40:, :40].reshape(-1, 3)  # bottom-left: no box, no label
    assert np.abs(corner - np.array(BACKGROUNDS[scheme])).max(axis=1).mean() < 12, (
        f"the cube's corner is not the {scheme} page's background: {corner.mean(axis=0)}"
    )


def _shot(name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


@pytest.mark.parametrize("themed_page", ["light", "dark"], indirect=True)
def test_gallery_strips_sit_on_the_page_background(streamlit_app, themed_page):
    """Between a sample's channel pairs the strip shows the page's own background, light or dark."""
    page, scheme = themed_page
    open_app(page, streamlit_app(APP))
    open_tab(page, "Channels")
    strip = page.locator("[data-testid='stTabPanel'] [data-testid='stImage'] img[alt^='astronaut, channel 0']")
    # the sample photos are 96 px tiles: the gap between the first and second pair is x 194…207
    gap = strip.evaluate(
        """img => { const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
                    const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                    return Array.from(g.getImageData(200, 48, 1, 1).data.slice(0, 3)); }"""
    )
    background = page.evaluate(
        "getComputedStyle(document.querySelector(\"[data-testid='stMain']\")).backgroundColor"
        " .match(/\\d+/g).slice(0, 3).map(Number)"
    )
    if background == [0, 0, 0]:  # transparent main block: the app's background shows through
        background = page.evaluate(
            "getComputedStyle(document.querySelector(\"[data-testid='stApp']\")).backgroundColor"
            " .match(/\\d+/g).slice(0, 3).map(Number)"
        )
    assert np.abs(np.array(gap) - np.array(background)).max() <= 4, (scheme, gap, background)  # JPEG's rounding

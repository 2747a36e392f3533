"""The whole page in Chromium against ``streamlit run app.py``: first open, uploads through the real
file chooser, axis toggles, clicks on the cube, the camera across reruns, the shareable link, a
narrow window; screenshots of each view go to screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from normviz.figures.cube import cell_at_vertex, decode_array

from .conftest import SCREENSHOTS, save_screenshot, wait_for_app
from .test_cube_component import FRAME, GRAPH, CubePage, painted_fraction, parse_hover

pytestmark = pytest.mark.browser

APP = "app.py"
#: The sample photos at the defaults: 6 images, RGB, 96×96.
SAMPLES = (6, 3, 96, 96)
#: How far a camera component (eye, center, up) may move and still count as unchanged.
CAMERA_TOLERANCE = 1e-4
#: How long to wait for the page to show the result of an action, in ms.
RERUN_TIMEOUT = 20_000


@pytest.fixture
def app_url(streamlit_app) -> str:
    return streamlit_app(APP)


@pytest.fixture(autouse=True)
def patient_expect():
    """Give ``expect`` as long as a rerun can take on a busy machine (its default is 5 s)."""
    expect.set_options(timeout=RERUN_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)


class AppPage(CubePage):
    """The normviz page: its controls, what it says, and the cube in the component iframe."""

    @property
    def summary(self):
        return self.page.get_by_role("heading", name=re.compile(r"^Reducing over"))

    def reattach(self) -> None:
        """Find the cube's iframe again (Streamlit may have mounted a new one) and wait for its figure."""
        self.iframe = self.page.wait_for_selector(FRAME)
        self.frame = self.iframe.content_frame()
        self.frame.wait_for_function("Number(document.body.dataset.renders) >= 1")

    def axis_pill(self, label: str):
        return self.page.locator(".st-key-axes_pick").get_by_role("button", name=label, exact=True)

    def select(self, name: str, option: str) -> None:
        """Pick ``option`` in the selectbox labelled ``name``."""
        self.page.get_by_role("combobox", name=name, exact=True).click()
        self.page.get_by_role("option", name=option, exact=True).click()

    def cell_input(self, letter: str):
        return self.page.locator(f".st-key-cell_{letter} input")

    def set_cell(self, letter: str, value: int) -> None:
        self.cell_input(letter).fill(str(value))
        self.cell_input(letter).press("Enter")

    def cell(self) -> tuple[int, ...]:
        """The selected cell (n, c, h, w) as the four number inputs show it."""
        return tuple(int(self.cell_input(letter).input_value()) for letter in "nchw")

    @property
    def group_card(self):
        return self.page.locator("[data-testid='stMarkdownContainer']", has_text="Selected group (")

    def selected_group(self) -> tuple[int, ...]:
        """The group the selected-group card names."""
        text = self.group_card.inner_text()
        return tuple(int(v) for v in re.search(r"Selected group \(([\d, ]+)\)", text).group(1).split(","))

    def boxes(self) -> int:
        """Boxes drawn in the cube's mesh traces (12 triangles each)."""
        traces = [self.trace(i) for i in range(self.frame.evaluate(f"{GRAPH}.data.length"))]
        return sum(len(decode_array(t["i"])) // 12 for t in traces if t["type"] == "mesh3d")

    def camera_vector(self) -> np.ndarray:
        """The scene camera as drawn: eye, center and up, nine numbers."""
        camera = self.camera()
        return np.array([camera[part][k] for part in ("eye", "center", "up") for k in "xyz"])

    def settled_camera(self, moved_from: np.ndarray) -> np.ndarray:
        """Wait until the camera has left ``moved_from`` and stopped moving; return it."""
        previous = None
        for _ in range(50):
            now = self.camera_vector()
            if previous is not None and np.array_equal(now, previous) and not np.allclose(now, moved_from):
                return now
            previous = now
            self.page.wait_for_timeout(100)
        pytest.fail(f"the camera did not settle away from {moved_from} (last {previous})")

    def images_loaded(self, scope: str) -> int:
        """Wait until every image inside ``scope`` has loaded with pixels; return how many there are."""
        images = self.page.locator(f"{scope} [data-testid='stImage'] img")
        expect(images.first).to_be_visible()
        self.page.wait_for_function(
            "scope => [...document.querySelectorAll(scope + \" [data-testid='stImage'] img\")]"
            ".every(img => img.complete && img.naturalWidth > 0)",
            arg=scope,
        )
        return images.count()

    def error_elements(self) -> list[str]:
        """Texts of exceptions and st.error boxes on the page."""
        return self.page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").all_inner_texts()


def save_whole_page(page, name: str) -> Path:
    """Screenshot the whole scrolled main area (the page grows to its height for the shot)."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(int(height), 8000)})
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    try:
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


def camera_unchanged(before: np.ndarray, after: np.ndarray) -> bool:
    return bool(np.allclose(before, after, atol=CAMERA_TOLERANCE))


def test_first_open_shows_batchnorm_on_the_samples_with_cube_and_gallery(app_url, page):
    """At 1280×800: BatchNorm on the sample photos, a drawn cube, loaded images, no error, a clean link."""
    page.set_viewport_size({"width": 1280, "height": 800})
    app = AppPage(page, app_url)
    save_screenshot(page, "page_first_open_1280x800")
    assert app.error_elements() == []
    n, c, h, w = SAMPLES
    expect(app.summary).to_have_text(
        f"Reducing over N, H, W: {c} statistics (one per channel), {n * h * w:,} values each — "
        f"this is BatchNorm (PyTorch nn.BatchNorm2d({c}))."
    )
    expect(page.get_by_role("combobox", name="Preset", exact=True)).to_have_value("BatchNorm")
    assert urlparse(page.url).query == "", "an untouched page has a clean link"
    canvas = app.frame.locator("#cube canvas").first.screenshot()
    assert painted_fraction(canvas) > 0.05, "the cube's canvas is (almost) blank"
    assert app.boxes() == c, "BatchNorm on RGB has one box per channel"
    shown = app.images_loaded("[data-testid='stTabPanel']")
    assert shown >= 2 + n, f"the gallery shows whole inputs, outputs and a strip per sample, found {shown} images"
    tiles = page.locator("[data-testid='stTabPanel'] [data-testid='stImage'] img").evaluate_all(
        "images => images.flatMap(img => img.alt.split('; '))"
    )
    assert len(tiles) >= 2 * n + 2 * n * c, "every tile (each sample's input and output per channel) is named"


def test_two_images_uploaded_through_the_file_chooser_become_the_input(app_url, page, tmp_path):
    """Two PNGs of different sizes and colours picked in the real file chooser: N = 2 at 96×96."""
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (120, 80), (220, 30, 30)).save(red)
    Image.new("RGB", (64, 100), (20, 40, 200)).save(blue)
    app = AppPage(page, app_url)
    app.select("Source", "Upload images")
    uploader = page.locator(".st-key-uploads")
    expect(uploader).to_be_visible()
    wait_for_app(page)
    with page.expect_file_chooser() as chooser:
        uploader.get_by_role("button", name="Upload", exact=True).click()
    assert chooser.value.is_multiple(), "the chooser must accept several images"
    chooser.value.set_files([red, blue])
    description = page.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']", has_text="images,")
    expect(description).to_have_text(re.compile(r"^2 images, 96×96, RGB"))
    _, c, h, w = SAMPLES
    expect(app.summary).to_contain_text(
        f"Reducing over N, H, W: {c} statistics (one per channel), {2 * h * w:,} values"
    )
    wait_for_app(page)
    captions = page.locator("[data-testid='stTabPanel'] [data-testid='stImageCaption']").all_inner_texts()
    assert "inputs: red.png · blue.png" in captions, captions
    assert not any(caption.startswith(("astronaut", "camera")) for caption in captions), "sample photos still shown"
    assert app.images_loaded("[data-testid='stTabPanel']") >= 2 + 2  # whole inputs, outputs, a strip per image
    assert app.error_elements() == []
    save_whole_page(page, "page_two_uploads")


def test_toggling_n_off_turns_batchnorm_into_instancenorm_in_summary_preset_and_cube(app_url, page):
    """Clicking the "N · batch" pill: the summary, the preset and the cube all become InstanceNorm."""
    app = AppPage(page, app_url)
    n, c, h, w = SAMPLES
    expect(app.summary).to_contain_text("this is BatchNorm")
    title, boxes = app.figure_title(), app.boxes()
    assert f"{c} groups of {n * h * w:,} values" in title and boxes == c
    expect(app.axis_pill("N · batch")).to_have_attribute("aria-pressed", "true")
    app.rerun_by(lambda: app.axis_pill("N · batch").click())
    expect(app.summary).to_have_text(
        f"Reducing over H, W: {n * c} statistics (one per sample and channel), {h * w:,} values each — "
        f"this is InstanceNorm (PyTorch nn.InstanceNorm2d({c}))."
    )
    expect(page.get_by_role("combobox", name="Preset", exact=True)).to_have_value("InstanceNorm")
    expect(app.axis_pill("N · batch")).to_have_attribute("aria-pressed", "false")
    assert f"{n * c} groups of {h * w:,} values" in app.figure_title(), app.figure_title()
    assert app.boxes() == n * c, "InstanceNorm draws one box per sample and channel"
    save_screenshot(page, "page_instancenorm")


def test_clicking_a_cube_cell_selects_its_group(app_url, page):
    """InstanceNorm, paper view: a click on a box makes its corner the selected cell and its group the card's."""
    app = AppPage(page, app_url + "/?preset=InstanceNorm&axes=HW")
    expect(app.summary).to_contain_text("this is InstanceNorm")
    assert app.cell() == (0, 0, 0, 0) and app.selected_group() == (0, 0, 0, 0)
    x, y, label = app.hover_a_box(accept=lambda text: text.startswith("group (") and "(0, 0, 0, 0)" not in text)
    group, ranges = parse_hover(label)
    app.rerun_by(lambda: app.press(x, y))
    sent = app.sent_value()["cell"]
    for letter, index in zip("nchw", sent):
        expect(app.cell_input(letter)).to_have_value(str(index))
    assert all(index in ranges[letter] for letter, index in zip("nchw", sent)), (sent, label)
    expect(app.group_card).to_contain_text(f"Selected group ({', '.join(map(str, group))})")
    n, c, h, w = sent
    expect(page.get_by_text(f"Cell x[{n}, {c}, {h}, {w}] belongs to group")).to_be_visible()
    highlighted = app.trace(1)
    assert highlighted["name"] == "selected group"
    corner = cell_at_vertex(highlighted, 0)
    assert all(index in ranges[letter] for letter, index in zip("nchw", corner)), "the cube highlights another box"


def test_dragged_camera_survives_an_axis_toggle_and_a_selection_change(app_url, page):
    """The camera the user dragged to stays put while new figures arrive."""
    app = AppPage(page, app_url)
    start = app.camera_vector()
    app.drag(160, 40)
    dragged = app.settled_camera(moved_from=start)
    title = app.figure_title()
    app.rerun_by(lambda: app.axis_pill("N · batch").click())
    expect(app.summary).to_contain_text("this is InstanceNorm")
    assert app.figure_title() != title, "the cube did not get the new figure"
    assert camera_unchanged(dragged, app.camera_vector()), (dragged, app.camera_vector())
    app.rerun_by(lambda: app.set_cell("c", 2))
    expect(app.group_card).to_contain_text("Selected group (0, 2, 0, 0)")
    assert camera_unchanged(dragged, app.camera_vector()), (dragged, app.camera_vector())


def test_a_preset_that_changes_centering_shows_it_in_the_details(app_url, page):
    """The details (ε, centering, γ, β) sit outside the part of the page an axis click reruns: a
    preset that turns centering off (RMSNorm) or on again must still show it on the switch."""
    app = AppPage(page, app_url)
    switch = page.get_by_role("switch", name="Subtract the mean (centering)")
    expect(switch).to_be_checked()
    app.select("Preset", "RMSNorm")
    expect(app.summary).to_contain_text("RMSNorm")
    expect(switch).not_to_be_checked()
    app.select("Preset", "LayerNorm")
    expect(app.summary).to_contain_text("this is LayerNorm")
    expect(switch).to_be_checked()
    page.get_by_text("Subtract the mean (centering)", exact=True).click()  # the switch names its preset too
    expect(page.get_by_role("combobox", name="Preset", exact=True)).to_have_value("RMSNorm")
    assert app.error_elements() == []


def test_dragged_camera_survives_a_preset_that_adds_a_warning(app_url, page):
    """Choosing LayerNorm puts a note above the cube; the dragged camera must survive that too."""
    app = AppPage(page, app_url)
    start = app.camera_vector()
    app.drag(160, 40)
    dragged = app.settled_camera(moved_from=start)
    app.select("Preset", "LayerNorm")
    expect(app.summary).to_contain_text("this is LayerNorm")
    wait_for_app(page)
    app.reattach()
    app.frame.wait_for_function(f"{GRAPH}.layout.title.text.includes('{SAMPLES[0]} groups')")
    assert camera_unchanged(dragged, app.camera_vector()), (dragged, app.camera_vector())


def test_the_link_holds_the_preset_and_restores_the_page(app_url, page, browser):
    """Choosing LayerNorm writes it to the query string; opening that link elsewhere shows LayerNorm."""
    app = AppPage(page, app_url)
    app.select("Preset", "LayerNorm")
    expect(app.summary).to_contain_text("this is LayerNorm")
    wait_for_app(page)
    page.wait_for_function("location.search.includes('preset=LayerNorm')")
    link = page.url
    assert parse_qs(urlparse(link).query) == {"preset": ["LayerNorm"], "axes": ["CHW"]}, link
    summary = app.summary.inner_text()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        other = context.new_page()
        reopened = AppPage(other, link)
        expect(reopened.summary).to_have_text(summary)
        n, c, h, w = SAMPLES
        assert summary.startswith(f"Reducing over C, H, W: {n} statistics (one per sample), {c * h * w:,} values")
        expect(other.get_by_role("combobox", name="Preset", exact=True)).to_have_value("LayerNorm")
        for label, pressed in (("N · batch", "false"), ("C · channel", "true"), ("H · height", "true")):
            expect(reopened.axis_pill(label)).to_have_attribute("aria-pressed", pressed)
        assert f"{n} groups of {c * h * w:,} values" in reopened.figure_title()
        assert reopened.error_elements() == []
    finally:
        context.close()


def test_narrow_window_has_no_horizontal_overflow(app_url, page):
    """At 420 px wide the main block fits the window and the summary is on screen."""
    page.set_viewport_size({"width": 420, "height": 900})
    app = AppPage(page, app_url)
    expect(app.summary).to_be_visible()
    widths = page.evaluate(
        "() => { const main = document.querySelector(\"[data-testid='stMain']\");"
        " return {page: document.scrollingElement.scrollWidth, window: innerWidth,"
        " main: main.scrollWidth, mainVisible: main.clientWidth}; }"
    )
    assert widths["page"] <= widths["window"] + 1, widths
    assert widths["main"] <= widths["mainVisible"] + 1, widths
    box = app.summary.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= widths["window"] + 1, box
    frame_box = app.iframe.bounding_box()
    assert frame_box["x"] >= 0 and frame_box["x"] + frame_box["width"] <= widths["window"] + 1, frame_box
    save_whole_page(page, "page_narrow_420")


def test_compare_tab_shows_batchnorm_beside_instancenorm(app_url, page):
    """The Compare tab: both configurations named, and each one's output images loaded."""
    app = AppPage(page, app_url)
    page.get_by_role("tab", name="Compare", exact=True).click()
    panel = page.locator("[data-testid='stTabPanel']:visible")
    expect(panel).to_contain_text("this is InstanceNorm")
    wait_for_app(page)
    sides = panel.locator("strong", has_text="Reducing over").all_inner_texts()
    assert len(sides) == 2 and "this is BatchNorm" in sides[0] and "this is InstanceNorm" in sides[1], sides
    expect(page.get_by_role("combobox", name="Compare with", exact=True)).to_have_value("InstanceNorm")
    n = SAMPLES[0]
    assert app.images_loaded("[data-testid='stTabPanel']") == 2 * n, "each side shows every sample's output"
    expect(panel.locator("[data-testid='stPlotlyChart'] .main-svg").first).to_be_visible()
    expect(panel.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")).to_have_count(2)
    assert app.error_elements() == []
    save_whole_page(page, "page_compare_tab")

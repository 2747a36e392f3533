"""The cube component in a real browser: it draws the figure on its canvas, names the box under the
pointer, turns clicks into cells for Python, keeps the user's camera across reruns, and loads its
renderer once."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from normviz.figures.cube import cell_at_vertex
from normviz.ui.cube_component import FOLDER, RENDERER, take_click

from .conftest import save_screenshot, wait_for_app

DEMO = "tests/browser/cube_demo.py"
FRAME = "iframe[title='normviz.ui.cube_component.cube_chart']"
GRAPH = "document.getElementById('cube')"
#: Where to look for a box under the mouse, as fractions of the chart's width and height.
PROBES = [(0.45, 0.55), (0.5, 0.5), (0.4, 0.6), (0.55, 0.45), (0.35, 0.5), (0.5, 0.65), (0.6, 0.55), (0.42, 0.4)]


def test_each_click_is_taken_once():
    state: dict = {}
    click = {"cell": [1, 2, 3, 4], "nonce": "1-1"}
    assert take_click(state, "cube", click) == (1, 2, 3, 4)
    assert take_click(state, "cube", click) is None, "a stale value must not be applied again on a rerun"
    again = {"cell": [1, 2, 3, 4], "nonce": "2-2"}
    assert take_click(state, "cube", again) == (1, 2, 3, 4), "clicking the same cell again counts"
    assert take_click(state, "other", click) == (1, 2, 3, 4), "each chart keeps its own record"
    assert take_click(state, "cube", None) is None
    assert take_click(state, "cube", {"cell": [1, 2], "nonce": "3"}) is None
    assert take_click(state, "cube", {"cell": ["a", 2, 3, 4], "nonce": "4"}) is None


def _folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_importing_the_component_writes_nothing_into_its_folder(tmp_path):
    """The package folder may be read-only or shared by several processes: importing the component
    (as each server process does) must not write there. Checked on a copy of the tracked files."""
    tracked = subprocess.run(
        ["git", "ls-files", "."], cwd=FOLDER, capture_output=True, text=True, check=True
    ).stdout.split()
    copy = tmp_path / "cube_component"
    copy.mkdir()
    for name in tracked:
        shutil.copy2(FOLDER / name, copy / name)
    before = _folder_state(copy)
    run = subprocess.run(
        [sys.executable, "-B", "-c", "import cube_component"], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert _folder_state(copy) == before, "importing the component changed its folder"


def test_the_frame_loads_only_its_own_small_renderer():
    """The cube's frame is its page and the renderer's two scripts: nothing from the network, nothing
    large to download and compile on a first visit."""
    html = (FOLDER / "index.html").read_text()
    assert re.findall(r'<script src="([^"]+)"', html) == ["cube_parts.js", RENDERER.name]
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', html))
    tracked = subprocess.run(["git", "ls-files", "."], cwd=FOLDER, capture_output=True, text=True, check=True)
    assert sum((FOLDER / name).stat().st_size for name in tracked.stdout.split()) < 100_000


class CubePage:
    """The demo page and the cube inside its component iframe."""

    def __init__(self, page, url: str):
        self.page = page
        self.renderer_requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.renderer_requests.append(r.url) if RENDERER.name in r.url else None)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(url)
        wait_for_app(page)
        page.evaluate(
            "window.addEventListener('message', e => { if (e.data && e.data.type === "
            "'streamlit:setComponentValue') { window.cubeValue = e.data.value; } })"
        )
        self.iframe = page.wait_for_selector(FRAME)
        self.frame = self.iframe.content_frame()
        self.frame.wait_for_selector("#cube canvas")
        self.frame.wait_for_function("Number(document.body.dataset.renders) >= 1")

    def renders(self) -> int:
        return int(self.frame.evaluate("Number(document.body.dataset.renders)"))

    def camera(self) -> dict:
        return self.frame.evaluate(f"{GRAPH}.view.camera()")

    def figure_title(self) -> str:
        return self.frame.evaluate(f"{GRAPH}.layout.title.text")

    def status(self) -> tuple[tuple[int, ...], tuple[int, ...], int]:
        """(selected cell, its group, clicks received) as the demo app prints them."""
        text = self.page.get_by_text("selected cell:").inner_text()
        cell, group = (tuple(int(v) for v in t.split(",")) for t in re.findall(r"\(([\d, ]+)\)", text)[:2])
        clicks = int(re.search(r"clicks:\s*(\d+)", text).group(1))
        return cell, group, clicks

    def rerun_by(self, action) -> None:
        """Do ``action`` and wait until the app has rerun and the cube has drawn the new figure."""
        before = self.renders()
        action()
        self.frame.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
        wait_for_app(self.page)

    def point(self, fx: float, fy: float) -> tuple[float, float]:
        box = self.iframe.bounding_box()
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    def hover_a_box(self, accept=lambda label: True) -> tuple[float, float, str]:
        """Move the mouse until the cube names a box under it whose hover label ``accept`` takes;
        returns the point and its hover label."""
        self.frame.evaluate(f"{GRAPH}.addEventListener('cube-hover', () => {{ window.hovered = true; }})")
        for fx, fy in PROBES:
            x, y = self.point(fx, fy)
            for jitter in (0, 2, 4):
                if self._hovers_at(x + jitter, y + jitter):
                    label = self.hover_label()
                    if accept(label):
                        return x + jitter, y + jitter, label
                    break
        pytest.fail("no box of the cube that fits reported a hover at any probe point")

    def _hovers_at(self, x: float, y: float) -> bool:
        """Move the mouse to (x, y); whether the cube reported a box there."""
        self.page.mouse.move(x - 3, y - 3)
        self.frame.evaluate("window.hovered = undefined")
        self.page.mouse.move(x, y)
        try:
            self.frame.wait_for_function("window.hovered !== undefined", timeout=2500)
        except PlaywrightTimeout:
            return False
        return True

    def trace(self, number: int) -> dict:
        """A trace of the figure as the cube holds it."""
        return self.frame.evaluate(f"JSON.parse(JSON.stringify({GRAPH}.data[{number}]))")

    def sent_value(self) -> dict:
        """The last value the component sent to Streamlit (streamlit:setComponentValue)."""
        return self.page.evaluate("window.cubeValue")

    def hover_label(self) -> str:
        """The text of the cube's hover label, one line per line."""
        return self.frame.locator("#cube-hover").inner_text()

    def press(self, x: float, y: float) -> None:
        """A click as a user makes it: the button stays down for a moment."""
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.wait_for_timeout(250)
        self.page.mouse.up()

    def click_cube(self, x: float, y: float, clicks_after: int) -> None:
        """Click the cube at (x, y) and wait until the app has counted ``clicks_after`` clicks."""
        self.press(x, y)
        expect(self.page.get_by_text("selected cell:")).to_contain_text(f"clicks: {clicks_after}")
        wait_for_app(self.page)

    def drag(self, dx: float, dy: float) -> None:
        x, y = self.point(0.5, 0.55)
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y + dy, steps=12)
        self.page.mouse.up()

    def choose(self, label: str) -> None:
        """Pick a radio option; when it changes, wait for the rerun and the new figure."""
        if not self.page.get_by_role("radio", name=label, exact=True).is_checked():
            self.rerun_by(lambda: self.page.get_by_text(label, exact=True).click())

    def set_seed(self, value: int) -> None:
        self.page.get_by_label("seed").fill(str(value))
        self.page.keyboard.press("Enter")


def parse_hover(label: str) -> tuple[tuple[int, ...], dict[str, range]]:
    """The group index and the index ranges (n, c, h, w) a hover label names."""
    group = tuple(int(v) for v in re.search(r"group \(([\d, ]+)\)", label).group(1).split(","))
    return group, parse_ranges(label)


def parse_ranges(label: str) -> dict[str, range]:
    """The index ranges along n, c, h, w a hover label names ("n 0–3 · c 2 · …")."""
    return {
        letter: range(int(first), int(last or first) + 1)
        for letter, first, last in re.findall(r"\b([nchw]) (\d+)(?:–(\d+))?", label)
    }


def painted_fraction(png: bytes) -> float:
    """Share of pixels that are not (almost) white."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float(np.mean(pixels.min(axis=2) < 235))


def colour_bar_fraction(png: bytes) -> float:
    """Share of the right-hand strip (where the colour bar stands) painted in saturated colours."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    strip = pixels[:, int(pixels.shape[1] * 0.85) :]
    return float(np.mean(strip.max(axis=2) - strip.min(axis=2) > 60))


@pytest.mark.browser
def test_cube_draws_the_figure(streamlit_app, page):
    cube = CubePage(page, streamlit_app(DEMO))
    types = cube.frame.evaluate(f"{GRAPH}.data.map(t => t.type)")
    assert types == ["mesh3d", "mesh3d", "scatter3d"]
    assert cube.frame.evaluate(f"{GRAPH}.layout.uirevision") == "normviz-cube"
    canvas_png = cube.frame.locator("#cube canvas").first.screenshot()
    assert painted_fraction(canvas_png) > 0.05, "the cube's canvas is (almost) blank"
    assert colour_bar_fraction(canvas_png) > 0.01, "no colour bar beside the cube"
    assert not cube.errors, f"the cube's frame logged errors: {cube.errors}"
    save_screenshot(page, "cube_component_first_open")


@pytest.mark.browser
def test_hover_numbers_are_written_as_plotly_formats_write_them(streamlit_app, page):
    """The hover label fills the figure's template: "%{customdata[k]:.4~g}" is four significant
    digits without trailing zeros (as Python's ".4g"), ":," groups thousands, and a minus sign."""
    cube = CubePage(page, streamlit_app(DEMO))
    values = [0.0, 1.0, -1.5, 0.1234567, 123456.0, 1234.56, 1.5e-7, -2.5e-12, 6.02e23, 0.0001, 99999.0, 100.0]
    values += [1.234e-10, 1.2346e10, 1.234e-100, 4.0235e-10, 2.5e20]  # exponents ending in 0
    ours = cube.frame.evaluate("vs => vs.map(v => CubeView.formatNumber(v, '.4~g'))", values)
    for value, text in zip(values, ours):
        python = re.sub(r"e([+-])0*(\d)", r"e\1\2", format(value, ".4g")).replace("-", "\u2212")
        assert text == python, (value, text, python)
    grouped = cube.frame.evaluate("vs => vs.map(v => CubeView.formatNumber(v, ','))", [5, 1024, 36864, 1234567])
    assert grouped == ["5", "1,024", "36,864", "1,234,567"]
    filled = cube.frame.evaluate(
        "CubeView.fillTemplate('<b>group (%{customdata[0]}, 0)</b><br>μ = %{customdata[1]:.4~g}<extra></extra>', [3, -0.25])"
    )
    assert filled == "<b>group (3, 0)</b><br>μ = \u22120.25"
    _, _, label = cube.hover_a_box()
    trace = cube.frame.evaluate(f"{GRAPH}.hovered.curveNumber")
    row = cube.frame.evaluate(f"{GRAPH}.hovered.customdata")
    template = cube.trace(trace)["hovertemplate"]
    mean_column = int(re.search(r"μ = %\{customdata\[(\d+)\]", template).group(1))
    mean = re.sub(r"e([+-])0*(\d)", r"e\1\2", format(row[mean_column], ".4g")).replace("-", "\u2212")
    assert f"μ = {mean}" in label, (label, row)


@pytest.mark.browser
@pytest.mark.parametrize(("layer", "view"), [("InstanceNorm", "paper"), ("PixelNorm", "exact")])
def test_click_selects_the_hovered_cell_once_per_click(streamlit_app, page, layer, view):
    cube = CubePage(page, streamlit_app(DEMO))
    cube.choose(layer)
    cube.choose(view)
    assert cube.status()[2] == 0
    x, y, label = cube.hover_a_box()
    group, ranges = parse_hover(label) if "block of" not in label else (None, parse_ranges(label))
    figure_before_click = [cube.trace(i) for i in range(cube.frame.evaluate(f"{GRAPH}.data.length"))]
    cube.click_cube(x, y, clicks_after=1)
    sent = cube.sent_value()
    expected = cell_at_vertex(figure_before_click[sent["point"][0]], sent["point"][1])
    assert sent["cell"] == list(expected), f"the component sent {sent}, the clicked corner is {expected}"
    cell, selected_group, _ = cube.status()
    assert cell == expected, f"Python selected {cell}, the component sent {sent['cell']}"
    assert all(index in ranges[letter] for letter, index in zip("nchw", cell)), (cell, label)
    if group is not None:
        assert selected_group == group, f"clicked a box labelled {label!r} but Python selected {selected_group}"
    x, y, label = cube.hover_a_box()
    cube.click_cube(x, y, clicks_after=2)
    page.wait_for_timeout(1000)
    assert cube.status()[2] == 2, "one press must count as one click"
    cube.rerun_by(lambda: cube.set_seed(5))
    assert cube.status()[2] == 2, "a rerun must not apply the last click again"
    assert "reached cube_chart" not in page.content()
    save_screenshot(page, f"cube_component_click_{view}")


@pytest.mark.browser
def test_a_drag_is_not_a_click_even_when_it_ends_where_it_began(streamlit_app, page):
    cube = CubePage(page, streamlit_app(DEMO))
    x, y, _ = cube.hover_a_box()
    start = cube.camera()
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=5)
    page.mouse.move(x, y, steps=5)
    page.mouse.up()
    page.wait_for_timeout(1000)
    assert cube.camera()["eye"] != start["eye"], "the drag did not turn the cube"
    assert cube.sent_value() is None, "a drag sent a cell"
    assert cube.status()[2] == 0
    page.mouse.click(x, y, button="right")
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    assert cube.sent_value() is None, "a right click sent a cell"


@pytest.mark.browser
def test_dragged_camera_survives_reruns(streamlit_app, page):
    cube = CubePage(page, streamlit_app(DEMO))
    start = cube.camera()
    cube.drag(160, 40)
    page.wait_for_timeout(500)
    dragged = cube.camera()
    eye = np.array([dragged["eye"][k] for k in "xyz"])
    assert not np.allclose(eye, [start["eye"][k] for k in "xyz"], atol=1e-3), "the drag did not move the camera"

    def same_camera():
        now = cube.camera()
        assert np.allclose([now["eye"][k] for k in "xyz"], eye, atol=1e-6), (now, dragged)
        assert np.allclose([now["up"][k] for k in "xyz"], [dragged["up"][k] for k in "xyz"], atol=1e-6)

    title = cube.figure_title()
    cube.choose("GroupNorm")
    assert cube.figure_title() != title, "the figure did not change with the normalization"
    same_camera()
    cube.choose("variance")
    same_camera()
    cube.rerun_by(lambda: cube.set_seed(7))
    same_camera()
    x, y, _ = cube.hover_a_box()
    cube.click_cube(x, y, clicks_after=1)
    same_camera()
    loads = [url for url in cube.renderer_requests if url.endswith(RENDERER.name)]
    assert len(loads) == 1, f"the renderer must load once, not on every rerun: {loads}"
    save_screenshot(page, "cube_component_after_reruns")


@pytest.mark.browser
def test_toolbar_downloads_the_picture_and_resets_the_view(streamlit_app, page, tmp_path):
    """The toolbar's "Download PNG" saves what the canvas shows; "Reset view" brings back the
    figure's camera after a drag."""
    cube = CubePage(page, streamlit_app(DEMO))
    start = cube.camera()
    cube.drag(160, 40)
    page.wait_for_timeout(300)
    assert cube.camera()["eye"] != start["eye"], "the drag did not move the camera"
    cube.frame.locator("#cube").hover()
    with page.expect_download() as download:
        cube.frame.get_by_role("button", name="Download PNG").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "normviz-cube.png"
    picture = Image.open(saved)
    width, height = cube.frame.evaluate(f"[{GRAPH}.view.canvas.width, {GRAPH}.view.canvas.height]")
    assert picture.size == (width, height)
    assert painted_fraction(saved.read_bytes()) > 0.05, "the downloaded picture is (almost) blank"
    cube.frame.get_by_role("button", name="Reset view").click()
    page.wait_for_timeout(200)
    assert cube.camera() == start, "Reset view did not bring back the figure's camera"
    title = cube.figure_title()
    cube.choose("GroupNorm")
    assert cube.figure_title() != title
    assert cube.camera() == start, "after a reset, a new figure keeps the default camera"

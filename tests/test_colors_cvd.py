"""The colour scales stay readable with colour-vision deficiencies, simulated with Machado, Oliveira &
Fernandes (2009), "A Physiologically-based Model for Simulation of Color Vision Deficiency", the
matrices of its table for severity 1.0 (applied to linear RGB); colour differences are CIELAB ΔE*76."""

import re

import numpy as np
import pytest

from normviz.figures import cube_style
from normviz.figures.colors import DIVERGING, GROUP_COLORS

MACHADO = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
#: Two flat patches side by side are told apart from about ΔE 10; a chart wants some margin.
MIN_NEIGHBOUR_DELTA_E = 15


def linear(srgb: np.ndarray) -> np.ndarray:
    c = np.asarray(srgb, np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear-RGB colours (K, 3)."""
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = np.clip(rgb_linear, 0, 1) @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def seen(srgb: np.ndarray, vision: str) -> np.ndarray:
    """CIELAB of sRGB colours (K, 3) as seen with ``vision``."""
    return lab(linear(srgb) @ MACHADO[vision].T)


def rgb_of(css: str) -> list[int]:
    return [int(v) for v in re.findall(r"\d+", css)]


@pytest.mark.parametrize("vision", list(MACHADO))
def test_groups_that_touch_have_colours_told_apart(vision):
    """Boxes next to each other along any axis get palette entries ±1, ±3, ±5 or ±7 apart."""
    colours = seen(np.array([rgb_of(c) for c in GROUP_COLORS]), vision)
    count = len(colours)
    steps = [int(s) for s in cube_style._NEIGHBOUR_STEPS]
    pairs = [(i, (i + s) % count) for i in range(count) for s in steps]
    worst = min(pairs, key=lambda p: np.linalg.norm(colours[p[0]] - colours[p[1]]))
    delta = np.linalg.norm(colours[worst[0]] - colours[worst[1]])
    assert delta >= MIN_NEIGHBOUR_DELTA_E, (
        f"with {vision}, touching groups {GROUP_COLORS[worst[0]]} and {GROUP_COLORS[worst[1]]} differ by ΔE {delta:.1f}"
    )
    assert cube_style.GROUP_PALETTE == GROUP_COLORS


@pytest.mark.parametrize("vision", list(MACHADO))
def test_the_diverging_scale_keeps_sign_and_size_apart(vision):
    """From white to either end the colour steadily darkens (so the size of a value reads), and −v and
    +v stay apart (so its sign does)."""
    colours = seen(DIVERGING, vision)
    middle = len(colours) // 2
    for side in (colours[middle::-1], colours[middle:]):  # from white to each end
        lightness = side[:, 0]
        assert np.all(np.diff(lightness) < -3), f"with {vision}, L* from white: {np.round(lightness, 1)}"
    for k in range(1, middle + 1):  # −v and +v
        apart = np.linalg.norm(colours[middle - k] - colours[middle + k])
        assert apart >= MIN_NEIGHBOUR_DELTA_E, f"with {vision}, ±{k}/{middle} of the scale differ by ΔE {apart:.1f}"

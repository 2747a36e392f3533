"""The training data: 16×16 crops of the bundled photos, labelled with the photo they come from.

Each photo is cut into 32×32 blocks; a seeded shuffle gives a quarter of the blocks (at least one) to
the test set and the rest to training, and every crop lies inside one block — so train and test
crops come from disjoint regions of each photo. The photos are public domain or CC0 (see
assets/CREDITS.md); nothing is downloaded.

Two tasks on the same crops:

- ``photo``: the crops as they are. A photo's overall brightness and colour cast are part of the
  evidence, and a normalization that gives each image its own statistics erases them.
- ``control``: every crop is first standardized per channel (its own mean 0 and variance 1), then
  given a random gain and offset per channel, drawn independently of its label: brightness,
  contrast and colour cast carry no information, only the pattern inside the crop does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import NormvizError
from ..inputs import sample_files

TASKS = {
    "photo": "Which photo is this 16×16 crop from?",
    "control": "Which photo is this crop from, with each crop's brightness, contrast and colour randomized?",
}
CROP = 16
BLOCK = 32
TEST_FRACTION = 0.25


@dataclass(frozen=True, eq=False)
class Dataset:
    """x_train, x_test: float32 (N, 3, 16, 16), scaled by the training set's per-channel mean and
    standard deviation; y_train, y_test: int64 (N,); classes: the photo names, in label order."""

    task: str
    seed: int
    classes: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def key(self) -> tuple:
        """What identifies this data in a cache."""
        return (self.task, self.seed, len(self.y_train), len(self.y_test))


def _photos() -> list[tuple[str, np.ndarray]]:
    """The bundled photos as float32 (3, H, W) in [0, 1]; greyscale ones repeated over RGB."""
    out = []
    for name, data in sample_files():
        with Image.open(io.BytesIO(data)) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        out.append((name, rgb.transpose(2, 0, 1)))
    return out


def _split_blocks(height: int, width: int, rng: np.random.Generator) -> tuple[list, list]:
    """Top-left corners of the 32×32 blocks of a photo, split into (train, test)."""
    corners = [(r, c) for r in range(0, height - BLOCK + 1, BLOCK) for c in range(0, width - BLOCK + 1, BLOCK)]
    order = rng.permutation(len(corners))
    n_test = max(1, round(TEST_FRACTION * len(corners)))
    return [corners[i] for i in order[n_test:]], [corners[i] for i in order[:n_test]]


def _crops(photo: np.ndarray, corners, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random 16×16 crops, each inside one of the blocks at ``corners``: (count, 3, 16, 16)."""
    picks = rng.integers(0, len(corners), size=count)
    offsets = rng.integers(0, BLOCK - CROP + 1, size=(count, 2))
    out = np.empty((count, 3, CROP, CROP), dtype=np.float32)
    for i, (k, (dr, dc)) in enumerate(zip(picks, offsets)):
        r, c = corners[k][0] + dr, corners[k][1] + dc
        out[i] = photo[:, r : r + CROP, c : c + CROP]
    return out


def _randomize_appearance(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each crop standardized per channel, then a random gain e^N(0, 0.5²) and offset N(0, 1) per
    channel: its brightness, contrast and colour cast say nothing about its label."""
    mean = x.mean(axis=(2, 3), keepdims=True)
    std = x.std(axis=(2, 3), keepdims=True)
    standard = (x - mean) / np.maximum(std, 1e-3)
    gain = np.exp(rng.normal(0.0, 0.5, size=(x.shape[0], x.shape[1], 1, 1)))
    offset = rng.normal(0.0, 1.0, size=(x.shape[0], x.shape[1], 1, 1))
    return (standard * gain + offset).astype(np.float32)


def make_dataset(task: str = "photo", seed: int = 0, train_per_class: int = 256, test_per_class: int = 160) -> Dataset:
    """The crops of ``task`` (see ``TASKS``), split and drawn with ``seed``."""
    if task not in TASKS:
        raise NormvizError(f"unknown training task {task!r}; choose one of {', '.join(TASKS)}.")
    rng = np.random.default_rng([seed, 11])
    names, xs_train, xs_test = [], [], []
    for name, photo in _photos():
        train_blocks, test_blocks = _split_blocks(photo.shape[1], photo.shape[2], rng)
        names.append(name)
        xs_train.append(_crops(photo, train_blocks, train_per_class, rng))
        xs_test.append(_crops(photo, test_blocks, test_per_class, rng))
    x_train, x_test = np.concatenate(xs_train), np.concatenate(xs_test)
    y_train = np.repeat(np.arange(len(names)), train_per_class)
    y_test = np.repeat(np.arange(len(names)), test_per_class)
    if task == "control":
        x_train, x_test = _randomize_appearance(x_train, rng), _randomize_appearance(x_test, rng)
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True)
    std = x_train.std(axis=(0, 2, 3), keepdims=True)
    scale = lambda x: ((x - mean) / std).astype(np.float32)  # noqa: E731
    return Dataset(task, seed, tuple(names), scale(x_train), y_train, scale(x_test), y_test)

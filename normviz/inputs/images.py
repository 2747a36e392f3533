"""Image batches: uploaded files or the bundled sample photos → float32 (N, C, H, W) in [0, 1].

Size rule: every image is brought to the H×W chosen by the user.
- ``"crop"`` (default): scale until the image covers H×W, keep the centre (aspect kept, edges lost).
- ``"squash"``: resize the whole image to H×W (nothing lost, shapes stretched).
- ``"pad"``: scale until the image fits inside H×W and fill the rest with grey ``PAD_VALUE``
  (nothing lost, but the padding takes part in the statistics).

Colour rule (``colour="auto"``): if any usable image has colour the batch is RGB and each
greyscale image fills R, G and B with its grey values; if all are greyscale the batch has one
channel. ``"rgb"`` always gives three channels, ``"grey"`` converts colour images to luma
0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as Pillow's ``L``). The notices say which files changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import NormvizError
from .base import TensorInput, as_choice, as_int, display_name, list_names, plural
from .decode import OpenedImage, open_image
from .filetypes import FORMATS_TEXT, summary
from .limits import MAX_BATCH_PIXELS, MAX_IMAGES, MAX_SIDE, check_elements, format_count
from .pixels import Placement, decode_placed, decoded_pixels

FIT_MODES = ("crop", "squash", "pad")
COLOUR_MODES = ("auto", "rgb", "grey")
#: Grey level of the border added by ``fit="pad"``.
PAD_VALUE = 0.5
#: ITU-R BT.601 luma weights for R, G, B.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
#: The bundled sample photos (see CREDITS.md there).
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets"
_SAMPLE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
_FIT_TEXT = {"crop": "centre-cropped", "squash": "squashed to fit", "pad": f"padded with grey {PAD_VALUE:g}"}


def load_images(
    files: Sequence[tuple[str, bytes]],
    *,
    size: tuple[int, int] = (96, 96),
    fit: str = "crop",
    colour: str = "auto",
) -> TensorInput:
    """Decode uploaded image files into one batch.

    Parameters
    ----------
    files : sequence of (file_name, bytes)
        PNG, JPEG, WebP, BMP, GIF or TIFF files, in batch order. A file that cannot be used is
        skipped with a notice naming it; at most ``MAX_IMAGES`` files are used.
    size : (H, W)
        Height and width of every image in the batch, each 1 to ``MAX_SIDE``.
    fit : {"crop", "squash", "pad"}
        How an image of another aspect ratio is brought to H×W (see the module docstring).
    colour : {"auto", "rgb", "grey"}
        Channel rule for mixed greyscale and colour files (see the module docstring).

    Returns
    -------
    TensorInput
        ``x`` of shape (N, C, H, W), float32 in [0, 1], C = 3 (R, G, B) or 1 (grey); labels are
        the file names.

    Raises
    ------
    NormvizError
        If no file is usable (the message names each file and why), or on bad settings.
    """
    height, width = _checked_size(size)
    as_choice(fit, "fit", FIT_MODES)
    as_choice(colour, "colour", COLOUR_MODES)
    files = _checked_files(files)
    notices: list[str] = []
    if len(files) > MAX_IMAGES:
        extra = [display_name(name) for name, _ in files[MAX_IMAGES:]]
        notices.append(
            f"Only the first {MAX_IMAGES} images are used; {plural(len(extra), 'file')} more "
            f"{'was' if len(extra) == 1 else 'were'} skipped: {list_names(extra)}."
        )
        files = files[:MAX_IMAGES]

    failures: dict[int, tuple[str, NormvizError]] = {}
    opened: list[tuple[int, OpenedImage]] = []
    for index, (name, data) in enumerate(files):
        try:
            opened.append((index, open_image(name, data)))
        except NormvizError as err:
            failures[index] = (display_name(name), err)
    rgb = colour == "rgb" or (colour == "auto" and any(not item.grey for _, item in opened))
    channels = 3 if rgb else 1
    check_elements((len(opened), channels, height, width), "the image batch", "choose a smaller size or fewer images")
    planned, over_budget = _plan(opened, (height, width), fit, failures)
    if over_budget:
        notices.append(_budget_notice(over_budget))

    x = np.full((len(planned), channels, height, width), PAD_VALUE if fit == "pad" else 0.0, np.float32)
    labels, greys, count = [], [], 0
    for index, item, place in planned:
        try:
            pixels, notes = decode_placed(item, place)
        except NormvizError as err:
            failures[index] = (item.name, err)
            continue
        if channels == 1 and pixels.shape[0] == 3:
            pixels = np.tensordot(LUMA, pixels, axes=1)[None]
        (x0, y0), (w, h) = place.at, place.out
        x[count, :, y0 : y0 + h, x0 : x0 + w] = pixels
        labels.append(item.name)
        greys.append(item.grey)
        notices.extend(notes)
        notices.extend(_geometry_notes(item, place, (height, width), fit))
        count += 1
    ordered = [failures[i] for i in sorted(failures)]
    if not count:
        raise NormvizError(_nothing_usable(ordered))
    if colour == "auto" and rgb and all(greys):
        rgb, channels = False, 1
        x = x[:count, :1].copy()
    elif count < len(x):
        x = x[:count].copy()
    notices.extend(_colour_notes(labels, greys, channels))
    notices.extend(f"Skipped: {sentence}" for sentence in summary(ordered))

    description = f"{plural(count, 'image')}, {height}×{width}, {'RGB' if rgb else 'grey'}, {_FIT_TEXT[fit]}"
    return TensorInput(x, description, tuple(labels), ("R", "G", "B") if rgb else ("grey",), tuple(notices))


def sample_files() -> tuple[tuple[str, bytes], ...]:
    """The bundled sample photos as (name, bytes) pairs, sorted by name (the extension dropped)."""
    paths = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in _SAMPLE_SUFFIXES)
    return tuple((p.stem.replace("_", " "), p.read_bytes()) for p in paths)


def load_samples(*, size: tuple[int, int] = (96, 96), fit: str = "crop", colour: str = "auto") -> TensorInput:
    """The bundled sample photos as a batch; same parameters and result as ``load_images``.

    >>> samples = load_samples(size=(32, 48))
    >>> samples.x.shape[1:], samples.x.dtype.name
    ((3, 32, 48), 'float32')
    """
    batch = load_images(sample_files(), size=size, fit=fit, colour=colour)
    return replace(batch, description=batch.description.replace("image", "sample photo", 1))


def _checked_size(size) -> tuple[int, int]:
    if not isinstance(size, Sequence) or isinstance(size, str) or len(size) != 2:
        raise NormvizError(f"size must be (height, width); got {size!r}.")
    return as_int(size[0], "image height", 1, MAX_SIDE), as_int(size[1], "image width", 1, MAX_SIDE)


def _checked_files(files) -> list[tuple[str, bytes]]:
    if isinstance(files, (bytes, str)) or not isinstance(files, Sequence) or not files:
        raise NormvizError(f"No image files were given; upload at least one {FORMATS_TEXT} file.")
    out = []
    for item in files:
        pair = isinstance(item, tuple) and len(item) == 2
        if not (pair and isinstance(item[1], (bytes, bytearray, memoryview))):
            raise NormvizError(f"Each file must be a (name, bytes) pair; got {type(item).__name__}.")
        out.append((str(item[0]), item[1]))
    return out


def _place(source: tuple[int, int], target: tuple[int, int], fit: str) -> Placement:
    (src_w, src_h), (height, width) = source, target
    if fit == "squash":
        return Placement((0.0, 0.0, float(src_w), float(src_h)), (width, height), (0, 0))
    if fit == "crop":
        scale = max(width / src_w, height / src_h)
        box_w, box_h = width / scale, height / scale
        x0, y0 = (src_w - box_w) / 2, (src_h - box_h) / 2
        return Placement((x0, y0, x0 + box_w, y0 + box_h), (width, height), (0, 0))
    scale = min(width / src_w, height / src_h)
    out_w = min(width, max(1, round(src_w * scale)))
    out_h = min(height, max(1, round(src_h * scale)))
    at = ((width - out_w) // 2, (height - out_h) // 2)
    return Placement((0.0, 0.0, float(src_w), float(src_h)), (out_w, out_h), at)


def _plan(opened: list[tuple[int, OpenedImage]], target: tuple[int, int], fit: str, failures: dict):
    """Each image's placement, in upload order, while the pixels decoding produces stay within
    ``MAX_BATCH_PIXELS``; the names of the images that would pass it."""
    planned, over_budget, total = [], [], 0
    for index, item in opened:
        place = _place(item.size, target, fit)
        try:
            pixels = decoded_pixels(item, place)
        except NormvizError as err:
            failures[index] = (item.name, err)
            continue
        if total + pixels > MAX_BATCH_PIXELS:
            over_budget.append(item.name)
            continue
        total += pixels
        planned.append((index, item, place))
    return planned, over_budget


def _budget_notice(names: list[str]) -> str:
    return (
        f"The images of one batch may decode to at most {format_count(MAX_BATCH_PIXELS)} pixels in total; "
        f"{plural(len(names), 'file')} past that {'was' if len(names) == 1 else 'were'} skipped: "
        f"{list_names(names)}. Upload smaller images or fewer at a time."
    )


def _geometry_notes(image: OpenedImage, place: Placement, target, fit: str) -> list[str]:
    notes = []
    (src_w, src_h), (height, width) = image.size, target
    x0, y0, x1, y1 = place.box
    magnify = max(place.out[0] / (x1 - x0), place.out[1] / (y1 - y0))
    if magnify > 2:
        notes.append(
            f"{image.name} is only {src_w}×{src_h} pixels; it was enlarged {magnify:.3g}× to fit {height}×{width}."
        )
    kept = (x1 - x0) * (y1 - y0) / (src_w * src_h)
    if fit == "crop" and kept < 0.5:
        notes.append(
            f"{image.name} ({src_w}×{src_h}) has a very different shape from {height}×{width}: the "
            f'centre crop keeps {kept:.0%} of it. Choose fit "pad" or "squash" to keep all of it.'
        )
    return notes


def _colour_notes(labels: list[str], greys: list[bool], channels: int) -> list[str]:
    if channels == 3:
        grey_names = [name for name, grey in zip(labels, greys) if grey]
        if grey_names and len(grey_names) < len(labels):
            return [f"Greyscale images fill R, G and B alike to join the colour ones: {list_names(grey_names)}."]
        if grey_names:
            return ["All images are greyscale; R, G and B hold the same values."]
        return []
    colours = [name for name, grey in zip(labels, greys) if not grey]
    if colours:
        return [f"Colour images were converted to grey (0.299 R + 0.587 G + 0.114 B): {list_names(colours)}."]
    return []


def _nothing_usable(failures: list[tuple[str, NormvizError]]) -> str:
    if len(failures) == 1:
        return str(failures[0][1])
    return f"None of the {len(failures)} files could be used. " + " ".join(summary(failures))

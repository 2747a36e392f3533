"""Input sources: each returns a ``TensorInput`` with x of shape (N, C, H, W), float32.

- ``load_samples`` — the bundled photos in ``assets/``.
- ``load_images`` — uploaded PNG, JPEG, WebP, BMP, GIF or TIFF files.
- ``random_tensor`` — seeded noise with per-sample and per-channel shift and scale spreads.
- ``feature_maps`` — a batch through one convolution layer (named or random filters).
- ``list_arrays`` / ``suggest_layout`` / ``load_array`` — your own .npy / .npz activations.

All are pure functions of their arguments (bytes and settings), so the page can cache them; every
bad input raises ``NormvizError`` with a message naming the file, what was found and what to do.
Nothing here imports streamlit or renders markup: file names in messages are plain text.

>>> import normviz.inputs as inputs
>>> t = inputs.random_tensor(2, 3, 4, 4, channel_shift=1.0, seed=7)
>>> t.shape, t.description
((2, 3, 4, 4), 'random normal tensor 2×3×4×4, seed 7; per-channel spread: shift 1')
"""

from .arrays import LAYOUTS, ArrayInfo, LayoutGuess, list_arrays, load_array, suggest_layout
from .base import TensorInput, content_hash, display_name
from .features import conv2d_same, feature_maps
from .filetypes import IMAGE_FORMATS
from .filters import COLOUR_FILTERS, NAMED_FILTERS, he_filters, named_filters, spatial_kernel
from .images import COLOUR_MODES, FIT_MODES, PAD_VALUE, SAMPLES_DIR, load_images, load_samples, sample_files
from .limits import (
    KERNEL_SIZES,
    MAX_ARRAY_BYTES,
    MAX_BATCH_PIXELS,
    MAX_DECODE_BYTES,
    MAX_ELEMENTS,
    MAX_FILTERS,
    MAX_IMAGE_PIXELS,
    MAX_IMAGES,
    MAX_SIDE,
    MAX_UPLOAD_MB,
)
from .tensors import DISTRIBUTIONS, MAX_SCALE_SPREAD, MAX_SHIFT_SPREAD, random_tensor

__all__ = [
    "COLOUR_FILTERS",
    "COLOUR_MODES",
    "DISTRIBUTIONS",
    "FIT_MODES",
    "IMAGE_FORMATS",
    "KERNEL_SIZES",
    "LAYOUTS",
    "MAX_ARRAY_BYTES",
    "MAX_BATCH_PIXELS",
    "MAX_DECODE_BYTES",
    "MAX_ELEMENTS",
    "MAX_FILTERS",
    "MAX_IMAGES",
    "MAX_IMAGE_PIXELS",
    "MAX_SCALE_SPREAD",
    "MAX_SHIFT_SPREAD",
    "MAX_SIDE",
    "MAX_UPLOAD_MB",
    "NAMED_FILTERS",
    "PAD_VALUE",
    "SAMPLES_DIR",
    "ArrayInfo",
    "LayoutGuess",
    "TensorInput",
    "content_hash",
    "conv2d_same",
    "display_name",
    "feature_maps",
    "he_filters",
    "list_arrays",
    "load_array",
    "load_images",
    "load_samples",
    "named_filters",
    "random_tensor",
    "sample_files",
    "spatial_kernel",
    "suggest_layout",
]

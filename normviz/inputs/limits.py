"""Caps that keep one user from exhausting the server, and the checks that enforce them.

Every cap is a named constant here so the page, the README and the tests quote the same numbers.
"""

from __future__ import annotations

import math

from ..errors import NormvizError

#: Values per tensor, whatever its source: 2**26 = 67,108,864 (256 MB as float32).
MAX_ELEMENTS = 1 << 26
#: Bytes of one uploaded array as stored (its dtype), checked from the header before loading:
#: the float32 size of the largest tensor, so float64 data must be saved at most half as big.
MAX_ARRAY_BYTES = 4 * MAX_ELEMENTS
#: Declared width × height of one uploaded image (its first frame), checked before decoding.
MAX_IMAGE_PIXELS = 50_000_000
#: Pixels the images of one batch may decode to in total (after a JPEG's reduced-scale decoding),
#: checked from the headers: files past it are skipped. It bounds the time a batch takes, not its
#: memory (images are decoded one at a time).
MAX_BATCH_PIXELS = 250_000_000
#: Memory decoding one image may take (Pillow's decoded pixels, and the copies its reader makes:
#: a WebP reader holds two canvases and a copy besides the image, a TIFF reader the file and, for
#: orientations 5–8, a turned copy); estimated from the header, a file over it is refused.
MAX_DECODE_BYTES = 400 * 2**20
#: Images in one batch; further files are skipped with a notice.
MAX_IMAGES = 64
#: Largest height or width an image batch can be brought to.
MAX_SIDE = 1024
#: Largest number of filters of a feature-map layer.
MAX_FILTERS = 64
#: Kernel sizes a feature-map layer offers.
KERNEL_SIZES = (3, 5)
#: Largest upload, in MB per file; the server enforces it as ``server.maxUploadSize`` in
#: ``.streamlit/config.toml``, which must hold the same number.
MAX_UPLOAD_MB = 128


#: What one image's converted, shrunk copy may take: 4 bytes (L, RGB or F) a pixel, and never more
#: pixels than the image has (bicubic resampling of an unshrunk image needs all of it).
MAX_SHRUNK_BYTES = 4 * MAX_IMAGE_PIXELS
#: Strips being converted, the resized pixels and Pillow's small buffers, measured generously.
WORKING_BYTES = 64 * 2**20
#: Peak memory of decoding any accepted upload batch, above the idle process: the batch tensor
#: (4 bytes × MAX_ELEMENTS, and its one-channel copy when a batch turns out greyscale), one image
#: being decoded, its converted copy and the working strips (about 1 GB; ``python -m bench`` measures it).
UPLOAD_PEAK_BYTES = 4 * MAX_ELEMENTS * 4 // 3 + MAX_DECODE_BYTES + MAX_SHRUNK_BYTES + WORKING_BYTES


def format_count(count: int) -> str:
    """``67108864`` → ``'67,108,864'``."""
    return f"{int(count):,}"


def format_bytes(count: int) -> str:
    """``268435456`` → ``'256 MB'`` (binary megabytes, as Streamlit counts upload sizes)."""
    return f"{count / 2**20:,.3g} MB" if count >= 2**20 else f"{count:,} bytes"


def check_elements(shape, what: str, advice: str) -> None:
    """Raise NormvizError if a tensor of ``shape`` would hold more than ``MAX_ELEMENTS`` values.

    ``what`` names the tensor ("the image batch"), ``advice`` says how to shrink it.
    """
    size = math.prod(int(s) for s in shape)
    if size > MAX_ELEMENTS:
        dims = "×".join(str(int(s)) for s in shape)
        raise NormvizError(
            f"{what} would have shape {dims} = {format_count(size)} values, over the cap of "
            f"{format_count(MAX_ELEMENTS)} values per tensor; {advice}."
        )

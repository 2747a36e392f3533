"""What every input source returns, and small helpers the sources share."""

from __future__ import annotations

import hashlib
import math
import numbers
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import NormvizError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")
_NAME_LIMIT = 80


@dataclass(frozen=True, eq=False)
class TensorInput:
    """One input tensor and what the page says about it.

    Attributes
    ----------
    x : ndarray of shape (N, C, H, W), float32, read-only
        The tensor to normalize.
    description : str
        One line for the page, e.g. ``"4 images, 96×96, RGB, centre-cropped"``.
    labels : tuple of str, length N
        One name per sample (file names, ``"sample 0"``…).
    channel_names : tuple of str, length C
        One name per channel (``("R", "G", "B")``, ``("grey",)``, filter names, ``("c0", …)``).
    notices : tuple of str
        Sentences for the user: what was converted, assumed or skipped, naming the file.
    """

    x: np.ndarray
    description: str
    labels: tuple[str, ...]
    channel_names: tuple[str, ...]
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self):
        x = self.x
        if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 4:
            got = f"{x.ndim}-D {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
            raise NormvizError(f"TensorInput.x must be a 4-D float32 ndarray; got {got}. Convert it first.")
        if len(self.labels) != x.shape[0] or len(self.channel_names) != x.shape[1]:
            raise NormvizError(
                f"TensorInput of shape {x.shape} needs {x.shape[0]} labels and {x.shape[1]} channel "
                f"names; got {len(self.labels)} and {len(self.channel_names)}."
            )
        x.flags.writeable = False

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(N, C, H, W)."""
        return tuple(int(s) for s in self.x.shape)


def content_hash(*parts) -> str:
    """A stable hex digest of bytes, strings, numbers, arrays and (nested) tuples or lists.

    The same parts give the same digest in every process, so it can key a cache or tell whether
    an upload changed.

    >>> content_hash(b"abc", 3) == content_hash(b"abc", 3)
    True
    >>> content_hash(b"abc", 3) == content_hash(b"abc", 4)
    False
    """
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        _feed(digest, part)
    return digest.hexdigest()


def _feed(digest, part) -> None:
    if isinstance(part, (bytes, bytearray, memoryview)):
        data = bytes(part)
        digest.update(b"b%d:" % len(data) + data)
    elif isinstance(part, str):
        data = part.encode("utf-8")
        digest.update(b"s%d:" % len(data) + data)
    elif isinstance(part, np.ndarray):
        arr = np.ascontiguousarray(part)
        digest.update(f"a{arr.dtype.str}{arr.shape}:".encode())
        digest.update(arr.tobytes())
    elif isinstance(part, (tuple, list)):
        digest.update(b"t%d:" % len(part))
        for item in part:
            _feed(digest, item)
    elif part is None or isinstance(part, (bool, numbers.Number)):
        digest.update(f"n{part!r}:".encode())
    else:
        raise NormvizError(
            f"content_hash takes bytes, str, numbers, arrays, tuples and lists; got {type(part).__name__}."
        )


def display_name(name) -> str:
    """A file name fit for a message: no folders or control characters, at most 80 characters.

    >>> display_name("C:\\\\photos\\\\beach\\nday.png")
    'beach day.png'
    """
    text = str(name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        return "(unnamed file)"
    if len(text) > _NAME_LIMIT:
        head = _NAME_LIMIT // 2 - 1
        text = text[:head] + "…" + text[-(_NAME_LIMIT - head - 1) :]
    return text


def as_int(value, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high], or NormvizError naming ``name`` and the range."""
    bound = f"between {low} and {high}" if high is not None else f"at least {low}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if not isinstance(value, bool) and isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise NormvizError(f"{name} must be a whole number {bound}; got {value!r}.")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise NormvizError(f"{name} must be {bound}; got {value}.")
    return value


def as_float(value, name: str, low: float, high: float) -> float:
    """``value`` as a finite float in [low, high], or NormvizError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise NormvizError(f"{name} must be a number between {low:g} and {high:g}; got {value!r}.")
    value = float(value)
    if not low <= value <= high:
        raise NormvizError(f"{name} must be between {low:g} and {high:g}; got {value:g}.")
    return value


def as_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, or NormvizError listing them."""
    if value not in choices:
        raise NormvizError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def list_names(names, limit: int = 5) -> str:
    """``'a.png and b.png'``, ``'a.png, b.png and c.png'``, ``'a.png, b.png and 3 more'``.

    >>> list_names(["a", "b", "c", "d"], limit=2)
    'a, b and 2 more'
    """
    names = [str(name) for name in names]
    if len(names) <= limit:
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``'1 image'``, ``'4 images'``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"

"""Your own activations: a .npy or .npz file → float32 (N, C, H, W).

Files are read with ``allow_pickle=False`` always. Shape, dtype and size are checked from the
.npy header before any data is read, so an oversized or object array is refused for free.
4-D arrays are NCHW or NHWC (``suggest_layout`` guesses, the user confirms); 2-D (N, F) arrays
become (N, F, 1, 1). bool, integer and float data become float32.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass

import numpy as np

from ..errors import NormvizError
from .base import TensorInput, as_choice, display_name, list_names
from .limits import MAX_ARRAY_BYTES, MAX_ELEMENTS, format_bytes, format_count

LAYOUTS = ("NCHW", "NHWC")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_EXACT_INT = 1 << 24
_NPY_VERSIONS = ((1, 0), (2, 0), (3, 0))


@dataclass(frozen=True)
class ArrayInfo:
    """One array in an uploaded file, read from its header.

    key: the name inside a .npz (None for a .npy). problem: why it cannot be used, or None.
    """

    key: str | None
    shape: tuple[int, ...]
    dtype: str
    problem: str | None = None

    @property
    def label(self) -> str:
        """``"layer1 — (8, 64, 28, 28) float32"`` for a picker."""
        text = f"{self.shape} {self.dtype}"
        return f"{self.key} — {text}" if self.key is not None else text


@dataclass(frozen=True)
class LayoutGuess:
    """A suggested layout ("NCHW" or "NHWC") and the reason, for the user to confirm."""

    layout: str
    reason: str
    #: False when the shape does not tell: the layout is then only PyTorch's convention.
    certain: bool = True


def suggest_layout(shape) -> LayoutGuess:
    """Guess whether a 4-D shape is NCHW or NHWC.

    Square spatial axes decide first (H = W), then a colour-like channel count (1, 3 or 4) on one
    side only; otherwise NCHW, PyTorch's convention.

    >>> suggest_layout((8, 64, 28, 28)).layout, suggest_layout((1, 224, 224, 3)).layout
    ('NCHW', 'NHWC')
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4:
        return LayoutGuess("NCHW", f"a {len(shape)}-D array has no channel layout to choose")
    _, a, b, c = shape
    if b == c and a != b:
        return LayoutGuess("NCHW", f"axes 2 and 3 are equal ({b}×{c}), like square H×W after C")
    if a == b and c != a:
        return LayoutGuess("NHWC", f"axes 1 and 2 are equal ({a}×{b}), like square H×W before C")
    small = (1, 3, 4)
    if a in small and c not in small:
        return LayoutGuess("NCHW", f"axis 1 has {a}, a typical channel count, and axis 3 has {c}")
    if c in small and a not in small:
        return LayoutGuess("NHWC", f"axis 3 has {c}, a typical channel count, and axis 1 has {a}")
    return LayoutGuess("NCHW", "the shape does not tell; NCHW is PyTorch's convention", certain=False)


def list_arrays(file_name: str, data: bytes) -> tuple[ArrayInfo, ...]:
    """The arrays in a .npy or .npz file, from their headers only (nothing is loaded).

    Raises NormvizError if the file is neither, is damaged, or holds no arrays.
    """
    name = display_name(file_name)
    return tuple(
        ArrayInfo(key, shape, _dtype_name(dtype), _problem(name, key, shape, dtype))
        for key, (shape, dtype) in _headers(name, bytes(data)).items()
    )


def load_array(file_name: str, data: bytes, *, key: str | None = None, layout: str | None = None) -> TensorInput:
    """Load one array of a .npy or .npz file as a float32 (N, C, H, W) tensor.

    Parameters
    ----------
    file_name : str
        Shown in messages and the description.
    data : bytes
        The file's contents.
    key : str, optional
        Which array of a .npz; by default the only one, or the first usable one (with a notice).
    layout : {"NCHW", "NHWC"}, optional
        Layout of a 4-D array; by default ``suggest_layout``'s guess, stated in a notice.

    Returns
    -------
    TensorInput
        ``x`` of shape (N, C, H, W), float32 (a 2-D (N, F) array gives (N, F, 1, 1)).

    Raises
    ------
    NormvizError
        For anything but a real, finite 2-D or 4-D array within the caps; the message says what
        was found and what to save instead.
    """
    name = display_name(file_name)
    data = bytes(data)
    if layout is not None:
        as_choice(layout, "layout", LAYOUTS)
    headers = _headers(name, data)
    notices: list[str] = []
    if None in headers:
        key = None
    elif key is None:
        key = _default_key(name, headers, notices)
    elif key not in headers:
        raise NormvizError(f"{name} has no array named {key!r}; it holds: {list_names(headers, 20)}.")
    shape, dtype = headers[key]
    where = name if key is None else f"{name}[{key}]"
    problem = _problem(name, key, shape, dtype)
    if problem:
        raise NormvizError(problem)
    raw = _read(name, data, key)
    x = _to_float32(where, raw, notices)
    if x.ndim == 2:
        notices.append(f"{where} is 2-D (N, F) = {shape}; it is shown as (N, F, 1, 1): F channels of 1×1.")
        x = x.reshape(*shape, 1, 1)
        arrangement = "(N, F) → (N, F, 1, 1)"
    else:
        if layout is None:
            guess = suggest_layout(shape)
            layout = guess.layout
            notices.append(f"{where} was read as {layout} ({guess.reason}); choose the other layout if that is wrong.")
        if layout == "NHWC":
            x = x.transpose(0, 3, 1, 2)
        arrangement = layout if layout == "NCHW" else "NHWC → NCHW"
    x = np.ascontiguousarray(x, dtype=np.float32)
    dims = "×".join(map(str, x.shape))
    description = f"{where}: {dims} ({arrangement}), {dtype.name}" + (" → float32" if dtype != np.float32 else "")
    n, c = x.shape[:2]
    return TensorInput(
        x, description, tuple(f"sample {i}" for i in range(n)), tuple(f"c{i}" for i in range(c)), tuple(notices)
    )


def _headers(name: str, data: bytes) -> dict[str | None, tuple[tuple[int, ...], np.dtype]]:
    if not data:
        raise NormvizError(f"{name} is empty (0 bytes); the upload may have failed — upload it again.")
    if data.startswith(_NPY_MAGIC):
        return {None: _npy_header(name, io.BytesIO(data))}
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m for m in archive.infolist() if m.filename.endswith(".npy") and not m.is_dir()]
                headers = {}
                for member in members:
                    key = member.filename[: -len(".npy")]
                    with archive.open(member) as fp:
                        headers[key] = _npy_header(f"{name}[{key}]", fp)
        except NormvizError:
            raise
        except Exception as err:
            raise NormvizError(
                f"{name} is a damaged .npz (ZIP) archive ({_short(err)}); save it again with np.savez."
            ) from None
        if not headers:
            raise NormvizError(
                f"{name} holds no arrays (no .npy members in the archive); save some with np.savez(path, name=array)."
            )
        return headers
    raise NormvizError(
        f"{name} is not a NumPy .npy or .npz file (it starts with bytes "
        f"{' '.join(f'0x{b:02X}' for b in data[:8])}); save your array with np.save or np.savez."
    )


def _npy_header(name: str, fp) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(fp)
    except Exception as err:
        raise NormvizError(
            f"{name} has an unreadable .npy header ({_short(err)}); save a plain numeric array with np.save."
        ) from None
    if version not in _NPY_VERSIONS:
        raise NormvizError(
            f"{name} says it is .npy format version {version[0]}.{version[1]}, which NumPy does not define "
            f"(it writes 1.0, 2.0 and 3.0); the file is damaged or not written by NumPy — save it again with np.save."
        )
    try:
        # 3.0 differs from 2.0 only in allowing UTF-8 in the header (record field names): a plain
        # dtype's header is ASCII, and Unicode field names end up refused as records anyway.
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(fp)
    except Exception as err:
        raise NormvizError(
            f"{name} has an unreadable .npy header (format {version[0]}.{version[1]}: {_short(err)}); "
            "save a plain numeric array with np.save."
        ) from None
    return tuple(int(s) for s in shape), np.dtype(dtype)


def _problem(name: str, key: str | None, shape: tuple[int, ...], dtype: np.dtype) -> str | None:
    """Why the array cannot be used (from its header), or None."""
    where = name if key is None else f"{name}[{key}]"
    shown = f"shape {shape}"
    if dtype.hasobject:
        return (
            f"{where} holds Python objects (dtype object); pickled data is refused for safety "
            "(allow_pickle=False). Save a numeric array: np.save(path, np.asarray(x, dtype=np.float32))."
        )
    if dtype.fields is not None and not dtype.names:
        return (
            f"{where} holds records with no fields (dtype {dtype}), so it has no values at all; "
            "save the numeric array of activations instead, e.g. np.save(path, x.astype(np.float32))."
        )
    if dtype.fields is not None:
        fields = list_names(dtype.names)
        return f"{where} holds records with fields ({fields}); save one numeric field, e.g. x['{dtype.names[0]}']."
    if dtype.kind == "c":
        return (
            f"{where} holds complex numbers ({dtype.name}); normalization needs real values. Save the "
            "real part, the magnitude or the phase, e.g. np.save(path, np.abs(x))."
        )
    if dtype.kind not in "biuf":
        kind = {"U": "text", "S": "bytes", "M": "dates", "m": "durations"}.get(dtype.kind, "raw data")
        return f"{where} holds {kind} ({dtype}), not numbers; save a bool, integer or float array."
    if len(shape) not in (2, 4):
        return _rank_problem(where, shape)
    if 0 in shape:
        return f"{where} is empty ({shown}); every axis needs at least one value."
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        return (
            f"{where} has {shown} = {format_count(size)} values, over the cap of "
            f"{format_count(MAX_ELEMENTS)} values per tensor; upload a slice, e.g. x[:8]."
        )
    if size * dtype.itemsize > MAX_ARRAY_BYTES:
        return (
            f"{where} holds {format_bytes(size * dtype.itemsize)} of {dtype.name} data, over the cap of "
            f"{format_bytes(MAX_ARRAY_BYTES)} per array; save it as float32 (x.astype(np.float32)) or "
            "upload a slice."
        )
    return None


def _rank_problem(where: str, shape: tuple[int, ...]) -> str:
    rank = len(shape)
    if rank == 0:
        hint = "it holds a single number; save an array of activations instead"
    elif rank == 1:
        hint = "for one vector of features save x[None] (1, F); for N scalars save x[:, None] (N, 1)"
    elif rank == 3:
        hint = "for one sample (C, H, W) or (H, W, C) save x[None] to add the batch axis"
    else:
        hint = "merge the extra axes into N or C, e.g. x.reshape(-1, *x.shape[-3:])"
    return f"{where} is {rank}-D (shape {shape}); it must be 4-D (N, C, H, W) or 2-D (N, F): {hint}."


def _default_key(name: str, headers: dict, notices: list) -> str | None:
    keys = list(headers)
    if len(keys) == 1:
        return keys[0]
    usable = [k for k in keys if _problem(name, k, *headers[k]) is None]
    if not usable:
        raise NormvizError(
            f"None of the {len(keys)} arrays in {name} can be used. "
            + " ".join(_problem(name, k, *headers[k]) for k in keys[:5])
        )
    notices.append(
        f"{name} holds {len(keys)} arrays ({list_names(keys)}); {usable[0]!r} is shown — choose another by name."
    )
    return usable[0]


def _read(name: str, data: bytes, key: str | None) -> np.ndarray:
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
        if key is None:
            return loaded
        with loaded:
            return loaded[key]
    except Exception as err:
        raise NormvizError(
            f"{name} is truncated or damaged ({_short(err)}); save it again with np.save or np.savez."
        ) from None


def _dtype_name(dtype: np.dtype) -> str:
    return "structured" if dtype.fields is not None else dtype.name


def _to_float32(where: str, raw: np.ndarray, notices: list) -> np.ndarray:
    if raw.dtype.kind == "f":
        finite = np.isfinite(raw)
        bad = raw.size - int(np.count_nonzero(finite))
        if bad:
            nan = int(np.count_nonzero(np.isnan(raw)))
            first = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite)), raw.shape))
            parts = (f"{nan:,} NaN" if nan else "", f"{bad - nan:,} Inf" if bad - nan else "")
            kinds = " and ".join(part for part in parts if part)
            raise NormvizError(
                f"{where} holds {kinds} value(s) among {format_count(raw.size)}; the first is at index "
                f"{first}. Replace them (e.g. np.nan_to_num(x)) and upload again."
            )
        peak = float(np.abs(raw).max())
        if peak > float(np.finfo(np.float32).max):
            raise NormvizError(
                f"{where} holds values up to {peak:.3g}, beyond float32's largest ({np.finfo(np.float32).max:.3g}); "
                "rescale them (e.g. divide by their maximum) and upload again."
            )
    elif raw.dtype.kind in "iu" and raw.dtype.itemsize >= 4:
        peak = int(max(abs(int(raw.min())), abs(int(raw.max()))))
        if peak > _EXACT_INT:
            notices.append(
                f"{where} holds integers up to {peak:,}; float32 keeps integers exactly only up to "
                f"{_EXACT_INT:,}, so larger ones are rounded."
            )
    return raw.astype(np.float32, copy=False)


def _short(err: Exception) -> str:
    return " ".join(str(err).split())[:160] or type(err).__name__

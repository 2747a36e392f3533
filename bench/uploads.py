"""Peak memory of decoding an upload batch, against the bound the README states.

    python -m bench.uploads [--smoke]

Each case runs in a fresh child process: it builds the files, decodes one tiny image (imports and
warm-up), reads its resident memory, calls ``load_images`` on the batch and reads its peak
resident memory (``VmHWM``). ``bytes`` is the peak above that baseline, ``budget`` is
``UPLOAD_PEAK_BYTES`` and ``ratio`` = bytes / budget (at most 1 is the target). The first row
is the baseline itself: one small photo, decoded the same way in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]

#: name → (files: [(kind, count)], side of the square files (or one per kind), batch (H, W)).
CASES = {
    "one 256×256 photo (baseline)": ([("noise_jpeg", 1)], 256, (96, 96)),
    "64 flat 7000×7000 PNGs (10 MB) at 96×96": ([("flat_png", 64)], 7000, (96, 96)),
    "8 flat 7000×7000 RGBA PNGs at 96×96": ([("flat_rgba_png", 8)], 7000, (96, 96)),
    "6000×6000 half-transparent PNG at 1024×1024": ([("flat_rgba_png", 1)], 6000, (1024, 1024)),
    "6000×8000 half-transparent PNG at 1024×1024 (unshrunk: converted whole)": (
        [("flat_rgba_png", 1)],
        {"flat_rgba_png": (6000, 8000)},
        (1024, 1024),
    ),
    "7000×7000 palette PNG with transparency at 1024×1024": ([("palette_png", 1)], 7000, (1024, 1024)),
    "7000×7000 noise TIFF (deflate, 147 MB) at 1024×1024": ([("noise_tiff", 1)], 7000, (1024, 1024)),
    "7000×7000 TIFF turned 90° at 512×512": ([("turned_tiff", 1)], 7000, (512, 512)),
    "7000×7000 float TIFF at 1024×1024": ([("float_tiff", 1)], 7000, (1024, 1024)),
    "5000×5000 lossless WebP at 1024×1024": ([("flat_webp", 1)], 5000, (1024, 1024)),
    "64 grey 1024×1024 PNGs at 1024×1024 (the whole tensor cap)": ([("noise_grey_png", 64)], 1024, (1024, 1024)),
    "63 grey 1024² PNGs + a 7000² float TIFF at 1024×1024": (
        [("noise_grey_png", 63), ("float_tiff", 1)],
        {"noise_grey_png": 1024, "float_tiff": 7000},
        (1024, 1024),
    ),
}
SMOKE_CASES = {
    "one 64×64 photo (baseline)": ([("noise_jpeg", 1)], 64, (16, 16)),
    "4 flat 600×600 PNGs at 16×16": ([("flat_png", 4)], 600, (16, 16)),
    "600×600 TIFF turned 90° at 64×64": ([("turned_tiff", 1)], 600, (64, 64)),
}


def _file(kind: str, side, seed: int) -> tuple[str, bytes]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    options: dict = {}
    width, height = side if isinstance(side, tuple) else (side, side)
    if kind == "noise_jpeg":
        image, fmt = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)), "JPEG"
    elif kind == "flat_png":
        image, fmt = Image.new("RGB", (side, side), (10, 200, 30)), "PNG"
    elif kind == "flat_rgba_png":
        image, fmt = Image.new("RGBA", (width, height), (10, 200, 30, 128)), "PNG"
    elif kind == "palette_png":
        image, fmt = Image.new("P", (side, side), 1), "PNG"
        image.putpalette([255, 255, 255, 200, 10, 10])
        options = {"transparency": 0}
    elif kind == "noise_tiff":
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        image, fmt, options = Image.fromarray(pixels), "TIFF", {"compression": "tiff_deflate"}
    elif kind == "turned_tiff":
        image, fmt = Image.new("RGB", (side, side), (10, 200, 30)), "TIFF"
        options = {"compression": "tiff_deflate", "tiffinfo": {0x0112: 6}}
    elif kind == "float_tiff":
        image, fmt, options = Image.new("F", (side, side), 3.5), "TIFF", {"compression": "tiff_deflate"}
    elif kind == "flat_webp":
        image, fmt, options = Image.new("RGB", (side, side), (10, 200, 30)), "WEBP", {"lossless": True}
    elif kind == "noise_grey_png":
        image, fmt = Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)), "PNG"
    else:
        raise ValueError(kind)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return f"{kind}{seed}.{fmt.lower()}", buffer.getvalue()


def _memory(field: str) -> int:
    """Bytes of ``field`` in /proc/self/status: VmRSS now, VmHWM the peak of this process's own
    memory (``ru_maxrss`` would also count what the parent held before the exec)."""
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))


def _child(name: str, smoke: bool) -> dict:
    """Run in the child: build the case's files, measure load_images' peak above the baseline."""
    from normviz.inputs import load_images

    kinds, side, size = (SMOKE_CASES if smoke else CASES)[name]
    built: dict[str, tuple[str, bytes]] = {}
    files = []
    for kind, count in kinds:
        built.setdefault(kind, _file(kind, side[kind] if isinstance(side, dict) else side, 0))
        files += [(f"{i}-{built[kind][0]}", built[kind][1]) for i in range(count)]
    load_images([_file("noise_jpeg", 16, 1)], size=(8, 8))
    baseline = _memory("VmRSS:")
    start = time.perf_counter()
    batch = load_images(files, size=size)
    seconds = time.perf_counter() - start
    peak = _memory("VmHWM:")
    return {
        "peak": max(0, peak - baseline),
        "seconds": seconds,
        "upload": sum(len(data) for _, data in files),
        "shape": list(batch.x.shape),
        "decoded": len(batch.labels),
        "files": len(files),
    }


def run(smoke: bool = False) -> list[dict]:
    """One row per case: peak bytes above the child's baseline, against ``UPLOAD_PEAK_BYTES``."""
    from normviz.inputs.limits import UPLOAD_PEAK_BYTES, format_bytes

    rows = []
    for name in SMOKE_CASES if smoke else CASES:
        command = [sys.executable, "-m", "bench.uploads", "--child", name] + (["--smoke"] if smoke else [])
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: {done.stderr.strip()[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(
            {
                "group": "uploads",
                "name": name,
                "ours_ms": result["seconds"] * 1e3,
                "bytes": result["peak"],
                "budget": UPLOAD_PEAK_BYTES,
                "ratio": result["peak"] / UPLOAD_PEAK_BYTES,
                "note": (
                    f"peak {format_bytes(result['peak'])} for {format_bytes(result['upload'])} uploaded; "
                    f"{result['decoded']} of {result['files']} decoded → {tuple(result['shape'])}"
                ),
            }
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.smoke)))
        return 0
    for row in run(smoke=args.smoke):
        print(f"{row['name']:<62} {row['bytes'] / 2**20:8.0f} MB  ratio {row['ratio']:.2f}  {row['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How time grows with the input: the kernel and the page rerun at four sizes, each doubling the
element count; the growth exponent is the slope of log(time) against log(size) (1 = linear)."""

from __future__ import annotations

import numpy as np

import normviz

from .timing import best_ms

KERNEL_BASE = (4, 64, 56, 56)
RERUN_BASE = (4, 16, 64, 64)


def exponent(sizes, times) -> float:
    """Least-squares slope of log(time) on log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def run(smoke: bool = False) -> list[dict]:
    from .app import measure

    factors = (1, 2, 4, 8)
    rows = []
    base = (1, 8, 16, 16) if smoke else KERNEL_BASE
    rng = np.random.default_rng(0)
    for axes, groups in (("NHW", 1), ("CHW", 32), ("C", 1)):
        sizes, times = [], []
        for f in factors:
            shape = (base[0] * f, *base[1:])
            x = rng.normal(size=shape).astype(np.float32)
            g = min(groups, shape[1])
            times.append(best_ms(lambda: normviz.normalize(x, axes, groups=g), 2 if smoke else 5))
            sizes.append(x.size)
        rows.append({
            "group": "scaling", "name": f"kernel {axes}{f' G={groups}' if groups > 1 else ''}, N ×1…×8",
            "ratio": exponent(sizes, times), "budget": "≤ 1.1",
            "note": " / ".join(f"{t:.1f}" for t in times) + f" ms at {sizes[0]:,}…{sizes[-1]:,} values",
        })  # fmt: skip
    base = (1, 3, 8, 8) if smoke else RERUN_BASE
    sizes, times = [], []
    for f in factors:
        n, c, h, w = base[0] * f, *base[1:]
        m = measure(
            {"source": "random", "rn": str(n), "rc": str(c), "rh": str(h), "rw": str(w)}, 2 if smoke else 4, 600
        )
        sizes.append(n * c * h * w)
        times.append(m["total"] * 1e3)
    rows.append({
        "group": "scaling", "name": "page rerun after an axis toggle, N ×1…×8", "ratio": exponent(sizes, times),
        "budget": "≤ 1.1", "note": " / ".join(f"{t:.0f}" for t in times) + f" ms at {sizes[0]:,}…{sizes[-1]:,} values",
    })  # fmt: skip
    return rows

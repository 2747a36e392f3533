"""normviz.normalize against PyTorch CPU on the same tensor with the same thread count.

Budgets: within 2× of torch's time (4× for LayerNorm, whose torch kernel is unusually fast) and at
most 3× the input in extra memory."""

import numpy as np

import normviz
from normviz.core import default_threads

from .timing import best_ms, peak_extra_bytes

FULL_SHAPE = (32, 64, 56, 56)
SMOKE_SHAPE = (2, 8, 6, 6)


def cases(torch_f):
    """(name, normviz call, torch call) triples; torch calls take a tensor."""
    F = torch_f
    return [
        ("BatchNorm", lambda x: normviz.normalize(x, "NHW"), lambda t: F.batch_norm(t, None, None, training=True)),
        ("LayerNorm", lambda x: normviz.normalize(x, "CHW"), lambda t: F.layer_norm(t, t.shape[1:])),
        ("InstanceNorm", lambda x: normviz.normalize(x, "HW"), lambda t: F.instance_norm(t)),
        (
            "GroupNorm(32)",
            lambda x: normviz.normalize(x, "CHW", groups=normviz.default_groups(x.shape[1])),
            lambda t: F.group_norm(t, normviz.default_groups(t.shape[1])),
        ),
        (
            'axes "C"',
            lambda x: normviz.normalize(x, "C"),
            lambda t: F.layer_norm(t.permute(0, 2, 3, 1), t.shape[1:2]).permute(0, 3, 1, 2).contiguous(),
        ),
    ]


def run(smoke: bool = False, shape=None) -> list[dict]:
    """Time every case; rows have name, ours_ms, ref_ms, ratio, mem_x (peak extra / input), note."""
    import torch
    import torch.nn.functional as F

    threads = default_threads()
    torch.set_num_threads(threads)
    shape = shape or (SMOKE_SHAPE if smoke else FULL_SHAPE)
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    t = torch.from_numpy(x)
    repeat = 2 if smoke else 9
    rows = []
    for name, ours, ref in cases(F):
        ours_ms = best_ms(lambda: ours(x), repeat)
        with torch.no_grad():
            ref_ms = best_ms(lambda: ref(t), repeat)
        mem = peak_extra_bytes(lambda: ours(x)) / x.nbytes
        rows.append(
            {
                "group": "kernel",
                "name": f"{name} {'×'.join(map(str, shape))}",
                "ours_ms": ours_ms,
                "ref_ms": ref_ms,
                "ratio": ours_ms / ref_ms,
                "mem_x": mem,
                "budget": f"≤ {4 if name == 'LayerNorm' else 2}×, mem ≤ 3×",
                "note": f"vs torch {torch.__version__}, {threads} thread(s) each",
            }
        )
    return rows

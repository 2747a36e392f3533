"""Write tests/golden/torch_parity.npz by running PyTorch on every case in tests/torch_cases.py.

Run from the repository root after changing the cases:  python -m tests.golden.make_golden
The file stores each case's input, γ, β and torch's output, so parity is checked without torch.
"""

import json
from pathlib import Path

import numpy as np
import torch

from tests.torch_cases import cases, inputs, run_torch

OUT = Path(__file__).with_name("torch_parity.npz")


def main():
    torch.set_num_threads(1)
    arrays, meta = {}, []
    for i, case in enumerate(cases()):
        x, gamma, beta = inputs(case)
        arrays[f"{i}_x"] = x
        arrays[f"{i}_y"] = run_torch(case, x, gamma, beta)
        if gamma is not None:
            arrays[f"{i}_gamma"] = gamma
        if beta is not None:
            arrays[f"{i}_beta"] = beta
        meta.append(case)
    arrays["meta"] = np.array(json.dumps({"torch": torch.__version__, "cases": meta}))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(meta)} cases from torch {torch.__version__} to {OUT}")


if __name__ == "__main__":
    main()

"""Parity cases against PyTorch: each says which torch layer to run and how normviz spells it.

Used live by tests/test_torch_parity.py (when torch imports) and by tests/golden/make_golden.py,
which runs torch once and stores inputs and outputs so parity is also checked without torch.
"""

import numpy as np

SHAPES = [(4, 3, 5, 7), (1, 3, 4, 4), (8, 1, 3, 3), (5, 4, 1, 1), (3, 6, 7, 9), (2, 8, 6, 6)]


def cases():
    """Yield dicts: name, layer, shape, eps, groups, affine, seed — plus normviz's axes/center."""
    seed = 0
    for shape in SHAPES:
        c = shape[1]
        layers = [
            ("BatchNorm2d", "NHW", 1, True),
            ("LayerNorm_CHW", "CHW", 1, True),
            ("LayerNorm_channels_last", "C", 1, True),
            ("InstanceNorm2d", "HW", 1, True),
            ("RMSNorm_CHW", "CHW", 1, False),
        ]
        layers += [(f"GroupNorm_{g}", "CHW", g, True) for g in (1, 2, 3, 4, c) if c % g == 0]
        for layer, axes, groups, center in dict.fromkeys(layers):
            # torch refuses one value per channel in training mode: BN over N·H·W, IN over H·W
            if layer == "BatchNorm2d" and shape[0] * shape[2] * shape[3] == 1:
                continue
            if layer == "InstanceNorm2d" and shape[2] * shape[3] == 1:
                continue
            # one value per group: the exact output is β; torch's rounds x − μ to ±1 ulp and then
            # multiplies by 1/√ε, so it is not a reference there (tests/test_core_edges.py checks β)
            if c // groups * shape[2] * shape[3] == 1 and axes == "CHW":
                continue
            for eps, affine in ((1e-5, True), (1e-3, False)):
                seed += 1
                yield {
                    "name": f"{layer}-{'x'.join(map(str, shape))}-eps{eps:g}-{'affine' if affine else 'plain'}",
                    "layer": layer.split("_")[0] if layer.startswith("GroupNorm") else layer,
                    "shape": shape,
                    "eps": eps,
                    "groups": groups,
                    "affine": affine,
                    "axes": axes,
                    "center": center,
                    "seed": seed,
                }


def inputs(case):
    """x (float32, with a per-channel offset and scale), gamma, beta (float32 or None)."""
    rng = np.random.default_rng(case["seed"])
    n, c, h, w = case["shape"]
    x = rng.normal(size=case["shape"]) * rng.uniform(0.5, 3, size=(1, c, 1, 1)) + rng.normal(size=(1, c, 1, 1))
    gamma = beta = None
    if case["affine"]:
        gamma = rng.normal(size=c).astype(np.float32)
        beta = rng.normal(size=c).astype(np.float32) if case["center"] else None
    return x.astype(np.float32), gamma, beta


def run_torch(case, x, gamma, beta):
    """The output of the real PyTorch layer, as float32 numpy (N, C, H, W)."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(x)
    n, c, h, w = x.shape
    g = None if gamma is None else torch.from_numpy(gamma)
    b = None if beta is None else torch.from_numpy(beta)
    eps, layer = case["eps"], case["layer"]

    def per_element(v):
        """A per-channel vector spread over (C, H, W), as LayerNorm/RMSNorm weights are shaped."""
        return None if v is None else v[:, None, None].expand(c, h, w).contiguous()

    with torch.no_grad():
        if layer == "BatchNorm2d":
            bn = torch.nn.BatchNorm2d(c, eps=eps, affine=gamma is not None).train()
            if gamma is not None:
                bn.weight.copy_(g)
                bn.bias.copy_(b)
            out = bn(t)
        elif layer == "LayerNorm_CHW":
            out = F.layer_norm(t, (c, h, w), per_element(g), per_element(b), eps)
        elif layer == "LayerNorm_channels_last":
            out = F.layer_norm(t.permute(0, 2, 3, 1), (c,), g, b, eps).permute(0, 3, 1, 2)
        elif layer == "InstanceNorm2d":
            inorm = torch.nn.InstanceNorm2d(c, eps=eps, affine=gamma is not None)
            if gamma is not None:
                inorm.weight.copy_(g)
                inorm.bias.copy_(b)
            out = inorm(t)
        elif layer == "GroupNorm":
            gn = torch.nn.GroupNorm(case["groups"], c, eps=eps, affine=gamma is not None)
            if gamma is not None:
                gn.weight.copy_(g)
                gn.bias.copy_(b)
            out = gn(t)
        elif layer == "RMSNorm_CHW":
            rms = torch.nn.RMSNorm((c, h, w), eps=eps, elementwise_affine=gamma is not None)
            if gamma is not None:
                rms.weight.copy_(per_element(g))
            out = rms(t)
        else:
            raise ValueError(layer)
    return out.contiguous().numpy().astype(np.float32)

"""normviz: see which values a normalization layer makes share a mean and a variance.

>>> import numpy as np, normviz
>>> x = np.random.default_rng(0).normal(size=(4, 3, 8, 8)).astype(np.float32)
>>> res = normviz.normalize(x, "NHW")        # BatchNorm
>>> res.stats_shape
(1, 3, 1, 1)
"""

from .backward import NormGrad, normalize_grad
from .core import NormResult, group_box, group_of, normalize
from .errors import NormvizError
from .spec import AXES, PRESETS, NormSpec, Preset, default_groups, divisors, get_preset, identify, parse_axes

__all__ = [
    "AXES",
    "PRESETS",
    "NormGrad",
    "NormResult",
    "NormSpec",
    "NormvizError",
    "Preset",
    "default_groups",
    "divisors",
    "get_preset",
    "group_box",
    "group_of",
    "identify",
    "normalize",
    "normalize_grad",
    "parse_axes",
]

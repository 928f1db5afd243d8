"""The pass's fixed points: a seeded subset of the user's data, and whether they are images."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch

from .errors import VaeLensInputError


def _as_tensor(data: Any) -> Optional[torch.Tensor]:
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return torch.from_numpy(data)
    return None


def fixed_subset(data: Any, points: int, seed: int) -> Tuple[int, torch.Tensor]:
    """The pass's points: all of them in order when there are no more than `points`, else a seeded
    draw without replacement (the same on every rank and every pass)."""
    try:
        n = len(data)
    except TypeError:
        raise VaeLensInputError(f"data must be a tensor, an array or a map-style dataset with len(); got {type(data).__name__}") from None
    if n == 0:
        raise VaeLensInputError("data is empty")
    idx = np.arange(n) if points >= n else np.random.default_rng(seed).choice(n, size=points, replace=False)
    t = _as_tensor(data)
    if t is not None:
        out = t[torch.from_numpy(idx)] if points < n else t
    else:
        items = []
        for i in idx:
            item = data[int(i)]
            x = item[0] if isinstance(item, (tuple, list)) else item
            items.append(torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x)
        out = torch.stack(items)
    if out.dim() == 1:
        out = out.reshape(-1, 1)
    out = out.detach().cpu()
    if out.dtype.is_floating_point and not bool(torch.isfinite(out).all()):
        raise VaeLensInputError(f"data of shape {tuple(out.shape)} has non-finite values among the diagnostics points")
    return n, out


def image_shape_of(points: torch.Tensor, given: Optional[Sequence[int]]) -> Optional[Tuple[int, ...]]:
    if given is not None:
        shape = tuple(int(v) for v in given)
        per = int(np.prod(points.shape[1:]))
        if len(shape) != 2 or shape[0] * shape[1] != per:
            raise VaeLensInputError(f"image_shape {shape} does not hold the {per} values of a data point of shape {tuple(points.shape[1:])}")
        return shape
    s = tuple(points.shape[1:])
    if len(s) == 3 and s[0] == 1:
        return s[1:]
    if len(s) == 2 and min(s) >= 4:
        return s
    return None

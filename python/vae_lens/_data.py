"""The pass's fixed points: a seeded subset of the user's data, and whether they are images."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch

from .errors import VaeLensInputError


def _numeric(a: np.ndarray, what: str) -> torch.Tensor:
    """A numeric array as a tensor: native byte order, positive strides, a dtype torch holds."""
    if a.dtype.kind not in "biuf":
        raise VaeLensInputError(f"{what} holds {a.dtype} values; VAE Lens needs numbers (an int or float array)")
    if a.dtype.kind == "u" and a.dtype.itemsize > 1:
        a = a.astype(np.int64)  # torch has no uint16/uint32/uint64 arithmetic
    return torch.from_numpy(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("=")))


def _as_tensor(data: Any) -> Optional[torch.Tensor]:
    if isinstance(data, torch.Tensor):
        if data.is_meta:
            raise VaeLensInputError("data is a tensor on the 'meta' device: it has no values to evaluate")
        return data
    if isinstance(data, np.ndarray):
        return _numeric(data, "data")
    # A plain list or tuple of rows is the data itself; of (x, label) pairs, a dataset.
    if isinstance(data, (list, tuple)):
        kind = type(data).__name__
        if len(data) > 0 and all(isinstance(r, torch.Tensor) for r in data):
            shapes = sorted({tuple(r.shape) for r in data})
            if len(shapes) > 1:
                raise VaeLensInputError(
                    f"data is a {kind} of tensors of shapes {', '.join(map(str, shapes[:3]))}; its rows must have one shape"
                    + (" (for (points, labels), give the points alone)" if len(data) == 2 else "")
                )
            return torch.stack(list(data))
        if len(data) > 0 and all(_is_pair(r) for r in data):
            return None
        try:
            return _numeric(np.asarray(data), "data")
        except ValueError:
            raise VaeLensInputError(f"data is a {kind} whose rows differ in length or are not numbers; give a tensor or an array") from None
    return None


def _is_pair(item: Any) -> bool:
    """(x, label) with x a tensor or an array of at least one axis: a dataset's item, not a row of numbers."""
    return isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], (torch.Tensor, np.ndarray)) and item[0].ndim >= 1


def _item_tensor(item: Any, i: int) -> torch.Tensor:
    """One dataset item as a tensor: the item, or the first element of an (x, label) pair."""
    x = item[0] if isinstance(item, tuple) or (isinstance(item, list) and len(item) == 2 and not np.isscalar(item[0])) else item
    if isinstance(x, torch.Tensor):
        return x
    try:
        return _numeric(np.asarray(x), f"data[{i}]")
    except ValueError:
        raise VaeLensInputError(f"data[{i}] is {type(x).__name__}, not numbers; a dataset item must be x or (x, label) with x a tensor or an array") from None


def fixed_subset(data: Any, points: int, seed: int) -> Tuple[int, torch.Tensor]:
    """The pass's points: all of them in order when there are no more than `points`, else a seeded
    draw without replacement (the same on every rank and every pass)."""
    if isinstance(data, torch.utils.data.DataLoader):
        raise VaeLensInputError("data is a DataLoader; give its dataset (loader.dataset): the pass draws its own fixed points")
    if isinstance(data, torch.utils.data.IterableDataset):
        raise VaeLensInputError("data is an IterableDataset; the pass needs fixed points it can index: give a map-style dataset, a tensor or an array")
    if isinstance(data, dict):
        raise VaeLensInputError(f"data is a dict (keys {sorted(map(str, data))[:5]}); give the tensor or array of points itself")
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
        items = [_item_tensor(data[int(i)], int(i)) for i in idx]
        shapes = {tuple(x.shape) for x in items}
        if len(shapes) > 1:
            raise VaeLensInputError(f"data items differ in shape ({', '.join(map(str, sorted(shapes)[:3]))}); every point must have the same shape")
        out = torch.stack(items)
    if out.is_meta:
        raise VaeLensInputError("data is on the 'meta' device: it has no values to evaluate")
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

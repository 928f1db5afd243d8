"""The pass's fixed points: a seeded subset of the user's data, and whether they are images."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Hashable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .errors import VaeLensInputError

#: Keys of a dict of splits (a Hugging Face DatasetDict), not of columns.
SPLIT_KEYS = ("train", "test", "validation", "valid", "val", "eval", "dev")
#: Keys under which dict items (Hugging Face datasets, a Dataset returning dicts) commonly hold the data point.
INPUT_KEYS = ("pixel_values", "image", "images", "x", "input", "inputs", "data")


def _numeric(a: np.ndarray, what: str) -> torch.Tensor:
    """A numeric array as a tensor: native byte order, positive strides, a dtype torch holds."""
    if a.dtype.kind not in "biuf":
        raise VaeLensInputError(f"{what} holds {a.dtype} values; VAE Lens needs numbers (an int or float array)")
    if a.dtype.kind == "u" and a.dtype.itemsize > 1:
        a = a.astype(np.int64)  # torch has no uint16/uint32/uint64 arithmetic
    return torch.from_numpy(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("=")))


def _as_tensor(data: Any, name: str = "data") -> Optional[torch.Tensor]:
    """`data` as one tensor where it is one (a tensor, an array, rows of numbers), None where it is a
    dataset of items. `name` is what messages call it (a dict's column is `data['pixel_values']`)."""
    if isinstance(data, torch.Tensor):
        if data.is_meta:
            raise VaeLensInputError(f"{name} is a tensor on the 'meta' device: it has no values to evaluate")
        return data
    if isinstance(data, np.ndarray):
        return _numeric(data, name)
    # A plain list or tuple of rows is the data itself; of (x, ...) items or of dicts, a dataset.
    if isinstance(data, (list, tuple)):
        kind = type(data).__name__
        if len(data) > 0 and all(isinstance(r, torch.Tensor) for r in data):
            shapes = list(dict.fromkeys(tuple(r.shape) for r in data))  # in the order given: (points, labels) reads so
            if len(shapes) > 1:
                raise VaeLensInputError(
                    f"{name} is a {kind} of tensors of shapes {', '.join(map(str, shapes[:3]))}; its rows must have one shape"
                    + (" (for (points, labels), give the points alone)" if len(data) == 2 else "")
                )
            return torch.stack(list(data))
        if len(data) > 0 and (all(_is_item(r) for r in data) or any(isinstance(r, Mapping) for r in data)):
            return None
        try:
            return _numeric(np.asarray(data), name)
        except ValueError:
            raise VaeLensInputError(f"{name} is a {kind} whose rows differ in length or are not numbers; give a tensor or an array") from None
    if hasattr(data, "__array__") and not isinstance(data, torch.utils.data.Dataset):
        # An array-like (a pandas DataFrame, an xarray DataArray): its [] may index columns, not rows.
        return _numeric(np.asarray(data), name)
    return None


def _sparse_rows(data: Any, name: str) -> Optional[Tuple[int, Callable[[np.ndarray], torch.Tensor]]]:
    """For sparse data (a torch sparse tensor, COO or CSR; a SciPy sparse matrix or array, as bag-of-words and
    user-item data are held): their number of rows and a reader of rows by index, dense. None for other data."""
    if isinstance(data, torch.Tensor) and data.layout != torch.strided:
        coo = data if data.layout == torch.sparse_coo else data.to_sparse_coo()
        return int(coo.shape[0]), lambda idx: coo.index_select(0, torch.from_numpy(idx)).to_dense()
    if all(hasattr(data, a) for a in ("tocsr", "toarray", "shape")):
        csr = data.tocsr()
        return int(csr.shape[0]), lambda idx: _numeric(csr[idx].toarray(), name)
    return None


def _is_item(item: Any) -> bool:
    """(x, ...) with x a tensor or an array of at least one axis: a dataset's item ((x,), (x, label), [x, label,
    path]), not a row of numbers."""
    return isinstance(item, (tuple, list)) and len(item) >= 1 and isinstance(item[0], (torch.Tensor, np.ndarray)) \
        and item[0].ndim >= 1


def _item_tensor(item: Any, i: int, key: Optional[Hashable] = None, name: str = "data") -> torch.Tensor:
    """One dataset item as a tensor: the item, the first element of an (x, ...) item, or a dict item's
    value at `key`."""
    where = f"{name}[{i}]"
    if key is not None:
        if not isinstance(item, Mapping) or key not in item:
            has = f"the keys {_keys(item)}" if isinstance(item, Mapping) else f"no keys, being a {type(item).__name__}"
            raise VaeLensInputError(f"{where} has no key {key!r}, under which the first item holds its data point; it has {has}")
        x, where = item[key], f"{where}[{key!r}]"
    else:
        labelled_list = isinstance(item, list) and len(item) == 2 and not np.isscalar(item[0])
        x = item[0] if isinstance(item, tuple) or _is_item(item) or labelled_list else item
    if isinstance(x, torch.Tensor):
        return x
    try:
        return _numeric(np.asarray(x), where)
    except ValueError:
        raise VaeLensInputError(
            f"{where} is {type(x).__name__}, not numbers; a dataset item must be x, (x, label) (x first) or a dict holding x, "
            "with x a tensor or an array"
        ) from None


def _keys(item: Mapping) -> str:
    return ", ".join(repr(k) for k in list(item)[:12]) + (", ..." if len(item) > 12 else "")


def _value_kind(v: Any) -> str:
    if isinstance(v, (torch.Tensor, np.ndarray)):
        return f"{str(v.dtype).replace('torch.', '')} {tuple(v.shape)}"
    return type(v).__name__


def _looks_like_a_point(v: Any) -> bool:
    """A floating-point tensor, array or list of numbers with more than one value: the shape of a data
    point, not of a label or an id."""
    if isinstance(v, (list, tuple)):
        # A list of numbers (or of lists of them); one holding a tensor is an (x, label) item, not a point.
        if any(isinstance(e, (torch.Tensor, np.ndarray)) for e in v):
            return False
        try:
            v = np.asarray(v)
        except ValueError:
            return False
    if isinstance(v, torch.Tensor):
        return v.is_floating_point() and v.dim() >= 1 and v.numel() > 1
    return isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.ndim >= 1 and v.size > 1


def _plain_key(values: Mapping) -> Optional[Hashable]:
    """The one value that looks like a point, or the one key of INPUT_KEYS, where these do not disagree."""
    floating = [k for k in values if _looks_like_a_point(values[k])]
    named = [k for k in values if isinstance(k, str) and k in INPUT_KEYS]
    by_value = floating[0] if len(floating) == 1 else None
    by_name = named[0] if len(named) == 1 else None
    if by_value is not None and by_name is not None and by_value != by_name:
        return None
    return by_value if by_value is not None else by_name


def input_key_of(item: Mapping, key: Optional[str], where: str) -> Hashable:
    """The key of a dict item that holds the data point: ``key`` when given, else the one value that looks
    like a point, or the one key of INPUT_KEYS, where these do not disagree."""
    if key is not None:
        if key not in item:
            raise VaeLensInputError(f"input_key={key!r} is not a key of {where}, whose keys are {_keys(item)}")
        return key
    found = _plain_key(item)
    if found is not None:
        return found
    described = ", ".join(f"{k!r} ({_value_kind(item[k])})" for k in list(item)[:12])
    raise VaeLensInputError(
        f"{where} is a dict with keys {described}{', ...' if len(item) > 12 else ''}: say which holds the data point "
        f"with Diagnostics(..., input_key=...)"
    )


def _column_length(column: Any) -> Optional[int]:
    """The number of values in a column of a dict given as data, or None where it is not a column."""
    if isinstance(column, (torch.Tensor, np.ndarray)):
        return int(column.shape[0]) if column.ndim >= 1 else None
    if isinstance(column, (str, bytes, Mapping)) or not (hasattr(column, "__len__") and hasattr(column, "__getitem__")):
        return None
    return len(column)


def _column_kind(column: Any) -> str:
    return _value_kind(column) if isinstance(column, (torch.Tensor, np.ndarray)) else f"{type(column).__name__} of {len(column)}"


def column_of(data: Mapping, key: Optional[str]) -> Tuple[Hashable, Any]:
    """The column of points of a dict given as data, whose values are columns of one value per point
    (``{"pixel_values": tensor [N, ...], "label": tensor [N]}``, as a Hugging Face processor or
    ``dataset[:]`` gives them): the column at ``key`` when given, else the one found as in dict items,
    from each column's first value. Returns the column's key and the column."""
    if len(data) == 0:
        raise VaeLensInputError("data is a dict with no columns")
    if all(isinstance(k, str) and k.lower() in SPLIT_KEYS for k in data):
        first = next(iter(data))
        raise VaeLensInputError(
            f"data is a dict of splits ({_keys(data)}), as a Hugging Face DatasetDict is: give the split to diagnose, "
            f"such as data[{first!r}]"
        )
    lengths = {}
    for k, column in data.items():
        n = _column_length(column)
        if n is None:
            raise VaeLensInputError(
                f"data[{k!r}] is {_value_kind(column)}, not a column: a dict given as data holds columns of one value per "
                "point, such as {'pixel_values': tensor [N, ...], 'label': tensor [N]} (for a single item, give a list of items)"
            )
        lengths[k] = n
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k!r}: {n}" for k, n in list(lengths.items())[:12])
        raise VaeLensInputError(
            f"data is a dict of columns of different lengths ({described}{', ...' if len(lengths) > 12 else ''}); "
            "each column must hold one value per point"
        )
    if next(iter(lengths.values())) == 0:
        raise VaeLensInputError("data is empty (a dict of columns of no values)")
    if key is not None:
        if key not in data:
            raise VaeLensInputError(f"input_key={key!r} is not a key of data, a dict of columns whose keys are {_keys(data)}")
        return key, data[key]
    found = _plain_key({k: column[0] for k, column in data.items()})
    if found is not None:
        return found, data[found]
    described = ", ".join(f"{k!r} ({_column_kind(data[k])})" for k in list(data)[:12])
    raise VaeLensInputError(
        f"data is a dict of columns {described}{', ...' if len(data) > 12 else ''}: say which holds the data points "
        "with Diagnostics(..., input_key=...)"
    )


def subset_indices(n: int, points: int, seed: int) -> np.ndarray:
    """Which of n points a pass evaluates: all of them in order when there are no more than `points`, else a
    seeded draw without replacement (the same on every rank and every pass)."""
    return np.arange(n) if points >= n else np.random.default_rng(seed).choice(n, size=points, replace=False)


def fixed_subset(data: Any, points: int, seed: int, input_key: Optional[str] = None) -> Tuple[int, torch.Tensor]:
    """The pass's points, those of subset_indices. Dict items give their value at `input_key` (by default the
    key that plainly holds the point), and a dict of columns its column at `input_key` (found by the same rule)."""
    n, out = rows_of(data, lambda n: subset_indices(n, points, seed), input_key)
    assert out is not None
    return n, out


def rows_of(data: Any, choose: Callable[[int], np.ndarray], input_key: Optional[str] = None,
            allow_empty: bool = False) -> Tuple[int, Optional[torch.Tensor]]:
    """len(data) and the rows `choose(len(data))` picks, checked (None where it picks none: a rank's share of
    data sharded across ranks may be empty, or hold none of the points drawn). Empty data are refused unless
    `allow_empty`."""
    if isinstance(data, torch.utils.data.DataLoader):
        raise VaeLensInputError(
            "data is a DataLoader; give its dataset (loader.dataset), whose items may be x, (x, label) or dicts "
            "holding x (input_key names its key): the pass draws its own fixed points"
        )
    if isinstance(data, torch.utils.data.IterableDataset):
        raise VaeLensInputError(
            f"data is an IterableDataset ({type(data).__name__}); the pass needs fixed points it can index: give a map-style "
            "dataset, a tensor or an array, such as the first points it streams, list(itertools.islice(dataset, 4096))"
        )
    name = "data"
    if isinstance(data, Mapping):
        # Columns: the one of points is the data, read as any other (its rows may be items too).
        column, data = column_of(data, input_key)
        name, input_key = f"data[{column!r}]", None
    sparse = _sparse_rows(data, name)
    if sparse is not None:
        n, dense_rows = sparse
    else:
        try:
            n = len(data)
        except TypeError:
            raise VaeLensInputError(f"{name} must be a tensor, an array or a map-style dataset with len(); got {type(data).__name__}") from None
    if n == 0 and not allow_empty:
        raise VaeLensInputError(f"{name} is empty")
    idx = choose(n)
    if idx.size == 0:
        return n, None
    every = idx.size == n and bool((idx == np.arange(n)).all())
    t = _as_tensor(data, name) if sparse is None else None
    if sparse is not None:
        if input_key is not None:
            raise VaeLensInputError(f"input_key={input_key!r} names a key of dict items, but {name} is a sparse matrix of points; "
                                    "leave input_key out")
        out = dense_rows(idx)
    elif t is not None:
        if input_key is not None:
            raise VaeLensInputError(f"input_key={input_key!r} names a key of dict items, but data is a {type(data).__name__} "
                                    "of points; leave input_key out")
        out = t if every else t[torch.from_numpy(idx)]
    else:
        if not _indexable(data):
            raise VaeLensInputError(
                f"{name} is a {type(data).__name__}, which has len() but no {name}[i] (it can only be iterated); the pass "
                "takes its fixed points by index, as from a map-style dataset: give a tensor, an array or a dataset with "
                f"__getitem__ (list({name}) holds its items; an IterableDataset's, list(itertools.islice(dataset, n)))"
            )
        raw: List[Any] = [data[int(i)] for i in idx]
        key = input_key_of(raw[0], input_key, f"{name}[{int(idx[0])}]") if isinstance(raw[0], Mapping) else None
        if key is None and input_key is not None:
            raise VaeLensInputError(f"input_key={input_key!r} names a key of dict items, but data[{int(idx[0])}] is a "
                                    f"{type(raw[0]).__name__}; leave input_key out")
        items = [_item_tensor(item, int(i), key, name) for item, i in zip(raw, idx)]
        shapes = {tuple(x.shape) for x in items}
        if len(shapes) > 1:
            raise VaeLensInputError(f"the items of {name} differ in shape ({', '.join(map(str, sorted(shapes)[:3]))}); every point must have the same shape")
        out = torch.stack(items)
    if out.is_meta:
        raise VaeLensInputError(f"{name} is on the 'meta' device: it has no values to evaluate")
    if out.dim() == 1:
        out = out.reshape(-1, 1)
    out = out.detach().cpu()
    if t is not None and every and _shares_memory(out, t, data):
        # All of a tensor or array within `points` is read without a copy: the points would be a view of
        # the user's data, and an in-place change to them (x -= x.mean(0), x /= 255) would change every
        # later pass. The points are the package's own (no more than `points` rows).
        out = out.clone(memory_format=torch.contiguous_format)
    if out.is_complex():
        raise VaeLensInputError(f"{name} holds {out.dtype} values; VAE Lens needs real numbers (an int or float tensor)")
    if out.dtype.is_floating_point and not bool(torch.isfinite(out).all()):
        bad = (~torch.isfinite(out)).reshape(out.shape[0], -1)
        rows = bad.any(1).nonzero().reshape(-1)
        first = int(idx[int(rows[0])])
        raise VaeLensInputError(
            f"{name} of shape {_shape_of_data(data, out)} has non-finite values (NaN or infinity) among the diagnostics points: "
            f"{int(bad.sum())} in {rows.numel()} point{'' if rows.numel() == 1 else 's'}, the first {name}[{first}] "
            f"(at index {bad[int(rows[0])].nonzero()[0].tolist()[0]} of its {bad.shape[1]} values)"
        )
    return n, out


def _shape_of_data(data: Any, points: torch.Tensor) -> Tuple[int, ...]:
    """The shape of the data as given where it has one, else that of the points read from it."""
    shape = getattr(data, "shape", None)
    return tuple(shape) if isinstance(shape, (tuple, torch.Size)) else tuple(points.shape)


def _indexable(data: Any) -> bool:
    """Whether items can be read as data[i]: a __getitem__ of its own, not torch's Dataset's, which only raises."""
    getitem = getattr(type(data), "__getitem__", None)
    return getitem is not None and getitem is not torch.utils.data.Dataset.__getitem__


def _shares_memory(points: torch.Tensor, t: torch.Tensor, data: Any) -> bool:
    """Whether the points, read from the tensor `t` of `data` without indexing, may be a view of the user's
    tensor or array `data` (a list of rows was stacked into new memory)."""
    if isinstance(data, torch.Tensor):
        return points.data_ptr() == t.data_ptr()
    if isinstance(data, np.ndarray):
        return bool(np.may_share_memory(points.numpy(), data))
    return False


#: Channels an image can be drawn with: grey, RGB and RGBA.
IMAGE_CHANNELS = (1, 3, 4)
#: The shortest side of points taken for images without image_shape, with channels or without: [N, 3, 1, 1]
#: are three features (a 1x1 convolution's output), not images.
MIN_IMAGE_SIDE = 4


def image_shape_of(points: torch.Tensor, given: Optional[Sequence[int]]) -> Tuple[Optional[Tuple[int, ...]], bool]:
    """A point's image shape in the order its values are held, and whether that order is channels last:
    ``(h, w)``; ``(c, h, w)`` for colour (3 or 4 channels) held first, as PyTorch holds images; or
    ``(h, w, c)`` held last, where the data say so (points of that shape, or ``given`` so). A single
    channel is ``(h, w)``. (None, False) when the points are not images.

    A 3-D ``given`` for 3-D points must be their own shape: the order of the values in memory is the
    points', and another order of the same sides would draw channels as rows (stripes)."""
    own = tuple(int(v) for v in points.shape[1:])
    if given is not None:
        shape = tuple(int(v) for v in given)
        per = int(np.prod(own))
        if len(shape) not in (2, 3) or min(shape) < 1 or int(np.prod(shape)) != per:
            raise VaeLensInputError(f"image_shape {shape} does not hold the {per} values of a data point of shape {own}")
        if len(shape) == 3 and len(own) == 3 and shape != own:
            raise VaeLensInputError(
                f"image_shape {shape} is not the order the data points hold their values in: they have shape {own}; "
                f"give their own order, image_shape={own}"
                + (" (channels last, as they are held)" if own[2] in IMAGE_CHANNELS and own[0] not in IMAGE_CHANNELS else "")
            )
        if len(shape) == 3 and shape[0] not in IMAGE_CHANNELS and shape[2] not in IMAGE_CHANNELS:
            raise VaeLensInputError(
                f"image_shape {shape}: give (height, width), (channels, height, width) with 1, 3 or 4 channels first, as "
                "PyTorch holds images, or (height, width, channels) for data held channels last"
            )
    else:
        shape = own
        if not ((len(shape) == 3 and shape[0] in IMAGE_CHANNELS and min(shape[1:]) >= MIN_IMAGE_SIDE)
                or (len(shape) == 2 and min(shape) >= MIN_IMAGE_SIDE)):
            return None, False
    if len(shape) != 3:
        return shape, False
    last = shape[0] not in IMAGE_CHANNELS
    c = shape[2] if last else shape[0]
    return (shape[:2] if last else shape[1:]) if c == 1 else shape, last


def channels_last_shape(shape: Sequence[int], held_last: bool = False) -> List[int]:
    """``image_shape_of``'s shape as run files give it: ``[h, w]`` or ``[h, w, c]``."""
    if len(shape) == 3 and not held_last:
        return [int(shape[1]), int(shape[2]), int(shape[0])]
    return [int(v) for v in shape]


def channels_last(t: torch.Tensor, k: int, shape: Sequence[int], held_last: bool = False) -> torch.Tensor:
    """``k`` images as rows of numbers, channels last (images.json's layout "hwc"), from
    ``image_shape_of``'s ``shape``: channels first unless ``held_last``, where the rows are already so."""
    rows = t.reshape(k, -1)
    want = int(np.prod(shape))
    if rows.shape[1] != want:
        raise VaeLensInputError(f"an image of shape {tuple(shape)} has {want} values, but these rows have {rows.shape[1]}")
    if len(shape) == 3 and not held_last:
        c, h, w = shape
        rows = rows.reshape(k, c, h, w).permute(0, 2, 3, 1).reshape(k, -1)
    return rows

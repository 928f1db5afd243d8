"""torch.distributed, when it is in use: the points every rank diagnoses (from data each rank holds whole,
or its own shard of), which share of them this process diagnoses, and the all-reduce of a pass's sums.
Without an initialised process group everything is one rank."""
from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.distributed as dist

from ._data import fixed_subset, rows_of, subset_indices
from .errors import VaeLensInputError


@contextlib.contextmanager
def reaching_every_rank(what: str, group: Optional[object] = None) -> Iterator[None]:
    """Says what a collective that failed means to the user: torch's message names a peer's address, not its rank,
    nor the pass. One process makes no collectives: what it raises is the user's code's, and passes as it is."""
    try:
        yield
    except RuntimeError as e:
        rank, world = rank_and_world(group)
        if world == 1:
            raise
        gone = _ranks_gone(group, rank)
        who = ("; ".join(f"rank {r} did not answer: its process ({pid} on this machine) is gone" for r, pid in gone)
               + " (killed, crashed, or its loop ended first)") if gone else (
            "a rank has left the process group (killed, crashed, or its loop ended first) or did not get there within the "
            "process group's timeout")
        raise RuntimeError(f"VAE Lens: {what} lost touch with the other ranks: {who} ({type(e).__name__}: {e})") from e


#: The process (host name, pid) of each rank of a group, as the group's first gathering heard them: torch names a
#: lost peer by its address, which does not say which rank it was.
_PEERS: Dict[object, List[Tuple[str, int]]] = {}


def _group_key(group: Optional[object]) -> object:
    return "world" if group is None else id(group)


def _ranks_gone(group: Optional[object], rank: int) -> List[Tuple[int, int]]:
    """(rank, pid) of the group's ranks on this machine whose process has ended. A peer's connection closes as
    its process exits, a moment before the process is seen to have ended: that moment is waited for."""
    here = [(r, pid) for r, (host, pid) in enumerate(_PEERS.get(_group_key(group), [])) if r != rank and host == socket.gethostname()]
    deadline = time.monotonic() + 2.0
    while True:
        gone = [(r, pid) for r, pid in here if _process_gone(pid)]
        if gone or not here or time.monotonic() > deadline:
            return gone
        time.sleep(0.05)


def _process_gone(pid: int) -> bool:
    """Whether a process of this machine has ended (a zombie, not yet waited for by its parent, has too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="latin-1") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def rank_and_world(group: Optional[object] = None) -> Tuple[int, int]:
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)  # type: ignore[arg-type]


def all_reduce_sum(vector: np.ndarray, group: Optional[object] = None) -> np.ndarray:
    """Sum a float64 vector over the ranks (every rank gets the total)."""
    _, world = rank_and_world(group)
    if world == 1:
        return vector
    backend = dist.get_backend(group)  # type: ignore[arg-type]
    # NCCL reduces CUDA tensors only; gloo and mpi take CPU tensors.
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    t = torch.from_numpy(np.ascontiguousarray(vector, dtype=np.float64)).to(device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)  # type: ignore[arg-type]
    return t.cpu().numpy()


def broadcast_object(value: object, group: Optional[object] = None) -> object:
    """The group's rank 0's value on every rank of the group (the run folder's path, for instance)."""
    _, world = rank_and_world(group)
    if world == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=_global_rank_of_first(group), group=group)  # type: ignore[arg-type]
    return box[0]


def _global_rank_of_first(group: Optional[object]) -> int:
    """The world's rank of the group's rank 0, which torch's broadcast takes as its source (a group of ranks 2 and 3
    has no rank 0 of the world)."""
    if group is None or group is dist.GroupMember.WORLD:
        return 0
    # Public from torch 2.0; torch 1.13 has the private one.
    get = getattr(dist, "get_global_rank", None) or dist.distributed_c10d._get_global_rank
    return int(get(group, 0))


def failures(error: Optional[str], position: Sequence[int], group: Optional[object] = None) -> List[Tuple[int, str]]:
    """(rank, error) of every rank whose part of a pass failed, on every rank: a flag and the rank's position in
    its loop (which pass of which epoch) are all-reduced first (one small collective every pass), and the messages
    are gathered only where some rank failed. Ranks at different passes (one called diagnose() or step() more
    often) would add up the sums of different passes, or wait for each other: that is raised, naming each. Every rank
    must call it, failed or not, so that none is left waiting in the sums' all-reduce."""
    rank, world = rank_and_world(group)
    if world == 1:
        return [] if error is None else [(0, error)]
    k = len(position)
    vector = np.zeros(world * (1 + k))
    vector[rank] = 0.0 if error is None else 1.0
    vector[world + rank * k:world + (rank + 1) * k] = position
    total = all_reduce_sum(vector, group)
    positions = [tuple(int(v) for v in total[world + r * k:world + (r + 1) * k]) for r in range(world)]
    if len(set(positions)) > 1:
        raise VaeLensInputError("the ranks are at different diagnostics passes ("
                                + "; ".join(f"rank {r} at {_describe(p)}" for r, p in enumerate(positions))
                                + "): every rank must call diagnose() with the same epochs, and step() alike, "
                                "since each pass adds up all the ranks' sums")
    if not total[:world].any():
        return []
    messages: List[Optional[str]] = [None] * world
    dist.all_gather_object(messages, error, group=group)  # type: ignore[arg-type]
    return [(r, m) for r, m in enumerate(messages) if m is not None]


#: What each pass of a diagnose() call is, in a rank's position.
PASSES = ("the pass", "the current weights' pass beside the averaged ones", "the averaged weights' pass")


def _describe(position: Tuple[int, ...]) -> str:
    count, epoch, averaging, which = position
    return (f"diagnose(epoch={epoch}) (its call {count + 1}), {PASSES[which]}, "
            + ("with" if averaging else "without") + " weights averaged by step()")


def shared_points(data: Any, points: int, seed: int, input_key: Optional[str] = None, group: Optional[object] = None,
                  settings: Optional[Dict[str, Any]] = None) -> Tuple[int, torch.Tensor]:
    """The whole data's size and the pass's points, the same on every rank. Data every rank holds whole (as a
    DistributedSampler leaves them) are read as by one process. Data each rank holds a shard of (some maybe
    empty) are one data set: the points are drawn from all the shards as from one, in an order set by their
    contents, not by which rank holds which, and gathered to every rank. What fails on one rank is raised on
    every rank, naming it, rather than leaving the others waiting in a collective; so are `settings` (points and
    seed among them) that differ between ranks, which would pick other points or blocks on each."""
    rank, world = rank_and_world(group)
    if world == 1:
        return fixed_subset(data, points, seed, input_key)
    n, local, error = 0, None, None
    try:
        n, local = rows_of(data, lambda n: subset_indices(n, points, seed), input_key, allow_empty=True)
    except Exception as e:  # noqa: BLE001 - whatever the user's dataset raises, every rank must hear of it
        error = e
    asked = {"points": points, "seed": seed, **(settings or {})}
    seen: List[Tuple[int, Optional[str], Optional[str], Dict[str, Any], Tuple[str, int], bool]] = _gathered(
        (n, _fingerprint(local), None if error is None else _message(error), asked, (socket.gethostname(), os.getpid()),
         _held_in_memory(data)), group)
    _PEERS[_group_key(group)] = [s[4] for s in seen]
    differ = sorted(k for k in asked if len({repr(s[3].get(k)) for s in seen}) > 1)
    if differ:
        raise VaeLensInputError("Diagnostics was made with other settings on other ranks: "
                                + "; ".join(f"{k}: " + ", ".join(f"rank {r} {s[3].get(k)!r}" for r, s in enumerate(seen)) for k in differ)
                                + "; every rank must evaluate the same points in the same blocks")
    _raise_failures([(r, m) for r, (_, _, m, _, _, _) in enumerate(seen) if m is not None], world, "reading the data", error)
    sizes = [s[0] for s in seen]
    if sum(sizes) == 0:
        raise VaeLensInputError(f"data is empty on every one of the {world} ranks")
    if len({(s[0], s[1]) for s in seen}) == 1:
        assert local is not None
        return n, local
    # Only data held in memory are read whole to tell reordered copies from shards: a dataset's equal shards (as a
    # DistributedSampler leaves them) would cost an epoch of loading at start-up.
    if len(set(sizes)) == 1 and all(s[5] for s in seen) and _same_rows_in_other_orders(data, input_key, group):
        # Whole data on every rank, each in its own order (a copy shuffled per rank): rank 0's points, on every rank.
        return n, broadcast_object(local, group)  # type: ignore[return-value]
    # Shards: rank r's rows are those of the whole data at offset[r] + i, the shards laid out by content.
    order = sorted(range(world), key=lambda r: (seen[r][1] or "", r))
    offsets = [0] * world
    at = 0
    for r in order:
        offsets[r], at = at, at + sizes[r]
    chosen = subset_indices(at, points, seed)
    positions = np.nonzero((chosen >= offsets[rank]) & (chosen < offsets[rank] + n))[0]
    mine, error = None, None
    try:
        _, mine = rows_of(data, lambda _: chosen[positions] - offsets[rank], input_key, allow_empty=True)
    except Exception as e:  # noqa: BLE001 - as above: the points drawn now are others than the first read's
        error = e
    parts: List[Tuple[np.ndarray, Optional[torch.Tensor], Optional[str]]] = _gathered(
        (positions, mine, None if error is None else _message(error)), group)
    _raise_failures([(r, m) for r, (_, _, m) in enumerate(parts) if m is not None], world, "reading the data", error)
    kinds = {r: (tuple(rows.shape[1:]), rows.dtype) for r, (_, rows, _) in enumerate(parts) if rows is not None}
    if len(set(kinds.values())) > 1:
        raise VaeLensInputError("the ranks' shards of data hold points of different shapes or dtypes: "
                                + "; ".join(f"rank {r}: {list(shape)} {dtype}" for r, (shape, dtype) in kinds.items()))
    shape, dtype = next(iter(kinds.values()))
    out = torch.empty((len(chosen), *shape), dtype=dtype)
    for where, rows, _ in parts:
        if rows is not None:
            out[torch.from_numpy(where)] = rows
    return at, out


#: Rows read at a time to fingerprint a rank's whole data.
_DIGEST_ROWS = 4096


def _held_in_memory(data: Any) -> bool:
    """Whether data are tensors or arrays (or columns of them), which a fingerprint reads at memory speed."""
    if isinstance(data, Mapping):
        return all(isinstance(v, (torch.Tensor, np.ndarray)) for v in data.values())
    if isinstance(data, torch.utils.data.TensorDataset):
        return True
    return isinstance(data, (torch.Tensor, np.ndarray))


def _same_rows_in_other_orders(data: Any, input_key: Optional[str], group: Optional[object]) -> bool:
    """Whether every rank holds the same rows, in whatever order: shards of equal size hold others. Each rank
    reads its data whole once for this, which only data of the same size on every rank and other points ask."""
    digest, error = None, None
    try:
        digest = _unordered_fingerprint(data, input_key)
    except Exception as e:  # noqa: BLE001 - as in shared_points: every rank must hear of it
        error = e
    seen: List[Tuple[Optional[str], Optional[str]]] = _gathered((digest, None if error is None else _message(error)), group)
    _raise_failures([(r, m) for r, (_, m) in enumerate(seen) if m is not None], len(seen), "reading the data", error)
    return len({d for d, _ in seen}) == 1


def _unordered_fingerprint(data: Any, input_key: Optional[str]) -> str:
    """A digest of the rows of data that does not depend on their order."""
    rows: List[bytes] = []
    n: Optional[int] = None
    lo, kind = 0, ""
    while n is None or lo < n:
        n, part = rows_of(data, lambda size: np.arange(lo, min(lo + _DIGEST_ROWS, size)), input_key, allow_empty=True)
        if part is None:
            break
        flat = part.contiguous().reshape(len(part), -1)
        rows.extend(hashlib.sha256(r.view(torch.uint8).numpy().tobytes()).digest() for r in flat)
        lo += _DIGEST_ROWS
        kind = f"{tuple(part.shape[1:])} {part.dtype}"
    h = hashlib.sha256(kind.encode())
    for r in sorted(rows):
        h.update(r)
    return h.hexdigest()


def _gathered(value: Any, group: Optional[object]) -> List[Any]:
    _, world = rank_and_world(group)
    out: List[Any] = [None] * world
    dist.all_gather_object(out, value, group=group)  # type: ignore[arg-type]
    return out


def _fingerprint(rows: Optional[torch.Tensor]) -> Optional[str]:
    if rows is None:
        return None
    h = hashlib.sha256(f"{tuple(rows.shape)} {rows.dtype}".encode())
    h.update(rows.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _message(error: BaseException) -> str:
    return str(error) if isinstance(error, VaeLensInputError) else f"{type(error).__name__}: {error}"


def _raise_failures(failed: List[Tuple[int, str]], world: int, what: str, own: Optional[BaseException]) -> None:
    if failed:
        raise VaeLensInputError(f"{what} failed on {len(failed)} of {world} ranks: "
                                + "; ".join(f"rank {r}: {m}" for r, m in failed)) from own

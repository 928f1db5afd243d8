"""torch.distributed, when it is in use: which share of the points this process diagnoses, and
the all-reduce of a pass's sums. Without an initialised process group everything is one rank."""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist


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
    """Rank 0's value on every rank (the run folder's path, for instance)."""
    _, world = rank_and_world(group)
    if world == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0, group=group)  # type: ignore[arg-type]
    return box[0]


def failures(error: Optional[str], group: Optional[object] = None) -> List[Tuple[int, str]]:
    """(rank, error) of every rank whose part of a pass failed, on every rank: a flag is all-reduced first
    (one small collective every pass), and the messages are gathered only where some rank failed. Every rank
    must call it, failed or not, so that none is left waiting in the sums' all-reduce."""
    rank, world = rank_and_world(group)
    if world == 1:
        return [] if error is None else [(0, error)]
    flags = np.zeros(world)
    flags[rank] = 0.0 if error is None else 1.0
    if not all_reduce_sum(flags, group).any():
        return []
    messages: List[Optional[str]] = [None] * world
    dist.all_gather_object(messages, error, group=group)  # type: ignore[arg-type]
    return [(r, m) for r, m in enumerate(messages) if m is not None]

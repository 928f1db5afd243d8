"""Ranks that each hold their own shard of the data (unequal, some empty), as a script that splits its data by
rank gives them: the record is the whole data's, whichever rank holds which shard, and what fails on one rank's
data is raised on every rank, naming it."""
from __future__ import annotations

import datetime
import itertools
import json
from typing import List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import TinyVae
from test_distributed import KEYS, free_port
from vae_lens import Diagnostics

KEYS_HERE = [k for k in KEYS if k not in ("averagedElbo", "averagingSteps")]


def whole() -> torch.Tensor:
    return torch.randn(50, 5, generator=torch.Generator().manual_seed(4))


def shards(sizes: List[int]) -> List[torch.Tensor]:
    bounds = list(itertools.accumulate([0, *sizes]))
    x = whole()
    return [x[lo:hi] for lo, hi in zip(bounds, bounds[1:])]


def record(x: torch.Tensor, points: int) -> dict:
    m = TinyVae()
    return Diagnostics(m.encode, m.decode, x, points=points, samples=2, block_rows=8, write=False).diagnose(1, 1)


def worker(rank: int, world: int, port: int, sizes: List[int], points: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        parts = shards(sizes)
        results = []
        # The same shards, then each on another rank.
        for held in (rank, (rank + 1) % world):
            try:
                results.append(record(parts[held], points))
            except Exception as e:  # noqa: BLE001 - the test reads what each rank met
                results.append({"error": type(e).__name__, "message": str(e)})
        with open(f"{out}.{rank}", "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def run(tmp_path, sizes: List[int], points: int) -> List[List[dict]]:
    out = str(tmp_path / "result")
    mp.spawn(worker, args=(len(sizes), free_port(), sizes, points, out), nprocs=len(sizes), join=True)
    return [json.load(open(f"{out}.{r}")) for r in range(len(sizes))]


@pytest.mark.parametrize("sizes,points", [([0, 17, 33], 25), ([5, 0, 40, 5], 4096)])
def test_the_record_is_the_whole_datas_whichever_rank_holds_which_shard(tmp_path, sizes: List[int], points: int) -> None:
    results = run(tmp_path, sizes, points)
    got = [r for rank in results for r in rank]
    for r in got:
        assert "error" not in r, r
        assert r["points"] == min(points, 50)
        for k in KEYS_HERE:
            assert r[k] == got[0][k], k  # bit for bit, on every rank, whichever rank holds which shard
    # The whole data laid out in some order of the shards, as one process would read them.
    parts = shards(sizes)
    candidates = [record(torch.cat([parts[i] for i in order]), points) for order in itertools.permutations(range(len(sizes)))]
    assert any(all(got[0][k] == pytest.approx(c[k], rel=1e-12, abs=1e-12) for k in KEYS_HERE) for c in candidates)


def bad_worker(rank: int, world: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        results = []
        for kind in ("nan", "empty"):
            x = whole()[:0] if kind == "empty" else whole()[rank * 10:(rank + 1) * 10].clone()
            if kind == "nan" and rank == 1:
                x[3, 2] = float("nan")
            try:
                record(x, 4096)
                results.append({"error": None})
            except Exception as e:  # noqa: BLE001
                results.append({"error": type(e).__name__, "message": str(e)})
        with open(f"{out}.{rank}", "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def test_what_fails_on_one_ranks_data_is_raised_on_every_rank(tmp_path) -> None:
    out = str(tmp_path / "result")
    mp.spawn(bad_worker, args=(3, free_port(), out), nprocs=3, join=True)
    for rank in range(3):
        nan, empty = json.load(open(f"{out}.{rank}"))
        assert nan["error"] == "VaeLensInputError" and "rank 1: data of shape" in nan["message"] and "non-finite" in nan["message"], nan
        assert empty["error"] == "VaeLensInputError" and "empty on every one of the 3 ranks" in empty["message"], empty


def uneven_worker(rank: int, world: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=10))
    try:
        results = []
        # Rank 1 skips a pass; then rank 0 alone averages weights.
        for case in ("skips", "steps"):
            m = TinyVae()
            d = Diagnostics(m.encode, m.decode, whole(), samples=2, block_rows=8, write=False)
            try:
                for epoch in range(3):
                    if case == "skips" and rank == 1 and epoch == 1:
                        continue
                    if case == "steps" and rank == 0:
                        d.step()
                    d.diagnose(epoch, epoch)
                results.append({"error": None})
            except Exception as e:  # noqa: BLE001
                results.append({"error": type(e).__name__, "message": str(e)})
        with open(f"{out}.{rank}", "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def test_ranks_at_different_passes_are_named_not_added_up(tmp_path) -> None:
    out = str(tmp_path / "result")
    mp.spawn(uneven_worker, args=(2, free_port(), out), nprocs=2, join=True)
    for rank in range(2):
        skips, steps = json.load(open(f"{out}.{rank}"))
        assert skips["error"] == "VaeLensInputError", skips
        assert "rank 0 at diagnose(epoch=1)" in skips["message"] and "rank 1 at diagnose(epoch=2)" in skips["message"], skips
        assert steps["error"] == "VaeLensInputError", steps
        assert "rank 0 at diagnose(epoch=0) (its call 1), the pass, with weights averaged" in steps["message"], steps
        assert "rank 1 at diagnose(epoch=0) (its call 1), the pass, without" in steps["message"], steps

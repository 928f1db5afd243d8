"""Ranks that each hold their own shard of the data (unequal, some empty), as a script that splits its data by
rank gives them: the record is the whole data's, whichever rank holds which shard, and what fails on one rank's
data is raised on every rank, naming it."""
from __future__ import annotations

import datetime
import itertools
import json
import os
import time
from typing import List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import TinyVae
from test_distributed import KEYS, answer_then_wait, free_port, outcome
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
        for kind in ("nan", "empty", "points"):
            x = whole()[:0] if kind == "empty" else whole()[rank * 10:(rank + 1) * 10].clone()
            if kind == "nan" and rank == 1:
                x[3, 2] = float("nan")
            # Points sized from each rank's own share, say: other points on each rank.
            points = 4096 if kind != "points" or rank == 0 else 20
            results.append(outcome(lambda: record(whole() if kind == "points" else x, points)))
        with open(f"{out}.{rank}", "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def test_what_fails_on_one_ranks_data_is_raised_on_every_rank(tmp_path) -> None:
    out = str(tmp_path / "result")
    mp.spawn(bad_worker, args=(3, free_port(), out), nprocs=3, join=True)
    for rank in range(3):
        nan, empty, points = json.load(open(f"{out}.{rank}"))
        assert nan["error"] == "VaeLensInputError" and "rank 1: data of shape" in nan["message"] and "non-finite" in nan["message"], nan
        assert empty["error"] == "VaeLensInputError" and "empty on every one of the 3 ranks" in empty["message"], empty
        assert points["error"] == "VaeLensInputError", points
        assert "other settings on other ranks: points: rank 0 4096, rank 1 20, rank 2 20" in points["message"], points


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

            def passes() -> None:
                for epoch in range(3):
                    if case == "skips" and rank == 1 and epoch == 1:
                        continue
                    if case == "steps" and rank == 0:
                        d.step()
                    d.diagnose(epoch, epoch)

            results.append(outcome(passes))
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


class Gathered(torch.nn.Module):
    """A layer that all-gathers its weights in every forward call, as FSDP and ZeRO-3 do: a rank that calls it
    fewer times than the others leaves them waiting. (torch 1.13's FSDP itself does not import on Python 3.11.)"""

    def __init__(self, inner: torch.nn.Linear) -> None:
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        pieces = [torch.empty_like(self.inner.weight) for _ in range(dist.get_world_size())]
        dist.all_gather(pieces, self.inner.weight.detach().contiguous())
        return torch.nn.functional.linear(x, pieces[0], self.inner.bias)


def sharded_model_worker(rank: int, world: int, port: int, runs: str, out: str, only_rank_0_writes: bool) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=15))
    try:
        m = TinyVae(dim=16)
        m.enc[0], m.dec[2] = Gathered(m.enc[0]), Gathered(m.dec[2])
        images = torch.rand(60, 4, 4, generator=torch.Generator().manual_seed(3))
        part = images[:7] if rank == 0 else images[7:]  # unequal shards, drawn as 4x4 images
        d = Diagnostics(lambda x: m.encode(x.flatten(1)), m.decode, part, samples=2, block_rows=8, runs_dir=runs, modules=[m],
                        write=rank == 0 or not only_rank_0_writes)
        for epoch in range(2):
            d.step()
            r = d.diagnose(epoch, epoch)
        d.close()
        with open(f"{out}.{rank}", "w") as f:
            json.dump({"calls": [m.enc[0].calls, m.dec[2].calls], "elbo": r["elbo"], "points": r["points"],
                       "averaged": r.get("averagedElbo"), "run_dir": d.run_dir}, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("only_rank_0_writes", [False, True])
def test_a_model_whose_forward_calls_are_collective_does_not_hang_on_unequal_shards(tmp_path, only_rank_0_writes: bool) -> None:
    # write=(rank == 0), the habit of loggers that write on rank 0 alone, is what rank 0 alone does anyway.
    out = str(tmp_path / "result")
    mp.spawn(sharded_model_worker, args=(2, free_port(), str(tmp_path / "runs"), out, only_rank_0_writes), nprocs=2, join=True)
    a, b = (json.load(open(f"{out}.{r}")) for r in range(2))
    assert a == b and a["points"] == 60 and a["averaged"] is not None, (a, b)
    (run,) = os.listdir(tmp_path / "runs")
    assert os.path.exists(tmp_path / "runs" / run / "images.json") and a["run_dir"].endswith(run)
    assert len(open(tmp_path / "runs" / run / "metrics.jsonl").readlines()) == 2


def raising_worker(rank: int, world: int, port: int, runs: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    m = TinyVae()
    now = {"epoch": 0}

    def encode(x: torch.Tensor):  # type: ignore[no-untyped-def]
        if rank == 1 and now["epoch"] == 1:
            raise ValueError("rank 1's encoder broke")
        return m.encode(x)

    d = Diagnostics(encode, m.decode, whole(), samples=2, block_rows=8, runs_dir=runs, modules=[m])
    try:
        for epoch in range(3):
            now["epoch"] = epoch
            d.diagnose(epoch, epoch)
    except Exception:
        if rank == 1:
            time.sleep(3)  # spawn ends the other ranks once one has failed: rank 0 ends first here
        raise


def test_a_rank_that_raises_under_spawn_leaves_the_run_failed_naming_it(tmp_path) -> None:
    # The spawn wrapper catches the exception and exits, so no excepthook sees it: the run says what diagnose() raised.
    runs = tmp_path / "runs"
    with pytest.raises(Exception, match="rank 1's encoder broke"):
        mp.spawn(raising_worker, args=(2, free_port(), str(runs)), nprocs=2, join=True)
    (run,) = os.listdir(runs)
    summary = json.load(open(runs / run / "summary.json"))
    assert summary["status"] == "failed" and "rank 1: ValueError: rank 1's encoder broke" in summary["message"], summary


KILLED = """
import datetime, json, os, signal, sys
import torch, torch.distributed as dist
sys.path[:0] = [{pkg!r}, {tests!r}]
from conftest import TinyVae
from vae_lens import Diagnostics
rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method="tcp://127.0.0.1:{port}", rank=rank, world_size={world},
                        timeout=datetime.timedelta(seconds=20))
m = TinyVae()
d = Diagnostics(m.encode, m.decode, torch.randn(30, 5), samples=2, runs_dir={runs!r})
for epoch in range(3):
    if rank == {killed} and epoch == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    d.diagnose(epoch, epoch)
"""


@pytest.mark.parametrize("world,killed", [(2, 1), (3, 1), (3, 2)])
def test_a_rank_killed_mid_run_leaves_the_others_an_error_that_names_it_and_the_run_failed(tmp_path, world: int, killed: int) -> None:
    import subprocess
    import sys

    from conftest import REPO

    script = tmp_path / "train.py"
    runs = tmp_path / "runs"
    script.write_text(KILLED.format(pkg=os.path.join(REPO, "python"), tests=os.path.dirname(__file__), port=free_port(), runs=str(runs),
                                    world=world, killed=killed))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("VAE_LENS_RUN_DIR", None)
    procs = [subprocess.Popen([sys.executable, str(script), str(r)], stderr=subprocess.PIPE, text=True, env=env) for r in range(world)]
    try:
        err = procs[0].communicate(timeout=90)[1]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert "diagnose(epoch=1) on rank 0 lost touch with the other ranks" in err, err[-2000:]
    # The rank that is gone, by its rank: torch's own message names only a peer's address.
    gone = f"rank {killed} did not answer"
    assert gone in err and all(f"rank {r} did not answer" not in err for r in range(world) if r != killed), err[-2000:]
    (run,) = os.listdir(runs)
    summary = json.load(open(runs / run / "summary.json"))
    assert summary["status"] == "failed" and gone in summary["message"], summary


def grouped_worker(rank: int, world: int, port: int, runs: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        groups = [dist.new_group([0, 1]), dist.new_group([2, 3])]  # every rank makes every group, as torch asks
        m = TinyVae()
        d = Diagnostics(m.encode, m.decode, whole(), samples=2, block_rows=8, runs_dir=runs, group=groups[rank // 2],
                        name=f"group{rank // 2}")
        d.diagnose(1, 1)
        d.close()
    finally:
        dist.destroy_process_group()


def test_a_group_without_the_worlds_rank_0_writes_its_own_run(tmp_path) -> None:
    runs = tmp_path / "runs"
    mp.spawn(grouped_worker, args=(4, free_port(), str(runs)), nprocs=4, join=True)
    names = sorted(os.listdir(runs))
    assert [n.split("-")[0] for n in names] == ["group0", "group1"], names
    for n in names:
        assert len(open(runs / n / "metrics.jsonl").readlines()) == 1
        assert json.load(open(runs / n / "summary.json"))["status"] == "completed"


def test_one_process_passes_on_what_its_dataset_raises_as_it_is() -> None:
    class Broken(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 10

        def __getitem__(self, i: int) -> torch.Tensor:
            raise RuntimeError("the file behind item 0 is gone")

    m = TinyVae()
    with pytest.raises(RuntimeError, match="^the file behind item 0 is gone$"):
        Diagnostics(m.encode, m.decode, Broken(), write=False)


def refused_worker(rank: int, world: int, port: int, runs: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        m = TinyVae()
        # Rank 0 stays (a loop that catches the error, say): the others must not be left waiting for it.
        answer_then_wait(lambda: Diagnostics(m.encode, m.decode, whole(), runs_dir=runs), out, rank, world)
    finally:
        dist.destroy_process_group()


def test_a_run_folder_rank_0_cannot_make_is_raised_on_every_rank(tmp_path) -> None:
    runs = tmp_path / "a-file"
    runs.write_text("not a folder")
    out = str(tmp_path / "result")
    mp.spawn(refused_worker, args=(2, free_port(), str(runs), out), nprocs=2, join=True)
    for rank in range(2):
        r = json.load(open(f"{out}.{rank}"))
        assert r["error"] == "VaeLensInputError" and "cannot write the run folder in" in r["message"], r
        assert r["seconds"] < 15, r
    assert json.load(open(f"{out}.1"))["message"].startswith("rank 0: ")


def shuffled_worker(rank: int, world: int, port: int, points: int, equal_shards: bool, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        if equal_shards:
            held = whole()[rank * 25:(rank + 1) * 25]
        else:
            # The whole data on every rank, each in its own order (a copy shuffled with the rank as its seed).
            held = whole()[torch.randperm(50, generator=torch.Generator().manual_seed(100 + rank))]
        with open(f"{out}.{rank}", "w") as f:
            json.dump(outcome(lambda: record(held, points)) | {"record": _safe(lambda: record(held, points))}, f)
    finally:
        dist.destroy_process_group()


def _safe(act):  # type: ignore[no-untyped-def]
    try:
        return act()
    except Exception:  # noqa: BLE001 - outcome() says what was raised
        return None


@pytest.mark.parametrize("world,points", [(2, 20), (2, 4096), (3, 30)])
def test_whole_data_held_in_another_order_on_each_rank_is_read_as_whole_not_as_shards(tmp_path, world: int, points: int) -> None:
    out = str(tmp_path / "result")
    mp.spawn(shuffled_worker, args=(world, free_port(), points, False, out), nprocs=world, join=True)
    got = [json.load(open(f"{out}.{r}")) for r in range(world)]
    for g in got:
        assert g["error"] is None, g
        assert g["record"]["points"] == min(points, 50), g["record"]["points"]  # not each point once per rank
        for k in KEYS_HERE:
            assert g["record"][k] == got[0]["record"][k], k
    # The points are rank 0's copy's, as one process holding it would draw them.
    alone = record(whole()[torch.randperm(50, generator=torch.Generator().manual_seed(100))], points)
    for k in KEYS_HERE:
        assert got[0]["record"][k] == pytest.approx(alone[k], rel=1e-12, abs=1e-12), k


def test_equal_shards_are_still_read_as_shards(tmp_path) -> None:
    out = str(tmp_path / "result")
    mp.spawn(shuffled_worker, args=(2, free_port(), 4096, True, out), nprocs=2, join=True)
    for r in range(2):
        g = json.load(open(f"{out}.{r}"))
        assert g["error"] is None and g["record"]["points"] == 50, g


class CountedShard(torch.utils.data.Dataset):
    """A map-style shard that counts the items read, as one that loads each image from disk would cost."""

    def __init__(self, rows: torch.Tensor, reads: List[int]) -> None:
        self.rows, self.reads = rows, reads

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> torch.Tensor:
        self.reads[0] += 1
        return self.rows[i]


def counted_shard_worker(rank: int, world: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        rows = torch.randn(600, 5, generator=torch.Generator().manual_seed(7 + rank))
        reads = [0]
        m = TinyVae()
        error = outcome(lambda: Diagnostics(m.encode, m.decode, CountedShard(rows, reads), points=16, samples=2, write=False))
        with open(f"{out}.{rank}", "w") as f:
            json.dump(error | {"reads": reads[0]}, f)
    finally:
        dist.destroy_process_group()


def test_equal_shards_of_a_dataset_are_not_read_whole_to_tell_them_from_reordered_copies(tmp_path) -> None:
    # A DistributedSampler's shards are of equal size; reading each whole at start-up would cost an epoch of loading.
    out = str(tmp_path / "result")
    mp.spawn(counted_shard_worker, args=(2, free_port(), out), nprocs=2, join=True)
    for r in range(2):
        g = json.load(open(f"{out}.{r}"))
        assert g["error"] is None, g
        assert g["reads"] <= 64, g

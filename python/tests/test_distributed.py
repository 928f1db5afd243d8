"""Two ranks (torch.multiprocessing.spawn, gloo on 127.0.0.1) give the one-process record, the
averaged weights' ELBO included, up to float rounding, and only rank 0 writes the run folder."""
from __future__ import annotations

import datetime
import json
import os
import socket
import time
from typing import Callable

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import TinyVae
from vae_lens import Diagnostics

KEYS = ["elbo", "elboStdErr", "elboStdErrData", "hEnc", "hPrior", "hDec", "gap", "gapStdErr", "rDec", "rPrior", "sigma2",
        "sigma2Opt", "latentSecondMoment", "klPerLatent", "points", "averagedElbo", "averagingSteps"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data() -> torch.Tensor:
    return torch.randn(203, 5, generator=torch.Generator().manual_seed(1))


def make(variance: str, runs: str, write: bool) -> Diagnostics:
    m = TinyVae(variance=variance, learned_prior=True)
    # block_rows 30 with 3 samples: 10 points a block, 21 blocks, the last one short.
    return Diagnostics(m.encode, m.decode, data(), samples=3, block_rows=30, runs_dir=runs, write=write, name="dist",
                       prior_variance=m.prior_variance)


def diagnose_after_steps(d: Diagnostics) -> dict:
    """Three "optimizer steps" (the same on every rank, as DDP keeps them), each added to the average, then a pass."""
    g = torch.Generator().manual_seed(7)
    for _ in range(3):
        with torch.no_grad():
            for m in d._modules:
                for p in m.parameters():
                    p.add_(0.05 * torch.randn(p.shape, generator=g))
        d.step()
    return d.diagnose(2, 20)


def worker(rank: int, world: int, port: int, variance: str, runs: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        d = make(variance, runs, write=True)
        r = diagnose_after_steps(d)
        d.close()
        with open(f"{out}.{rank}", "w") as f:
            json.dump({"record": r, "run_dir": d.run_dir}, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("variance", ["scalar", "latent"])
def test_two_ranks_equal_one_process(variance: str, tmp_path) -> None:
    os.environ.pop("VAE_LENS_RUN_DIR", None)
    one = diagnose_after_steps(make(variance, str(tmp_path / "single"), write=False))
    out = str(tmp_path / "result")
    mp.spawn(worker, args=(2, free_port(), variance, str(tmp_path / "runs"), out), nprocs=2, join=True)
    results = [json.load(open(f"{out}.{r}")) for r in range(2)]
    assert results[0]["run_dir"] == results[1]["run_dir"], "every rank knows the run folder"
    assert os.listdir(tmp_path / "runs") == [os.path.basename(results[0]["run_dir"])], "one run folder, from rank 0"
    written = [json.loads(line) for line in open(os.path.join(results[0]["run_dir"], "metrics.jsonl"))]
    assert len(written) == 1, "rank 0 alone writes"
    for rec in (results[0]["record"], results[1]["record"], written[0]):
        for k in KEYS:
            assert rec[k] == pytest.approx(one[k], rel=1e-12, abs=1e-12), k
    meta = json.load(open(os.path.join(results[0]["run_dir"], "run.json")))
    assert meta["worldSize"] == 2 and "x2 ranks" in meta["backend"]


class Diverging(torch.nn.Module):
    """Returns NaN means for the points whose first value is huge (one outlying point)."""

    def __init__(self) -> None:
        super().__init__()
        self.e = torch.nn.Linear(5, 4)
        self.d = torch.nn.Linear(2, 5)
        self.calls = {"encode": 0, "decode": 0}

    def encode(self, x: torch.Tensor):
        self.calls["encode"] += 1
        h = self.e(x)
        mean = h[:, :2].clone()
        mean[x[:, 0] > 1e3] = float("nan")
        return mean, h[:, 2:]

    def decode(self, z: torch.Tensor):
        self.calls["decode"] += 1
        return self.d(z), torch.zeros(())


def diverging_data() -> torch.Tensor:
    x = data()
    x[35, 0] = 1e4  # block 3 (points 30..39 with block_rows 30 and 3 samples): rank 1's of 2
    return x


def outcome(act: Callable[[], object]) -> dict:
    """What `act` met on this rank, for the test to read: no error, or the error's type and message."""
    try:
        act()
        return {"error": None}
    except Exception as e:  # noqa: BLE001 - the test reads what each rank met
        return {"error": type(e).__name__, "message": str(e)}


def answer_then_wait(act: Callable[[], object], out: str, rank: int, world: int) -> None:
    """Writes what `act` met on this rank to out.RANK, then keeps the process group up until every rank has its
    answer: a rank that raised goes on (a user's loop may catch it, or take its time to exit), and a rank left
    waiting must not be freed by the group closing."""
    t0 = time.monotonic()
    result = outcome(act)
    result["seconds"] = time.monotonic() - t0
    with open(f"{out}.{rank}.tmp", "w") as f:
        json.dump(result, f)
    os.replace(f"{out}.{rank}.tmp", f"{out}.{rank}")
    deadline = time.monotonic() + 30
    while not all(os.path.exists(f"{out}.{r}") for r in range(world)) and time.monotonic() < deadline:
        time.sleep(0.05)


def failing_worker(rank: int, world: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        torch.manual_seed(0)
        m = Diverging()
        d = Diagnostics(m.encode, m.decode, diverging_data(), samples=3, block_rows=30, write=False)
        answer_then_wait(lambda: d.diagnose(1, 1), out, rank, world)
    finally:
        dist.destroy_process_group()


def test_an_error_on_one_rank_is_raised_on_every_rank_at_once(tmp_path) -> None:
    out = str(tmp_path / "result")
    mp.spawn(failing_worker, args=(2, free_port(), out), nprocs=2, join=True)
    results = [json.load(open(f"{out}.{r}")) for r in range(2)]
    for r in results:
        assert r["error"] == "VaeLensInputError", r
        assert "rank 1: encode" in r["message"] and "non-finite" in r["message"] and "rank 0:" not in r["message"]
        assert r["seconds"] < 10, "not after the process group's timeout"
    assert results[0]["message"] == results[1]["message"]


@pytest.mark.parametrize("world", [2, 3, 4, 30])
def test_every_rank_calls_the_model_as_often(world: int) -> None:
    from vae_lens._pass import PassSetup, run_pass

    counts = []
    for rank in range(world):
        m = Diverging()
        setup = PassSetup(m.encode, m.decode, data(), 3, 0, 30, "gaussian", False, None, torch.device("cpu"), torch.float32)
        with torch.no_grad():
            run_pass(setup, 1, rank, world)
        counts.append(dict(m.calls))
    assert all(c == counts[0] for c in counts), counts


def test_a_rank_whose_block_fails_still_calls_the_model_as_often_then_raises() -> None:
    from vae_lens._pass import PassSetup, run_pass
    from vae_lens import VaeLensInputError

    counts = []
    for rank in range(2):
        m = Diverging()
        setup = PassSetup(m.encode, m.decode, diverging_data(), 3, 0, 30, "gaussian", False, None, torch.device("cpu"),
                          torch.float32)
        with torch.no_grad():
            if rank == 1:
                with pytest.raises(VaeLensInputError, match="non-finite"):
                    run_pass(setup, 1, rank, 2)
            else:
                run_pass(setup, 1, rank, 2)
        counts.append(m.calls["encode"])
    assert counts[0] == counts[1], counts


def counting_worker(rank: int, world: int, port: int, runs: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=20))
    try:
        m = TinyVae(dim=16)
        calls = {"encode": 0, "decode": 0}

        def encode(x: torch.Tensor):
            calls["encode"] += 1
            return m.encode(x.flatten(1))

        def decode(z: torch.Tensor):
            calls["decode"] += 1
            return m.decode(z)

        images = torch.rand(203, 4, 4, generator=torch.Generator().manual_seed(3))  # drawn as 4x4 images
        d = Diagnostics(encode, decode, images, samples=3, block_rows=30, runs_dir=runs, modules=[m])
        d.step()
        d.diagnose(1, 1)
        d.close()
        with open(f"{out}.{rank}", "w") as f:
            json.dump(calls, f)
    finally:
        dist.destroy_process_group()


def test_every_rank_calls_the_model_as_often_in_a_whole_diagnose(tmp_path) -> None:
    """Blocks, the averaged weights' pass and the images alike: a model sharded across ranks (FSDP, ZeRO-3)
    gathers its weights in every forward call, which all ranks must make together."""
    out = str(tmp_path / "calls")
    mp.spawn(counting_worker, args=(2, free_port(), str(tmp_path / "runs"), out), nprocs=2, join=True)
    counts = [json.load(open(f"{out}.{r}")) for r in range(2)]
    assert counts[0] == counts[1], counts
    (run,) = os.listdir(tmp_path / "runs")
    assert os.path.exists(tmp_path / "runs" / run / "images.json")


@pytest.mark.parametrize("world", [2, 3, 4])
def test_every_rank_calls_the_model_as_often_when_a_block_has_as_many_rows_as_values(world: int) -> None:
    # A block of D rows asks the decoder about one row more (is a flat [D] variance per dimension or per row?): every
    # rank asks, whether or not its own first block is a full one, or a sharded model's forward calls would hang.
    from vae_lens._pass import PassSetup, run_pass

    D = 6
    counts = []
    for rank in range(world):
        m = TinyVae(dim=D, variance="per-dimension")
        calls = {"encode": 0, "decode": 0}

        def encode(x: torch.Tensor):  # type: ignore[no-untyped-def]
            calls["encode"] += 1
            return m.encode(x)

        def decode(z: torch.Tensor):  # type: ignore[no-untyped-def]
            calls["decode"] += 1
            return m.decode(z)

        x = torch.randn(7, D, generator=torch.Generator().manual_seed(0))  # blocks of 3, 3 and 1 points
        setup = PassSetup(encode, decode, x, 2, 0, D, "gaussian", False, None, torch.device("cpu"), torch.float32)
        with torch.no_grad():
            run_pass(setup, 1, rank, world)
        counts.append(dict(calls))
    assert all(c == counts[0] for c in counts), counts


@pytest.mark.parametrize("variance_shape", ["[1, D]", "[1, 1]", "[D]"])
@pytest.mark.parametrize("points,block_rows", [(5, 4), (9, 6), (7, 6)])
def test_every_rank_calls_the_model_as_often_when_one_ranks_first_block_is_short(points: int, block_rows: int,
                                                                               variance_shape: str) -> None:
    # The questions put to the decoder where a block's shape is ambiguous (one row: per point or per dimension? D
    # rows: a flat [D] per dimension or per row?) are asked by every rank at its first block when any rank's first
    # block needs them: a short last block may be some rank's first.
    from vae_lens._pass import PassSetup, run_pass

    D = 6
    for world in (2, 3):
        counts = []
        for rank in range(world):
            m = TinyVae(dim=D, variance="per-dimension")
            calls = {"encode": 0, "decode": 0}

            def encode(x: torch.Tensor):  # type: ignore[no-untyped-def]
                calls["encode"] += 1
                return m.encode(x)

            def decode(z: torch.Tensor):  # type: ignore[no-untyped-def]
                calls["decode"] += 1
                mean, log_var = m.decode(z)
                return mean, {"[1, D]": log_var.reshape(1, D), "[1, 1]": log_var[:1].reshape(1, 1), "[D]": log_var}[variance_shape]

            x = torch.randn(points, D, generator=torch.Generator().manual_seed(0))
            setup = PassSetup(encode, decode, x, 1, 0, block_rows, "gaussian", False, None, torch.device("cpu"), torch.float32)
            with torch.no_grad():
                run_pass(setup, 1, rank, world)
            counts.append(dict(calls))
        assert all(c == counts[0] for c in counts), (world, counts)

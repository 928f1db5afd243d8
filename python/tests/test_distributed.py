"""Two ranks (torch.multiprocessing.spawn, gloo on 127.0.0.1) give the one-process record, the
averaged weights' ELBO included, up to float rounding, and only rank 0 writes the run folder."""
from __future__ import annotations

import json
import os
import socket

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

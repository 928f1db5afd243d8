"""load_checkpoint(device=...) builds every layer, the variances and the prior on the device asked for, as a
CUDA user loads a run to continue it there. The meta device (shapes without values) stands in for one here."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from test_loaded_precision import RUNS
from vae_lens import VaeLensInputError
from vae_lens.torch import load_checkpoint


@pytest.mark.parametrize("device", ["meta", torch.device("meta")])
@pytest.mark.parametrize("kind", list(RUNS))
def test_every_layer_and_the_prior_are_built_on_the_device_asked_for(kind: str, device: object, tmp_path: Path) -> None:
    make, shape = RUNS[kind]
    run = load_checkpoint(str(make(tmp_path / "run")), device=device)
    held = {n: t.device.type for n, t in [*run.model.named_parameters(), *run.model.named_buffers()]}
    assert held and set(held.values()) == {"meta"}, held
    assert run.model.prior_variance().device.type == "meta"
    mean, log_var = run.model.encode(torch.empty((3, *shape), device="meta"))
    assert mean.device.type == log_var.device.type == "meta"
    assert all(t.device.type == "meta" for t in run.model.decode(mean))


def test_a_device_that_is_none_is_named(tmp_path: Path) -> None:
    make, _ = RUNS["mlp"]
    with pytest.raises(VaeLensInputError, match="device must be"):
        load_checkpoint(str(make(tmp_path / "run")), device="gpu7")


def test_a_cuda_device_where_there_is_none_is_named(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    make, _ = RUNS["mlp"]
    with pytest.raises(VaeLensInputError, match="no CUDA device"):
        load_checkpoint(str(make(tmp_path / "run")), device="cuda")

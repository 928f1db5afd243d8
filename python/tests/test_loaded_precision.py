"""load_checkpoint builds the trainer's float32 networks in float32, whatever torch's default dtype the user's
script set (torch.set_default_dtype(torch.float64), as scientific code often does): layers that torch makes
would otherwise take the default while those built from the checkpoint's tensors stay float32."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, Iterator

import numpy as np
import pytest
import torch

from test_conv_runs_made_elsewhere import _run as conv_run
from vae_lens import Diagnostics
from vae_lens.torch import load_checkpoint

UNTIMED = ("diagnosticsSeconds", "wallSeconds", "samplesPerSec")

#: A VAE-2 MLP of D=4 values, one hidden layer of 3 units each side, H=2 latents with a learned prior.
MLP_SHAPES = {"enc0/w": [4, 3], "enc0/b": [3], "enc_mean/w": [3, 2], "enc_mean/b": [2], "enc_logvar/w": [3, 2],
              "enc_logvar/b": [2], "dec0/w": [2, 3], "dec0/b": [3], "dec_mean/w": [3, 4], "dec_mean/b": [4],
              "log_s2": [1], "log_a2": [2]}


def mlp_run(root: Path) -> Path:
    rng = np.random.default_rng(1)
    (root / "checkpoints").mkdir(parents=True)
    model = {"type": "VAE-2", "latentDim": 2, "encoder": {"hidden": [3]}, "decoder": {"hidden": [3]}}
    (root / "spec.vae.json").write_text(json.dumps({"name": "mlp", "model": model}))
    variables = {name: {"shape": shape, "data": base64.b64encode(rng.normal(size=shape).astype("<f4").tobytes()).decode()}
                 for name, shape in MLP_SHAPES.items()}
    checkpoint = {"version": 1, "modelType": "VAE-2", "dim": 4, "epoch": 1, "step": 4, "variables": variables}
    (root / "checkpoints" / "latest.json").write_text(json.dumps(checkpoint))
    return root


RUNS = {
    "mlp": (mlp_run, (4,)),
    "conv": (lambda root: conv_run(root, {"path": "x.npy", "shape": [7, 5, 2]}, [7, 5, 2], [7, 5, 2]), (7, 5, 2)),
}


@pytest.fixture
def default_dtype() -> Iterator[None]:
    before = torch.get_default_dtype()
    yield
    torch.set_default_dtype(before)


def record(run: Any, x: torch.Tensor) -> Dict[str, Any]:
    lens = Diagnostics(run.model.encode, run.model.decode, x, write=False, **run.diagnostics_kwargs())
    return {k: v for k, v in lens.diagnose(1, 1).items() if k not in UNTIMED}


@pytest.mark.parametrize("default", [torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("kind", list(RUNS))
def test_a_loaded_run_is_float32_whatever_the_default_dtype(kind: str, default: torch.dtype, tmp_path: Path,
                                                             default_dtype: None) -> None:
    make, shape = RUNS[kind]
    folder = make(tmp_path / "run")
    x = torch.rand((40, *shape), generator=torch.Generator().manual_seed(2))
    expected = load_checkpoint(str(folder))
    expected_record = record(expected, x)
    torch.set_default_dtype(default)
    got = load_checkpoint(str(folder))
    torch.set_default_dtype(torch.float32)
    assert {n: p.dtype for n, p in got.model.named_parameters()} == {n: torch.float32 for n, _ in got.model.named_parameters()}
    assert got.model.prior_variance().dtype == torch.float32
    assert record(got, x) == expected_record


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32, torch.float64])
def test_a_cast_runs_learned_prior_variance_is_the_exponential_of_its_log_a2(dtype: torch.dtype, tmp_path: Path) -> None:
    # exp in bfloat16 rounds a_h^2 by up to 2^-9, the same at every pass and point: H_prior moves by a bias.
    model = load_checkpoint(str(mlp_run(tmp_path / "run"))).model.to(dtype)
    assert model.log_a2 is not None
    exact = model.log_a2.detach().double().exp()
    got = model.prior_variance()
    assert got.dtype in (torch.float32, torch.float64) and got.device == model.log_a2.device
    assert torch.allclose(got.double(), exact, rtol=2 * torch.finfo(got.dtype).eps, atol=0)

"""The mean-field gap of a Gaussian decoder: exact on linear decoders, zero where W's columns are orthogonal,
and the user's modules and random state untouched by computing it."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

from conftest import REPO
from vae_lens import Diagnostics


def exact_gap(w: torch.Tensor, s2: torch.Tensor, a2: torch.Tensor) -> float:
    lam = w.T @ torch.diag(1.0 / s2) @ w + torch.diag(1.0 / a2)
    return float(0.5 * (torch.log(torch.diagonal(lam)).sum() - torch.logdet(lam)))


class Linear(torch.nn.Module):
    def __init__(self, w: torch.Tensor, log_s2: torch.Tensor) -> None:
        super().__init__()
        D, H = w.shape
        self.enc = torch.nn.Linear(D, 2 * H).double()
        self.w = torch.nn.Parameter(w)
        self.log_s2 = torch.nn.Parameter(log_s2)
        self.H = H

    def encode(self, x: torch.Tensor):
        out = self.enc(x)
        return out[:, : self.H], out[:, self.H:]

    def decode(self, z: torch.Tensor):
        return z @ self.w.T, self.log_s2


@pytest.mark.parametrize("variance", ["scalar", "per-dimension"])
@pytest.mark.parametrize("prior", [None, torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)])
def test_linear_decoder_gap_is_exact(variance: str, prior) -> None:
    g = torch.Generator().manual_seed(1)
    D, H = 6, 3
    w = torch.randn(D, H, generator=g, dtype=torch.float64)
    log_s2 = torch.log(torch.full((1,) if variance == "scalar" else (D,), 0.2, dtype=torch.float64))
    if variance == "per-dimension":
        log_s2 = log_s2 + 0.3 * torch.randn(D, generator=g, dtype=torch.float64)
    model = Linear(w, log_s2)
    x = torch.randn(300, D, generator=g, dtype=torch.float64)
    r = Diagnostics(model.encode, model.decode, x, samples=2, write=False, prior_variance=prior).diagnose(0, 0)
    s2 = torch.exp(log_s2).expand(D)
    expected = exact_gap(w, s2, prior if prior is not None else torch.ones(H, dtype=torch.float64))
    assert expected > 0.05
    assert r["meanFieldGap"] == pytest.approx(expected, rel=1e-6)
    assert r["meanFieldPoints"] == 128
    assert r["decoderLinear"] is True
    # Blocks of one point (2H rows) give the same gap as the default blocks.
    small = Diagnostics(model.encode, model.decode, x, samples=2, write=False, prior_variance=prior, block_rows=2 * 3).diagnose(0, 0)
    assert small["meanFieldGap"] == pytest.approx(r["meanFieldGap"], rel=1e-12)


def test_orthogonal_columns_leave_no_gap_and_the_users_state_is_kept() -> None:
    D, H = 6, 3
    w = torch.zeros(D, H, dtype=torch.float64)
    for h in range(H):
        w[h, h] = 1.0 + h
    model = Linear(w, torch.tensor([0.0], dtype=torch.float64))
    model.train()
    x = torch.randn(50, D, dtype=torch.float64)
    torch.manual_seed(5)
    before = torch.get_rng_state()
    r = Diagnostics(model.encode, model.decode, x, samples=2, write=False).diagnose(0, 0)
    assert r["meanFieldGap"] == pytest.approx(0.0, abs=1e-10)
    assert r["meanFieldPoints"] == 50
    assert model.training, "train mode restored"
    assert torch.equal(torch.get_rng_state(), before), "the global generator is not advanced"


def test_a_nonlinear_decoder_is_not_called_linear() -> None:
    g = torch.Generator().manual_seed(2)
    enc = torch.nn.Linear(5, 4).double()
    dec = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 5)).double()
    x = torch.randn(80, 5, generator=g, dtype=torch.float64)
    r = Diagnostics(lambda v: tuple(enc(v).chunk(2, 1)), lambda z: (dec(z), torch.zeros(1, dtype=torch.float64)), x, samples=2, write=False).diagnose(0, 0)
    assert r["decoderLinear"] is False
    assert r["meanFieldGap"] >= 0


def test_many_latents_read_fewer_points_by_the_trainers_rule() -> None:
    from vae_lens._meanfield import mean_field_points

    assert [mean_field_points(3000, 3), mean_field_points(60, 3), mean_field_points(4096, 20), mean_field_points(4096, 200)] == [128, 60, 51, 16]


def test_a_variance_that_varies_with_z_is_not_a_linear_gaussian_decoder() -> None:
    g = torch.Generator().manual_seed(3)
    D, H = 5, 2
    w = torch.randn(D, H, generator=g, dtype=torch.float64)
    v = torch.randn(D, H, generator=g, dtype=torch.float64)
    enc = torch.nn.Linear(D, 2 * H).double()
    x = torch.randn(60, D, generator=g, dtype=torch.float64)
    r = Diagnostics(lambda t: tuple(enc(t).chunk(2, 1)), lambda z: (z @ w.T, 0.3 * z @ v.T - 1.0), x, samples=2, write=False).diagnose(0, 0)
    assert r["decoderLinear"] is False


def test_non_gaussian_decoders_have_no_gap() -> None:
    enc = torch.nn.Linear(4, 4)
    dec = torch.nn.Linear(2, 4)
    x = (torch.rand(40, 4) > 0.5).float()
    r = Diagnostics(lambda v: tuple(enc(v).chunk(2, 1)), dec, x, samples=2, write=False, likelihood="bernoulli").diagnose(0, 0)
    assert "meanFieldGap" not in r
    assert np.isfinite(r["elbo"])


@pytest.mark.parametrize("block_rows", [1, 5, 16])
def test_the_decoder_is_never_asked_for_more_rows_than_block_rows(block_rows: int) -> None:
    # The gap's finite differences take 2H decoder rows a point: with many latents, more than block_rows, the
    # user's bound on what the decoder may run at once (a convolutional decoder's activations). Asked in pieces,
    # the gap is the same.
    g = torch.Generator().manual_seed(1)
    D, H = 6, 8
    model = Linear(torch.randn(D, H, generator=g, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))
    asked = []

    def decode(z: torch.Tensor):
        asked.append(z.shape[0])
        return model.decode(z)

    x = torch.randn(40, D, generator=g, dtype=torch.float64)
    whole = Diagnostics(model.encode, model.decode, x, samples=1, write=False).diagnose(0, 0)
    r = Diagnostics(model.encode, decode, x, samples=1, write=False, modules=[model], block_rows=block_rows).diagnose(0, 0)
    assert max(asked) <= block_rows
    assert r["meanFieldGap"] == pytest.approx(whole["meanFieldGap"], rel=1e-9) and r["decoderLinear"] is True


@pytest.mark.parametrize("out_offset", [0.0, 255.0, 1e4])
@pytest.mark.parametrize("latent_offset", [0.0, 1e3, 1e5])
@pytest.mark.parametrize("spread", [1.0, 100.0])
def test_a_float32_linear_decoder_far_from_the_origin_is_linear(out_offset: float, latent_offset: float, spread: float) -> None:
    # Raw pixels, offsets and large latent means: float32 rounds the means the differences are taken of.
    g = torch.Generator().manual_seed(9)
    D, H, n = 20, 3, 50
    w = spread * torch.randn(D, H, generator=g)
    enc = torch.nn.Linear(D, 2 * H)
    with torch.no_grad():
        enc.weight.mul_(0.01)
        enc.bias[:H] = latent_offset
        enc.bias[H:] = -3.0
    s2 = 0.2 * spread * spread
    x = out_offset + spread * torch.randn(n, D, generator=g)
    r = Diagnostics(lambda v: tuple(enc(v).chunk(2, 1)), lambda z: (z @ w.T + out_offset, torch.tensor([math.log(s2)])), x,
                    samples=2, write=False).diagnose(0, 0)
    assert r["decoderLinear"] is True
    expected = exact_gap(w.double(), torch.full((D,), s2, dtype=torch.float64), torch.ones(H, dtype=torch.float64))
    # The outputs' own float32 rounding bounds what a difference over a step of 1e-2 can see.
    outputs = out_offset + spread * (1 + H * latent_offset)
    assert r["meanFieldGap"] == pytest.approx(expected, rel=2e-3 + 2 ** -23 * outputs / (spread * 1e-2))


def test_above_the_trainers_latent_limit_the_gap_is_left_out_as_the_trainer_leaves_it_out() -> None:
    # The trainer skips the gap above MAX_MEAN_FIELD_LATENTS (its H^3 work per point outlasts the pass: 12 s a pass at
    # 1024 latents here); the companion computed it at any count, so the two wrote different records of one model.
    import re

    from vae_lens._meanfield import MAX_MEAN_FIELD_LATENTS, mean_field_points

    with open(os.path.join(REPO, "src", "train", "evidence.ts")) as f:
        assert int(re.search(r"MAX_MEAN_FIELD_LATENTS = (\d+)", f.read()).group(1)) == MAX_MEAN_FIELD_LATENTS
    for H in (MAX_MEAN_FIELD_LATENTS + 1, 300, 512, 4096):
        assert mean_field_points(4096, H) == 0, H
    assert mean_field_points(4096, MAX_MEAN_FIELD_LATENTS) == 16
    for H, left_out in ((MAX_MEAN_FIELD_LATENTS, False), (MAX_MEAN_FIELD_LATENTS + 1, True), (400, True)):
        g = torch.Generator().manual_seed(H)
        enc, dec = torch.nn.Linear(3, 2 * H), torch.nn.Linear(H, 3)
        rows = []

        def decode(z: torch.Tensor):  # type: ignore[no-untyped-def]
            rows.append(z.shape[0])
            return dec(z), torch.zeros(1)

        x = torch.randn(20, 3, generator=g)
        r = Diagnostics(lambda v: tuple(enc(v).chunk(2, 1)), decode, x, samples=1, write=False, modules=[enc, dec]).diagnose(0, 0)
        assert all(k not in r for k in ("meanFieldGap", "meanFieldPoints", "decoderLinear")) == left_out, H
        if left_out:
            assert sum(rows) == 20, rows  # the pass's rows alone: no decoder call for a gap left out

"""The record's formulas: a case computed by hand, and every variant against a direct, per-sample
transcription of src/core/entropy.ts (decompose, monteCarloStdErr, dataStdErr)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics
from vae_lens._pass import block_noise, blocks
from vae_lens._record import PassSums, finish_record

LOG_2PI = math.log(2 * math.pi)
LOG_2PIE = LOG_2PI + 1


def test_hand_computed_case() -> None:
    # q(z|x) = N(0, 1) and p(x|z) = N(0, 1) for every x: KL = 0, H_enc = H_prior, and
    # log p(x|z) = -1/2 (D log 2 pi + |x|^2) whatever the noise.
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    encode = lambda x: (torch.zeros(x.shape[0], 3), torch.zeros(x.shape[0], 3))  # noqa: E731
    decode = lambda z: (torch.zeros(z.shape[0], 2), torch.zeros(1))  # noqa: E731
    r = Diagnostics(encode, decode, x, samples=3, write=False, modules=[]).diagnose(0, 0)
    ll = [-0.5 * (2 * LOG_2PI + 5.0), -0.5 * (2 * LOG_2PI + 25.0)]
    assert r["elbo"] == pytest.approx(sum(ll) / 2, abs=1e-12)
    assert r["kl"] == pytest.approx(0.0, abs=1e-12)
    assert r["hEnc"] == pytest.approx(1.5 * LOG_2PIE, abs=1e-12)
    assert r["hPrior"] == pytest.approx(1.5 * LOG_2PIE, abs=1e-12)
    assert r["hDec"] == pytest.approx(LOG_2PIE, abs=1e-12)
    # s*_d^2 = mean_n x_nd^2 = (5, 10); s^2 = 1: R_dec = 1/2 (1 - 5) + 1/2 (1 - 10)
    assert r["sigma2Opt"] == pytest.approx(7.5, abs=1e-12)
    assert r["rDec"] == pytest.approx(-6.5, abs=1e-12)
    assert r["rPrior"] == pytest.approx(0.0, abs=1e-12)
    assert r["latentSecondMoment"] == pytest.approx([1, 1, 1], abs=1e-12)
    assert r["collapsedLatents"] == [0, 1, 2]
    # No noise reaches the ELBO: the Monte-Carlo error is 0, the spread over points is |ll0 - ll1| / 2.
    assert r["elboStdErr"] == pytest.approx(0.0, abs=1e-12)
    assert r["elboStdErrData"] == pytest.approx(abs(ll[0] - ll[1]) / 2, abs=1e-12)
    # Moving s^2 = 1 to the scalar optimum 7.5 gains D/2 (log(1/7.5) + 7.5 - 1).
    assert r["elboAtOptVariance"] == pytest.approx(r["elbo"] + (math.log(1 / 7.5) + 6.5), abs=1e-12)
    assert r["gap"] == pytest.approx(r["rDec"] + r["rPrior"], abs=1e-12)


def reference(model: TinyVae, x: torch.Tensor, samples: int, block_rows: int, pass_id: int, seed: int) -> dict:
    """entropy.ts's decompose, line by line, on per-sample arrays (no sums trick)."""
    N, D = x.shape
    with torch.no_grad():
        nu, lt2 = (t.double() for t in model.encode(x))
        H = nu.shape[1]
        a2 = model.prior_variance().double() if model.log_a2 is not None else torch.ones(H, dtype=torch.float64)
        per = max(1, block_rows // samples)
        eps = torch.cat([block_noise(seed, pass_id, c, (hi - lo) * samples, H) for c, (lo, hi) in enumerate(blocks(N, per))])
        z = (nu.repeat_interleave(samples, 0) + (0.5 * lt2).exp().repeat_interleave(samples, 0) * eps)
        mu, lv = model.decode(z.float())
        mu, lv = mu.double().numpy(), lv.double().numpy()
    nu, lt2, a2 = nu.numpy(), lt2.numpy(), a2.numpy()
    xs = np.repeat(x.double().numpy(), samples, 0)
    lv = np.broadcast_to(lv.reshape(1, -1) if lv.shape[0] != N * samples else lv, (N * samples, D))
    sq = (xs - mu) ** 2
    loglik = -0.5 * np.sum(LOG_2PI + lv + sq / np.exp(lv), 1)
    kl_lat = 0.5 * (np.log(a2) - lt2 + (np.exp(lt2) + nu**2) / a2 - 1)
    kl = kl_lat.sum(1)
    elbo_ns = loglik - np.repeat(kl, samples)
    h_enc_n = 0.5 * (H * LOG_2PIE + lt2.sum(1))
    h_prior = np.sum(0.5 * (LOG_2PIE + np.log(a2)))
    h_dec_ns = 0.5 * np.sum(LOG_2PIE + lv, 1)
    gap_ns = elbo_ns - (np.repeat(h_enc_n, samples) - h_prior - h_dec_ns)
    m = np.mean(nu**2 + np.exp(lt2), 0)

    def mc(v: np.ndarray) -> float:
        v = v.reshape(N, samples)
        return math.sqrt(np.sum(v.var(1, ddof=1) / samples)) / N

    def data(v: np.ndarray) -> float:
        p = v.reshape(N, samples).mean(1)
        return math.sqrt(np.sum((p - p.mean()) ** 2) / (N - 1) / N)

    out = {"elbo": elbo_ns.mean(), "hEnc": h_enc_n.mean(), "hPrior": h_prior, "hDec": h_dec_ns.mean(),
           "rPrior": np.sum(0.5 * (1 - m / a2)), "elboStdErr": mc(elbo_ns), "elboStdErrData": data(elbo_ns),
           "gapStdErr": mc(gap_ns), "latentSecondMoment": m, "klPerLatent": kl_lat.mean(0),
           "sigma2Opt": sq.mean()}
    if model.variance == "latent":
        out["rDec"] = 0.5 * D - 0.5 * np.mean(np.sum(sq / np.exp(lv), 1))
        out["sigma2"] = np.exp(lv).mean()
    else:
        s2 = np.exp(lv[0])
        out["rDec"] = np.sum(0.5 * (1 - sq.mean(0) / s2))
        out["sigma2"] = s2.mean()
    return out


@pytest.mark.parametrize("variance,prior", [("scalar", False), ("per-dimension", False), ("scalar", True), ("latent", False), ("per-dimension", True)])
def test_matches_a_per_sample_transcription_of_entropy_ts(variance: str, prior: bool, data: torch.Tensor) -> None:
    model = TinyVae(variance=variance, learned_prior=prior).eval()
    samples, rows = 3, 48
    d = Diagnostics(model.encode, model.decode, data, samples=samples, block_rows=rows, seed=5, write=False,
                    prior_variance=model.prior_variance if prior else None)
    r = d.diagnose(4, 40)
    ref = reference(model, data, samples, rows, 4, 5)
    # The package does the per-pixel arithmetic in the model's dtype (float32 here) and sums in
    # float64; the reference does everything in float64: they agree to float32 rounding.
    for k, v in ref.items():
        assert np.allclose(r[k], v, rtol=2e-6, atol=1e-8), (k, r[k], v)
    assert r["gap"] == pytest.approx(r["rDec"] + r["rPrior"], abs=1e-10)
    assert r["entropySum"] == pytest.approx(r["hEnc"] - r["hPrior"] - r["hDec"], abs=1e-12)
    assert (r["elboAtOptVariance"] is None) == (variance == "latent")


@pytest.mark.parametrize("variance", ["scalar", "per-dimension", "latent", "fixed"])
def test_identity_elbo_minus_sum_is_r_dec_plus_r_prior(variance: str, data: torch.Tensor) -> None:
    for seed in range(3):
        model = TinyVae(variance="scalar" if variance == "fixed" else variance, learned_prior=seed == 1, seed=seed)
        d = Diagnostics(model.encode, model.decode, data, samples=1 + seed, seed=seed, write=False,
                        fixed_variance=variance == "fixed", prior_variance=model.prior_variance if seed == 1 else None)
        r = d.diagnose(1, 1)
        assert r["elbo"] - r["entropySum"] == pytest.approx(r["rDec"] + r["rPrior"], abs=1e-9)
        assert r["theoremApplies"] is (variance != "fixed")


def test_elbo_at_optimal_variance_is_never_below_the_elbo(data: torch.Tensor) -> None:
    for variance in ("scalar", "per-dimension"):
        r = Diagnostics(*(lambda m: (m.encode, m.decode))(TinyVae(variance=variance)), data, write=False).diagnose(0, 0)
        assert r["elboAtOptVariance"] >= r["elbo"] - 1e-12


def test_one_sample_per_point_uses_the_spread_over_points(data: torch.Tensor) -> None:
    m = TinyVae()
    r = Diagnostics(m.encode, m.decode, data, samples=1, write=False).diagnose(0, 0)
    assert r["elboStdErr"] == pytest.approx(r["elboStdErrData"], rel=1e-12)


@pytest.mark.parametrize("variance_kind", ["scalar", "per-dimension"])
def test_a_dimension_reconstructed_exactly_gives_no_bounded_gain_and_no_numpy_warning(variance_kind: str) -> None:
    sums = PassSums(latent_dim=2, dim=3, samples=2, n=4.0, log_lik=-10.0, kl=2.0, log_t2=-3.0, elbo_point=-6.0,
                    elbo_point_sq=10.0, elbo_mc_var=0.1, gap_point=1.0, gap_point_sq=1.0, gap_mc_var=0.1,
                    kl_per_latent=np.ones(2), second_moment=np.full(2, 4.0),
                    sq_err=np.array([0.0, 0.0, 0.0]) if variance_kind == "scalar" else np.array([0.0, 1.0, 2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record = finish_record(sums, variance_kind, [0.5] if variance_kind == "scalar" else [0.5, 0.5, 0.5], np.ones(2))
    assert record["elboAtOptVariance"] is None or not math.isfinite(record["elboAtOptVariance"])
    assert math.isfinite(record["elbo"]) and math.isfinite(record["gap"])

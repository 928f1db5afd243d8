"""Encoders whose second output is a standard deviation or a variance: said with `encoder_scale`, or warned about."""
from __future__ import annotations

import warnings

import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError

#: The log-variance's other forms, as encoders give them.
FORMS = {
    "log_variance": lambda lv: lv,
    "variance": lambda lv: lv.exp(),
    "std": lambda lv: (0.5 * lv).exp(),
    "log_std": lambda lv: 0.5 * lv,
}


class ScaleVae(TinyVae):
    """TinyVae (the same weights for the same seed) whose encoder returns (mean, `form` of its log-variance)."""

    def __init__(self, form: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.form = form

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        mean, log_var = super().encode(x)
        return mean, FORMS[self.form](log_var)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("variance,learned_prior", [("scalar", False), ("per-dimension", True), ("latent", False)])
@pytest.mark.parametrize("form", ["variance", "std", "log_std", "log_variance"])
def test_a_scale_said_is_read_as_the_log_variance_it_stands_for(data, form: str, variance: str, learned_prior: bool,
                                                               dtype: torch.dtype) -> None:
    kw = dict(variance=variance, learned_prior=learned_prior)
    want_model, got_model = TinyVae(**kw).to(dtype), ScaleVae(form, **kw).to(dtype)
    x = data.to(dtype)

    def lens(m: TinyVae, **extra) -> Diagnostics:  # type: ignore[no-untyped-def]
        return Diagnostics(m.encode, m.decode, x, write=False, samples=3, modules=m,
                           prior_variance=m.prior_variance if learned_prior else None, **extra)

    want = lens(want_model).diagnose(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = lens(got_model, encoder_scale=form).diagnose(1, 1)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    for k in ("elbo", "gap", "entropySum", "hEnc", "hDec", "hPrior", "kl", "logLik", "rDec", "rPrior", "meanFieldGap"):
        if k in want:
            assert got[k] == pytest.approx(want[k], rel=tol, abs=tol), k
    for k in ("klPerLatent", "latentSecondMoment"):
        assert got[k] == pytest.approx(want[k], rel=tol, abs=tol), k


@pytest.mark.parametrize("form", ["std", "variance"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_scale_read_as_a_log_variance_is_warned_about_once(data, form: str, seed: int) -> None:
    m = ScaleVae(form, seed=seed)
    lens = Diagnostics(m.encode, m.decode, data, write=False)
    with pytest.warns(UserWarning, match=r"looks like a standard deviation or a variance\. Pass encoder_scale='std' or 'variance'"):
        lens.diagnose(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lens.diagnose(2, 2)  # once
        Diagnostics(m.encode, m.decode, data, write=False, encoder_scale="log_variance").diagnose(1, 1)  # said: not warned


def _loss(m: TinyVae, x: torch.Tensor, beta: float) -> torch.Tensor:
    mean, log_var = m.encode(x)
    z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
    mu, log_s2 = m.decode(z)
    nll = 0.5 * ((x - mu) ** 2 / log_s2.exp() + log_s2).sum()
    prior = m.log_a2 if m.log_a2 is not None else torch.zeros(())
    return nll + beta * 0.5 * ((log_var.exp() + mean ** 2) / prior.exp() - 1 - log_var + prior).sum()


@pytest.mark.parametrize("latent", [1, 2, 4])
@pytest.mark.parametrize("learned_prior,beta", [(False, 1.0), (True, 1.0), (False, 8.0), (True, 8.0)])
def test_log_variance_encoders_in_training_are_not_warned_about(data, latent: int, learned_prior: bool, beta: float) -> None:
    # Before training, while the KL pulls posteriors to the prior (beta = 8 collapses latents), and after:
    # a log-variance encoder never looks like a scale.
    torch.manual_seed(latent)
    m = TinyVae(latent=latent, learned_prior=learned_prior, seed=latent)
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    lens = Diagnostics(m.encode, m.decode, data, write=False, prior_variance=m.prior_variance if learned_prior else None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in range(8):
            lens.diagnose(epoch, epoch * 10)
            for _ in range(10):
                opt.zero_grad()
                _loss(m, data, beta).backward()
                opt.step()


@pytest.mark.parametrize("given", ["logvar", "sigma", "Std", "", 2])
def test_an_encoder_scale_that_is_not_one_lists_the_choices(given: object) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=r"encoder_scale .* one of 'log_variance', 'variance', 'std', 'log_std'; got"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, encoder_scale=given)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["std", "variance"])
def test_a_scale_said_that_is_not_positive_is_named(data, form: str) -> None:
    m = TinyVae()  # returns log-variances, some negative
    with pytest.raises(VaeLensInputError, match=rf"encode \(.*\): {form} of shape \(\d+, 2\) has \d+ values of 0 or less.*"
                                                rf"encoder_scale='{form}'.*pass encoder_scale='log_variance'"):
        Diagnostics(m.encode, m.decode, data, write=False, encoder_scale=form).diagnose(1, 1)


class LowPrecisionScales(torch.nn.Module):
    """An encoder whose outputs come in ``dtype`` (a bfloat16 or float16 network's), its standard deviations
    ``scale`` for every point and latent (a posterior width shared by the points: its rounding does not average
    out over them), as a Normal or as (mean, std)."""

    def __init__(self, dtype: torch.dtype, scale: float, normal: bool) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(4)
        self.enc = torch.nn.Linear(5, 8)
        self.dec = torch.nn.Linear(8, 5)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        self.dtype, self.scale, self.normal = dtype, scale, normal

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        mean = self.enc(x.float()).to(self.dtype)
        std = torch.full_like(mean, self.scale)
        return torch.distributions.Normal(mean, std, validate_args=False) if self.normal else (mean, std)

    def decode(self, z: torch.Tensor):  # type: ignore[no-untyped-def]
        return self.dec(z.float()).to(self.dtype), torch.zeros(1, dtype=self.dtype)


@pytest.mark.parametrize("scale", [0.1, 0.37, 1.3, 2.9])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_low_precision_normal_is_read_as_exactly_as_its_standard_deviations(data, dtype: torch.dtype, scale: float) -> None:
    # The log of a bfloat16 scale rounded in bfloat16 moves log t^2 by up to 2^-7 per latent, the same for every
    # point: H_enc, the KL and the gap by a bias that a 1e-3 relative gap would drown in.
    normal, pair = LowPrecisionScales(dtype, scale, True), LowPrecisionScales(dtype, scale, False)
    got = Diagnostics(normal.encode, normal.decode, data, write=False, modules=[normal], dtype=dtype).diagnose(1, 1)
    said = Diagnostics(pair.encode, pair.decode, data, write=False, modules=[pair], dtype=dtype, encoder_scale="std").diagnose(1, 1)
    for key in ("elbo", "hEnc", "entropySum", "gap", "kl", "rPrior"):
        assert got[key] == pytest.approx(said[key], rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("form", ["std", "variance"])
@pytest.mark.parametrize("log_var", [-250.0, -1e4])
def test_a_scale_that_underflowed_to_zero_is_named_as_such(data, form: str, log_var: float) -> None:
    # A posterior so narrow that its std or variance rounds to 0 in float32: not a log-variance passed by mistake.
    m = TinyVae()

    def encode(x: torch.Tensor):  # type: ignore[no-untyped-def]
        mean, lv = m.encode(x)
        lv = lv.clone()
        lv[0, 0] = log_var
        return mean, FORMS[form](lv)

    with pytest.raises(VaeLensInputError, match=rf"encode \(.*\): {form} of shape \(\d+, 2\) has 1 value of exactly 0 \(the first at index \[0, 0\]\) and none below.*"
                                                r"underflowed.*return its logarithm.*encoder_scale='log_"):
        Diagnostics(encode, m.decode, data, write=False, encoder_scale=form).diagnose(1, 1)

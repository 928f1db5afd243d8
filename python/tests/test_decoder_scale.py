"""Decoders whose second output is a standard deviation, a variance or a log-std, said with `decoder_scale`."""
from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any, Dict

import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError

#: The log-variance's other forms, as decoders give them (a number stays a number).
FORMS = {
    "log_variance": lambda lv: lv,
    "variance": lambda lv: lv.exp() if isinstance(lv, torch.Tensor) else math.exp(lv),
    "std": lambda lv: (0.5 * lv).exp() if isinstance(lv, torch.Tensor) else math.exp(0.5 * lv),
    "log_std": lambda lv: 0.5 * lv,
}

#: Every kind of decoder variance the pass reads: TinyVae's variance, and how its decode is reshaped.
KINDS = {
    "scalar": ("scalar", False),
    "per-dimension": ("per-dimension", False),
    "per-element": ("latent", False),  # VAE-3: one variance per value of each decoded row
    "per-row": ("latent", False),  # [rows, 1]: one variance per decoded row
    "number": ("scalar", False),  # a fixed variance written as a Python number
    "fixed": ("scalar", True),
}


class DecoderScaleVae(TinyVae):
    """TinyVae (the same weights for the same seed) whose decoder returns (mean, `form` of its log-variance)."""

    def __init__(self, form: str, kind: str, **kwargs: Any) -> None:
        super().__init__(variance=KINDS[kind][0], **kwargs)
        self.form, self.kind = form, kind

    def decode(self, z: torch.Tensor):  # type: ignore[no-untyped-def]
        mean, log_var = super().decode(z)
        if self.kind == "per-row":
            log_var = log_var.mean(-1, keepdim=True)
        if self.kind == "number":
            log_var = -0.7
        return mean, FORMS[self.form](log_var)


RECORD_KEYS = ("elbo", "gap", "entropySum", "hEnc", "hDec", "hPrior", "kl", "logLik", "rDec", "rPrior", "sigma2", "sigma2Opt",
               "elboAtOptVariance", "meanFieldGap")


def _records_agree(got: Dict[str, Any], want: Dict[str, Any], tol: float) -> None:
    for k in RECORD_KEYS:
        assert (k in got) == (k in want), k
        if k in want:
            assert got[k] == pytest.approx(want[k], rel=tol, abs=tol), k
    assert got["decoderLinear"] == want["decoderLinear"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("form", ["variance", "std", "log_std", "log_variance"])
def test_a_decoder_scale_said_is_read_as_the_log_variance_it_stands_for(data, form: str, kind: str, dtype: torch.dtype) -> None:
    fixed = KINDS[kind][1]
    want_model, got_model = DecoderScaleVae("log_variance", kind).to(dtype), DecoderScaleVae(form, kind).to(dtype)
    x = data.to(dtype)

    def lens(m: TinyVae, **extra: Any) -> Diagnostics:
        return Diagnostics(m.encode, m.decode, x, write=False, samples=3, modules=m, fixed_variance=fixed, **extra)

    want = lens(want_model).diagnose(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = lens(got_model, decoder_scale=form).diagnose(1, 1)
    _records_agree(got, want, 1e-5 if dtype == torch.float32 else 1e-10)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("form", ["variance", "std", "log_std"])
def test_a_learned_prior_and_a_scale_encoder_too(data, form: str, seed: int) -> None:
    # Both networks' scales said at once, under a learned prior, with the averaged weights evaluated.
    want_model = DecoderScaleVae("log_variance", "per-element", learned_prior=True, seed=seed).double()
    got_model = DecoderScaleVae(form, "per-element", learned_prior=True, seed=seed).double()
    got_encode = lambda v: (lambda m, lv: (m, (0.5 * lv).exp()))(*got_model.encode(v))  # noqa: E731
    records = []
    for m, extra in ((want_model, {}), (got_model, {"decoder_scale": form, "encoder_scale": "std"})):
        lens = Diagnostics(got_encode if extra else m.encode, m.decode, data.double(), write=False, modules=m,
                           prior_variance=m.prior_variance, **extra)
        lens.step()
        records.append(lens.diagnose(1, 1))
    want, got = records
    _records_agree(got, want, 1e-10)
    assert got["averagedElbo"] == pytest.approx(want["averagedElbo"], rel=1e-10)


@pytest.mark.parametrize("form", ["variance", "std", "log_std"])
def test_the_images_of_a_scale_decoder_are_those_of_its_log_variance_twin(tmp_path, monkeypatch, form: str) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    x = torch.rand(40, 1, 4, 4, generator=torch.Generator().manual_seed(5))
    shown = []
    for f, extra in (("log_variance", {}), (form, {"decoder_scale": form})):
        m = DecoderScaleVae(f, "per-element", dim=16)
        with Diagnostics(lambda v: m.encode(v.flatten(1)), m.decode, x, runs_dir=str(tmp_path / f), modules=m, **extra) as lens:
            record = lens.diagnose(1, 1)
        shown.append((record["elbo"], json.load(open(os.path.join(lens.run_dir, "images.json")))))
    assert shown[1][0] == pytest.approx(shown[0][0], rel=1e-5)
    assert shown[1][1] == shown[0][1]


@pytest.mark.parametrize("given", ["logvar", "sigma", "Std", "", 2, "log-variance"])
def test_a_decoder_scale_that_is_not_one_lists_the_choices(given: object) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=r"^decoder_scale .* one of 'log_variance', 'variance', 'std', 'log_std'; got"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, decoder_scale=given)  # type: ignore[arg-type]


@pytest.mark.parametrize("likelihood", ["bernoulli", "categorical"])
@pytest.mark.parametrize("given", ["log_variance", "std"])
def test_a_decoder_scale_for_logits_is_refused(likelihood: str, given: str) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=rf"^decoder_scale says .* Gaussian decoder.*likelihood='{likelihood}' decode returns "
                                                r"one tensor of logits or probabilities.*leave decoder_scale out"):
        Diagnostics(m.encode, lambda z: m.decode(z)[0], torch.rand(10, 5).round(), write=False, likelihood=likelihood,
                    decoder_scale=given)


@pytest.mark.parametrize("kind", ["scalar", "per-dimension", "per-element", "number"])
@pytest.mark.parametrize("form", ["std", "variance"])
def test_a_decoder_scale_said_that_is_not_positive_is_named(data, form: str, kind: str) -> None:
    m = DecoderScaleVae("log_variance", kind)  # log-variances, some of them (or the number, -0.7) negative
    with pytest.raises(VaeLensInputError, match=rf"^decode \(.*\): {form} of shape \(.*\) has \d+ values of 0 or less \(the smallest .*\), "
                                                rf"but decoder_scale='{form}' says it is a .*, which is positive; if the decoder "
                                                r"returns a log-variance, pass decoder_scale='log_variance'"):
        Diagnostics(m.encode, m.decode, data, write=False, modules=m, decoder_scale=form).diagnose(1, 1)


@pytest.mark.parametrize("form", ["std", "variance", "log_std"])
def test_a_decoder_output_of_the_wrong_shape_is_named_by_its_scale(data, form: str) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=rf"decode \(.*\) returned {form} of shape \(3,\)"):
        Diagnostics(m.encode, lambda z: (m.decode(z)[0], torch.ones(3)), data, write=False, modules=m, decoder_scale=form).diagnose(1, 1)
    with pytest.raises(VaeLensInputError, match=rf"decode \(.*\) must return \(mean, {form}\) for a Gaussian decoder"):
        Diagnostics(m.encode, lambda z: m.decode(z)[0], data, write=False, modules=m, decoder_scale=form).diagnose(1, 1)


@pytest.mark.parametrize("form,bad", [("std", float("nan")), ("log_variance", float("nan")), ("log_std", float("nan")),
                                      ("std", 0.0), ("std", -0.5), ("variance", 0.0), ("variance", -2.0)])
def test_a_decoder_variance_not_finite_at_the_encoder_means_only_leaves_the_mean_field_gap_out(data, form: str, bad: float) -> None:
    # The pass checks the variance at its samples; the mean-field gap reads it at the encoder means, where a
    # value that is not finite, or a std or variance of 0 or less (no log-variance), leaves the gap out of the
    # record rather than failing a pass already made.
    m = DecoderScaleVae(form, "per-element")
    means = set()

    def decode(z: torch.Tensor):  # type: ignore[no-untyped-def]
        mean, second = m.decode(z)
        if any(tuple(row.tolist()) in means for row in z):
            second = second.clone()
            second[0, 0] = bad
        return mean, second

    def encode(x: torch.Tensor):  # type: ignore[no-untyped-def]
        mean, log_var = m.encode(x)
        means.update(tuple(row.tolist()) for row in mean.double())
        return mean, log_var

    record = Diagnostics(encode, decode, data, write=False, modules=m, decoder_scale=form).diagnose(1, 1)
    assert "meanFieldGap" not in record and record["elbo"] == record["elbo"]


@pytest.mark.parametrize("form", ["std", "variance", "log_std"])
@pytest.mark.parametrize("per_dimension", [False, True])
def test_a_bfloat16_scale_gives_the_records_of_its_log_variance_to_float64_precision(data, form: str, per_dimension: bool) -> None:
    # The conversion to a log-variance runs in float64; rounding it back to bfloat16 moved a std of 0.3 to a
    # recorded variance of 0.09015 instead of 0.09047.
    m = TinyVae(variance="per-dimension" if per_dimension else "scalar").to(torch.bfloat16)
    std = (torch.linspace(0.3, 0.9, 5) if per_dimension else torch.tensor([0.3])).to(torch.bfloat16)
    second = {"std": std, "variance": std * std, "log_std": std.log()}[form]
    said = {"std": std.double(), "variance": (std * std).double(), "log_std": std.log().double()}[form]
    want_log_var = {"std": 2.0 * said.log(), "variance": said.log(), "log_std": 2.0 * said}[form]
    x = data.to(torch.bfloat16)
    got = Diagnostics(m.encode, lambda z: (m.decode(z)[0], second), x, write=False, modules=m, decoder_scale=form).diagnose(1, 1)
    givens = [want_log_var] + ([] if per_dimension else [float(want_log_var)])
    for given in givens:
        want = Diagnostics(m.encode, lambda z: (m.decode(z)[0], given), x, write=False, modules=m).diagnose(1, 1)
        _records_agree(got, want, 1e-12)
    assert got["sigma2"] == pytest.approx(float(want_log_var.exp().mean()), rel=1e-12)
    if form == "std" and not per_dimension:
        assert got["sigma2"] == pytest.approx(0.30078125 ** 2, rel=1e-12)  # bfloat16's 0.3, squared


@pytest.mark.parametrize("form,attribute", [("log_variance", "log_var"), ("variance", "var"), ("std", "std"), ("log_std", "log_std")])
def test_a_gaussian_decoder_returning_its_mean_alone_is_shown_the_scale_it_said(data, form: str, attribute: str) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=rf"If it returns the mean alone and the {form} is a parameter of the model, give "
                                                rf"both: decode=lambda z: \(model\.decode\(z\), model\.{attribute}\)\. "):
        Diagnostics(m.encode, lambda z: m.decode(z)[0], data, write=False, modules=m, decoder_scale=form).diagnose(1, 1)

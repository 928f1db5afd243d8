"""Decoder variances at the edges of their dtype: a log-variance of 1e6 or -1e6, exponentials that overflow float32 or
float64, and tiny variances. Each value a record holds is written where it is finite mathematically and float64 can
hold it (H_dec is 1/2 sum_d (log 2 pi e + log s_d^2), read from log s^2 itself), and null only where it cannot."""
from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any, Dict, Tuple

import numpy as np
import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, PassSums, finish_record
from vae_lens._record import LOG_2PIE

#: Log-variances whose exponential overflows or underflows float32 (|lv| > 88), float64 (|lv| > 709), or neither.
LOG_VARIANCES = (1e6, -1e6, 800.0, -800.0, 100.0, -100.0, -69.0, 30.0)
#: TinyVae's variance, and whether it is said to be fixed.
KINDS = {"scalar": ("scalar", False), "per-dimension": ("per-dimension", False), "latent": ("latent", False),
         "fixed": ("scalar", True)}
DTYPES = (torch.float32, torch.float64, torch.bfloat16)


def _held(lv: float, dtype: torch.dtype) -> float:
    """The log-variance as the decoder's dtype holds it (1e6 is 999424 in bfloat16)."""
    return float(torch.tensor(lv, dtype=dtype))


def _lens(kind: str, lv: float, dtype: torch.dtype, x: torch.Tensor, **extra: Any) -> Tuple[Diagnostics, TinyVae]:
    model = TinyVae(variance=KINDS[kind][0]).to(dtype)

    def decode(z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = model.decode(z)
        return mean, torch.full_like(log_var, lv)

    lens = Diagnostics(model.encode, decode, x.to(dtype), samples=2, modules=model, fixed_variance=KINDS[kind][1], **extra)
    return lens, model


def _written(lens: Diagnostics) -> Dict[str, Any]:
    assert lens.run is not None
    with open(os.path.join(lens.run.path, "metrics.jsonl")) as f:
        return json.loads(f.readlines()[-1])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("lv", LOG_VARIANCES)
def test_the_decoder_entropy_of_any_finite_log_variance_is_written_finite(data, tmp_path, lv: float, kind: str,
                                                                          dtype: torch.dtype) -> None:
    lens, _ = _lens(kind, lv, dtype, data, runs_dir=str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a variance far from the data's is warned about; not this test's matter
        lens.diagnose(1, 1)
    record = _written(lens)
    D = data.shape[1]
    held = _held(lv, dtype if dtype != torch.bfloat16 else torch.bfloat16)
    want_h_dec = 0.5 * D * (LOG_2PIE + held)
    assert record["hDec"] == pytest.approx(want_h_dec, rel=1e-12), record
    assert record["hEnc"] is not None and record["hPrior"] is not None
    assert record["meanFieldGap"] is not None and math.isfinite(record["meanFieldGap"])
    if held > 0:
        # A wide decoder: every term is finite (the ELBO is about -D/2 log s^2), and so the gap.
        for k in ("elbo", "logLik", "gap", "entropySum", "rDec", "gapRel"):
            assert record[k] is not None, k
        assert record["rDec"] == pytest.approx(0.5 * D, abs=1e-3)
    if kind != "latent":
        # The ELBO at the optimal variance does not depend on the variance the decoder has now.
        assert record["elboAtOptVariance"] is not None
        at_zero, _ = _lens(kind, 0.0, dtype, data, write=False)
        assert record["elboAtOptVariance"] == pytest.approx(at_zero.diagnose(1, 1)["elboAtOptVariance"], rel=1e-9)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("lv", (100.0, -100.0, -69.0, 80.0, -87.0))
@pytest.mark.parametrize("dtype", (torch.float32, torch.bfloat16), ids=str)
def test_a_low_precision_decoder_gives_the_float64_values_where_its_exponentials_overflow_its_dtype(data, lv: float, kind: str,
                                                                                                    dtype: torch.dtype) -> None:
    # exp(100) overflows float32 and exp(-100) is one of its subnormals; float64 holds both.
    got, model = _lens(kind, lv, dtype, data, write=False)
    want_model = TinyVae(variance=KINDS[kind][0])
    want_model.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    want_model = want_model.double()

    def decode(z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = want_model.decode(z)
        return mean.to(dtype).double(), torch.full_like(log_var, _held(lv, dtype))

    want = Diagnostics(want_model.encode, decode, data.to(dtype).double(), samples=2, modules=want_model, write=False,
                       fixed_variance=KINDS[kind][1]).diagnose(1, 1)
    record = got.diagnose(1, 1)
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    for k in ("elbo", "hDec", "rDec", "sigma2", "logLik"):
        assert math.isfinite(record[k]), k
        assert record[k] == pytest.approx(want[k], rel=tol), k


@pytest.mark.parametrize("kind", ("per-dimension", "latent"))
@pytest.mark.parametrize("lv", (-1e6, -800.0, -200.0))
def test_a_dimension_reconstructed_exactly_under_a_vanishing_variance_adds_nothing_not_nan(lv: float, kind: str) -> None:
    # Dimension 0 is 0 in every point and the decoder's mean there is exactly 0: its error is 0 and 1/s^2 overflows.
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(3))
    x[:, 0] = 0.0
    model = TinyVae(dim=4, variance=KINDS[kind][0])

    def decode(z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = model.decode(z)
        mean = torch.cat([torch.zeros_like(mean[:, :1]), mean[:, 1:]], 1)
        log_var = torch.zeros_like(mean) if kind == "latent" else torch.zeros(4)
        log_var[..., 0] = lv
        return mean, log_var

    record = Diagnostics(model.encode, decode, x, samples=2, modules=model, write=False).diagnose(1, 1)
    for k in ("elbo", "logLik", "hDec", "gap", "rDec"):
        assert math.isfinite(record[k]), (k, record[k])
    # Dimension 0 adds its log-density 1/2 (-log 2 pi - lv) and nothing else.
    rest = Diagnostics(lambda x3: model.encode(torch.cat([torch.zeros_like(x3[:, :1]), x3], 1)),
                       lambda z: tuple(t[..., 1:] for t in decode(z)), x[:, 1:], samples=2, modules=model, write=False).diagnose(1, 1)
    assert record["logLik"] - rest["logLik"] == pytest.approx(-0.5 * (math.log(2 * math.pi) + lv), rel=1e-9)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("lv", (-1e6, -800.0))
def test_a_likelihood_float64_cannot_hold_is_written_null_and_the_entropies_are_not(data, tmp_path, lv: float, kind: str) -> None:
    # s^2 = e^-800 against errors of order 1: log p(x|z) is about -e^800, beyond float64. The ELBO is null, as the
    # TypeScript trainer writes a non-finite value, and the entropies, which do not depend on it, are numbers.
    lens, _ = _lens(kind, lv, torch.float64, data, runs_dir=str(tmp_path))
    with pytest.warns(UserWarning, match="float64 cannot hold"):
        lens.diagnose(1, 1)
    record = _written(lens)
    assert record["elbo"] is None and record["logLik"] is None and record["gap"] is None
    for k in ("hDec", "hEnc", "hPrior", "entropySum", "kl"):
        assert record[k] is not None, k


def _sums(D: int = 3, H: int = 2) -> PassSums:
    sums = PassSums(latent_dim=H, dim=D, samples=2, n=10.0, log_lik=-40.0, kl=5.0, log_t2=-8.0)
    sums.sq_err = np.array([8.0, 2.0, 0.5])[:D] * 20.0
    sums.second_moment = np.full(H, 9.0)
    sums.kl_per_latent = np.full(H, 2.5)
    return sums


@pytest.mark.parametrize("kind", ("fixed", "scalar", "per-dimension"))
@pytest.mark.parametrize("lv", (-3.0, 0.0, 0.7, 12.0))
def test_finish_record_from_the_log_variance_agrees_with_the_variance_where_both_are_finite(kind: str, lv: float) -> None:
    values = [lv] if kind != "per-dimension" else [lv, lv - 1.0, lv + 2.0]
    a = finish_record(_sums(), kind, [math.exp(v) for v in values], np.ones(2))
    b = finish_record(_sums(), kind, None, np.ones(2), decoder_log_variance=values)
    for k, v in a.items():
        if isinstance(v, float):
            assert b[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k


@pytest.mark.parametrize("kind", ("fixed", "scalar", "per-dimension"))
@pytest.mark.parametrize("lv", (1e6, -1e6, 750.0, -750.0))
def test_finish_record_keeps_the_entropy_of_a_log_variance_whose_exponential_float64_cannot_hold(kind: str, lv: float) -> None:
    values = [lv] if kind != "per-dimension" else [lv, lv, lv]
    record = finish_record(_sums(), kind, None, np.ones(2), decoder_log_variance=values)
    assert record["hDec"] == pytest.approx(0.5 * 3 * (LOG_2PIE + lv), rel=1e-12)
    assert math.isfinite(record["elboAtOptVariance"])
    assert record["sigma2"] == (math.inf if lv > 0 else 0.0)
    assert record["rDec"] == (1.5 if lv > 0 else -math.inf)


def _encoder_lens(lv: float, dtype: torch.dtype, x: torch.Tensor) -> Diagnostics:
    model = TinyVae().to(dtype)

    def encode(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = model.encode(x)
        return mean, torch.full_like(log_var, lv)

    return Diagnostics(encode, model.decode, x.to(dtype), samples=2, modules=model, write=False)


@pytest.mark.parametrize("lv, dtype", [(1e6, torch.float32), (1e6, torch.float64), (1500.0, torch.float64),
                                       (700.0, torch.float32), (200.0, torch.float32)], ids=str)
def test_an_encoder_variance_whose_samples_overflow_the_model_is_named_not_the_decoder(data, lv: float, dtype: torch.dtype) -> None:
    with pytest.raises(Exception) as caught:
        _encoder_lens(lv, dtype, data).diagnose(1, 1)
    message = str(caught.value)
    assert caught.type.__name__ == "VaeLensInputError"
    assert message.startswith("encode (_encoder_lens.<locals>.encode) gave fixed point 0"), message
    assert f"log-variance of {lv:.6g}" in message and str(dtype) in message, message


@pytest.mark.parametrize("lv", (-1e6, -800.0, -100.0))
@pytest.mark.parametrize("dtype", (torch.float32, torch.float64), ids=str)
def test_an_encoder_variance_that_underflows_gives_a_finite_record(data, lv: float, dtype: torch.dtype) -> None:
    record = _encoder_lens(lv, dtype, data).diagnose(1, 1)
    assert record["hEnc"] == pytest.approx(0.5 * 2 * (LOG_2PIE + lv), rel=1e-12)
    for k in ("elbo", "kl", "gap", "rPrior", "meanFieldGap"):
        assert math.isfinite(record[k]), k


@pytest.mark.parametrize("kind", ("scalar", "per-dimension", "latent"))
@pytest.mark.parametrize("variance", (1e-30, 1e-40, 1e30, 3e38))
@pytest.mark.parametrize("dtype", (torch.float32, torch.bfloat16), ids=str)
def test_a_variance_said_near_the_limits_of_its_dtype_gives_the_record_of_its_logarithm(data, variance: float, kind: str,
                                                                                      dtype: torch.dtype) -> None:
    # 1e-40 is a float32 subnormal; 3e38 is near float32's largest value, whose inverse is one of its subnormals.
    model = TinyVae(variance=kind)
    held = float(torch.tensor(variance, dtype=dtype))

    def decode(z: torch.Tensor, said: str) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = model.decode(z)
        if said == "variance":
            return mean.to(dtype), torch.full_like(log_var, variance).to(dtype)
        return mean.to(dtype).double(), torch.full_like(log_var, math.log(held), dtype=torch.float64)

    def record(said: str) -> Dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Diagnostics(model.encode, lambda z: decode(z, said), data, samples=2, modules=model, write=False,
                               decoder_scale=said).diagnose(1, 1)

    got, want = record("variance"), record("log_variance")
    # The mean-field gap differences a bfloat16 decoder's means with a longer step than the float64 reference's.
    assert math.isfinite(got["meanFieldGap"]) and math.isfinite(want["meanFieldGap"])
    for k in ("elbo", "hDec", "rDec", "sigma2", "gap", "elboAtOptVariance"):
        assert (got[k] is None) == (want[k] is None), k
        if want[k] is not None:
            assert math.isfinite(got[k]) and got[k] == pytest.approx(want[k], rel=1e-5, abs=1e-9), k


@pytest.mark.parametrize("network", ("encode", "decode"))
@pytest.mark.parametrize("scale", ("std", "variance"))
@pytest.mark.parametrize("value", (1e5, 1e30, math.inf))
def test_a_scale_that_overflowed_its_dtype_is_named_with_the_advice_to_return_its_logarithm(data, network: str, scale: str,
                                                                                            value: float) -> None:
    model = TinyVae()
    keyword = f"{network}r_scale"

    def overflowed(out: Tuple[torch.Tensor, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        # A float16 scale from a network that exponentiates in float16: 1e5 is beyond its largest value, 65504.
        return out[0], torch.full_like(out[1], value).to(torch.float16)

    encode = (lambda x: overflowed(model.encode(x))) if network == "encode" else model.encode
    decode = (lambda z: overflowed(model.decode(z))) if network == "decode" else model.decode
    with pytest.raises(Exception) as caught:
        Diagnostics(encode, decode, data, modules=model, write=False, **{keyword: scale}).diagnose(1, 1)
    assert caught.type.__name__ == "VaeLensInputError"
    message = str(caught.value)
    assert f"overflowed torch.float16" in message and f"{keyword}='log_std' or 'log_variance'" in message, message


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("lv", (-1e6, -800.0))
def test_a_record_float64_cannot_hold_is_said_once_a_run_naming_its_fields(data, lv: float, kind: str) -> None:
    lens, _ = _lens(kind, lv, torch.float64, data, write=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lens.diagnose(1, 1)
        lens.diagnose(2, 2)
    said = [str(w.message) for w in caught if "float64 cannot hold" in str(w.message)]
    assert len(said) == 1, said
    assert said[0].startswith("VAE Lens: the pass at epoch 1 gives elbo, logLik, gap") and "logLik = -inf" in said[0], said[0]


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("lv", (1e6, -100.0, 0.0))
def test_a_record_that_float64_holds_says_nothing(data, lv: float, kind: str) -> None:
    lens, _ = _lens(kind, lv, torch.float64, data, write=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lens.diagnose(1, 1)
    assert not [w for w in caught if "float64 cannot hold" in str(w.message)]


@pytest.mark.parametrize("kind", ("scalar", "per-dimension", "latent"))
@pytest.mark.parametrize("size", (1e20, 1e30))
def test_errors_whose_squares_overflow_float32_are_squared_in_float64(data, size: float, kind: str) -> None:
    # Data of 1e20 against means of order 1: squares of 1e40, beyond float32, under a variance of e^100.
    records = []
    for dtype in (torch.float32, torch.float64):
        model = TinyVae(variance=kind).to(dtype)
        decode = (lambda m: lambda z: (m.decode(z)[0], m.decode(z)[1] + 100.0))(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records.append(Diagnostics(model.encode, decode, (data * size).to(dtype), samples=2, modules=model,
                                       write=False).diagnose(1, 1))
    got, want = records
    for k in ("elbo", "sigma2Opt", "rDec", "gap"):
        assert math.isfinite(got[k]) and got[k] == pytest.approx(want[k], rel=1e-5), k


@pytest.mark.parametrize("dtype", (torch.uint8, torch.int64))
@pytest.mark.parametrize("shape", ((6,), (1, 3, 2)))
def test_unscaled_integer_pixels_that_blow_the_encoders_variance_up_are_named_with_the_likely_cause(dtype: torch.dtype,
                                                                                                   shape: Tuple[int, ...]) -> None:
    # An encoder trained on x / 255 whose log-variance grows with the pixels: handed 0..255 it overflows float32's samples.
    pixels = torch.randint(100, 256, (32, *shape), generator=torch.Generator().manual_seed(0)).to(dtype)

    def encode(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        flat = x.flatten(1).float()
        return flat[:, :2] / 255, flat.sum(1, keepdim=True).expand(-1, 2)

    def decode(z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return (z[:, :1] - z[:, 1:]).expand(-1, 6).reshape(-1, *shape), torch.zeros(())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 8-bit data are warned about when Diagnostics is made
        lens = Diagnostics(encode, decode, pixels, write=False)
    with pytest.raises(Exception) as caught:
        lens.diagnose(1, 1)
    assert caught.type.__name__ == "VaeLensInputError"
    message = str(caught.value)
    assert message.startswith("encode (") and "pass torch.float32's largest value" in message, message
    assert message.endswith(f"(the data are integers up to {int(pixels.max())}: does training scale them, x / 255?)"), message

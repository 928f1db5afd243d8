"""Where and in what a pass runs: devices without float64, models moved or cast after the lens is made,
decoder outputs in other dtypes, low-precision models, the block size, and per-pixel variances."""
from __future__ import annotations

import warnings
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError
from vae_lens import _pass

#: Keys of a record that depend on the clock or on where the pass ran, not on what it computed.
UNTIMED = ("diagnosticsSeconds", "wallSeconds", "samplesPerSec")


def computed(record: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in record.items() if k not in UNTIMED}


def test_the_float64_arithmetic_runs_on_the_cpu_for_a_device_without_float64() -> None:
    assert _pass.accumulation_device(torch.device("mps")) == torch.device("cpu")
    assert _pass.accumulation_device(torch.device("cpu")) == torch.device("cpu")
    assert _pass.accumulation_device(torch.device("cuda", 1)) == torch.device("cuda", 1)


@pytest.mark.parametrize("variance", ["scalar", "per-dimension", "latent"])
def test_a_model_on_a_device_without_float64_gives_the_record_of_the_cpu(data, monkeypatch, variance) -> None:
    # No MPS here: "mps" stands for a device that refuses float64. Nothing can be made on it (torch has no
    # MPS kernels in this build), and a tensor moved to it stays on the CPU unless it is float64, which MPS
    # refuses with this TypeError.
    m = TinyVae(variance=variance, learned_prior=True)
    cpu = Diagnostics(m.encode, m.decode, data, write=False, samples=3, prior_variance=m.prior_variance).diagnose(1, 1)
    real_to = torch.Tensor.to

    def to(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        device, dtype, rest = kwargs.pop("device", None), kwargs.pop("dtype", None), []
        for a in args:
            if isinstance(a, (str, torch.device)):
                device = torch.device(a)
            elif isinstance(a, torch.dtype):
                dtype = a
            else:
                rest.append(a)
        if device is not None and torch.device(device).type == "mps":
            if (dtype or self.dtype) == torch.float64:
                raise TypeError("Cannot convert a MPS Tensor to float64 dtype as the MPS framework doesn't support float64")
            device = torch.device("cpu")
        if device is None and dtype is None and not rest:
            return self
        return real_to(self, *rest, device=device, dtype=dtype, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", to)
    mps = Diagnostics(m.encode, m.decode, data, write=False, samples=3, prior_variance=m.prior_variance, device="mps")
    assert computed(mps.diagnose(1, 1)) == computed(cpu)


def test_a_model_cast_after_the_lens_is_made_is_run_in_its_new_dtype(data) -> None:
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False, samples=2)
    m.double()
    assert lens.dtype == torch.float64
    after = Diagnostics(m.encode, m.decode, data, write=False, samples=2)
    assert computed(lens.diagnose(1, 1)) == computed(after.diagnose(1, 1))


def test_a_dtype_given_is_kept_when_the_model_is_cast(data) -> None:
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False, dtype=torch.float32)
    m.double()
    assert lens.dtype == torch.float32


class HalfOutputs(torch.nn.Module):
    """A float32 network whose decoder hands back float16 outputs, run by a lens told the model is float16:
    the squares of small residuals underflow in float16, and exp(-log s^2) of a small variance overflows."""

    def __init__(self, variance: str, lens_dtype: torch.dtype) -> None:
        super().__init__()
        self.inner = TinyVae(variance=variance)
        self.lens_dtype = lens_dtype
        with torch.no_grad():
            self.inner.log_s2.fill_(-12.0)

    def encode(self, x: torch.Tensor) -> Any:
        return self.inner.encode(x.half().float())

    def decode(self, z: torch.Tensor) -> Any:
        mean, log_var = self.inner.decode(z.half().float())
        if self.inner.variance == "latent":
            log_var = log_var - 12.0
        out = mean.half(), log_var.half()
        return out if self.lens_dtype == torch.float16 else (out[0].float(), out[1].float())


@pytest.mark.parametrize("variance", ["scalar", "latent"])
def test_float16_outputs_are_read_in_float32(variance) -> None:
    torch.manual_seed(0)
    half = HalfOutputs(variance, torch.float16)
    with torch.no_grad():
        x = half.inner.decode(torch.randn(64, 2))[0].float() + 3e-4 * torch.randn(64, 5)
    reference = HalfOutputs(variance, torch.float32)
    reference.load_state_dict(half.state_dict())
    got = Diagnostics(half.encode, half.decode, x, write=False, samples=2, dtype=torch.float16, modules=[half]).diagnose(1, 1)
    want = Diagnostics(reference.encode, reference.decode, x, write=False, samples=2, modules=[reference]).diagnose(1, 1)
    assert got["elbo"] == pytest.approx(want["elbo"], rel=1e-9)
    assert got["rDec"] == pytest.approx(want["rDec"], rel=1e-9)


def test_a_bfloat16_decoders_mean_field_gap_is_that_of_float64() -> None:
    torch.manual_seed(0)
    H, D = 4, 16

    class Linear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = torch.nn.Linear(D, 2 * H)
            self.dec = torch.nn.Linear(H, D)
            self.log_var = torch.nn.Parameter(torch.tensor(-3.0))
            with torch.no_grad():
                self.dec.weight.copy_(torch.randn(D, H))  # correlated columns: a mean-field gap

        def encode(self, x: torch.Tensor) -> Any:
            h = self.enc(x)
            return h[:, :H], h[:, H:] - 3

        def decode(self, z: torch.Tensor) -> Any:
            return self.dec(z), self.log_var

    base = Linear()
    x = torch.randn(512, H) @ base.dec.weight.t().detach() + 0.2 * torch.randn(512, D)
    gaps = {}
    for dt in (torch.float64, torch.bfloat16):
        m = Linear()
        m.load_state_dict(base.state_dict())
        m.to(dt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gaps[dt] = Diagnostics(m.encode, m.decode, x, write=False).diagnose(1, 1)
    assert gaps[torch.bfloat16]["decoderLinear"] is True
    assert gaps[torch.bfloat16]["meanFieldGap"] == pytest.approx(gaps[torch.float64]["meanFieldGap"], rel=0.02)


def test_the_default_block_is_sized_from_the_data_points_values() -> None:
    assert _pass.default_block_rows(5) == 1024
    assert _pass.default_block_rows(784) == 1024
    big = _pass.default_block_rows(3 * 128 * 128)
    assert 16 <= big <= 128
    assert big * 3 * 128 * 128 * 4 <= 32 * 2 ** 20, "a float32 block of decoder rows of 3x128x128 takes at most 32 MB"
    assert _pass.default_block_rows(10 ** 9) == 16
    m = TinyVae(dim=3 * 64 * 64)
    x = torch.rand(8, 3, 64, 64)
    lens = Diagnostics(lambda v: m.encode(v.flatten(1)), lambda z: m.decode(z), x, write=False, modules=[m])
    assert lens.block_rows == _pass.default_block_rows(3 * 64 * 64) < 1024


def test_the_default_block_gives_the_record_of_the_same_block_rows_given(data) -> None:
    m = TinyVae(dim=20000)
    x = torch.randn(70, 20000)
    default = Diagnostics(m.encode, m.decode, x, write=False, samples=4)
    assert default.block_rows < 70 * 4
    given = Diagnostics(m.encode, m.decode, x, write=False, samples=4, block_rows=default.block_rows)
    assert computed(default.diagnose(1, 1)) == computed(given.diagnose(1, 1))


def test_a_per_dimension_variance_is_weighted_the_same_in_chunks(data, monkeypatch) -> None:
    m = TinyVae(variance="per-dimension")
    whole = Diagnostics(m.encode, m.decode, data, write=False, samples=3).diagnose(1, 1)
    monkeypatch.setattr(_pass, "WEIGHT_CHUNK_BYTES", 8 * 5 * 7)  # 7 rows a chunk
    chunked = Diagnostics(m.encode, m.decode, data, write=False, samples=3).diagnose(1, 1)
    assert computed(chunked) == computed(whole)


def test_running_out_of_memory_names_block_rows(data) -> None:
    m = TinyVae()

    def decode(z: torch.Tensor) -> Any:
        raise RuntimeError("CUDA out of memory. Tried to allocate 1.50 GiB (GPU 0; 7.79 GiB total capacity)")

    lens = Diagnostics(m.encode, decode, data, write=False, modules=[m])
    with pytest.raises(VaeLensInputError, match="block_rows"):
        lens.diagnose(1, 1)


C, S = 3, 8


def per_pixel(shape: Any, channels_last: bool = False) -> Any:
    torch.manual_seed(0)
    D = C * S * S
    enc, dec = torch.nn.Linear(D, 8), torch.nn.Linear(4, D)
    lv = torch.linspace(-4, 1, D).view(C, S, S)
    held = lv.permute(1, 2, 0) if channels_last else lv

    def encode(x: torch.Tensor) -> Any:
        h = enc(x.flatten(1))
        return h[:, :4], h[:, 4:]

    def decode(z: torch.Tensor) -> Any:
        return dec(z).view(-1, C, S, S), held.reshape(shape)
    return encode, decode, [enc, dec]


def test_a_per_pixel_variance_in_the_data_points_shape_is_one_per_dimension() -> None:
    x = torch.rand(64, C, S, S)
    records = []
    for shape in [(1, C, S, S), (C, S, S), (C * S * S,)]:
        encode, decode, modules = per_pixel(shape)
        records.append(computed(Diagnostics(encode, decode, x, write=False, modules=modules).diagnose(1, 1)))
    assert records[1] == records[0] and records[2] == records[0]


def test_a_per_pixel_variance_held_channels_last_is_refused_for_channels_first_data() -> None:
    x = torch.rand(64, C, S, S)
    encode, decode, modules = per_pixel((1, S, S, C), channels_last=True)
    with pytest.raises(VaeLensInputError, match="another layout"):
        Diagnostics(encode, decode, x, write=False, modules=modules).diagnose(1, 1)


def test_a_variance_of_the_wrong_size_is_told_the_rule() -> None:
    x = torch.rand(64, C, S, S)
    encode, decode, modules = per_pixel((C, S, S))
    bad = lambda z: (decode(z)[0], torch.zeros(C, S))  # noqa: E731
    with pytest.raises(VaeLensInputError, match="data point's shape"):
        Diagnostics(encode, bad, x, write=False, modules=modules).diagnose(1, 1)


@pytest.mark.parametrize("point,K", [((50,), 10000), ((3, 16, 16), 256)])
def test_the_default_block_of_a_categorical_decoder_is_sized_from_its_logits(point: Tuple[int, ...], K: int) -> None:
    # A decoder of K categories per value gives D·K logits a row: a block sized from the D data values alone held
    # K times the memory the default means to spend (a sentence VAE of 10000 words: 2 GB of logits a block, with as
    # much again for their log-softmax, where its training batches take a few MB).
    D = int(np.prod(point))
    enc, dec = torch.nn.Linear(D, 4), torch.nn.Linear(2, D * K)
    rows_decoded: List[int] = []

    def encode(x: torch.Tensor) -> Any:
        return enc(x.flatten(1).float() / K).chunk(2, 1)

    def decode(z: torch.Tensor) -> torch.Tensor:
        rows_decoded.append(z.shape[0])
        return dec(z).reshape(-1, *point, K)

    x = torch.randint(0, K, (40, *point), generator=torch.Generator().manual_seed(0))
    lens = Diagnostics(encode, decode, x, write=False, modules=[enc, dec], likelihood="categorical")
    record = lens.diagnose(1, 1)
    assert max(rows_decoded) * D * K * 4 <= 32 * 2 ** 20, "a float32 block of a categorical decoder's logits takes at most 32 MB"
    assert lens.block_rows == _pass.default_block_rows(D * K)
    given = Diagnostics(encode, decode, x, write=False, modules=[enc, dec], likelihood="categorical", block_rows=lens.block_rows)
    assert given.diagnose(1, 1)["elbo"] == record["elbo"]
    # A block_rows given is the user's: kept whatever the logits.
    assert Diagnostics(encode, decode, x, write=False, modules=[enc, dec], likelihood="categorical", block_rows=64).block_rows == 64


class LowPrecisionOutputs(torch.nn.Module):
    """A float32 linear decoder with correlated columns (a mean-field gap) whose means come out in ``out``: a
    decode that casts its result, or runs its own torch.autocast inside, which a pass does not turn off."""

    def __init__(self, out: torch.dtype, H: int = 4, D: int = 16) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.H, self.out = H, out
        self.enc = torch.nn.Linear(D, 2 * H)
        self.dec = torch.nn.Linear(H, D)
        self.log_var = torch.nn.Parameter(torch.tensor(-3.0))
        with torch.no_grad():
            self.dec.weight.copy_(torch.randn(D, H, generator=g))

    def encode(self, x: torch.Tensor) -> Any:
        h = self.enc(x)
        return h[:, :self.H], h[:, self.H:] - 3

    def decode(self, z: torch.Tensor) -> Any:
        return self.dec(z).to(self.out), self.log_var


@pytest.mark.parametrize("out", [torch.bfloat16, torch.float16])
def test_the_mean_field_gap_of_a_float32_decoder_with_low_precision_means_is_that_of_float64(out: torch.dtype) -> None:
    # The Jacobian's step must be long enough for the means' rounding, whatever dtype the parameters are in.
    exact, low = LowPrecisionOutputs(torch.float64).double(), LowPrecisionOutputs(out)
    low.load_state_dict({k: v.float() for k, v in exact.state_dict().items()})
    g = torch.Generator().manual_seed(1)
    x = torch.randn(512, 4, generator=g) @ low.dec.weight.t().detach() + 0.2 * torch.randn(512, 16, generator=g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = Diagnostics(exact.encode, exact.decode, x, write=False).diagnose(1, 1)
        got = Diagnostics(low.encode, low.decode, x, write=False).diagnose(1, 1)
    assert got["decoderLinear"] is True
    assert got["meanFieldGap"] == pytest.approx(want["meanFieldGap"], rel=0.02)


@pytest.mark.parametrize("block_rows, samples", [(8, 2), (16, 1), (6, 3)])
def test_a_block_rows_that_fits_in_memory_bounds_every_call_of_a_pass(data, block_rows: int, samples: int) -> None:
    # A user told "pass a smaller block_rows" must find that it helps: no call of a pass (the mean-field gap's
    # encoder included) hands the networks more rows than block_rows says.
    m = TinyVae()
    seen: Dict[str, int] = {"encode": 0, "decode": 0}

    def limited(name: str, fn: Any, rows: int) -> Any:
        def call(v: torch.Tensor) -> Any:
            seen[name] = max(seen[name], v.shape[0])
            if v.shape[0] > rows:
                raise RuntimeError(f"CUDA out of memory. Tried to allocate 2.00 GiB for {v.shape[0]} rows")
            return fn(v)
        return call

    lens = Diagnostics(limited("encode", m.encode, block_rows // samples), limited("decode", m.decode, block_rows), data,
                       write=False, modules=[m], block_rows=block_rows, samples=samples)
    record = lens.diagnose(1, 1)
    assert record["meanFieldPoints"] > 0
    assert seen == {"encode": block_rows // samples, "decode": block_rows}

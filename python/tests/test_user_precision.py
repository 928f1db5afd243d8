"""A pass called from inside the user's own precision settings (autocast, grad modes) computes the record the
model gives outside them, and leaves those settings as it found them."""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Dict, Tuple

import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError

#: Keys of a record that depend on the clock, not on what the pass computed.
UNTIMED = ("diagnosticsSeconds", "wallSeconds", "samplesPerSec")


def computed(record: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in record.items() if k not in UNTIMED}


def two_passes(m: TinyVae, data: torch.Tensor, around: Callable[[], Any]) -> Dict[str, Any]:
    """The second record of a lens with weights averaged over two steps, its passes run inside ``around()``."""
    lens = Diagnostics(m.encode, m.decode, data, write=False, samples=2, modules=[m],
                       prior_variance=m.prior_variance if m.log_a2 is not None else None)
    with around():
        lens.diagnose(1, 1)
        lens.step()
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(1.01)
        lens.step()
        return computed(lens.diagnose(2, 2))


#: Where a training step calls a pass from: under the user's autocast (the networks' matrix products in
#: bfloat16), or under any grad mode.
CONTEXTS: Dict[str, Callable[[], Any]] = {
    "autocast bfloat16": lambda: torch.autocast(device_type="cpu", dtype=torch.bfloat16),
    "no_grad": torch.no_grad,
    "enable_grad": torch.enable_grad,
    "inference_mode": torch.inference_mode,
}


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("variance", ["scalar", "per-dimension", "latent"])
def test_a_pass_inside_the_users_precision_context_gives_the_record_of_one_outside(data, variance: str, context: str) -> None:
    outside = two_passes(TinyVae(variance=variance, learned_prior=True), data, contextlib.nullcontext)
    inside = two_passes(TinyVae(variance=variance, learned_prior=True), data, CONTEXTS[context])
    assert inside == outside


def test_a_pass_leaves_the_users_autocast_as_it_was(data) -> None:
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False, modules=[m])
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        lens.diagnose(1, 1)
        assert torch.is_autocast_cpu_enabled()
        assert torch.get_autocast_cpu_dtype() == torch.bfloat16
        assert m.enc(data[:3]).dtype == torch.bfloat16
    assert not torch.is_autocast_cpu_enabled()


class KeptApart(torch.nn.Module):
    """Networks in ``dtype``, and the decoder's log-variance kept in ``kept`` (a user keeping one small parameter
    in float32 for its updates), registered before the networks or after them."""

    def __init__(self, dtype: torch.dtype, kept: torch.dtype, first: bool) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(5)
        if first:
            self.log_s2 = torch.nn.Parameter(torch.tensor([-0.4], dtype=kept))
        self.enc = torch.nn.Linear(5, 4).to(dtype)
        self.dec = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5)).to(dtype)
        if not first:
            self.log_s2 = torch.nn.Parameter(torch.tensor([-0.4], dtype=kept))
        with torch.no_grad():
            for p in [*self.enc.parameters(), *self.dec.parameters()]:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.enc(x).chunk(2, -1)
        return mean, log_var

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.dec(z), self.log_s2


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("dtype, kept", [(torch.bfloat16, torch.float32), (torch.float64, torch.float32),
                                         (torch.float32, torch.float64), (torch.float32, torch.bfloat16)])
def test_the_networks_dtype_is_the_one_most_parameters_hold(data, dtype: torch.dtype, kept: torch.dtype, first: bool) -> None:
    m = KeptApart(dtype, kept, first)
    lens = Diagnostics(m.encode, m.decode, data, write=False, modules=[m])
    assert lens.dtype == dtype
    told = Diagnostics(m.encode, m.decode, data, write=False, modules=[m], dtype=dtype)
    assert computed(lens.diagnose(1, 1)) == computed(told.diagnose(1, 1))


def test_a_model_that_runs_only_under_autocast_is_told_the_pass_turns_it_off(data) -> None:
    # One layer cast to bfloat16 by hand: autocast reconciled it with the float32 rest in the user's loop.
    m = TinyVae()
    m.enc[0].to(torch.bfloat16)
    lens = Diagnostics(m.encode, m.decode, data, write=False, modules=[m])
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16), pytest.raises(RuntimeError) as caught:
        lens.diagnose(1, 1)
    if sys.version_info >= (3, 11):
        (note,) = [n for n in getattr(caught.value, "__notes__", []) if n.startswith("VAE Lens")]
        assert "as torch.float32 on cpu" in note and "with autocast off" in note


def _state(m: torch.nn.Module) -> Dict[str, Any]:
    """What a pass must leave as it was: the generators, grad mode, autocast, and the model's modes, parameters
    (values bit for bit, dtype, device, requires_grad), buffers and hooks."""
    return {
        "rng": torch.get_rng_state(),
        "grad": torch.is_grad_enabled(),
        "inference": torch.is_inference_mode_enabled(),
        "autocast": (torch.is_autocast_cpu_enabled(), torch.get_autocast_cpu_dtype()),
        "modes": [sub.training for sub in m.modules()],
        "params": [(n, p.detach().clone(), p.dtype, p.device, p.requires_grad) for n, p in m.named_parameters()],
        "buffers": [(n, b.clone()) for n, b in m.named_buffers()],
        "hooks": [(len(sub._forward_hooks), len(sub._forward_pre_hooks)) for sub in m.modules()],
    }


def _same(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    def eq(x: Any, y: Any) -> bool:
        if isinstance(x, torch.Tensor):
            return x.dtype == y.dtype and torch.equal(x, y)
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(eq(u, v) for u, v in zip(x, y))
        return bool(x == y)
    return all(eq(a[k], b[k]) for k in a)


def _weight_normed() -> torch.nn.Module:
    m = TinyVae()
    torch.nn.utils.weight_norm(m.enc[0])
    torch.nn.utils.spectral_norm(m.dec[0])
    return m


def _batch_normed() -> torch.nn.Module:
    m = TinyVae()
    m.enc.insert(1, torch.nn.BatchNorm1d(16))
    return m


MODELS: Dict[str, Callable[[], torch.nn.Module]] = {
    "float32": TinyVae,
    "bfloat16": lambda: TinyVae().to(torch.bfloat16),
    "float64": lambda: TinyVae().double(),
    "log_s2 kept in float32": lambda: KeptApart(torch.bfloat16, torch.float32, True),
    "weight and spectral norm": _weight_normed,
    "batch norm": _batch_normed,
}


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("model", list(MODELS))
def test_a_pass_and_a_step_leave_the_users_state_as_it_was(data, model: str, context: str) -> None:
    m = MODELS[model]()
    m.train()
    m.dec.eval()  # modes differ between modules, as when a user freezes a part
    m.enc.register_forward_hook(lambda *args: None)
    lens = Diagnostics(m.encode, m.decode, data, write=False, modules=[m])
    with CONTEXTS[context]():
        m.decode(torch.zeros(3, 2, dtype=lens.dtype))  # a training forward: spectral norm's vectors settle
        before = _state(m)
        lens.diagnose(1, 1)
        lens.step()
        lens.step()
        lens.diagnose(2, 2)
        assert _same(_state(m), before)


@pytest.mark.parametrize("name, dtype", [("bfloat16", torch.bfloat16), ("torch.float64", torch.float64), ("float32", torch.float32),
                                         ("half", torch.float16)])
def test_a_dtype_given_by_name_is_that_dtype(data, name: str, dtype: torch.dtype) -> None:
    # As configuration files and Hugging Face's torch_dtype="bfloat16" give it.
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False, modules=[m], dtype=name)  # type: ignore[arg-type]
    assert lens.dtype == dtype


@pytest.mark.parametrize("dtype", [torch.int64, torch.complex64, torch.bool, "gpu", "int8", float, 32, "torch.cuda"])
def test_a_dtype_that_is_not_a_floating_point_one_is_refused_when_the_lens_is_made(data, dtype: Any) -> None:
    # Not at the first pass, after an epoch of training, with torch's "Invalid device string".
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=r"^dtype must be a floating-point torch\.dtype .*; got "):
        Diagnostics(m.encode, m.decode, data, write=False, modules=[m], dtype=dtype)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda", 1)])
def test_a_cuda_device_on_a_machine_without_cuda_is_refused_when_the_lens_is_made(data, device: Any) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=r"^device .*cuda.* but this PyTorch has no CUDA device"):
        Diagnostics(m.encode, m.decode, data, write=False, modules=[m], device=device)


class Offset(torch.nn.Module):
    """A close fit of D=768 values around 100: an ELBO of a thousand nats, whose sums in the outputs' own dtype
    (bfloat16 keeps 3 digits) would lose any gap of 1e-3 of it. ``variance`` as TinyVae's."""

    def __init__(self, variance: str, D: int = 768, H: int = 8) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(8)
        self.enc = torch.nn.Linear(D, 2 * H)
        self.dec = torch.nn.Linear(H, D * (2 if variance == "latent" else 1))
        with torch.no_grad():
            self.enc.weight.copy_(torch.randn(self.enc.weight.shape, generator=g) * 0.01)
            self.dec.weight.copy_(torch.randn(self.dec.weight.shape, generator=g) * 0.01)
            self.dec.bias.fill_(100.0)
        self.log_s2 = torch.nn.Parameter(torch.full((D,) if variance == "per-dimension" else (1,), -6.0))
        self.variance = variance

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.enc(x - 100).chunk(2, -1)
        return mean, log_var - 6

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = self.dec(z)
        if self.variance == "latent":
            mean, log_var = out.chunk(2, -1)
            return mean, log_var * 0.01 - 6
        return out, self.log_s2


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("variance", ["scalar", "per-dimension", "latent"])
def test_a_models_record_is_the_float64_arithmetic_of_its_own_outputs(variance: str, dtype: torch.dtype) -> None:
    x = 100 + 0.05 * torch.randn(96, 768, generator=torch.Generator().manual_seed(9))
    m = Offset(variance).to(dtype)
    got = Diagnostics(m.encode, m.decode, x, write=False, modules=[m]).diagnose(1, 1)
    # The same outputs, handed over in float64: every step after the networks in float64.
    wide = lambda out: tuple(t.double() for t in out)  # noqa: E731
    want = Diagnostics(lambda v: wide(m.encode(v.to(dtype))), lambda z: wide(m.decode(z.to(dtype))), x, write=False,
                       modules=[m], dtype=torch.float64).diagnose(1, 1)
    # The per-element arithmetic runs in float32 (its rounding, 6e-8 of each square, is all that differs): within
    # 1e-7 of the ELBO, four orders below the 1e-3 relative gap the verdict must see.
    for key in ("elbo", "entropySum", "gap", "rDec", "rPrior", "hEnc", "hDec"):
        assert got[key] == pytest.approx(want[key], rel=0, abs=1e-7 * abs(want["elbo"])), key

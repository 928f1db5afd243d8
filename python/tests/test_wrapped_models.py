"""Models as users wrap them: TorchScript (scripted or traced), nn.DataParallel, parametrized weights. The
pass must find the modules behind encode and decode (eval mode, weight averaging) whatever the wrapper."""
from __future__ import annotations

import sys
import warnings
from typing import Any, Callable, Dict, Tuple

import pytest
import torch

from vae_lens import Diagnostics

UNTIMED = ("diagnosticsSeconds", "wallSeconds", "samplesPerSec")


class DropoutVae(torch.nn.Module):
    """A Gaussian VAE with dropout: a pass that leaves it in training mode gives another ELBO."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.enc = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 4))
        self.dec = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 5))
        self.log_s2 = torch.nn.Parameter(torch.tensor([-0.3]))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.enc(x).chunk(2, -1)
        return mean, log_var

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.dec(z), self.log_s2

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.encode(x)


class ScriptableVae(DropoutVae):
    """The same model with encode and decode exported to TorchScript."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.enc(x).chunk(2, -1)
        return mean, log_var

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.dec(z), self.log_s2


class Half(torch.nn.Module):
    """One of the model's networks as a module of its own, whose forward is that network."""

    def __init__(self, model: DropoutVae, decoder: bool) -> None:
        super().__init__()
        self.net = model.dec if decoder else model.enc
        self.log_s2 = model.log_s2
        self.decoder = decoder

    def forward(self, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.decoder:
            return self.net(v), self.log_s2
        mean, log_var = self.net(v).chunk(2, -1)
        return mean, log_var


Networks = Tuple[DropoutVae, Callable[..., Any], Callable[..., Any]]


def scripted_methods(x: torch.Tensor) -> Networks:
    m = ScriptableVae()
    s = torch.jit.script(m)
    return m, s.encode, s.decode


def scripted_forwards(x: torch.Tensor) -> Networks:
    m = DropoutVae()
    return m, torch.jit.script(Half(m, False)).forward, torch.jit.script(Half(m, True)).forward


# Traced in eval mode, as a trace keeps the dropout of the mode it was traced in.
def traced_forwards(x: torch.Tensor) -> Networks:
    m = DropoutVae().eval()
    encode, decode = torch.jit.trace(Half(m, False), x[:4]), torch.jit.trace(Half(m, True), torch.zeros(4, 2))
    return m, encode.train().forward, decode.train().forward


def traced_methods(x: torch.Tensor) -> Networks:
    m = DropoutVae().eval()
    t = torch.jit.trace_module(m, {"encode": x[:4], "decode": torch.zeros(4, 2)}).train()
    return m, t.encode, t.decode


#: How a user hands over the networks of a TorchScript model: its methods, or its modules' forward.
TORCHSCRIPT = {"scripted methods": scripted_methods, "scripted forwards": scripted_forwards,
               "traced forwards": traced_forwards, "traced methods": traced_methods}


def computed(record: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in record.items() if k not in UNTIMED}


def averaged_record(encode: Callable[..., Any], decode: Callable[..., Any], x: torch.Tensor, m: DropoutVae) -> Dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "found no nn.Module" warning
        lens = Diagnostics(encode, decode, x, write=False, samples=2)
        lens.diagnose(1, 1)
        lens.step()
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(1.01)
        lens.step()
        return computed(lens.diagnose(2, 2))


def assert_records_of_the_plain_model(make: Callable[[torch.Tensor], Any]) -> Any:
    """The wrapped model's averaged record equals the plain model's; returns what ``make`` built."""
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    plain = DropoutVae()
    expected = averaged_record(plain.encode, plain.decode, x, plain)
    m, encode, decode = make(x)
    got = averaged_record(encode, decode, x, m)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == (pytest.approx(value, rel=1e-6) if isinstance(value, (float, list)) else value), key
    return m, encode, decode


@pytest.mark.parametrize("wrap", list(TORCHSCRIPT))
def test_the_modules_behind_torchscript_methods_are_found(wrap: str) -> None:
    _, encode, _ = assert_records_of_the_plain_model(TORCHSCRIPT[wrap])
    # Their training mode is given back, module by module.
    owner = torch.jit._recursive.wrap_cpp_module(encode.owner)
    assert owner.training and all(sub.training for sub in owner.modules())


class CompiledLike(torch.nn.Module):
    """The shape of torch.compile's OptimizedModule (torch 2; this machine's torch has no compile): the model as
    its submodule ``_orig_mod``, other attributes read through to it, and ``forward`` a wrapper function that
    closes over the model's ``__call__``."""

    def __init__(self, mod: torch.nn.Module) -> None:
        super().__init__()
        self._orig_mod = mod
        call = mod.__call__

        def _fn(*args: Any) -> Any:
            return call(*args)

        self.forward = _fn  # type: ignore[method-assign]

    def __getattr__(self, name: str) -> Any:
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._orig_mod, name)


def compiled_methods(x: torch.Tensor) -> Networks:
    m = DropoutVae()
    c = CompiledLike(m)
    return m, c.encode, c.decode


def compiled_halves(x: torch.Tensor) -> Networks:
    m = DropoutVae()
    return m, CompiledLike(Half(m, False)).forward, CompiledLike(Half(m, True))


def data_parallel(x: torch.Tensor) -> Networks:
    m = DropoutVae()
    dp = torch.nn.DataParallel(m)  # on the CPU: it calls the module itself
    return m, lambda v: dp.module.encode(v), dp.module.decode


#: Wrappers whose modules were found already: held here so that they stay found.
WRAPPERS = {"compiled methods": compiled_methods, "compiled halves": compiled_halves, "data parallel": data_parallel}


@pytest.mark.parametrize("wrap", list(WRAPPERS))
def test_the_modules_behind_wrapped_models_are_found(wrap: str) -> None:
    m, _, _ = assert_records_of_the_plain_model(WRAPPERS[wrap])
    assert all(sub.training for sub in m.modules())


def frozen_forwards(x: torch.Tensor) -> Networks:
    m = DropoutVae().eval()
    return m, torch.jit.freeze(torch.jit.script(Half(m, False)).eval()), torch.jit.freeze(torch.jit.script(Half(m, True)).eval())


@pytest.mark.parametrize("given", ["found", "modules", "inside a module"])
def test_a_frozen_torchscript_module_without_a_training_flag_is_evaluated(given: str) -> None:
    # torch.jit.freeze, as models made for deployment come: its weights are constants, and it has no `training`.
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    plain = DropoutVae().eval()
    want = Diagnostics(plain.encode, plain.decode, x, write=False, samples=2).diagnose(1, 1)
    _, encode, decode = frozen_forwards(x)
    holder = torch.nn.ModuleDict({"encode": encode, "decode": decode})
    modules = {"found": None, "modules": [encode, decode], "inside a module": [holder]}[given]
    got = Diagnostics(encode.forward, decode.forward, x, write=False, samples=2, modules=modules).diagnose(1, 1)
    assert got["elbo"] == pytest.approx(want["elbo"], rel=1e-6)
    assert not hasattr(encode, "training") and not hasattr(decode, "training")


@pytest.mark.parametrize("given", ["found", "modules"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_a_frozen_torchscript_module_is_fed_in_the_dtype_of_its_frozen_weights(given: str, dtype: torch.dtype) -> None:
    # Frozen, the weights are constants of the graph and the module has no parameters to read the dtype from.
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    plain = DropoutVae().eval().to(dtype)
    want = Diagnostics(plain.encode, plain.decode, x, write=False, samples=2).diagnose(1, 1)
    encode, decode = (torch.jit.freeze(torch.jit.script(Half(plain, d)).eval()) for d in (False, True))
    lens = Diagnostics(encode.forward, decode.forward, x, write=False, samples=2,
                       modules=None if given == "found" else [encode, decode])
    assert lens.dtype == dtype
    assert lens.diagnose(1, 1)["elbo"] == pytest.approx(want["elbo"], rel=1e-12)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="notes on exceptions are Python 3.11's")
@pytest.mark.parametrize("block_rows", [None, 6])
def test_an_error_of_a_model_made_for_one_batch_size_is_told_the_pass_batch_sizes(block_rows: Any) -> None:
    # A model traced or exported for a fixed batch (a reshape to the batch it was traced with) fails on the
    # pass's blocks: the note says how many rows the pass hands it at once, and the argument that sets that.
    m = DropoutVae().eval()
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    lens = Diagnostics(m.encode, lambda z: (m.dec(z).reshape(4, 5), m.log_s2), x, write=False, samples=2, modules=[m], block_rows=block_rows)
    with pytest.raises(RuntimeError) as caught:
        lens.diagnose(1, 1)
    (note,) = [n for n in getattr(caught.value, "__notes__", []) if n.startswith("VAE Lens")]
    assert f"in batches of up to {lens.block_rows // 2} of the fixed points" in note
    assert f"up to {lens.block_rows} latents at a time (block_rows)" in note

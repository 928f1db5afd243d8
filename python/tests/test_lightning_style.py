"""A LightningModule-like class without Lightning: the lens called from inside ``training_step`` (under
``torch.enable_grad()``) or from a validation hook (under ``torch.inference_mode()``, as Lightning runs those)."""
from __future__ import annotations

import random
from typing import Callable, Dict, Tuple

import numpy as np
import pytest
import torch

from vae_lens import Diagnostics

CONTEXTS: Dict[str, Callable[[], object]] = {
    "enable_grad": torch.enable_grad,
    "no_grad": torch.no_grad,
    "inference_mode": torch.inference_mode,
}


class LitVae(torch.nn.Module):
    """Encoder and decoder held by a training class, with lazy layers (shapes from the first batch) as users write."""

    def __init__(self, lazy: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        first = torch.nn.LazyLinear(16) if lazy in ("linear", "both") else torch.nn.Linear(5, 16)
        norm = torch.nn.LazyBatchNorm1d() if lazy in ("norm", "both") else torch.nn.BatchNorm1d(16)
        self.encoder = torch.nn.Sequential(first, norm, torch.nn.Tanh(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 4))
        self.decoder = torch.nn.Sequential(torch.nn.LazyLinear(16) if lazy != "none" else torch.nn.Linear(2, 16), torch.nn.Tanh(),
                                           torch.nn.Linear(16, 5))
        self.log_s2 = torch.nn.Parameter(torch.zeros(1))

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        m, lv = self.encoder(x).chunk(2, 1)
        return m, lv

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(z), self.log_s2

    def training_step(self, x: torch.Tensor) -> torch.Tensor:
        m, lv = self.encode(x)
        z = m + (0.5 * lv).exp() * torch.randn_like(m)
        mu, ls = self.decode(z)
        return (0.5 * ((x - mu) ** 2 / ls.exp() + ls)).sum(1).mean() + 0.5 * (m ** 2 + lv.exp() - lv - 1).sum(1).mean()


def _state() -> Tuple[torch.Tensor, object, object]:
    return torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()


@pytest.mark.filterwarnings("ignore:Lazy modules are a new feature")
@pytest.mark.parametrize("lazy", ["none", "linear", "norm", "both"])
@pytest.mark.parametrize("first", list(CONTEXTS))
@pytest.mark.parametrize("inside", list(CONTEXTS))
def test_a_lens_called_from_a_training_or_validation_hook_leaves_training_as_it_was(lazy: str, first: str, inside: str) -> None:
    # A first pass (diagnose(0, 0) from a validation hook, in inference mode) materialised lazy layers' weights and
    # buffers as inference tensors: the next training step raised "Inference tensors cannot be saved for backward".
    # And a lazy batch norm not yet given a batch made every pass raise ValueError (its buffers hold no values).
    data = torch.randn(96, 5, generator=torch.Generator().manual_seed(1))
    lit = LitVae(lazy)
    lens = Diagnostics(lit.encode, lit.decode, data, points=64, write=False, modules=[lit])
    with CONTEXTS[first]():
        lens.diagnose(0, 0)
    assert not any(t.is_inference() for t in [*lit.parameters(), *lit.buffers()])
    opt = torch.optim.SGD(lit.parameters(), lr=0.01)
    lit.train()
    for epoch in (1, 2):
        x = data[32 * epoch:32 * (epoch + 1)]
        torch.manual_seed(epoch)
        loss = lit.training_step(x)
        before = _state()
        with CONTEXTS[inside]():
            record = lens.diagnose(epoch, epoch)
        after = _state()
        assert torch.equal(before[0], after[0]) and np.array_equal(before[1], after[1]) and before[2] == after[2]
        assert all(m.training for m in lit.modules())
        assert all(p.grad is None or not p.grad.any() for p in lit.parameters())  # nothing of the pass's in the grads
        loss.backward()
        opt.step()
        lens.step()
        opt.zero_grad()
        assert np.isfinite(record["elbo"])
    assert not any(t.is_inference() for t in [*lit.parameters(), *lit.buffers()])
    lens.close()

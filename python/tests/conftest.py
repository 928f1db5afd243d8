"""Small Gaussian VAEs in every variant, for the tests."""
from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class TinyVae(torch.nn.Module):
    """An MLP VAE: variance "scalar", "per-dimension", "latent" (VAE-3) or "fixed"; optional learned prior."""

    def __init__(self, dim: int = 5, latent: int = 2, variance: str = "scalar", learned_prior: bool = False, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.enc = torch.nn.Sequential(torch.nn.Linear(dim, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2 * latent))
        self.dec = torch.nn.Sequential(torch.nn.Linear(latent, 16), torch.nn.Tanh(), torch.nn.Linear(16, dim * (2 if variance == "latent" else 1)))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        self.variance = variance
        shape = (dim,) if variance == "per-dimension" else (1,)
        self.log_s2 = torch.nn.Parameter(torch.randn(shape, generator=g) * 0.3 - 0.5)
        self.log_a2 = torch.nn.Parameter(torch.randn(latent, generator=g) * 0.3) if learned_prior else None
        self.dropout = torch.nn.Dropout(0.5)

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.enc(self.dropout(x) if self.training else x).chunk(2, -1)
        return mean, log_var

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = self.dec(z)
        if self.variance == "latent":
            mean, log_var = out.chunk(2, -1)
            return mean, log_var
        return out, self.log_s2

    def prior_variance(self) -> Optional[torch.Tensor]:
        return None if self.log_a2 is None else self.log_a2.exp()


@pytest.fixture
def data() -> torch.Tensor:
    return torch.randn(200, 5, generator=torch.Generator().manual_seed(1)) * torch.tensor([2.0, 1.0, 0.5, 1.5, 0.2])

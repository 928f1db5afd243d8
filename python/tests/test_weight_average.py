"""The averaged-weights ELBO of `Diagnostics.step`: what it evaluates, and that the model is left as it was."""
from __future__ import annotations

import copy

import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics


def snapshot(m: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def lens_for(m: TinyVae, data: torch.Tensor) -> Diagnostics:
    return Diagnostics(m.encode, m.decode, data, write=False, samples=4, prior_variance=m.prior_variance if m.log_a2 is not None else None)


@pytest.mark.parametrize("variance,learned_prior", [("scalar", False), ("per-dimension", True), ("latent", False)])
def test_the_averaged_elbo_is_the_elbo_of_the_mean_weights(data, variance, learned_prior) -> None:
    m = TinyVae(variance=variance, learned_prior=learned_prior)
    lens = lens_for(m, data)
    lens.diagnose(0, 0)
    visited = []
    g = torch.Generator().manual_seed(5)
    for _ in range(3):
        with torch.no_grad():
            for p in m.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=g))
        visited.append(snapshot(m))
        lens.step()
    m.train()
    before = snapshot(m)
    record = lens.diagnose(1, 3)
    assert record["averagingSteps"] == 3
    assert m.training, "the module's mode is restored"
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items()), "the weights are restored bit for bit"

    # The same pass (points, noise) on a copy holding the mean of the three visited weights.
    mean = copy.deepcopy(m)
    mean.load_state_dict({k: sum(s[k] for s in visited) / 3 for k in before})
    expected = lens_for(mean, data).diagnose(1, 3)["elbo"]
    assert record["averagedElbo"] == pytest.approx(expected, rel=1e-5, abs=1e-5)
    assert record["averagedElbo"] != pytest.approx(record["elbo"], abs=1e-6), "the average differs from the last weights"


def test_weights_that_did_not_move_gain_nothing_and_the_average_restarts_each_interval(data) -> None:
    m = TinyVae()
    lens = lens_for(m, data)
    assert "averagedElbo" not in lens.diagnose(0, 0), "no steps, no average"
    for _ in range(4):
        lens.step()
    r = lens.diagnose(1, 4)
    assert r["averagedElbo"] == pytest.approx(r["elbo"], abs=1e-9) and r["averagingSteps"] == 4
    lens.step()
    assert lens.diagnose(2, 5)["averagingSteps"] == 1
    assert "averagedElbo" not in lens.diagnose(3, 5), "an interval without steps has no average"


def test_a_failing_decoder_during_the_averaged_evaluation_leaves_the_weights_as_they_were(data) -> None:
    m = TinyVae()
    lens = lens_for(m, data)
    lens.step()
    with torch.no_grad():
        m.dec[0].weight.add_(1.0)
    before = snapshot(m)
    assert lens._average is not None and lens._average.mean is not None
    averaged = next(a for p, a in zip(lens._average.params, lens._average.mean) if p is m.dec[0].weight)
    calls = {"n": 0}
    decode = m.decode

    def flaky(z: torch.Tensor):
        # The pass and the current weights' evaluation succeed; the averaged weights' fails.
        calls["n"] += 1
        if torch.equal(m.dec[0].weight, averaged):
            raise RuntimeError("decoder failed")
        return decode(z)

    lens.decode = flaky
    with pytest.raises(RuntimeError, match="decoder failed"):
        lens.diagnose(1, 1)
    assert calls["n"] > 0
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())

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


class _ImageVae(TinyVae):
    """TinyVae on [N, 1, 4, 4] images, so that a pass also draws the panel's images."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(dim=16, **kwargs)

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return super().encode(x.flatten(1))


class _NormedVae(TinyVae):
    """TinyVae with a batch norm in the encoder: buffers that a training forward updates in place."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.norm = torch.nn.BatchNorm1d(5)

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return super().encode(self.norm(x))


def _loss(m: TinyVae, x: torch.Tensor) -> torch.Tensor:
    """A training step's negative ELBO, with the reparameterised sample from the global generator."""
    mean, log_var = m.encode(x)
    z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
    mu, log_s2 = m.decode(z)
    nll = 0.5 * ((x.flatten(1) - mu) ** 2 / log_s2.exp() + log_s2).sum()
    prior = m.log_a2 if m.log_a2 is not None else torch.zeros(())
    kl = 0.5 * ((log_var.exp() + mean ** 2) / prior.exp() - 1 - log_var + prior).sum()
    return nll + kl


@pytest.mark.parametrize("kind", ["scalar", "per-dimension", "latent", "learned-prior", "float64", "images", "batch-norm"])
def test_a_pass_between_forward_and_backward_leaves_that_backward_as_it_was(kind: str, tmp_path, monkeypatch) -> None:
    # lens.diagnose() after `loss = ...` and before `loss.backward()` (a loop that logs mid-step), with
    # averaged weights to evaluate: swapping them in with copy_() bumped every parameter's version
    # counter, and the backward then refused to run.
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    variance = kind if kind in ("per-dimension", "latent") else "scalar"
    model = {"images": _ImageVae, "batch-norm": _NormedVae}.get(kind, TinyVae)
    m = model(variance=variance, learned_prior=kind == "learned-prior")
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(2))
    if kind == "images":
        x = torch.rand(64, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    if kind == "float64":
        m, x = m.double(), x.double()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    lens = Diagnostics(m.encode, m.decode, x, runs_dir=str(tmp_path), samples=2, modules=m,
                       prior_variance=m.prior_variance if m.log_a2 is not None else None)
    m.train()
    for _ in range(2):  # optimizer state and an average to evaluate
        opt.zero_grad()
        _loss(m, x).backward()
        opt.step()
        lens.step()

    def step(diagnose: bool) -> list:
        opt.zero_grad()
        torch.manual_seed(11)  # dropout and the sample
        loss = _loss(m, x)
        if diagnose:
            before = (snapshot(m), [p._version for p in m.parameters()], copy.deepcopy(opt.state_dict()),
                      torch.get_rng_state())
            record = lens.diagnose(1, 2)
            assert "averagedElbo" in record, "the averaged weights were evaluated"
        loss.backward()
        if diagnose:
            assert all(torch.equal(before[0][k], v) for k, v in m.state_dict().items()), "parameters and buffers"
            assert [p._version for p in m.parameters()] == before[1], "no parameter was written in place"
            after = opt.state_dict()
            assert after["param_groups"] == before[2]["param_groups"]
            assert all(torch.equal(t, after["state"][i][k]) for i, s in before[2]["state"].items() for k, t in s.items())
            assert torch.equal(torch.get_rng_state(), before[3])
            assert m.training, "train mode restored"
        return [None if p.grad is None else p.grad.clone() for p in m.parameters()]

    want = step(diagnose=False)
    got = step(diagnose=True)
    assert [g is None for g in got] == [g is None for g in want]
    assert all(a is None or torch.equal(a, b) for a, b in zip(got, want)), "the same gradients as without the pass"
    opt.step()
    lens.close()


def test_the_averaged_weights_are_written_into_the_parameters_own_memory() -> None:
    # Whatever holds a parameter's address (a tied weight, cuDNN's flat RNN weights, a captured graph) must
    # see the average inside the block and the parameter's own values after it, in the same memory.
    from vae_lens._average import WeightAverage

    g = torch.Generator().manual_seed(3)
    weight = torch.nn.Parameter(torch.randn(4, 3, generator=g))
    tied = torch.nn.Parameter(weight.data[1:3])  # a second parameter on the same storage
    bias = torch.nn.Parameter(torch.randn(3, generator=g))
    params = [weight, tied, bias]
    avg = WeightAverage(params)
    avg.add()
    with torch.no_grad():
        for p in (weight, bias):
            p.add_(torch.randn(p.shape, generator=g))
    avg.add()
    assert avg.mean is not None
    means = [m.clone() for m in avg.mean]
    ptrs = [p.data_ptr() for p in params]
    own = [p.detach().clone() for p in params]
    versions = [p._version for p in params]
    with avg.swapped_in():
        assert [p.data_ptr() for p in params] == ptrs
        assert all(torch.equal(p, m) for p, m in zip(params, means))
        assert torch.equal(tied, weight[1:3])
        with torch.no_grad():
            weight.data[1, 0] = 7.0  # the tie holds inside the block
        assert float(tied[0, 0]) == 7.0
    assert [p.data_ptr() for p in params] == ptrs
    assert all(torch.equal(p, o) for p, o in zip(params, own))
    assert tied.data_ptr() == weight.data_ptr() + 3 * weight.element_size()
    assert [p._version for p in params] == versions


def test_a_failure_inside_the_block_restores_the_weights_in_their_own_memory() -> None:
    from vae_lens._average import WeightAverage

    lin = torch.nn.Linear(3, 2)
    avg = WeightAverage(list(lin.parameters()))
    avg.add()
    with torch.no_grad():
        lin.weight.mul_(2.0)
    own, ptr = lin.weight.detach().clone(), lin.weight.data_ptr()
    with pytest.raises(RuntimeError, match="inside"):
        with avg.swapped_in():
            raise RuntimeError("inside")
    assert torch.equal(lin.weight, own) and lin.weight.data_ptr() == ptr


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_the_mean_of_low_precision_weights_is_kept_in_float32(dtype) -> None:
    # Weights drifting from 1.0 to 1.5 over 2000 steps: each step moves a bfloat16 running mean by less than
    # its rounding, and lerp has no float16 kernel on the CPU.
    from vae_lens._average import WeightAverage
    p = torch.nn.Parameter(torch.ones(4, dtype=dtype))
    avg = WeightAverage([p])
    steps = 2000
    for t in range(steps):
        with torch.no_grad():
            p.fill_(1.0 + 0.5 * t / (steps - 1))
        avg.add()
    assert avg.mean is not None and abs(float(avg.mean[0][0]) - 1.25) < 1e-3
    own = p.detach().clone()
    with avg.swapped_in():
        assert p.dtype == dtype and abs(float(p[0]) - 1.25) < 1e-2
    assert torch.equal(p.detach(), own), "restored bit for bit"


@pytest.mark.parametrize("centre, jitter, steps", [(1.0, 1e-4, 20000), (255.0, 1e-2, 20000), (0.1, 1e-5, 5000), (1.0, 1e-3, 2000)])
def test_the_mean_of_many_float32_steps_keeps_their_small_moves(centre: float, jitter: float, steps: int) -> None:
    # Weights jittering and drifting by a ten-thousandth of their size: after thousands of steps, a step's share of
    # the mean, jitter / count, is below half an ulp of the mean, and a plain running mean stops following.
    from vae_lens._average import WeightAverage
    g = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.full((500,), centre))
    avg = WeightAverage([p])
    exact = torch.zeros(500, dtype=torch.float64)
    for t in range(steps):
        with torch.no_grad():
            p.copy_(centre + jitter * (torch.randn(500, generator=g) + 3.0 * t / steps))
        avg.add()
        exact += p.detach().double()
    exact /= steps
    assert avg.mean is not None
    err = float((avg.mean[0].double() - exact).abs().max())
    assert err <= 0.05 * jitter, f"the mean is off by {err / jitter:.3g} of the weights' jitter"


def test_the_mean_follows_a_model_cast_between_steps() -> None:
    from vae_lens._average import WeightAverage
    m = torch.nn.Linear(2, 2)
    avg = WeightAverage(list(m.parameters()))
    avg.add()
    first = [p.detach().double().clone() for p in m.parameters()]
    m.double()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(1.0)
    avg.add()
    assert avg.mean is not None and all(t.dtype == torch.float64 for t in avg.mean)
    for t, f, p in zip(avg.mean, first, m.parameters()):
        assert torch.allclose(t, (f + p.detach()) / 2)


@pytest.mark.parametrize("inference", ["first step", "later steps", "every step", "the pass", "none"])
def test_steps_and_passes_inside_inference_mode_average_as_outside(data, inference: str) -> None:
    # A loop run under torch.inference_mode() (an evaluation helper, a step wrapped by a framework) must neither
    # leave the running mean as inference tensors, which a later step outside cannot update in place, nor
    # average otherwise.
    def run(inside: str) -> dict:
        m = TinyVae()
        lens = lens_for(m, data)
        g = torch.Generator().manual_seed(5)
        for i in range(3):
            with torch.no_grad():
                for p in m.parameters():
                    p.add_(0.05 * torch.randn(p.shape, generator=g))
            under = inside == "every step" or (inside == "first step" and i == 0) or (inside == "later steps" and i > 0)
            with torch.inference_mode(under):
                lens.step()
        with torch.inference_mode(inside == "the pass"):
            record = lens.diagnose(1, 3)
        # The training goes on through the weights the pass swapped out and back.
        m.decode(m.encode(data)[0])[0].sum().backward()
        return record

    assert run(inference)["averagedElbo"] == run("none")["averagedElbo"]

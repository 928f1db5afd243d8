"""Models and data pipelines in the shapes people train them: convolutional VAEs with normalisation and dropout,
networks reached through plain objects, datasets in their own containers. A pass must evaluate them in eval mode
and leave them, their gradients and the random generators exactly as it found them."""
from __future__ import annotations

import itertools
import json
import math
import os
import random
import warnings
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest
import torch

from vae_lens import Diagnostics
from vae_lens.errors import VaeLensInputError

NORMS: Dict[str, Callable[[int], torch.nn.Module]] = {
    "batchnorm": torch.nn.BatchNorm2d,
    "groupnorm": lambda c: torch.nn.GroupNorm(2, c),
    "layernorm": lambda c: torch.nn.LayerNorm([c, 8, 8]),
    "instancenorm": lambda c: torch.nn.InstanceNorm2d(c, track_running_stats=True),
}


class ConvEncoder(torch.nn.Module):
    def __init__(self, norm: str, latent: int = 3) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1), NORMS[norm](4), torch.nn.ReLU(), torch.nn.Dropout2d(0.3),
            torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 2 * latent))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.net(x).chunk(2, 1)
        return mean, log_var


class ConvDecoder(torch.nn.Module):
    def __init__(self, latent: int = 3) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(latent, 64), torch.nn.BatchNorm1d(64), torch.nn.ReLU(), torch.nn.Dropout(0.3),
            torch.nn.Linear(64, 64))
        self.log_var = torch.nn.Parameter(torch.tensor([-1.0]))

    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.net(z).view(-1, 1, 8, 8), self.log_var


class Holder:
    """A plain object holding a network (a trainer class, a config object): not an nn.Module, so its bound
    methods lead to no module."""

    def __init__(self, net: torch.nn.Module) -> None:
        self.net = net

    def __call__(self, t: torch.Tensor) -> Any:
        return self.net(t)


def _state(modules: List[torch.nn.Module]) -> Dict[str, Any]:
    return {
        "buffers": [b.clone() for m in modules for b in m.buffers()],
        "training": [m.training for root in modules for m in root.modules()],
        "grads": [None if p.grad is None else p.grad.clone() for m in modules for p in m.parameters()],
        "torch": torch.get_rng_state(), "numpy": np.random.get_state()[1].copy(), "random": random.getstate(),
    }


def _same(a: Dict[str, Any], b: Dict[str, Any]) -> None:
    assert all(torch.equal(x, y) for x, y in zip(a["buffers"], b["buffers"])), "running statistics changed"
    assert a["training"] == b["training"], "training flags changed"
    assert all((x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
               for x, y in zip(a["grads"], b["grads"])), "gradients changed"
    assert torch.equal(a["torch"], b["torch"]) and (a["numpy"] == b["numpy"]).all() and a["random"] == b["random"]


def _trained_a_little(enc: torch.nn.Module, dec: torch.nn.Module, x: torch.Tensor) -> None:
    """One training step, so that running statistics are not their initial values and gradients are held."""
    enc.train(), dec.train()
    mean, log_var = enc(x)
    mu, lv = dec(mean)
    ((mu - x) ** 2).mean().backward()


@pytest.mark.parametrize("norm", sorted(NORMS))
@pytest.mark.parametrize("reached", ["decoder", "encoder", "both"])
def test_networks_reached_through_plain_objects_are_evaluated_in_eval_mode_and_left_as_found(norm: str, reached: str) -> None:
    # encode a module, decode a plain object's method (or the other way round): the modules found behind one of them
    # hid that the other's were never put in eval mode, so dropout ran in every pass and batch norm updated its running
    # statistics from the pass's points, without a word.
    torch.manual_seed(0)
    enc, dec = ConvEncoder(norm), ConvDecoder()
    x = torch.rand(64, 1, 8, 8)
    _trained_a_little(enc, dec, x)
    encode = Holder(enc).__call__ if reached in ("encoder", "both") else enc
    decode = Holder(dec).__call__ if reached in ("decoder", "both") else dec
    before = _state([enc, dec])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lens = Diagnostics(encode, decode, x, write=False, points=48)
        got = lens.diagnose(1, 1)
        lens.diagnose(2, 2)
    _same(before, _state([enc, dec]))
    said = [str(w.message) for w in caught if "modules" in str(w.message)]
    assert len(said) == 1, said
    if reached != "both":
        assert ("ConvDecoder" if reached == "decoder" else "ConvEncoder") in said[0] and "modules=[model]" in said[0]
    enc.eval(), dec.eval()
    want = Diagnostics(enc, dec, x, write=False, points=48).diagnose(1, 1)
    assert got["elbo"] == want["elbo"] and got["gap"] == want["gap"]


class _SizedIterable:
    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def __len__(self) -> int:
        return len(self.x)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.x)


class _IteratedDataset(_SizedIterable, torch.utils.data.Dataset):
    """A map-style Dataset subclass written with __iter__ and __len__ but no __getitem__ (torch's base raises)."""


SIZED_BUT_NOT_INDEXED: Dict[str, Callable[[torch.Tensor], Any]] = {
    "a DataLoader's iterator": lambda x: iter(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=8)),
    "a Dataset without __getitem__": _IteratedDataset,
    "a sized iterable": _SizedIterable,
    "a set of rows": lambda x: set(x.unbind(0)),
    "a dict's values": lambda x: {i: r for i, r in enumerate(x)}.values(),
}


@pytest.mark.parametrize("kind", sorted(SIZED_BUT_NOT_INDEXED))
def test_data_with_a_length_but_no_indexing_are_refused_with_what_they_are(kind: str) -> None:
    # These have len(), so they passed the check for one, and then data[i] raised a TypeError (or torch's
    # NotImplementedError) from inside the package.
    x = torch.randn(40, 5)
    enc, dec = torch.nn.Linear(5, 4), torch.nn.Linear(2, 5)
    with pytest.raises(VaeLensInputError) as e:
        Diagnostics(lambda t: enc(t).chunk(2, 1), lambda z: (dec(z), torch.zeros(1)), SIZED_BUT_NOT_INDEXED[kind](x),
                    write=False, modules=[enc, dec])
    assert "data[i]" in str(e.value) and ("IterableDataset" in str(e.value) or "map-style" in str(e.value)), str(e.value)


class _LinearVae(torch.nn.Module):
    """A linear Gaussian VAE whose objective E_q[log p(x|z)] - beta KL is analytic (no sampling), so that a
    second-order optimiser reaches its stationary point to float64 precision."""

    def __init__(self, dim: int, latent: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(4)
        self.A = torch.nn.Parameter(torch.randn(dim, latent, generator=g, dtype=torch.float64) * 0.1)
        self.c = torch.nn.Parameter(torch.zeros(latent, dtype=torch.float64))
        self.log_t2 = torch.nn.Parameter(torch.zeros(latent, dtype=torch.float64))
        self.W = torch.nn.Parameter(torch.randn(latent, dim, generator=g, dtype=torch.float64) * 0.1)
        self.b = torch.nn.Parameter(torch.zeros(dim, dtype=torch.float64))
        self.log_s2 = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        nu = x @ self.A + self.c
        return nu, self.log_t2.expand_as(nu)

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return z @ self.W + self.b, self.log_s2

    def objective(self, x: torch.Tensor, beta: float) -> torch.Tensor:
        nu, log_t2 = self.encode(x)
        t2 = log_t2.exp()
        sq = ((x - self.decode(nu)[0]) ** 2).sum(1) + (t2 @ self.W ** 2).sum(1)
        log_lik = -0.5 * (x.shape[1] * (math.log(2 * math.pi) + self.log_s2) + sq / self.log_s2.exp())
        kl = 0.5 * (t2 + nu ** 2 - 1 - log_t2).sum(1)
        return (log_lik - beta * kl).mean()


@pytest.mark.parametrize("beta", [0.25, 0.5, 2.0, 8.0])
def test_a_beta_vae_at_a_stationary_point_of_its_objective_closes_the_gap(beta: float) -> None:
    # The decoder variance enters only the likelihood, so its stationarity gives R_dec = 0 for any beta; rescaling a
    # latent (its means and widths by a, the decoder's first layer by 1/a) leaves the likelihood as it is, so its
    # stationarity gives that of the KL alone, m_h = a_h^2, R_prior = 0, for any beta > 0. The records said the
    # theorem did not apply, and the verdict could then only say "stationary", never that the gap was still open.
    torch.manual_seed(0)
    x = torch.randn(400, 5, dtype=torch.float64) @ torch.randn(5, 5, dtype=torch.float64) * 0.7
    m = _LinearVae(5, 2)
    opt = torch.optim.LBFGS(m.parameters(), max_iter=4000, tolerance_grad=1e-12, tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = -m.objective(x, beta)
        loss.backward()
        return loss

    for _ in range(4):
        opt.step(closure)
    record = Diagnostics(m.encode, m.decode, x, write=False, samples=64, beta=beta).diagnose(1, 1)
    # R_prior from the encoder alone, in float64: m_h = mean(nu^2 + t^2).
    with torch.no_grad():
        nu, log_t2 = m.encode(x)
        m_h = (nu ** 2 + log_t2.exp()).mean(0)
    assert record["rPrior"] == pytest.approx(float(0.5 * (1 - m_h).sum()), abs=1e-9) and abs(record["rPrior"]) < 1e-6
    assert abs(record["gap"]) < 4 * record["gapStdErr"] + 1e-6, record
    assert record["theoremApplies"] is True and "theoremNote" not in record


@pytest.mark.parametrize("beta", [0.5, 3.0, lambda epoch: min(1.0, epoch / 4), lambda epoch: 4.0 - epoch])
def test_the_theorem_applies_for_every_kl_weight_above_zero(beta: Any, tmp_path) -> None:
    m = _LinearVae(5, 2)
    x = torch.randn(50, 5, dtype=torch.float64)
    with Diagnostics(m.encode, m.decode, x, runs_dir=str(tmp_path), beta=beta) as lens:
        records = [lens.diagnose(e, e) for e in (1, 2, 3)]
    assert all(r["theoremApplies"] is True and "theoremNote" not in r for r in records)
    meta = json.load(open(os.path.join(lens.run_dir, "run.json")))
    # run.json says what holds before the first pass: a schedule that starts from 0 starts without the KL term.
    starts = beta(0) if callable(beta) else beta
    assert meta["theoremApplies"] is (starts > 0) and ("theoremNote" in meta) is (starts == 0)


def test_a_kl_weight_of_zero_is_said_to_leave_the_theorem() -> None:
    m = _LinearVae(5, 2)
    record = Diagnostics(m.encode, m.decode, torch.randn(50, 5, dtype=torch.float64), write=False, beta=0.0).diagnose(1, 1)
    assert record["theoremApplies"] is False and "beta = 0" in record["theoremNote"]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "int16"])
@pytest.mark.parametrize("container", ["tensor", "array", "dataset", "flat"])
def test_eight_bit_pixel_values_held_in_another_dtype_are_warned_about_as_uint8_ones_are(dtype: str, container: str) -> None:
    # torch.from_numpy(mnist).float() or np.asarray(image, dtype=np.float32): pixel values 0..255 that the training
    # loop divides by 255, evaluated unscaled without a word; only uint8 data were warned of.
    enc, dec = torch.nn.Linear(64, 4), torch.nn.Linear(2, 64)
    images = (torch.rand(20, 1, 8, 8) * 256).floor().to(getattr(torch, dtype))
    if container == "flat":
        images = images.reshape(20, 64)
    data = {"array": images.numpy(), "dataset": torch.utils.data.TensorDataset(images, torch.zeros(20))}.get(container, images)
    encode = lambda x: enc(x.float().flatten(1)).chunk(2, 1)  # noqa: E731
    decode = lambda z: (dec(z), torch.zeros(1))  # noqa: E731
    with pytest.warns(UserWarning, match=r"whole numbers from 0 up to \d+ .*x / 255"):
        Diagnostics(encode, decode, data, write=False, modules=[enc, dec])
    quiet = [images.float() / 255, (images > 127).to(images.dtype), images % 6, images.float() - 128.0, images.float() + 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in quiet:
            Diagnostics(encode, decode, x, write=False, modules=[enc, dec])


def test_a_prior_with_a_learned_mean_is_evaluated_through_shifted_latents_as_the_readme_says() -> None:
    # p(z) = N(m, diag a^2): KL(N(nu, t^2) || N(m, a^2)) = KL(N(nu - m, t^2) || N(0, a^2)), and decoding z + m
    # gives the same likelihood, so the README's two lambdas give the model's ELBO and entropy sum.
    torch.manual_seed(0)
    enc, dec = torch.nn.Linear(5, 4).double(), torch.nn.Linear(2, 5).double()
    prior_mean, log_a2, log_s2 = torch.tensor([0.7, -1.2], dtype=torch.float64), torch.tensor([0.3, -0.4], dtype=torch.float64), -0.5
    x = torch.randn(64, 5, dtype=torch.float64)
    record = Diagnostics(lambda t: (lambda mean, lv: (mean - prior_mean, lv))(*enc(t).chunk(2, 1)),
                         lambda z: (dec(z + prior_mean), log_s2), x, write=False, samples=400,
                         prior_variance=log_a2.exp(), modules=[enc, dec]).diagnose(1, 1)
    with torch.no_grad():
        nu, log_t2 = enc(x).chunk(2, 1)
        a2, t2 = log_a2.exp(), log_t2.exp()
        kl = 0.5 * (log_a2 - log_t2 + (t2 + (nu - prior_mean) ** 2) / a2 - 1).sum(1)
        # E_q[(x - W z - b)^2] of a linear decoder, in closed form.
        sq = ((x - dec(nu)) ** 2).sum(1) + (t2 @ dec.weight.t() ** 2).sum(1)
        log_lik = -0.5 * (5 * (math.log(2 * math.pi) + log_s2) + sq / math.exp(log_s2))
        entropy_sum = 0.5 * log_t2.sum(1).mean() - 0.5 * log_a2.sum() - 0.5 * 5 * (math.log(2 * math.pi * math.e) + log_s2)
    assert record["elbo"] == pytest.approx(float((log_lik - kl).mean()), abs=4 * record["elboStdErr"])
    assert record["entropySum"] == pytest.approx(float(entropy_sum), abs=1e-9)
    assert record["latentSecondMoment"] == pytest.approx(((nu - prior_mean) ** 2 + t2).mean(0).tolist(), abs=1e-9)


class _Stream(torch.utils.data.IterableDataset):
    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def __iter__(self):  # type: ignore[no-untyped-def]
        return ((row, 0) for row in self.x)


def test_an_iterable_dataset_is_refused_with_advice_that_works() -> None:
    x = torch.randn(40, 5)
    enc, dec = torch.nn.Linear(5, 4), torch.nn.Linear(2, 5)
    encode, decode = (lambda t: enc(t).chunk(2, 1)), (lambda z: (dec(z), torch.zeros(1)))
    with pytest.raises(VaeLensInputError, match=r"IterableDataset \(_Stream\).*list\(itertools.islice\(dataset, 4096\)\)"):
        Diagnostics(encode, decode, _Stream(x), write=False, modules=[enc, dec])
    streamed = Diagnostics(encode, decode, list(itertools.islice(_Stream(x), 4096)), write=False, modules=[enc, dec])
    assert torch.equal(streamed.points, x)


@pytest.mark.parametrize("point,variance", [
    ((3, 4, 4), (1, 3, 1, 1)),  # one variance per colour channel, channels first
    ((4, 4, 3), (1, 1, 1, 3)),  # the same, channels last
    ((1, 4, 4), (1, 1, 4, 1)),  # one per image row
    ((2, 4, 4), (1, 1, 4, 4)),  # one per pixel, shared by the channels
    ((12,), (1, 12)),
])
@pytest.mark.parametrize("scale", ["log_variance", "std"])
def test_a_decoder_variance_that_broadcasts_to_the_data_point_is_read_as_the_one_per_dimension_it_stands_for(
        point: Tuple[int, ...], variance: Tuple[int, ...], scale: str) -> None:
    # A learned variance per channel, [1, C, 1, 1], as the loss broadcasts it against [batch, C, H, W], was refused for
    # not having D values: the same model with the variance expanded by hand was taken.
    torch.manual_seed(0)
    D = int(np.prod(point))
    enc, dec = torch.nn.Linear(D, 4), torch.nn.Linear(2, D)
    second = torch.rand(variance) + 0.5
    x = torch.randn(30, *point)
    encode = lambda t: enc(t.flatten(1)).chunk(2, 1)  # noqa: E731
    kwargs = dict(write=False, modules=[enc, dec], decoder_scale=scale)
    got = Diagnostics(encode, lambda z: (dec(z).view(-1, *point), second), x, **kwargs).diagnose(1, 1)
    expanded = second.expand(1, *point).contiguous()
    want = Diagnostics(encode, lambda z: (dec(z).view(-1, *point), expanded), x, **kwargs).diagnose(1, 1)
    for key in ("elbo", "entropySum", "hDec", "rDec", "sigma2", "sigma2Opt", "meanFieldGap"):
        assert got[key] == want[key], key

"""Bernoulli and categorical decoders that return probabilities (a sigmoid or a softmax at their end), said with
`decoder_output`, or warned about."""
from __future__ import annotations

import gzip
import json
import math
import os
import warnings
from typing import Any, Dict, Optional

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vae_lens import Diagnostics, VaeLensInputError
from vae_lens._pass import _discrete_log_lik, block_noise

DIM, CLASSES = 12, 4
#: The warning's words, as the tests look for them.
WARNED = r"look like probabilities.*Pass decoder_output='probabilities'"


class DiscreteVae(torch.nn.Module):
    """An MLP VAE whose decoder gives DIM Bernoulli logits, or DIM x CLASSES categorical ones; with
    ``probabilities`` the same weights end in a sigmoid (a softmax over the categories, the last axis)."""

    def __init__(self, likelihood: str, probabilities: bool = False, seed: int = 0, dim: int = DIM, latent: int = 2,
                 hidden: int = 16, init: str = "spread") -> None:
        super().__init__()
        self.likelihood, self.probabilities, self.dim = likelihood, probabilities, dim
        out = dim * (CLASSES if likelihood == "categorical" else 1)
        torch.manual_seed(seed)
        self.enc = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2 * latent))
        self.dec = torch.nn.Sequential(torch.nn.Linear(latent, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, out))
        if init == "spread":  # logits of a few nats either way, as a trained decoder has them
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for p in self.parameters():
                    p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return self.enc(x.flatten(1).to(self.enc[0].weight.dtype)).chunk(2, -1)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        out = self.dec(z)
        return out.reshape(-1, self.dim, CLASSES) if self.likelihood == "categorical" else out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.logits(z)
        if not self.probabilities:
            return out
        return torch.softmax(out, -1) if self.likelihood == "categorical" else torch.sigmoid(out)


def _data(kind: str, n: int = 200, dim: int = DIM, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if kind == "binary":
        return (torch.rand(n, dim, generator=g) < 0.4).float()
    if kind == "grey":  # Bernoulli targets in [0, 1], as PyTorch's VAE example trains on MNIST's grey levels
        return torch.rand(n, dim, generator=g)
    return torch.randint(0, CLASSES, (n, dim), generator=g)


#: (likelihood, data) pairs.
CASES = [("bernoulli", "binary"), ("bernoulli", "grey"), ("categorical", "classes")]
#: Record fields that time the pass, not the model.
TIMING = ("diagnosticsSeconds", "wallSeconds", "samplesPerSec")


def _same_records(got: Dict[str, Any], want: Dict[str, Any], tol: float) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        if k in TIMING:
            continue
        if isinstance(v, float) or (isinstance(v, list) and v and isinstance(v[0], float)):
            assert got[k] == pytest.approx(v, rel=tol, abs=tol), k
        else:
            assert got[k] == v, k


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("likelihood,kind", CASES)
def test_probabilities_said_give_the_records_of_the_same_weights_logits(likelihood: str, kind: str, dtype: torch.dtype,
                                                                        seed: int) -> None:
    x = _data(kind)
    x = x.to(dtype) if x.is_floating_point() else x
    records = []
    for probabilities in (False, True):
        m = DiscreteVae(likelihood, probabilities, seed=seed).to(dtype)
        extra = {"decoder_output": "probabilities"} if probabilities else {}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lens = Diagnostics(m.encode, m.decode, x, write=False, samples=3, modules=m, likelihood=likelihood, **extra)
            lens.step()  # the averaged weights' ELBO too
            records.append(lens.diagnose(1, 1))
    want, got = records
    assert "averagedElbo" in got and math.isfinite(got["elbo"])
    _same_records(got, want, 1e-5 if dtype == torch.float32 else 1e-10)


def test_the_images_of_a_sigmoid_decoder_are_those_of_its_logits_twin(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    x = torch.rand(40, 1, 4, 4, generator=torch.Generator().manual_seed(5))
    shown = []
    for probabilities in (False, True):
        m = DiscreteVae("bernoulli", probabilities, dim=16)
        extra = {"decoder_output": "probabilities"} if probabilities else {}
        with Diagnostics(m.encode, m.decode, x, runs_dir=str(tmp_path / str(probabilities)), likelihood="bernoulli", **extra) as lens:
            record = lens.diagnose(1, 1)
        with open(os.path.join(lens.run_dir, "images.json")) as f:
            shown.append((record["elbo"], json.load(f)))
    assert shown[1][0] == pytest.approx(shown[0][0], rel=1e-5)
    assert shown[1][1] == shown[0][1]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("likelihood,kind", CASES)
def test_probabilities_read_as_logits_are_warned_about_once(likelihood: str, kind: str, seed: int) -> None:
    x = _data(kind)
    m = DiscreteVae(likelihood, probabilities=True, seed=seed)
    lens = Diagnostics(m.encode, m.decode, x, write=False, likelihood=likelihood)
    with pytest.warns(UserWarning, match=rf"decode \(.*\) returns values .*{WARNED} to Diagnostics if they are"):
        lens.diagnose(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lens.diagnose(2, 2)  # once
        for said in ("probabilities", "logits"):  # said, even wrongly: not warned
            Diagnostics(m.encode, m.decode, x, write=False, likelihood=likelihood, decoder_output=said).diagnose(1, 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("hidden,latent", [(16, 2), (64, 8), (128, 20)])
@pytest.mark.parametrize("likelihood,kind", [("bernoulli", "binary"), ("bernoulli", "grey"), ("categorical", "classes")])
def test_logits_decoders_are_never_warned_about(likelihood: str, kind: str, hidden: int, latent: int, seed: int) -> None:
    # PyTorch's default initialisation (logits near 0, the hardest case for the [0, 1] test), then through training.
    x = _data(kind, n=300, dim=24, seed=seed)
    m = DiscreteVae(likelihood, seed=seed, dim=24, latent=latent, hidden=hidden, init="default")
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    lens = Diagnostics(m.encode, m.decode, x, write=False, likelihood=likelihood, modules=m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in range(4):
            lens.diagnose(epoch, epoch * 10)
            for _ in range(10):
                mean, log_var = m.encode(x)
                z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
                lg = m.logits(z)
                nll = (F.binary_cross_entropy_with_logits(lg, x, reduction="sum") if likelihood == "bernoulli" else
                       F.cross_entropy(lg.reshape(-1, CLASSES), x.reshape(-1), reduction="sum"))
                opt.zero_grad()
                (nll + 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum()).backward()
                opt.step()


@pytest.mark.parametrize("given", ["logit", "probs", "Probabilities", "probability", "", 1, "sigmoid"])
def test_a_decoder_output_that_is_not_one_lists_the_choices(given: object) -> None:
    m = DiscreteVae("bernoulli")
    with pytest.raises(VaeLensInputError, match=r"^decoder_output says what a Bernoulli or categorical decode returns: "
                                                r"one of 'logits', 'probabilities', 'log_probabilities'; got "):
        Diagnostics(m.encode, m.decode, _data("binary"), write=False, likelihood="bernoulli", decoder_output=given)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("likelihood,kind", CASES)
def test_log_probabilities_said_give_the_records_of_the_same_weights_logits(likelihood: str, kind: str, dtype: torch.dtype) -> None:
    # A logsigmoid (log_softmax) at the end; a sigmoid of log p would not be p, so Bernoulli ones need the keyword.
    x = _data(kind)
    x = x.to(dtype) if x.is_floating_point() else x
    m = DiscreteVae(likelihood).to(dtype)
    log_p = (lambda z: torch.log_softmax(m.logits(z), -1)) if likelihood == "categorical" else (lambda z: F.logsigmoid(m.logits(z)))
    want = Diagnostics(m.encode, m.decode, x, write=False, samples=3, modules=m, likelihood=likelihood).diagnose(1, 1)
    got = Diagnostics(m.encode, log_p, x, write=False, samples=3, modules=m, likelihood=likelihood,
                      decoder_output="log_probabilities").diagnose(1, 1)
    _same_records(got, want, 1e-5 if dtype == torch.float32 else 1e-10)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])  # CPU has no float16 log_softmax
@pytest.mark.parametrize("K", [2, 4, 50])
def test_categorical_log_probabilities_are_checked_to_be_log_probabilities(dtype: torch.dtype, K: int) -> None:
    # A log_softmax in any dtype passes; a softmax, logits, or logits shifted below 0 are named: decoder_output said
    # log-probabilities and they are not.
    g = torch.Generator().manual_seed(K)
    lg = (torch.randn(6, 5, K, generator=g, dtype=torch.float64) * 4.0).to(dtype)
    x = torch.randint(0, K, (3, 5), generator=g)
    read = lambda out: _discrete_log_lik("categorical", out, x, 3, 2, 5, "decode", "log_probabilities")  # noqa: E731
    want = _discrete_log_lik("categorical", lg, x, 3, 2, 5, "decode", "logits")
    assert torch.allclose(read(torch.log_softmax(lg, -1)), want, rtol=1e-2)
    above = r"log-probabilities of shape \(6, 5, %d\) with values above 0 \(the largest .*\), but decoder_output='log_probabilities' " \
            r"says they are log p; if the decoder returns logits \(no log_softmax at its end\), pass decoder_output='logits'" % K
    with pytest.raises(VaeLensInputError, match=above + r"; if it returns probabilities \(a softmax at its end\), pass "
                                                        r"decoder_output='probabilities'$"):
        read(torch.softmax(lg, -1))
    with pytest.raises(VaeLensInputError, match=above + "$"):
        read(lg)  # logits, above 0 somewhere and below it elsewhere
    with pytest.raises(VaeLensInputError, match=r"whose %d categories \(the last axis\) do not sum to 1 \(logsumexp off 0 by up to "
                                                r".*\), but decoder_output='log_probabilities'.*decoder_output='logits'.*"
                                                r"move them last \(\.movedim\(1, -1\)\)$" % K):
        read(lg - lg.max() - 1.0)  # logits shifted below 0: not normalised
    # Categories on another axis: each row's log_softmax over the wrong values does not sum to 1 on the last.
    with pytest.raises(VaeLensInputError, match=r"do not sum to 1"):
        read(torch.log_softmax(lg.reshape(6, K, 5).double(), 1).reshape(6, 5, K).to(dtype))


def test_a_softmax_decoder_said_to_give_log_probabilities_is_named() -> None:
    m = DiscreteVae("categorical", probabilities=True)
    with pytest.raises(VaeLensInputError, match=r"returned log-probabilities .* with values above 0 .*pass decoder_output='probabilities'"):
        Diagnostics(m.encode, m.decode, _data("classes"), write=False, modules=m, likelihood="categorical",
                    decoder_output="log_probabilities").diagnose(1, 1)


def test_bernoulli_log_probabilities_near_0_and_above_it() -> None:
    # log p of pixels that are surely on (logits of 40: 1 - p is 4e-18, lost if formed from p) stays exact.
    lg = torch.tensor([[40.0, -40.0, 0.5, -3.0]], dtype=torch.float64)
    x = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=torch.float64)
    got = _discrete_log_lik("bernoulli", F.logsigmoid(lg), x, 1, 1, 4, "decode", "log_probabilities")
    want = -F.binary_cross_entropy_with_logits(lg, x, reduction="sum")
    assert float(got) == pytest.approx(float(want), rel=1e-12)
    with pytest.raises(VaeLensInputError, match=r"log-probabilities of shape .* with values above 0 .*pass decoder_output='logits'"):
        _discrete_log_lik("bernoulli", lg, x, 1, 1, 4, "decode", "log_probabilities")


def test_a_log_softmax_decoder_is_read_as_logits() -> None:
    x = _data("classes")
    m = DiscreteVae("categorical")
    want = Diagnostics(m.encode, m.decode, x, write=False, likelihood="categorical").diagnose(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Diagnostics(m.encode, lambda z: torch.log_softmax(m.decode(z), -1), x, write=False, modules=m,
                          likelihood="categorical", decoder_output="logits").diagnose(1, 1)
    assert got["elbo"] == pytest.approx(want["elbo"], rel=1e-6)


@pytest.mark.parametrize("given", ["logits", "probabilities"])
def test_a_decoder_output_for_a_gaussian_decoder_is_refused(data, given: str) -> None:
    from conftest import TinyVae

    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=r"^decoder_output says what a Bernoulli or categorical decoder returns.*"
                                                r"likelihood='gaussian'.*decoder_scale says: leave decoder_output out"):
        Diagnostics(m.encode, m.decode, data, write=False, decoder_output=given)


@pytest.mark.parametrize("likelihood,kind", CASES)
def test_logits_said_to_be_probabilities_are_named(likelihood: str, kind: str) -> None:
    m = DiscreteVae(likelihood)  # logits of either sign
    what = "outside \\[0, 1\\]" if likelihood == "bernoulli" else "below 0"
    with pytest.raises(VaeLensInputError, match=rf"^decode \(.*\) returned probabilities of shape \(.*\) with .*{what}.*"
                                                r"decoder_output='probabilities' says .*pass decoder_output='logits'"):
        Diagnostics(m.encode, m.decode, _data(kind), write=False, likelihood=likelihood, decoder_output="probabilities").diagnose(1, 1)


def test_categorical_probabilities_must_sum_to_one_over_the_last_axis() -> None:
    m = DiscreteVae("categorical", probabilities=True)
    x = _data("classes")
    # One sigmoid per category: not a distribution.
    with pytest.raises(VaeLensInputError, match=r"whose 4 categories \(the last axis\) do not sum to 1 \(off by up to .*\).*"
                                                r"decoder_output='logits'.*move them last \(\.movedim\(1, -1\)\)"):
        Diagnostics(m.encode, lambda z: torch.sigmoid(m.logits(z)), x, write=False, modules=m, likelihood="categorical",
                    decoder_output="probabilities").diagnose(1, 1)
    # [rows, K, D], categories on axis 1 as F.cross_entropy takes them: named by the shape, before the sums.
    with pytest.raises(VaeLensInputError, match=r"4 categories are on axis 1, as F\.cross_entropy takes them.*\.movedim\(1, -1\)"):
        Diagnostics(m.encode, lambda z: torch.softmax(m.logits(z).transpose(1, 2), 1), x, write=False, modules=m,
                    likelihood="categorical", decoder_output="probabilities").diagnose(1, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_probabilities_of_0_and_1_give_the_finite_log_likelihood_of_torchs_binary_cross_entropy(dtype: torch.dtype) -> None:
    # Every pairing of data 0 and 1 with probabilities 0, 1 and between: log 0 is floored at -100, as in the loss
    # F.binary_cross_entropy (PyTorch's VAE example) trains with.
    x = torch.tensor([[0, 1, 0, 1, 0, 1, 0.5, 0.5, 0.3, 0.7]] * 4 + [[1, 0, 1, 0, 1, 1, 0, 1, 0.5, 0]] * 4, dtype=dtype)
    p = torch.tensor([0, 1, 1, 0, 0.25, 1e-30 if dtype == torch.float64 else 0, 0, 1, 0.5, 1], dtype=dtype)
    enc = torch.nn.Linear(10, 4).to(dtype)
    lens = Diagnostics(lambda v: enc(v).chunk(2, -1), lambda z: p.expand(z.shape[0], -1), x, write=False, modules=enc,
                       likelihood="bernoulli", decoder_output="probabilities", samples=3)
    r = lens.diagnose(1, 1)
    want = -F.binary_cross_entropy(p.expand(8, -1), x, reduction="sum").item() / 8
    assert math.isfinite(r["elbo"]) and math.isfinite(r["elboStdErr"])
    assert r["logLik"] == pytest.approx(want, rel=1e-6)


def test_categorical_probabilities_of_0_give_a_finite_log_likelihood() -> None:
    x = torch.tensor([[0, 1, 2], [2, 2, 0]] * 5)
    p = torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5], [0, 0, 1]])
    enc = torch.nn.Linear(3, 2)
    r = Diagnostics(lambda v: enc(v.float()).chunk(2, -1), lambda z: p.expand(z.shape[0], 3, 3), x, write=False, modules=enc,
                    likelihood="categorical", decoder_output="probabilities").diagnose(1, 1)
    # Points [0, 1, 2]: log 1 + log 0.5 + log 1; [2, 2, 0]: log 0 + log 0.5 + log 0 (each floored at -100).
    assert r["logLik"] == pytest.approx(0.5 * (math.log(0.5) + (-200 + math.log(0.5))), rel=1e-9)


# -- PyTorch's examples/vae/main.py --------------------------------------------------------------------------------

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def _images(n: int) -> torch.Tensor:
    """n Fashion-MNIST training images [n, 1, 28, 28] in [0, 1] where the dataset is installed, else smooth
    generated ones of the same shape."""
    if os.path.exists(FASHION):
        with gzip.open(FASHION, "rb") as f:
            raw = f.read(16 + n * 784)
        return torch.tensor(np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, 28, 28), dtype=torch.float32) / 255
    g = torch.Generator().manual_seed(0)
    r = torch.linspace(-1, 1, 28)
    centres, widths = torch.rand(n, 2, generator=g) - 0.5, 0.2 + 0.4 * torch.rand(n, 1, generator=g)
    d2 = (r[None, :, None] - centres[:, 0, None, None]) ** 2 + (r[None, None, :] - centres[:, 1, None, None]) ** 2
    return torch.exp(-d2 / widths[:, :, None] ** 2)[:, None]


class ExampleVae(torch.nn.Module):
    """The model of PyTorch's examples/vae/main.py, as written there: its decoder ends in a sigmoid."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 400)
        self.fc21 = torch.nn.Linear(400, 20)
        self.fc22 = torch.nn.Linear(400, 20)
        self.fc3 = torch.nn.Linear(20, 400)
        self.fc4 = torch.nn.Linear(400, 784)

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The example's loss: reconstruction + KL divergence summed over all elements and batch."""
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def _trained_example(steps: int) -> ExampleVae:
    torch.manual_seed(1)
    model = ExampleVae()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = _images(512)
    model.train()
    for step in range(steps):
        data = train[(step * 128) % 512:][:128]
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss_function(recon_batch, data, mu, logvar).backward()
        optimizer.step()
    return model


def _example_lens(model: ExampleVae, x: torch.Tensor, samples: int, decoder_output: Optional[str] = "probabilities") -> Diagnostics:
    extra = {"decoder_output": decoder_output} if decoder_output else {}
    return Diagnostics(lambda v: model.encode(v.view(-1, 784)), model.decode, x, write=False, modules=model,
                       likelihood="bernoulli", points=x.shape[0], samples=samples, **extra)


@pytest.mark.parametrize("steps", [0, 20])
def test_the_elbo_of_pytorchs_vae_example_is_minus_its_own_loss_with_the_same_noise(steps: int) -> None:
    model = _trained_example(steps)
    x, S, epoch = _images(256), 4, 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record = _example_lens(model, x, S).diagnose(epoch, steps)
    # The example's loss on the pass's own z: one block (256 points x 4 samples <= 1024 rows), the pass's noise.
    with torch.no_grad():
        mu, logvar = model.encode(x.view(-1, 784))
        eps = block_noise(0, epoch, 0, 256 * S, 20).view(256, S, 20)
        z = (mu.double()[:, None] + (0.5 * logvar.double()).exp()[:, None] * eps).reshape(-1, 20)
        BCE = F.binary_cross_entropy(model.decode(z.float()), x.view(-1, 784).repeat_interleave(S, 0), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    assert record["kl"] == pytest.approx(KLD.item() / 256, rel=1e-5)
    assert record["logLik"] == pytest.approx(-BCE.item() / (256 * S), rel=1e-5)
    assert record["elbo"] == pytest.approx(-(BCE.item() / S + KLD.item()) / 256, rel=1e-5)


def test_the_elbo_of_pytorchs_vae_example_is_minus_its_own_loss_up_to_the_monte_carlo_noise() -> None:
    model = _trained_example(20)
    x, S = _images(256), 32
    record = _example_lens(model, x, S).diagnose(1, 20)
    torch.manual_seed(7)
    model.eval()
    with torch.no_grad():  # the example's test(): its own loss with its own noise, S times
        losses = torch.tensor([_example_loss(model, x) / 256 for _ in range(S)], dtype=torch.float64)
    spread = float(losses.std()) / math.sqrt(S)
    assert spread > 0
    assert record["elbo"] == pytest.approx(-float(losses.mean()), abs=5 * math.sqrt(2) * spread)


def _example_loss(model: ExampleVae, x: torch.Tensor) -> float:
    recon_batch, mu, logvar = model(x)
    return loss_function(recon_batch, x, mu, logvar).item()


@pytest.mark.parametrize("steps", [0, 20])
def test_pytorchs_vae_example_without_the_keyword_is_warned_about(steps: int) -> None:
    # Before training (PyTorch's initialisation) and after: its sigmoid outputs read as logits are named.
    model = _trained_example(steps)
    x = _images(256)
    with pytest.warns(UserWarning, match=rf"values all in \[0, 1\] \(a sigmoid at its end\?\).*{WARNED}"):
        _example_lens(model, x, 2, decoder_output=None).diagnose(1, steps)

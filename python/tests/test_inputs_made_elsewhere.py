"""Models, data and arguments as other people's code gives them: each either works or is named."""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import random
import re
import sys
import warnings
from collections import UserDict
from collections.abc import Mapping
from typing import Tuple

import numpy as np
import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError


@pytest.mark.parametrize("points", [5, 7, 9])
def test_a_per_point_variance_is_summed_alike_whatever_the_blocks(points: int) -> None:
    # Blocks of one latent row used to be read as a per-dimension variance and their decoder terms lost.
    # One row of log-variances per latent row, the same row whatever z: the decoder entropy is then
    # exact, and equal for any blocking (the Monte-Carlo noise differs between blockings).
    m = TinyVae(dim=4, variance="latent")
    log_var = torch.tensor([-0.5, 0.1, 0.3, -1.2])

    def decode(z: torch.Tensor) -> tuple:
        return m.decode(z)[0], log_var.expand(z.shape[0], 4)

    x = torch.randn(points, 4, generator=torch.Generator().manual_seed(points))
    exact = 0.5 * float(log_var.sum() + 4 * np.log(2 * np.pi * np.e))
    for b in (1, 2, points - 1, points):
        r = Diagnostics(m.encode, decode, x, write=False, samples=1, block_rows=b, modules=m).diagnose(1, 1)
        assert r["hDec"] == pytest.approx(exact, rel=1e-6), b


@pytest.mark.parametrize("dim,samples,block_rows", [(8, 2, 8), (8, 1, 8), (6, 3, 6), (784, 2, 1024)])
def test_a_flat_per_dimension_variance_is_taken_when_a_block_has_as_many_rows(dim: int, samples: int, block_rows: int) -> None:
    m = TinyVae(dim=dim, variance="per-dimension")
    x = torch.randn(40, dim)
    r = Diagnostics(m.encode, m.decode, x, write=False, samples=samples, block_rows=block_rows).diagnose(1, 1)
    assert np.isfinite(r["gap"])


def test_modules_are_found_behind_partials_and_closures_and_missed_ones_are_said() -> None:
    m = TinyVae()
    x = torch.randn(30, 5)
    encode = functools.partial(TinyVae.encode, m)
    decode = lambda z: m.decode(z)  # noqa: E731  (m is a closure cell here)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lens = Diagnostics(encode, decode, x, write=False)
    assert lens._modules == [m]
    m.train()
    lens.diagnose(1, 1)
    assert m.training, "the user's mode is restored"
    glob = globals()
    glob["_MODEL"] = m
    with pytest.warns(UserWarning, match="modules=\\[model\\]"):
        Diagnostics(lambda v: glob["_MODEL"].encode(v), lambda z: glob["_MODEL"].decode(z), x, write=False)


@pytest.mark.parametrize("container", ["list", "tuple-of-lists", "dataset-of-lists", "uint16", "big-endian", "reversed", "columns-reversed"])
def test_data_in_other_containers_are_the_same_points(container: str) -> None:
    base = np.arange(60, dtype=np.float32).reshape(12, 5) / 60
    data = {
        "list": base.tolist(),
        "tuple-of-lists": tuple(base.tolist()),
        "dataset-of-lists": _ListDataset(base.tolist()),
        "uint16": (base * 60).astype(np.uint16),
        "big-endian": base.astype(">f4"),
        "reversed": base[::-1],
        "columns-reversed": base[:, ::-1],
    }[container]
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False)
    assert tuple(lens.points.shape) == (12, 5)
    assert np.isfinite(lens.diagnose(1, 1)["elbo"])


class _ListDataset(torch.utils.data.Dataset):
    def __init__(self, rows: list) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> list:
        return self.rows[i]


class _Stream(torch.utils.data.IterableDataset):
    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([])

    def __len__(self) -> int:
        return 3


@pytest.mark.parametrize("data,match", [
    (torch.utils.data.DataLoader(torch.randn(10, 5), batch_size=4), "DataLoader; give its dataset"),
    (_Stream(), "IterableDataset"),
    ({"x": torch.randn(10, 5), "y": torch.randn(9)}, r"dict of columns of different lengths \('x': 10, 'y': 9\)"),
    ([[1.0, 2.0], [3.0]], "rows differ in length"),
    (np.array(["a", "b"], dtype=object), "holds object values"),
    (torch.empty(4, 5, device="meta"), "'meta' device"),
    (_ListDataset([{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]), r"data\[0\] is a dict with keys 'a' \(float\), 'b' \(float\)"),
    (_ListDataset([{"x": "one"}, {"x": "two"}]), r"data\[\d\]\['x'\] is str, not numbers"),
])
def test_data_that_are_not_points_are_named(data: object, match: str) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=match):
        Diagnostics(m.encode, m.decode, data, write=False)


@pytest.mark.parametrize("epoch,step", [(2.0, 10), (np.float64(2), 10), (np.int64(2), np.int64(10)), (torch.tensor(2), torch.tensor(10))])
def test_numeric_epochs_and_steps_of_any_kind_are_written_as_integers(epoch: object, step: object, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, torch.randn(20, 5), runs_dir=str(tmp_path))
    r = lens.diagnose(epoch, step)
    assert (r["epoch"], r["step"]) == (2, 10) and type(r["epoch"]) is int and type(r["step"]) is int
    lens.close("failed", ValueError("boom"))
    (run,) = os.listdir(tmp_path)
    with open(tmp_path / run / "summary.json") as f:
        summary = json.load(f)
    assert summary["status"] == "failed" and summary["message"] == "ValueError: boom"


def test_the_global_generators_of_torch_numpy_and_random_are_left_as_they_were() -> None:
    class Noisy(TinyVae):
        def encode(self, x):  # type: ignore[no-untyped-def]
            np.random.rand()
            random.random()
            torch.rand(1)
            return super().encode(x)

    class Augmented(_ListDataset):
        def __getitem__(self, i: int) -> list:
            np.random.rand()
            random.random()
            torch.rand(1)
            return self.rows[i]

    m = Noisy()
    rows = torch.randn(16, 5).tolist()
    before = (torch.random.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    lens = Diagnostics(m.encode, m.decode, Augmented(rows), write=False,
                       prior_variance=lambda: torch.ones(2) + 0 * torch.rand(2))
    lens.diagnose(1, 1)
    after = (torch.random.get_rng_state(), np.random.get_state()[1], random.getstate())
    assert torch.equal(before[0], after[0])
    assert np.array_equal(before[1], after[1])
    assert before[2] == after[2]


@pytest.mark.parametrize("kwargs,match", [
    ({"seed": -1}, "seed must be a whole number of at least 0"),
    ({"seed": 0.5}, "seed must be a whole number"),
    ({"seed": None}, "seed must be a whole number"),
    ({"points": True}, "points must be a whole number"),
    ({"modules": [1]}, "modules must be nn.Modules"),
    ({"modules": 1}, "modules must be nn.Modules"),
    ({"window": 0}, "window must be a whole number of at least 1"),
    ({"window": 1001}, "window must be at most 1000"),
])
def test_constructor_arguments_of_the_wrong_kind_are_named(kwargs: dict, match: str) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=match):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, **kwargs)


def test_an_optimizer_that_is_not_one_is_named_at_once() -> None:
    m = TinyVae()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    with pytest.raises(VaeLensInputError, match="give the scheduler's optimizer"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, optimizer=sched)
    assert np.isfinite(Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, modules=m).diagnose(1, 1)["elbo"])


def test_images_that_cannot_be_drawn_do_not_fail_a_pass_already_written(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)

    class Categorical(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = torch.nn.Linear(36, 4)
            self.dec = torch.nn.Linear(2, 36 * 3)

        def encode(self, x):  # type: ignore[no-untyped-def]
            return self.enc(x.flatten(1).float()).chunk(2, -1)

        def decode(self, z):  # type: ignore[no-untyped-def]
            return self.dec(z).reshape(-1, 36, 3)

    m = Categorical()
    x = torch.randint(0, 3, (20, 6, 6))
    lens = Diagnostics(m.encode, m.decode, x, runs_dir=str(tmp_path), likelihood="categorical")
    with pytest.warns(UserWarning, match="no images"):
        lens.diagnose(1, 1)
    lens.diagnose(2, 2)
    lens.close()
    (run,) = os.listdir(tmp_path)
    with open(tmp_path / run / "metrics.jsonl") as f:
        assert [json.loads(line)["epoch"] for line in f] == [1, 2]


@pytest.mark.parametrize("beta", [lambda e: "x", lambda e: None, lambda e: -1.0, lambda e: float("nan")])
def test_a_beta_schedule_of_the_wrong_kind_is_named_before_the_pass(beta, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    m = TinyVae()
    # Named when run.json is first written (beta(0)), else at the first pass: never after a record.
    with pytest.raises(VaeLensInputError, match=r"beta\(\d\) returned"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), runs_dir=str(tmp_path), beta=beta).diagnose(1, 1)
    for run in os.listdir(tmp_path):
        metrics = tmp_path / run / "metrics.jsonl"
        assert not metrics.exists() or metrics.read_text() == ""


@pytest.mark.parametrize("kwargs", [{"epochs": "x"}, {"epochs": -5}, {"beta": float("inf")}, {"beta": True}])
def test_planned_epochs_and_a_constant_beta_of_the_wrong_kind_are_named(kwargs: dict) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match="epochs|beta"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, **kwargs)


@pytest.mark.parametrize("blocker", ["run.json", "summary.json"])
def test_a_folder_where_a_run_file_belongs_is_named(blocker: str, tmp_path, monkeypatch) -> None:
    run = tmp_path / "run"
    (run / blocker).mkdir(parents=True)
    monkeypatch.setenv("VAE_LENS_RUN_DIR", str(run))
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=f"{blocker}: a folder of that name is in the way"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5)).diagnose(1, 1)


def test_a_batch_size_below_one_is_named() -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match="train_batch_size must be a whole number of at least 1"):
        Diagnostics(m.encode, m.decode, torch.randn(10, 5), write=False, train_batch_size=-1)


@pytest.mark.parametrize("kind", ["complex", "meta"])
def test_encoder_outputs_that_are_not_real_numbers_are_named(kind: str) -> None:
    m = TinyVae()

    def encode(x: torch.Tensor) -> tuple:
        mean, log_var = m.encode(x)
        if kind == "complex":
            return mean.to(torch.complex64), log_var
        return mean.to("meta"), log_var

    with pytest.raises(VaeLensInputError, match="complex64|'meta' device"):
        Diagnostics(encode, m.decode, torch.randn(10, 5), write=False, modules=m).diagnose(1, 1)


class _LayoutVae(torch.nn.Module):
    """Images [N, C, H, W]; the decoder returns its mean (and a per-point log-variance, or Bernoulli
    logits) in `layout`: a permutation of the point's axes, flat, or with an extra axis of one."""

    def __init__(self, point: tuple, layout: str, per_point: bool, likelihood: str = "gaussian") -> None:
        super().__init__()
        self.point, self.layout, self.per_point, self.likelihood = point, layout, per_point, likelihood
        D = int(np.prod(point))
        self.enc = torch.nn.Linear(D, 4)
        self.dec = torch.nn.Linear(2, 2 * D)

    def encode(self, x: torch.Tensor):
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]

    def shaped(self, t: torch.Tensor) -> torch.Tensor:
        n = t.shape[0]
        if self.layout == "flat":
            return t
        if self.layout == "same":
            return t.reshape(n, *self.point)
        if self.layout == "extra-axis":
            return t.reshape(n, 1, *self.point)
        # channels last: the same values, each axis in another place
        c, h, w = self.point
        return t.reshape(n, h, w, c)

    def decode(self, z: torch.Tensor):
        mu, lv = self.dec(z).chunk(2, 1)
        if self.likelihood == "bernoulli":
            return self.shaped(mu)
        return self.shaped(mu), (self.shaped(lv) if self.per_point else torch.zeros(()))


@pytest.mark.parametrize("likelihood,per_point", [("gaussian", False), ("gaussian", True), ("bernoulli", False)])
@pytest.mark.parametrize("point", [(3, 4, 5), (2, 6, 6), (3, 5, 4)])
@pytest.mark.parametrize("layout", ["same", "flat", "extra-axis", "channels-last"])
def test_a_decoder_output_in_another_layout_than_the_data_is_refused(layout: str, point: tuple, per_point: bool, likelihood: str) -> None:
    torch.manual_seed(0)
    model = _LayoutVae(point, layout, per_point, likelihood)
    x = torch.rand(16, *point)
    lens = Diagnostics(model.encode, model.decode, x, write=False, likelihood=likelihood)
    if layout != "channels-last":
        assert np.isfinite(lens.diagnose(0, 0)["elbo"])
        return
    with pytest.raises(VaeLensInputError, match=r"another layout.*" + re.escape(f"[32, {', '.join(map(str, point))}]")):
        lens.diagnose(0, 0)


@pytest.mark.parametrize("container", ["tensor", "array", "dataset"])
def test_eight_bit_images_evaluated_unscaled_are_warned_about(container: str) -> None:
    model = TinyVae(dim=6)
    images = (torch.rand(20, 6) * 255).to(torch.uint8)
    data = {"tensor": images, "array": images.numpy(), "dataset": torch.utils.data.TensorDataset(images, torch.zeros(20))}[container]
    with pytest.warns(UserWarning, match=r"8-bit integers up to \d+ .*x / 255"):
        Diagnostics(model.encode, model.decode, data, write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Diagnostics(model.encode, model.decode, images.float() / 255, write=False)
        Diagnostics(model.encode, model.decode, (images > 127).to(torch.uint8), write=False)


class _PerImageVariance(torch.nn.Module):
    """A decoder with one log-variance per decoded z (as a per-image sigma), returned as [rows, 1, ...]
    or, for comparison, expanded by hand to every pixel."""

    def __init__(self, shape: str) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.enc = torch.nn.Linear(12, 4)
        self.dec = torch.nn.Linear(2, 13)
        self.shape = shape

    def encode(self, x: torch.Tensor):
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]

    def decode(self, z: torch.Tensor):
        h = self.dec(z)
        mu, lv = h[:, :12].reshape(-1, 1, 3, 4), h[:, 12:]
        if self.shape == "expanded":
            return mu, lv.reshape(-1, 1, 1, 1).expand(-1, 1, 3, 4)
        return mu, (lv if self.shape == "rows-1" else lv.reshape(-1, 1, 1, 1))


@pytest.mark.parametrize("points,samples,block_rows", [(20, 2, 1024), (20, 1, 1), (1, 1, 1), (7, 3, 4)])
@pytest.mark.parametrize("shape", ["rows-1", "rows-1-1-1"])
def test_one_decoder_variance_per_latent_row_stands_for_every_pixel(shape: str, points: int, samples: int, block_rows: int) -> None:
    x = torch.rand(points, 1, 3, 4)
    kw = dict(samples=samples, block_rows=block_rows, write=False)
    want = Diagnostics(*(lambda m: (m.encode, m.decode))(_PerImageVariance("expanded")), x, **kw).diagnose(0, 0)
    got = Diagnostics(*(lambda m: (m.encode, m.decode))(_PerImageVariance(shape)), x, **kw).diagnose(0, 0)
    for k in ("elbo", "gap", "hDec", "sigma2", "rDec", "meanFieldGap"):
        assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12), k


@pytest.mark.parametrize("wrap", ["normal", "independent"])
def test_an_encoder_returning_a_normal_is_its_mean_and_log_variance(wrap: str) -> None:
    model = TinyVae(dim=4)
    x = torch.rand(30, 4)

    def as_distribution(x: torch.Tensor):
        mean, log_var = model.encode(x)
        q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
        return torch.distributions.Independent(q, 1) if wrap == "independent" else q

    want = Diagnostics(model.encode, model.decode, x, write=False).diagnose(0, 0)
    got = Diagnostics(as_distribution, model.decode, x, write=False, modules=[model]).diagnose(0, 0)
    for k in ("elbo", "gap", "hEnc", "kl"):
        assert got[k] == pytest.approx(want[k], rel=1e-6), k


def test_a_decoder_returning_a_normal_is_told_what_to_return() -> None:
    model = TinyVae(dim=4)
    decode = lambda z: torch.distributions.Normal(model.decode(z)[0], 1.0)  # noqa: E731
    with pytest.raises(VaeLensInputError, match=r"returned a torch.distributions.Normal; return \(p.loc, log_variance\)"):
        Diagnostics(model.encode, decode, torch.rand(30, 4), write=False, modules=[model]).diagnose(0, 0)


def test_an_encoder_returning_a_normal_gets_its_images_drawn(tmp_path) -> None:
    model = TinyVae(dim=36)
    encode = lambda x: torch.distributions.Normal(model.encode(x.flatten(1))[0], 1.0)  # noqa: E731
    decode = lambda z: (model.decode(z)[0].reshape(-1, 1, 6, 6), model.decode(z)[1])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Diagnostics(encode, decode, torch.rand(30, 1, 6, 6), runs_dir=str(tmp_path), modules=[model]) as lens:
            lens.diagnose(0, 0)
    (run,) = os.listdir(tmp_path)
    images = json.loads((tmp_path / run / "images.json").read_text())
    assert images["shape"] == [6, 6] and len(images["reconstructions"]) == len(images["originals"]) > 0


@pytest.mark.parametrize("container", ["list-of-tensors", "tuple-of-tensors", "list-of-image-tensors", "zip-with-labels",
                                       "zip-with-tensor-labels", "arrays-with-labels"])
def test_lists_of_tensors_and_of_labelled_points_are_the_points(container: str) -> None:
    x = torch.rand(12, 1, 2, 3)
    data = {
        "list-of-tensors": list(x.flatten(1)),
        "tuple-of-tensors": tuple(x.flatten(1)),
        "list-of-image-tensors": list(x),
        "zip-with-labels": list(zip(x, range(12))),
        "zip-with-tensor-labels": [(p, torch.tensor(1)) for p in x],
        "arrays-with-labels": [[p.numpy(), "label"] for p in x],
    }[container]
    m = TinyVae(dim=6)
    flat = lambda v: m.encode(v.flatten(1))  # noqa: E731
    want = Diagnostics(flat, m.decode, x, write=False, modules=[m]).diagnose(0, 0)
    got = Diagnostics(flat, m.decode, data, write=False, modules=[m]).diagnose(0, 0)
    assert got["points"] == 12 and got["elbo"] == pytest.approx(want["elbo"], rel=1e-12)


def test_points_and_labels_passed_together_are_named() -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=r"tuple of tensors of shapes \(10, 5\), \(10,\).*give the points alone"):
        Diagnostics(m.encode, m.decode, (torch.rand(10, 5), torch.zeros(10)), write=False)


@pytest.mark.parametrize("number", [0, -1.5])
def test_a_fixed_log_variance_written_as_a_number_is_one_value(number: float) -> None:
    m = TinyVae(dim=4, variance="fixed")
    x = torch.rand(30, 4)
    as_tensor = lambda z: (m.decode(z)[0], torch.tensor(float(number)))  # noqa: E731
    as_number = lambda z: (m.decode(z)[0], number)  # noqa: E731
    want = Diagnostics(m.encode, as_tensor, x, write=False, modules=[m]).diagnose(0, 0)
    got = Diagnostics(m.encode, as_number, x, write=False, modules=[m]).diagnose(0, 0)
    for k in ("elbo", "gap", "hDec", "sigma2", "meanFieldGap"):
        assert got[k] == pytest.approx(want[k], rel=1e-12), k


def test_a_decoder_returning_its_mean_alone_is_told_how_to_add_the_variance() -> None:
    m = TinyVae(dim=4)
    with pytest.raises(VaeLensInputError, match=r"returns the mean alone .*lambda z: \(model.decode\(z\), model.log_var\).*likelihood='bernoulli'"):
        Diagnostics(m.encode, lambda z: m.decode(z)[0], torch.rand(30, 4), write=False, modules=[m]).diagnose(0, 0)


class _MadeOnFirstCall(torch.nn.Module):
    """Modules that make tensors the first time they run: a lazy layer's weights, or a cached scale
    that training later multiplies with its activations (as a positional table or a mask)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.enc = torch.nn.LazyLinear(4) if kind == "lazy-linear" else torch.nn.Linear(5, 4)
        self.dec = torch.nn.Linear(2, 5)
        self.log_s2 = torch.nn.Parameter(torch.zeros(1))
        self.cache: "torch.Tensor | None" = None

    def encode(self, x: torch.Tensor):
        h = self.enc(x)
        if self.kind == "cached-scale":
            if self.cache is None:
                self.cache = torch.linspace(0.5, 1.5, h.shape[1])
            h = h * self.cache
        return h.chunk(2, -1)

    def decode(self, z: torch.Tensor):
        return self.dec(z), self.log_s2


@pytest.mark.filterwarnings("ignore:Lazy modules are a new feature")
@pytest.mark.parametrize("kind", ["lazy-linear", "cached-scale"])
@pytest.mark.parametrize("first_pass", ["before training", "between forward and backward"])
def test_tensors_a_module_makes_during_a_pass_can_be_trained_through(kind: str, first_pass: str) -> None:
    # Under inference mode a lazy layer's weights became inference tensors, which silently got no
    # gradient, and a cached tensor could not be saved for a later backward.
    m = _MadeOnFirstCall(kind)
    x = torch.randn(40, 5, generator=torch.Generator().manual_seed(0))
    lens = Diagnostics(m.encode, m.decode, x, write=False, modules=m)
    if first_pass == "before training":
        lens.diagnose(0, 0)
        mean, log_var = m.encode(x)
    else:
        mean, log_var = m.encode(x)
        lens.diagnose(0, 0)
    loss = (m.decode(mean)[0] - x).pow(2).sum() + (log_var.exp() + mean * mean - log_var).sum()
    loss.backward()
    assert not any(p.is_inference() for p in m.parameters())
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in (*m.enc.parameters(), *m.dec.parameters()))
    torch.optim.SGD(m.parameters(), lr=0.1).step()


class _DictDataset(torch.utils.data.Dataset):
    """A Dataset whose items are dicts, as Hugging Face datasets and many training scripts give them."""

    def __init__(self, items: list) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


#: Dict items of a point p (a float tensor [1, 2, 3]) and its index i, and the input_key they need (None: found).
DICT_ITEMS = {
    "image-and-label": (lambda p, i: {"image": p, "label": i % 3}, None),
    "pixel-values-and-mask": (lambda p, i: {"pixel_values": p, "attention_mask": torch.ones(6, dtype=torch.long)}, None),
    "hugging-face-lists": (lambda p, i: {"pixel_values": p.tolist(), "label": i % 3}, None),
    "numpy-and-id": (lambda p, i: {"id": f"img-{i}", "features": p.numpy()}, None),
    "x-and-target": (lambda p, i: {"x": p, "y": 2 * p}, None),
    "float-label": (lambda p, i: {"inputs": p, "score": torch.tensor(0.5)}, None),
    "named": (lambda p, i: {"view1": p, "view2": p + 1, "label": i}, "view1"),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("container", ["list", "dataset", "loader-dataset"])
@pytest.mark.parametrize("item", sorted(DICT_ITEMS))
def test_dict_items_are_their_points(item: str, container: str, dtype: torch.dtype) -> None:
    x = torch.rand(12, 1, 2, 3, generator=torch.Generator().manual_seed(3)).to(dtype)
    make, key = DICT_ITEMS[item]
    items = [make(p, i) for i, p in enumerate(x)]
    data: object = items
    if container != "list":
        data = _DictDataset(items)
    if container == "loader-dataset":
        loader = torch.utils.data.DataLoader(data, batch_size=4)
        assert isinstance(next(iter(loader)), dict), "the loader yields dict batches"
        with pytest.raises(VaeLensInputError, match=r"DataLoader; give its dataset \(loader.dataset\).*dicts.*input_key"):
            Diagnostics(TinyVae().encode, TinyVae().decode, loader, write=False)
        data = loader.dataset
    m = TinyVae(dim=6).to(dtype)
    flat = lambda v: m.encode(v.flatten(1))  # noqa: E731
    want = Diagnostics(flat, m.decode, x, write=False, modules=[m]).diagnose(0, 0)
    lens = Diagnostics(flat, m.decode, data, write=False, modules=[m], input_key=key)
    assert torch.equal(lens.points, x.to(lens.points.dtype)) and lens.image_shape is None  # sides of 2 and 3: not drawn
    got = lens.diagnose(0, 0)
    assert got["points"] == 12 and got["elbo"] == pytest.approx(want["elbo"], rel=1e-12)


@pytest.mark.parametrize("item,match", [
    ({"a": torch.rand(3), "b": torch.rand(3), "label": 1}, r"'a' \(float32 \(3,\)\), 'b' \(float32 \(3,\)\), 'label' \(int\)"),
    ({"image": torch.zeros(3, dtype=torch.uint8), "mask": torch.rand(3)}, r"'image' \(uint8 \(3,\)\), 'mask' \(float32 \(3,\)\)"),
    ({"image": torch.rand(3), "pixel_values": torch.rand(3)}, r"'image' \(float32 \(3,\)\), 'pixel_values' \(float32 \(3,\)\)"),
    ({"label": 1, "path": "a.png"}, r"'label' \(int\), 'path' \(str\)"),
])
@pytest.mark.parametrize("container", ["list", "dataset"])
def test_dict_items_whose_point_is_not_plain_are_named_with_their_keys(item: dict, match: str, container: str) -> None:
    data = [dict(item) for _ in range(5)]
    m = TinyVae(dim=3)
    with pytest.raises(VaeLensInputError, match=r"data\[0\] is a dict with keys " + match + r": say which holds the data point "
                                                 r"with Diagnostics\(\.\.\., input_key=\.\.\.\)"):
        Diagnostics(m.encode, m.decode, data if container == "list" else _DictDataset(data), write=False)
    key = next(iter(item))
    if isinstance(item[key], torch.Tensor):
        assert Diagnostics(m.encode, m.decode, data, write=False, input_key=key).points.shape == (5, 3)


@pytest.mark.parametrize("data,key,match", [
    ([{"image": torch.rand(5), "label": 0}] * 4, "img", r"input_key='img' is not a key of data\[0\], whose keys are 'image', 'label'"),
    ([{"image": torch.rand(5)}] * 3 + [{"picture": torch.rand(5)}], None,
     r"data\[3\] has no key 'image', under which the first item holds its data point; it has the keys 'picture'"),
    ([{"image": torch.rand(5)}, torch.rand(5)], "image", r"data\[1\] has no key 'image'.*no keys, being a Tensor"),
    (torch.rand(4, 5), "image", r"input_key='image' names a key of dict items, but data is a Tensor of points; leave input_key out"),
    ([(torch.rand(5), 0)] * 4, "image", r"input_key='image' names a key of dict items, but data\[0\] is a tuple; leave input_key out"),
    ([{"image": torch.rand(5)}] * 4, 3, r"input_key must be the key \(a string, such as 'pixel_values'\).*got int 3"),
])
def test_a_wrong_input_key_is_named(data: object, key: object, match: str) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=match):
        Diagnostics(m.encode, m.decode, data, write=False, input_key=key)  # type: ignore[arg-type]


class _BatchFeature(UserDict):
    """A dict-like batch, as a Hugging Face processor returns it (BatchFeature is a UserDict)."""


class _Columns(Mapping):
    """Columns behind a read-only Mapping interface (not a dict)."""

    def __init__(self, columns: dict) -> None:
        self._columns = columns

    def __getitem__(self, key: str) -> object:
        return self._columns[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


#: Columns of points p (a float tensor [N, 1, 2, 3]), and the input_key they need (None: found).
DICT_COLUMNS = {
    "pixel-values-and-labels": (lambda p: {"pixel_values": p, "label": torch.arange(len(p)) % 3}, None),
    "numpy-and-ids": (lambda p: {"id": [f"img-{i}" for i in range(len(p))], "features": p.numpy()}, None),
    "hugging-face-lists": (lambda p: {"pixel_values": p.tolist(), "label": [i % 3 for i in range(len(p))]}, None),
    "image-and-mask": (lambda p: {"image": p, "mask": torch.ones(len(p), 6, dtype=torch.long)}, None),
    "x-and-target": (lambda p: {"x": p, "y": 2 * p}, None),
    "named": (lambda p: {"view1": p, "view2": p + 1, "label": torch.arange(len(p))}, "view1"),
    "dict-items": (lambda p: {"pixel_values": [{"pixel_values": q} for q in p], "label": list(range(len(p)))}, None),
}


@pytest.mark.parametrize("points", [5, 100])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("container", ["dict", "user-dict", "mapping"])
@pytest.mark.parametrize("columns", sorted(DICT_COLUMNS))
def test_a_dict_of_columns_is_its_column_of_points(columns: str, container: str, dtype: torch.dtype, points: int) -> None:
    x = torch.rand(12, 1, 2, 3, generator=torch.Generator().manual_seed(4)).to(dtype)
    make, key = DICT_COLUMNS[columns]
    data = {"dict": dict, "user-dict": _BatchFeature, "mapping": _Columns}[container](make(x))
    m = TinyVae(dim=6).to(dtype)
    flat = lambda v: m.encode(v.flatten(1))  # noqa: E731
    want_lens = Diagnostics(flat, m.decode, x, write=False, modules=[m], points=points)
    lens = Diagnostics(flat, m.decode, data, write=False, modules=[m], input_key=key, points=points)
    assert torch.equal(lens.points, want_lens.points.to(lens.points.dtype)) and lens.image_shape is None  # sides of 2 and 3: not drawn
    got, want = lens.diagnose(0, 0), want_lens.diagnose(0, 0)
    assert got["points"] == min(points, 12) and got["elbo"] == pytest.approx(want["elbo"], rel=1e-12)


@pytest.mark.parametrize("data,key,match", [
    ({"a": torch.rand(6, 3), "b": torch.rand(6, 3), "label": torch.arange(6)}, None,
     r"^data is a dict of columns 'a' \(float32 \(6, 3\)\), 'b' \(float32 \(6, 3\)\), 'label' \(int64 \(6,\)\): say which holds "
     r"the data points with Diagnostics\(\.\.\., input_key=\.\.\.\)"),
    ({"image": torch.rand(6, 3), "pixel_values": torch.rand(6, 3)}, None, r"^data is a dict of columns 'image' .*'pixel_values' .*input_key"),
    ({"path": ["a.png"] * 6, "label": [1] * 6}, None, r"^data is a dict of columns 'path' \(list of 6\), 'label' \(list of 6\)"),
    ({"image": torch.rand(6, 3), "label": torch.arange(5)}, None,
     r"^data is a dict of columns of different lengths \('image': 6, 'label': 5\); each column must hold one value per point"),
    ({"image": torch.rand(6, 3), "label": torch.arange(6), "ids": list(range(7))}, "image", r"different lengths .*'ids': 7"),
    ({"pixel_values": torch.rand(3, 4, 4), "label": 3}, None,
     r"^data\['label'\] is int, not a column: a dict given as data holds columns of one value per point.*for a single item, give a list"),
    ({"pixel_values": torch.rand(6, 3), "split": "train"}, None, r"^data\['split'\] is str, not a column"),
    ({"pixel_values": torch.rand(6, 3), "n": torch.tensor(6)}, None, r"^data\['n'\] is int64 \(\), not a column"),
    ({"image": torch.rand(6, 3), "label": torch.arange(6)}, "img",
     r"^input_key='img' is not a key of data, a dict of columns whose keys are 'image', 'label'"),
    ({}, None, r"^data is a dict with no columns"),
    ({"image": torch.rand(0, 3), "label": torch.arange(0)}, None, r"^data is empty"),
    ({"image": torch.rand(6, 3), "label": torch.arange(6)}, 3, r"^input_key must be the key \(a string"),
    # A dict of splits, as a Hugging Face DatasetDict is, of datasets or of tensors.
    ({"train": [torch.rand(3)] * 6, "test": [torch.rand(3)] * 2}, None,
     r"^data is a dict of splits \('train', 'test'\), as a Hugging Face DatasetDict is: give the split to diagnose, such as data\['train'\]"),
    ({"Train": torch.rand(6, 3), "validation": torch.rand(6, 3)}, None, r"^data is a dict of splits .*data\['Train'\]"),
])
def test_a_dict_of_columns_that_is_not_plain_is_named(data: dict, key: object, match: str) -> None:
    m = TinyVae(dim=3)
    for container in (dict, _Columns):
        with pytest.raises(VaeLensInputError, match=match):
            Diagnostics(m.encode, m.decode, container(data), write=False, input_key=key)  # type: ignore[arg-type]


#: Columns of points whose values are wrong in one way each: what a message about them must say, after the
#: path that names the column (and the item, where one item is at fault).
BAD_COLUMNS = {
    "strings": (lambda k: {k: [["a", "b"]] * 6, "label": [0] * 6}, r" is a list whose rows differ in length or are not numbers"),
    "ragged-rows": (lambda k: {k: [[1.0, 2.0], [1.0]] * 3, "label": [0] * 6}, r" is a list whose rows differ in length"),
    "tensors-of-two-shapes": (lambda k: {k: [torch.rand(3), torch.rand(2)] * 3, "label": [0] * 6}, r" is a list of tensors of shapes"),
    "item-of-words": (lambda k: {k: [{"pixel_values": "a.png"}] * 6, "label": [0] * 6}, r"\[\d+\]\['pixel_values'\] is str, not numbers"),
    "item-without-the-key": (lambda k: [{"pixel_values": torch.rand(3)}] * 5 + [{"image": torch.rand(3)}], None),
    "items-of-two-shapes": (lambda k: {k: [(torch.rand(3), 0), (torch.rand(2), 1)] * 3, "label": [0] * 6}, r" differ in shape"),
    "non-finite": (lambda k: {k: torch.tensor([[1.0, float("nan")]] * 6), "label": [0] * 6}, r" of shape \(6, 2\) has non-finite values"),
    "meta": (lambda k: {k: torch.empty(6, 3, device="meta"), "label": [0] * 6}, r" is a tensor on the 'meta' device"),
}


@pytest.mark.parametrize("key", ["pixel_values", "image"])
@pytest.mark.parametrize("bad", sorted(BAD_COLUMNS))
def test_an_error_in_a_column_of_points_names_the_column(bad: str, key: str) -> None:
    # A dict of columns is read as its column of points: what is wrong in it is named at data['<column>'],
    # where the user finds it, not at data, which is the dict.
    make, after = BAD_COLUMNS[bad]
    data = make(key)
    if after is None:  # a column of dict items, one of which lacks the first item's key
        data, after = {key: data, "label": [0] * 6}, r"\[5\] has no key 'pixel_values'"
    m = TinyVae(dim=3)
    with pytest.raises(VaeLensInputError, match=rf"data\[{key!r}\]{after}"):
        Diagnostics(m.encode, m.decode, data, write=False)


@pytest.mark.parametrize("point,K", [((4,), 3), ((2, 3), 5), ((6, 6), 3), ((3,), 4)])
def test_a_categorical_decoder_with_its_classes_on_axis_1_is_named(point: Tuple[int, ...], K: int) -> None:
    D = int(np.prod(point))

    class Categorical(torch.nn.Module):
        def __init__(self, classes_first: bool) -> None:
            super().__init__()
            self.enc, self.dec, self.classes_first = torch.nn.Linear(D, 4), torch.nn.Linear(2, D * K), classes_first

        def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
            mean, log_var = self.enc(x.flatten(1).float()).chunk(2, -1)
            return mean, log_var

        def decode(self, z: torch.Tensor) -> torch.Tensor:
            logits = self.dec(z).reshape(-1, *point, K)
            return logits.movedim(-1, 1) if self.classes_first else logits

    x = torch.randint(0, K, (20, *point))
    lens = Diagnostics(Categorical(False).encode, Categorical(False).decode, x, write=False, likelihood="categorical")
    assert np.isfinite(lens.diagnose(0, 0)["elbo"])
    m = Categorical(True)
    with pytest.raises(VaeLensInputError, match=rf"categories are on axis 1, as F\.cross_entropy takes them.*\.movedim\(1, -1\)"):
        Diagnostics(m.encode, m.decode, x, write=False, likelihood="categorical").diagnose(0, 0)


@pytest.mark.parametrize("K", [3, 5])
@pytest.mark.parametrize("point", [(1, 8, 8), (8, 8), (1, 4), (3, 1, 5)])
def test_classes_on_axis_1_are_named_with_or_without_the_points_axes_of_length_1(point: Tuple[int, ...], K: int) -> None:
    # PyTorch images keep a channel of 1 ([N, 1, 8, 8]) while F.cross_entropy takes logits [rows, K, 8, 8] with
    # targets [N, 8, 8]: the categories are on axis 1 whether or not the decoder keeps the point's axes of length 1.
    D = int(np.prod(point))
    squeezed = tuple(v for v in point if v != 1)
    enc, dec = torch.nn.Linear(D, 4), torch.nn.Linear(2, D * K)

    def encode(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = enc(x.flatten(1).float()).chunk(2, -1)
        return mean, log_var

    def decoder(layout: Tuple[int, ...], classes_first: bool):  # type: ignore[no-untyped-def]
        def decode(z: torch.Tensor) -> torch.Tensor:
            logits = dec(z).reshape(-1, *layout, K)
            return logits.movedim(-1, 1) if classes_first else logits
        return decode

    x = torch.randint(0, K, (20, *point))
    elbo = {}
    for layout in (point, squeezed, (D,)):
        lens = Diagnostics(encode, decoder(layout, False), x, write=False, modules=[enc, dec], likelihood="categorical")
        elbo[layout] = lens.diagnose(0, 0)["elbo"]
    assert np.isfinite(elbo[point]) and elbo[squeezed] == elbo[point] == elbo[(D,)]
    for layout in {point, squeezed}:
        lens = Diagnostics(encode, decoder(layout, True), x, write=False, modules=[enc, dec], likelihood="categorical")
        last = re.escape(str([*layout, K])[1:])
        with pytest.raises(VaeLensInputError, match=rf"of shape \(\d+, {K}, .*{K} categories are on axis 1, as F\.cross_entropy "
                                                    rf"takes them, and VAE Lens reads them on the last axis \(\[\d+, {last}\).*\.movedim\(1, -1\)"):
            lens.diagnose(0, 0)


@pytest.mark.parametrize("shape,point,K,on_axis_1", [
    ((6, 4, 4), (1, 4), 4, False),       # [rows, 4, 4] is also classes last without the axis of length 1
    ((6, 4, 4, 4), (4, 4), 4, False),    # as many classes as values per side: the same shape either way
    ((6, 3), (1,), 3, False),            # one value per point: [rows, K] is classes last
    ((6, 64, 3), (8, 8), 3, False),      # [rows, D, K]
    ((6, 3, 8, 8), (1, 8, 8), 3, True),
    ((6, 3, 1, 8, 8), (1, 8, 8), 3, True),
    ((6, 3, 8, 1, 8), (8, 1, 8), 3, True),
    ((6, 3, 8, 8), (8, 1, 8), 3, True),
    ((6, 3, 3, 5), (3, 1, 5), 3, True),
])
def test_which_shapes_have_their_classes_on_axis_1(shape: Tuple[int, ...], point: Tuple[int, ...], K: int, on_axis_1: bool) -> None:
    from vae_lens._pass import classes_axis

    assert classes_axis(shape, point, K) == (1 if on_axis_1 else None)


@pytest.mark.parametrize("point,K", [((3, 4, 4), 5), ((2, 6), 3), ((1, 4, 6), 3), ((3, 1, 5), 4)])
def test_a_categorical_decoder_with_its_classes_on_any_axis_but_the_last_is_named(point: Tuple[int, ...], K: int) -> None:
    # [rows, C, K, H, W] (categories per channel, then the pixels) read as [rows, C·K·H·W / K, K] pairs each value
    # with other values' logits: a finite, wrong ELBO. Every axis the categories can sit on but the last is named,
    # with the move that puts them last; after that move the ELBO is that of the decoder giving them last.
    D = int(np.prod(point))
    enc, dec = torch.nn.Linear(D, 4), torch.nn.Linear(2, D * K)

    def encode(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = enc(x.flatten(1).float()).chunk(2, -1)
        return mean, log_var

    def decoder(axis: int, moved_back: bool = False):  # type: ignore[no-untyped-def]
        def decode(z: torch.Tensor) -> torch.Tensor:
            logits = dec(z).reshape(-1, *point, K).movedim(-1, axis)
            return logits.movedim(axis, -1) if moved_back else logits
        return decode

    x = torch.randint(0, K, (20, *point))
    last = Diagnostics(encode, decoder(-1), x, write=False, modules=[enc, dec], likelihood="categorical").diagnose(0, 0)["elbo"]
    for axis in range(1, len(point) + 1):
        lens = Diagnostics(encode, decoder(axis), x, write=False, modules=[enc, dec], likelihood="categorical")
        with pytest.raises(VaeLensInputError, match=rf"its {K} categories are on axis {axis}\b.*\.movedim\({axis}, -1\)"):
            lens.diagnose(0, 0)
        moved = Diagnostics(encode, decoder(axis, True), x, write=False, modules=[enc, dec], likelihood="categorical")
        assert moved.diagnose(0, 0)["elbo"] == last


ITEMS_WITH_MORE = {
    "(x,)": lambda p, i: (p,),
    "[x]": lambda p, i: [p],
    "(x, y, index)": lambda p, i: (p, i % 3, i),
    "[x, y, index]": lambda p, i: [p, i % 3, i],
    "[x, y, path]": lambda p, i: [p, torch.tensor(i % 3), f"images/{i}.png"],
    "(x, mask, y)": lambda p, i: (p, torch.ones(3), i % 3),
}


@pytest.mark.parametrize("array", [False, True])
@pytest.mark.parametrize("holder", ["dataset", "list"])
@pytest.mark.parametrize("item", sorted(ITEMS_WITH_MORE))
def test_items_of_one_or_more_than_two_values_are_their_first(item: str, holder: str, array: bool) -> None:
    # A dataset's (x,), as list(TensorDataset(x)) gives, or its (x, y, index) or [x, y, path], as in a map-style
    # Dataset or collected into a list, is x as (x, y) is.
    x = torch.rand(12, 6)
    make = ITEMS_WITH_MORE[item]
    items = [make(p.numpy() if array else p, i) for i, p in enumerate(x)]

    class Items(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(items)

        def __getitem__(self, i: int) -> object:
            return items[i]

    m = TinyVae(dim=6)
    want = Diagnostics(m.encode, m.decode, x, write=False).diagnose(0, 0)
    got = Diagnostics(m.encode, m.decode, Items() if holder == "dataset" else items, write=False).diagnose(0, 0)
    assert got["points"] == 12 and got["elbo"] == want["elbo"]


@pytest.mark.parametrize("points,samples,block_rows", [(8, 2, 16), (64, 2, 16), (16, 1, 1024), (32, 1, 16)])
def test_a_flat_variance_of_one_value_per_latent_row_is_named_when_a_block_has_d_rows(points: int, samples: int,
                                                                                       block_rows: int) -> None:
    # logvar.squeeze(1), one per latent row, flat: a block of as many rows as the point has values gives [D],
    # which was read as one variance per dimension (a finite, wrong record), and the mean-field gap, which asks
    # about fewer rows, then failed with a RuntimeError of expand.
    D = 16
    enc, dec = torch.nn.Linear(D, 4), torch.nn.Linear(2, D + 1)

    def encode(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = enc(x).chunk(2, 1)
        return mean, log_var

    def decode(z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = dec(z)
        return out[:, :D], out[:, D]

    x = torch.randn(points, D, generator=torch.Generator().manual_seed(0))
    lens = Diagnostics(encode, decode, x, write=False, samples=samples, block_rows=block_rows, modules=[enc, dec])
    with pytest.raises(VaeLensInputError, match=r"decode \(.*decode\) returned log_variance of shape \(\d+,\).*one value per "
                                                r"latent row.*\[rows, 1\]"):
        lens.diagnose(0, 0)


@pytest.mark.parametrize("shape", ["scalar", "per-dimension"])
def test_a_variance_read_as_the_same_for_every_z_that_changes_between_blocks_is_named(shape: str) -> None:
    # A decoder computing one variance from the rows it is given (a batch statistic) is not homoscedastic: the
    # record's decoder entropy would be that of the first block and its ELBO that of every block's own variance.
    D = 4
    m = TinyVae(dim=D)

    def decode(z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        mean = m.decode(z)[0]
        spread = mean.var(0).log()
        return mean, spread.mean().reshape(1) if shape == "scalar" else spread

    x = torch.randn(40, D, generator=torch.Generator().manual_seed(0))
    lens = Diagnostics(m.encode, decode, x, write=False, block_rows=16, modules=[m])
    with pytest.raises(VaeLensInputError, match=r"returned log_variance of shape \(\d*,?\).*differ between blocks of latent rows.*"
                                                r"\[rows, D\] or \[rows, 1\]"):
        lens.diagnose(0, 0)
    # One block: nothing to compare, and the record is that of its one variance.
    assert np.isfinite(Diagnostics(m.encode, decode, x, write=False, block_rows=1024, modules=[m]).diagnose(0, 0)["elbo"])


class _OutputDict(dict):
    """A Hugging Face ModelOutput-like container: a dict whose values are also attributes."""

    def __getattr__(self, name: str) -> object:
        return self[name]


@dataclasses.dataclass
class _EncoderOutput:
    mu: torch.Tensor
    logvar: torch.Tensor
    label: str = "q"


class _DiagonalGaussian:
    """As diffusers' DiagonalGaussianDistribution holds its tensors: attributes, not a torch distribution."""

    def __init__(self, mu: torch.Tensor, logvar: torch.Tensor) -> None:
        self.mean, self.logvar, self.deterministic = mu, logvar, False


CONTAINERS = {
    "dict": lambda mu, lv: {"mu": mu, "logvar": lv},
    "model output": lambda mu, lv: _OutputDict(mu=mu, logvar=lv),
    "dataclass": lambda mu, lv: _EncoderOutput(mu, lv),
    "object": lambda mu, lv: _DiagonalGaussian(mu, lv),
}


@pytest.mark.parametrize("network", ["encode", "decode"])
@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_an_output_in_a_container_is_named_with_the_tensors_it_holds(container: str, network: str) -> None:
    # A dict, a Hugging Face ModelOutput, a dataclass or an object holding the tensors: the error shows what it holds,
    # so that the user sees which two to pick in a lambda.
    m = TinyVae(dim=5)
    wrap = CONTAINERS[container]
    encode = (lambda x: wrap(*m.encode(x))) if network == "encode" else m.encode
    decode = (lambda z: wrap(*m.decode(z))) if network == "decode" else m.decode
    key = "mean" if container == "object" else "mu"
    first, second = ((30, 2), (30, 2)) if network == "encode" else ((60, 5), (1,))
    with pytest.raises(VaeLensInputError, match=rf"{network} \(.*\).*returned {type(wrap(None, None)).__name__} holding "
                                                rf"{key} {re.escape(str(first))}, logvar {re.escape(str(second))}.*pick"):
        Diagnostics(encode, decode, torch.rand(30, 5), write=False, modules=[m]).diagnose(0, 0)


class _Frame:
    """A table as pandas holds one: len() counts rows, [] takes a column by its name, np.asarray gives the rows."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.columns = values, [f"feature_{j}" for j in range(values.shape[1])]

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self.columns:
            raise KeyError(column)
        return self.values[:, self.columns.index(column)]

    def __array__(self, dtype: object = None) -> np.ndarray:
        return self.values if dtype is None else self.values.astype(dtype)


@pytest.mark.parametrize("points", [5, 12])
def test_a_table_that_converts_to_an_array_is_its_rows(points: int) -> None:
    # A pandas DataFrame (or any array-like) indexes columns, not rows: read as a dataset its data[0] was a KeyError.
    base = np.random.default_rng(0).standard_normal((12, 5)).astype(np.float32)
    m = TinyVae()
    want = Diagnostics(m.encode, m.decode, base, write=False, points=points).diagnose(0, 0)
    got = Diagnostics(m.encode, m.decode, _Frame(base), write=False, points=points).diagnose(0, 0)
    assert got["points"] == points and got["elbo"] == want["elbo"]
    mixed = _Frame(np.array([["a", 1.0]] * 12, dtype=object))
    with pytest.raises(VaeLensInputError, match=r"data holds object values; VAE Lens needs numbers"):
        Diagnostics(m.encode, m.decode, mixed, write=False)


SPARSE = {
    "torch coo": lambda d: torch.from_numpy(d).to_sparse(),
    "torch csr": lambda d: torch.from_numpy(d).to_sparse_csr(),
    "scipy csr": lambda d: pytest.importorskip("scipy.sparse").csr_matrix(d),
    "scipy coo": lambda d: pytest.importorskip("scipy.sparse").coo_matrix(d),
}


@pytest.mark.parametrize("points", [20, 50])
@pytest.mark.parametrize("holder", sorted(SPARSE))
def test_sparse_data_are_their_dense_rows(holder: str, points: int) -> None:
    # Bag-of-words or user-item data are held sparse (a recommender VAE's clicks in a SciPy CSR matrix): the pass's
    # points are their dense rows, where a torch sparse tensor failed with "Cannot access data pointer" or
    # "Could not run 'aten::index.Tensor' with arguments from the 'SparseCPU' backend".
    rng = np.random.default_rng(0)
    dense = ((rng.random((50, 30)) < 0.1) * rng.integers(1, 5, (50, 30))).astype(np.float32)
    enc, dec = torch.nn.Linear(30, 4), torch.nn.Linear(2, 30)
    encode = lambda x: enc(x).chunk(2, 1)  # noqa: E731
    decode = lambda z: (dec(z), torch.zeros(1))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "sparse CSR support is in beta"
        data = SPARSE[holder](dense)
        lens = Diagnostics(encode, decode, data, write=False, modules=[enc, dec], points=points)
    want = Diagnostics(encode, decode, dense, write=False, modules=[enc, dec], points=points)
    assert torch.equal(lens.points, want.points) and lens.points.layout == torch.strided
    assert lens.diagnose(0, 0)["elbo"] == want.diagnose(0, 0)["elbo"]


OTHER_DISTRIBUTIONS = {
    "MultivariateNormal": lambda mu, lv: torch.distributions.MultivariateNormal(mu, scale_tril=torch.diag_embed((0.5 * lv).exp())),
    "LowRankMultivariateNormal": lambda mu, lv: torch.distributions.LowRankMultivariateNormal(mu, torch.zeros(*mu.shape, 1), lv.exp()),
    "Laplace": lambda mu, lv: torch.distributions.Laplace(mu, (0.5 * lv).exp()),
}


@pytest.mark.parametrize("kind", sorted(OTHER_DISTRIBUTIONS))
def test_an_encoder_returning_another_distribution_is_named_by_its_kind_and_shapes(kind: str) -> None:
    # Its tensors (loc, scale_tril, cov_factor...) are not a mean and a log-variance to pick: no lambda is offered
    # that would read a Cholesky factor as a log-variance.
    m = TinyVae(dim=5)
    make = OTHER_DISTRIBUTIONS[kind]
    with pytest.raises(VaeLensInputError, match=rf"it returned a {kind} of batch shape \(30,?.*\) and event shape \(.*\).*"
                                                r"a torch\.distributions\.Normal \(or an Independent of one\)") as told:
        Diagnostics(lambda x: make(*m.encode(x)), m.decode, torch.rand(30, 5), write=False, modules=[m]).diagnose(0, 0)
    assert "pick" not in str(told.value)


@pytest.mark.parametrize("said", ["logits", "probabilities"])
def test_a_bernoulli_decoder_returning_a_distribution_is_told_which_tensor_to_return(said: str) -> None:
    enc, dec = torch.nn.Linear(5, 4), torch.nn.Linear(2, 5)
    decode = lambda z: torch.distributions.Bernoulli(logits=dec(z))  # noqa: E731
    with pytest.raises(VaeLensInputError, match=rf"returned a Bernoulli of batch shape \(\d+, 5\) and event shape \(\); return its "
                                                rf"{said} \(p\.{'logits' if said == 'logits' else 'probs'}\)$"):
        Diagnostics(lambda x: enc(x).chunk(2, 1), decode, (torch.rand(30, 5) > 0.5).float(), likelihood="bernoulli",
                    decoder_output=said, write=False, modules=[enc, dec]).diagnose(0, 0)


def test_an_error_in_the_users_model_passes_on_unchanged_and_says_what_the_pass_fed_it() -> None:
    # An MLP written for flattened images, handed the images as [N, 1, 28, 28].
    torch.manual_seed(0)
    enc, dec = torch.nn.Linear(784, 4), torch.nn.Linear(2, 784)
    images = torch.rand(64, 1, 28, 28)
    with pytest.raises(RuntimeError) as caught:
        Diagnostics(lambda x: enc(x).chunk(2, dim=1), dec, images, write=False, modules=[enc, dec]).diagnose(1, 1)
    assert type(caught.value) is RuntimeError and "shapes cannot be multiplied" in str(caught.value)
    if sys.version_info >= (3, 11):
        (note,) = [n for n in getattr(caught.value, "__notes__", []) if n.startswith("VAE Lens")]
        assert "each of shape (1, 28, 28), as torch.float32 on cpu" in note and "eval mode" in note


@pytest.mark.parametrize("second, named", [
    (np.float32(-0.5), "a numpy float32"), (np.float16(-0.5), "a numpy float16"), (np.int64(0), "a numpy int64"),
    (np.array(-0.5), "a numpy array of float64 and shape ()"), (np.full(5, -0.5, dtype=np.float32), "a numpy array of float32 and shape (5,)"),
    ([-0.5] * 5, "a list"), ((-0.5,), "a tuple"), (True, "a bool"), (np.bool_(False), "a numpy bool_"), ("-0.5", "a str"),
], ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("scale", ("log_variance", "std"))
def test_a_decoder_variance_that_is_not_a_tensor_or_a_number_is_named_as_what_it_is(data, second: object, named: str, scale: str) -> None:
    model = TinyVae()
    with pytest.raises(Exception) as caught:
        Diagnostics(model.encode, lambda z: (model.decode(z)[0], second), data, modules=model, write=False,
                    decoder_scale=scale).diagnose(1, 1)
    assert caught.type.__name__ == "VaeLensInputError"
    message = str(caught.value)
    assert f"and, for its {scale}, {named}" in message and f"the {scale} must be a tensor or a Python number" in message, message
    assert "logits" not in message


@pytest.mark.parametrize("form", ("tuple", "normal"))
@pytest.mark.parametrize("second_shape", ("full", "per-point"))
def test_an_encoder_with_a_leading_axis_of_one_is_told_the_squeeze_that_fixes_it(data, form: str, second_shape: str) -> None:
    # A recurrent encoder's final state is [1, batch, H]; following the advice gives the records of the plain encoder.
    model = TinyVae()

    def leading(x: torch.Tensor):  # type: ignore[no-untyped-def]
        mean, log_var = model.encode(x)
        if second_shape == "per-point":
            log_var = log_var.mean(1, keepdim=True)
        mean, log_var = mean.unsqueeze(0), log_var.unsqueeze(0)
        return (mean, log_var) if form == "tuple" else torch.distributions.Normal(mean, (0.5 * log_var).exp().expand_as(mean))

    with pytest.raises(VaeLensInputError) as caught:
        Diagnostics(leading, model.decode, data, modules=model, write=False).diagnose(1, 1)
    advice = re.search(r"is dropped with encode=lambda x: (.*)$", str(caught.value))
    assert advice is not None, str(caught.value)
    fixed = eval("lambda x: " + advice.group(1), {"model": type("M", (), {"encode": staticmethod(leading)})})  # noqa: S307
    got = Diagnostics(fixed, model.decode, data, modules=model, write=False).diagnose(1, 1)

    def plain(x: torch.Tensor):  # type: ignore[no-untyped-def]
        q = leading(x)
        return tuple(t.squeeze(0) for t in q) if form == "tuple" else (q.mean.squeeze(0), q.variance.log().squeeze(0))

    want = Diagnostics(plain, model.decode, data, modules=model, write=False).diagnose(1, 1)
    assert got["elbo"] == pytest.approx(want["elbo"], rel=1e-9) and got["hEnc"] == pytest.approx(want["hEnc"], rel=1e-9)


class _Items(torch.utils.data.Dataset):
    """A map-style dataset of (x, label) items over the rows of a tensor."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):  # type: ignore[no-untyped-def]
        return self.x[i], 0


@pytest.mark.parametrize("container", ("tensor", "array", "list", "dataset"))
@pytest.mark.parametrize("value", (math.nan, math.inf, -math.inf))
@pytest.mark.parametrize("where", ((0, 0), (17, 3), (39, 4)))
def test_a_non_finite_data_value_is_named_with_its_point_and_position(container: str, value: float, where: Tuple[int, int]) -> None:
    x = torch.randn(40, 5, generator=torch.Generator().manual_seed(0))
    x[where] = value
    data = {"tensor": x, "array": x.numpy(), "list": x.tolist(), "dataset": _Items(x)}[container]
    m = TinyVae()
    with pytest.raises(VaeLensInputError) as caught:
        Diagnostics(m.encode, m.decode, data, write=False)
    message = str(caught.value)
    assert "non-finite values (NaN or infinity)" in message, message
    assert f"1 in 1 point, the first data[{where[0]}] (at index {where[1]} of its 5 values)" in message, message


@pytest.mark.parametrize("dtype", (torch.complex64, torch.complex128))
@pytest.mark.parametrize("container", ("tensor", "dataset"))
def test_complex_data_are_refused_as_not_real_numbers(dtype: torch.dtype, container: str) -> None:
    x = torch.randn(20, 5).to(dtype)
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match=f"holds {dtype} values; VAE Lens needs real numbers"):
        Diagnostics(m.encode, m.decode, x if container == "tensor" else _Items(x), write=False)

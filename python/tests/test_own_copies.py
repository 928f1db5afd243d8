"""What Diagnostics keeps of the user's tensors: its own copies, so that a later in-place change to them
(data normalised in place, a prior tensor reused) does not change the next pass; a trained prior is followed."""
from __future__ import annotations

import gc
import json
import os
import warnings
import weakref
from typing import Any, Callable, Dict

import numpy as np
import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics

#: The same points as the user may hold them, and the in-place change of each to make after construction.
HOLDERS: Dict[str, Callable[[torch.Tensor], Any]] = {
    "tensor": lambda x: x.clone(),
    "parameter": lambda x: torch.nn.Parameter(x.clone()),
    "strided-view": lambda x: torch.cat([x, x], 1)[:, ::2],
    "numpy": lambda x: x.numpy().copy(),
    "numpy-fortran": lambda x: np.asfortranarray(x.numpy()),
    "numpy-memmap-like-view": lambda x: np.concatenate([x.numpy(), x.numpy()])[: len(x)],
    "dict-column": lambda x: {"pixel_values": x.clone(), "label": torch.arange(len(x))},
    "list-of-tensors": lambda x: list(x.clone()),
}


def _change_in_place(held: Any) -> None:
    """Normalise in place, as a training script does after making its data."""
    if isinstance(held, dict):
        held = held["pixel_values"]
    if isinstance(held, list):
        for row in held:
            row.mul_(3.0).add_(1.0)
        return
    if isinstance(held, torch.Tensor):
        with torch.no_grad():
            held.mul_(3.0).add_(1.0)
        return
    held *= 3.0
    held += 1.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("points", [50, 64, 4096])
@pytest.mark.parametrize("holder", sorted(HOLDERS))
def test_an_in_place_change_to_the_data_after_construction_does_not_change_the_passes(holder: str, points: int, dtype: torch.dtype) -> None:
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(7)).to(dtype)
    held = HOLDERS[holder](x)
    m = TinyVae().to(dtype)
    lens = Diagnostics(m.encode, m.decode, held, write=False, points=points)
    before = lens.points.clone()
    first = lens.diagnose(1, 1)
    _change_in_place(held)
    assert torch.equal(lens.points, before)
    again = lens.diagnose(1, 1)  # the same epoch: the same noise
    for k in ("elbo", "gap", "entropySum", "rDec", "rPrior", "sigma2", "meanFieldGap"):
        assert again[k] == first[k], k


def test_the_points_are_not_a_view_of_the_data() -> None:
    x = torch.randn(30, 5)
    lens = Diagnostics(TinyVae().encode, TinyVae().decode, x, write=False)
    assert lens.points.data_ptr() != x.data_ptr() and torch.equal(lens.points, x)
    a = np.random.default_rng(0).standard_normal((30, 5))
    assert not np.shares_memory(Diagnostics(TinyVae().encode, TinyVae().decode, a, write=False).points.numpy(), a)


@pytest.mark.parametrize("given", ["numpy", "list"])
def test_an_in_place_change_to_a_prior_variance_given_as_values_does_not_change_the_passes(data, given: str) -> None:
    values = [0.5, 2.0]
    prior: Any = {"numpy": np.array(values), "list": list(values)}[given]
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False, prior_variance=prior)
    first = lens.diagnose(1, 1)
    prior[0] *= 4.0
    again = lens.diagnose(1, 1)
    assert again["priorVariance"] == first["priorVariance"] == values
    assert again["elbo"] == first["elbo"] and again["rPrior"] == first["rPrior"]


@pytest.mark.parametrize("given", ["parameter", "buffer", "float32-buffer", "callable"])
def test_a_prior_variance_tensor_is_read_at_every_pass(data, given: str) -> None:
    # A tensor is the model's: a Parameter an optimizer steps, or a buffer the user's own update
    # (a_h^2 set to the latents' second moments, VAE-2's closed form) writes in place.
    a2 = torch.nn.Parameter(torch.tensor([0.5, 2.0], dtype=torch.float64))
    prior: Any = {"parameter": a2, "buffer": a2.detach(), "float32-buffer": None, "callable": lambda: a2.detach()}[given]
    if given == "float32-buffer":
        prior = torch.tensor([0.5, 2.0])
        a2 = prior
    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, write=False, prior_variance=prior)
    assert lens.diagnose(1, 1)["priorVariance"] == [0.5, 2.0]
    with torch.no_grad():
        a2.mul_(2.0)  # an optimizer's step
    assert lens.diagnose(2, 2)["priorVariance"] == [1.0, 4.0]


def test_a_prior_variance_computed_once_from_the_model_is_warned_of(data) -> None:
    log_a2 = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    a2 = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    m = TinyVae()
    with pytest.warns(UserWarning, match=r"prior_variance is a tensor computed once from the model \(ExpBackward0?\).*lambda: model\.log_a2\.exp\(\)"):
        Diagnostics(m.encode, m.decode, data, write=False, prior_variance=log_a2.exp())
    # Followed as they are: a parameter, a view of one, a callable, fixed values.
    for followed in (a2[:2], a2[2:], lambda: log_a2.exp(), [1.0, 2.0]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Diagnostics(m.encode, m.decode, data, write=False, prior_variance=followed)


@pytest.mark.parametrize("view", ["whole", "slice", "slice of a slice", "reshape"])
def test_a_view_of_a_prior_variance_computed_once_is_warned_of_too(data, view: str) -> None:
    log_a2 = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    computed = log_a2.exp()
    given = {"whole": computed, "slice": computed[:2], "slice of a slice": computed[1:][:2],
             "reshape": computed.reshape(2, 2)[0]}[view]
    m = TinyVae()
    with pytest.warns(UserWarning, match=r"prior_variance is a tensor computed once from the model \(ExpBackward0?\)"):
        Diagnostics(m.encode, m.decode, data, write=False, prior_variance=given)


def test_a_prior_variance_tensor_is_kept_without_its_graph_and_still_followed(data) -> None:
    a2 = torch.nn.Parameter(torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64))
    m = TinyVae()
    for given in (a2, a2[:2]):
        lens = Diagnostics(m.encode, m.decode, data, write=False, prior_variance=given)
        held = lens._prior_variance
        assert isinstance(held, torch.Tensor) and held.grad_fn is None and not held.requires_grad
        assert held.data_ptr() == given.data_ptr()
    with torch.no_grad():
        a2.mul_(2.0)
    assert lens.diagnose(1, 1)["priorVariance"] == [1.0, 4.0]
    # A computed tensor's graph (and what it saved) is not kept alive by Diagnostics.
    log_a2 = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    weights = torch.ones(2, dtype=torch.float64)  # saved by the product's backward
    saved = weakref.ref(weights)
    computed = (log_a2 * weights).exp()
    with pytest.warns(UserWarning, match="computed once"):
        lens = Diagnostics(m.encode, m.decode, data, write=False, prior_variance=computed)
    del computed, weights
    gc.collect()
    assert saved() is None and lens.diagnose(1, 1)["priorVariance"] == [1.0, 1.0]


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli", "categorical"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_encoder_changing_its_input_in_place_changes_neither_the_points_nor_the_records(likelihood: str,
                                                                                        dtype: torch.dtype) -> None:
    # A model whose first line works on its input in place (x.mul_(0.5), x.clamp_(...)) is handed a batch of the
    # pass's own points: that batch must be the model's, or the likelihood of this pass reads the changed values
    # and every later pass (images and mean-field gap too) starts from them.
    K = 3
    m = TinyVae(dim=6 * (K if likelihood == "categorical" else 1)).to(dtype)
    if likelihood == "categorical":
        x = torch.randint(0, K, (40, 1, 2, 3), generator=torch.Generator().manual_seed(2))
    else:
        x = torch.rand(40, 1, 2, 3, generator=torch.Generator().manual_seed(2)).to(dtype)
        x = x.round() if likelihood == "bernoulli" else x

    def encode_in_place(v: torch.Tensor) -> Any:
        v = v.flatten(1)
        if likelihood == "categorical":
            v.clamp_(max=1)  # class indices, changed in place
            return m.encode(torch.nn.functional.one_hot(v, K).flatten(1).to(dtype))
        v.mul_(0.5)
        return m.encode(torch.cat([v] * (K if likelihood == "categorical" else 1), 1))

    def encode_copy(v: torch.Tensor) -> Any:
        v = v.flatten(1)
        if likelihood == "categorical":
            return m.encode(torch.nn.functional.one_hot(v.clamp(max=1), K).flatten(1).to(dtype))
        return m.encode(v * 0.5)

    if likelihood == "gaussian":
        decode = lambda z: (m.decode(z)[0].reshape(-1, 1, 2, 3), m.decode(z)[1])  # noqa: E731
    elif likelihood == "bernoulli":
        decode = lambda z: m.decode(z)[0]  # noqa: E731
    else:
        decode = lambda z: m.decode(z)[0].reshape(-1, 6, K)  # noqa: E731
    records = {}
    for name, encode in (("in place", encode_in_place), ("copy", encode_copy)):
        lens = Diagnostics(encode, decode, x, write=False, modules=[m], likelihood=likelihood)
        points = lens.points.clone()
        records[name] = [lens.diagnose(1, 1) for _ in range(2)]
        assert torch.equal(lens.points, points), name
    for k in ("elbo", "gap", "meanFieldGap"):
        assert [r.get(k) for r in records["in place"]] == [r.get(k) for r in records["copy"]], k


def test_the_images_of_an_encoder_changing_its_input_in_place_show_the_points(tmp_path) -> None:
    m = TinyVae(dim=16)
    x = torch.rand(20, 1, 4, 4, generator=torch.Generator().manual_seed(3))

    def encode(v: torch.Tensor) -> Any:
        return m.encode(v.flatten(1).mul_(0.5))

    decode = lambda z: (m.decode(z)[0].reshape(-1, 1, 4, 4), m.decode(z)[1])  # noqa: E731
    with Diagnostics(encode, decode, x, runs_dir=str(tmp_path), modules=[m]) as lens:
        lens.diagnose(0, 0)
        lens.diagnose(1, 1)
    (run,) = os.listdir(tmp_path)
    images = json.loads((tmp_path / run / "images.json").read_text())
    assert np.allclose(images["originals"], x[:len(images["originals"])].flatten(1).numpy(), atol=1e-4)

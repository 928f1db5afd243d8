"""What a run does around the user's loop: images that cannot be drawn never reach it, the modules behind
lambdas over a script's global model are found, sys.exit(0) ends a run as completed, an unclosed run does
not keep its model alive, and the package names what it documents."""
from __future__ import annotations

import gc
import json
import os
import re
import sys
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

import vae_lens
from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError

K = 4


class CategoricalImages(torch.nn.Module):
    """8x8 images of K class indices: the encoder embeds them, so it needs integer indices."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.emb = torch.nn.Embedding(K, 2)
        self.enc = torch.nn.Linear(8 * 8 * 2, 4)
        self.dec = torch.nn.Linear(2, 8 * 8 * K)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def encode(self, x: torch.Tensor):
        h = self.enc(self.emb(x).flatten(1))
        return h[:, :2], h[:, 2:]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z).view(-1, 8 * 8, K)


def _status(runs: Path) -> dict:
    (run,) = os.listdir(runs)
    return json.load(open(runs / run / "summary.json"))


def test_categorical_images_are_skipped_once_and_the_loop_goes_on(tmp_path) -> None:
    m = CategoricalImages()
    data = torch.randint(0, K, (64, 8, 8), generator=torch.Generator().manual_seed(1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Diagnostics(m.encode, m.decode, data, likelihood="categorical", runs_dir=str(tmp_path)) as lens:
            for epoch in (1, 2):
                lens.diagnose(epoch, epoch)
    assert len(lens.records) == 2
    said = [w for w in caught if "no images" in str(w.message)]
    assert len(said) == 1 and "categorical" in str(said[0].message)
    (run,) = os.listdir(tmp_path)
    assert not (tmp_path / run / "images.json").exists()
    assert len(open(tmp_path / run / "metrics.jsonl").read().splitlines()) == 2


def test_any_error_of_the_images_is_a_warning_and_the_record_stays(tmp_path) -> None:
    m = TinyVae(dim=16)

    def encode(x: torch.Tensor):
        if x.shape[0] == 8:  # the images' batch, and no other the run makes
            raise RuntimeError("this model takes no batch of 8")
        return m.encode(x.flatten(1))

    data = torch.rand(40, 4, 4, generator=torch.Generator().manual_seed(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lens = Diagnostics(encode, m.decode, data, runs_dir=str(tmp_path), modules=[m])
        lens.diagnose(1, 1)
        lens.diagnose(2, 2)
        lens.close()
    said = [str(w.message) for w in caught if "no images" in str(w.message)]
    assert len(said) == 1 and "RuntimeError: this model takes no batch of 8" in said[0]
    (run,) = os.listdir(tmp_path)
    assert len(open(tmp_path / run / "metrics.jsonl").read().splitlines()) == 2
    assert _status(tmp_path)["status"] == "completed"


# A model made at the top of a script, and lambdas over it: their code names the model as a global.
GLOBAL_MODEL = TinyVae()
GLOBAL_MODEL.enc.insert(1, torch.nn.BatchNorm1d(16))


def test_lambdas_over_a_global_model_find_it_and_leave_batch_norm_alone(data) -> None:
    encode = lambda x: GLOBAL_MODEL.encode(x)  # noqa: E731
    decode = lambda z: [t for t in GLOBAL_MODEL.decode(z)]  # noqa: E731 - the name in nested (comprehension) code
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lens = Diagnostics(encode, lambda z: tuple(decode(z)), data, write=False)
    assert lens._modules == [GLOBAL_MODEL]
    bn = GLOBAL_MODEL.enc[1]
    GLOBAL_MODEL.train()
    mean, count = bn.running_mean.clone(), int(bn.num_batches_tracked)
    lens.diagnose(1, 1)
    assert torch.equal(bn.running_mean, mean) and int(bn.num_batches_tracked) == count
    assert GLOBAL_MODEL.training and bn.training


@pytest.mark.parametrize("code,status", [(None, "completed"), (0, "completed"), (3, "failed"), ("bad", "failed")])
def test_sys_exit_in_the_with_block(code, status, tmp_path, data) -> None:
    m = TinyVae()
    with pytest.raises(SystemExit):
        with Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path)) as lens:
            lens.diagnose(1, 1)
            sys.exit(code)
    summary = _status(tmp_path)
    assert summary["status"] == status
    if status == "failed":
        assert summary["message"].startswith("SystemExit")


def test_an_unclosed_run_does_not_keep_its_model_alive(tmp_path, data) -> None:
    def trial(i: int) -> "weakref.ref[TinyVae]":
        m = TinyVae()
        lens = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path / str(i)))
        lens.diagnose(1, 1)  # and never closed
        return weakref.ref(m)

    refs = [trial(i) for i in range(2)]
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_an_open_run_is_still_closed_at_exit(tmp_path, data) -> None:
    from vae_lens._guards import ExitHook

    m = TinyVae()
    lens = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path))
    lens.diagnose(1, 1)
    assert lens in set(ExitHook.open_runs)
    ExitHook.close_all()
    assert _status(tmp_path)["status"] == "stopped" and lens not in set(ExitHook.open_runs)


def test_all_names_what_is_documented() -> None:
    assert "theorem_status" in vae_lens.__all__ and "RunLogger" not in vae_lens.__all__
    for name in vae_lens.__all__:
        assert getattr(vae_lens, name) is not None
    assert vae_lens.RunLogger is vae_lens.Diagnostics  # the first name, still importable


class SpatialLatent(torch.nn.Module):
    """A conv VAE whose latent keeps its image form ([B, 4, 2, 2]), returning q(z|x) in one of three forms."""

    def __init__(self, returns: str = "tuple") -> None:
        super().__init__()
        self.returns = returns
        self.e = torch.nn.Conv2d(1, 8, 4, 4)
        self.d = torch.nn.ConvTranspose2d(4, 1, 4, 4)

    def encode(self, x):
        h = self.e(x)
        mean, log_var = h[:, :4], h[:, 4:]
        if self.returns == "tuple":
            return mean, log_var
        q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
        return q if self.returns == "normal" else torch.distributions.Independent(q, 3)

    def decode(self, z):
        return self.d(z), torch.zeros(())


def test_a_spatial_latent_is_told_how_to_wrap_the_model(data) -> None:
    m = SpatialLatent()
    with pytest.raises(VaeLensInputError, match=r"flatten.*encode=lambda x: tuple\(t\.flatten\(1\).*unflatten\(1, \(4, 2, 2\)\)"):
        Diagnostics(m.encode, m.decode, torch.rand(16, 1, 8, 8), write=False).diagnose(1, 1)


@pytest.mark.parametrize("returns", ["tuple", "normal", "independent"])
def test_the_wrapping_a_spatial_latent_is_told_works_as_written(returns: str) -> None:
    # The advice is code: run as written, over the user's model, it must give a pass, whatever form q(z|x) takes.
    model = SpatialLatent(returns)
    x = torch.rand(16, 1, 8, 8)
    with pytest.raises(VaeLensInputError) as told:
        Diagnostics(model.encode, model.decode, x, write=False).diagnose(1, 1)
    advice = re.search(r"(encode=lambda x: .*), (decode=lambda z: .*)$", str(told.value))
    assert advice is not None, str(told.value)
    wrapped = {name: eval(code.split("=", 1)[1], {"model": model, "torch": torch}) for name, code in
               (("encode", advice.group(1)), ("decode", advice.group(2)))}
    record = Diagnostics(wrapped["encode"], wrapped["decode"], x, write=False, modules=[model]).diagnose(1, 1)
    assert np.isfinite(record["elbo"]) and len(record["klPerLatent"]) == 16

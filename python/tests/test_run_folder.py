"""The run folder, and the promise never to disturb training."""
from __future__ import annotations

import json
import os
import pathlib
import warnings
import random
import socket

import numpy as np
import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics, VaeLensInputError


def read_records(run_dir: str) -> list:
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_three_lines_write_a_run_folder(tmp_path, data, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    m = TinyVae()
    d = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path), name="tiny", epochs=3, train_batch_size=50)
    for epoch in range(4):
        d.diagnose(epoch, epoch * 4, train_loss=1.5, learning_rate=0.01 / (1 + epoch))
    d.close("completed")
    run = d.run_dir
    assert os.path.basename(run).startswith("tiny-")
    meta = json.load(open(os.path.join(run, "run.json")))
    assert meta["formatVersion"] == 1 and meta["modelType"] == "VAE-1" and meta["latentDim"] == 2
    assert meta["dataset"]["n"] == 200 and meta["dataset"]["dim"] == 5 and meta["pid"] == os.getpid()
    assert meta["host"] == socket.gethostname()
    if os.path.exists("/proc/self/stat"):
        # This process's boot and start ticks, which readers compare with the pid's to tell it from a pid handed out again.
        boot = pathlib.Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        ticks = pathlib.Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]
        assert meta["pidStart"] == f"{boot}:{ticks}" == meta["sessions"][-1]["pidStart"]
    recs = read_records(run)
    assert [r["epoch"] for r in recs] == [0, 1, 2, 3]
    required = ["epoch", "step", "elbo", "elboStdErr", "hEnc", "hPrior", "hDec", "entropySum", "gap", "gapRel", "rDec",
                "rPrior", "sigma2", "sigma2Opt", "latentSecondMoment", "klPerLatent", "samplesPerSec", "wallSeconds"]
    for r in recs:
        assert all(k in r for k in required)
        assert "convergence" not in r, "the verdict is the TypeScript reader's"
    assert recs[1]["samplesPerSec"] > 0 and recs[1]["trainLoss"] == 1.5
    assert [r["learningRate"] for r in recs] == [0.01, 0.005, 0.01 / 3, 0.0025]
    summary = json.load(open(os.path.join(run, "summary.json")))
    assert summary["status"] == "completed" and summary["epochsDone"] == 3 and summary["last"]["epoch"] == 3
    assert not [f for f in os.listdir(run) if ".tmp" in f]


def test_the_optimizers_step_is_recorded_and_left_alone(tmp_path, data, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    m = TinyVae()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    d = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path), name="lr", optimizer=opt)
    seen = []
    for epoch in range(4):
        seen.append(opt.param_groups[0]["lr"])
        d.diagnose(epoch, epoch)
        opt.step()
        sched.step()
    d.close("completed")
    assert [r["learningRate"] for r in read_records(d.run_dir)] == seen
    assert seen[0] == 0.01 and seen[-1] < 1e-9 and opt.param_groups[0]["lr"] > 0


def test_run_dir_from_the_environment_keeps_what_the_editor_wrote(tmp_path, data, monkeypatch) -> None:
    run = tmp_path / "given"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"name": "from-spec", "specPath": "/x/a.vae.json", "runsDir": "/x/runs", "startedAt": "2026-01-01T00:00:00Z"}))
    monkeypatch.setenv("VAE_LENS_RUN_DIR", str(run))
    m = TinyVae()
    with Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path / "ignored")) as d:
        d.diagnose(0, 0)
    assert d.run_dir == str(run) and not (tmp_path / "ignored").exists()
    meta = json.load(open(run / "run.json"))
    assert meta["name"] == "from-spec" and meta["specPath"] == "/x/a.vae.json" and meta["startedAt"].startswith("2026")
    # The runs folder beside specPath is how a moved workspace finds the spec again: the pair is kept.
    assert meta["runsDir"] == "/x/runs"
    assert json.load(open(run / "summary.json"))["status"] == "completed"


@pytest.mark.parametrize("second_starts", ["after the first closed", "while the first is open"])
def test_a_second_run_under_the_same_run_dir_loses_nothing_of_the_first(second_starts: str, tmp_path, data, monkeypatch) -> None:
    run = tmp_path / "given"
    run.mkdir()
    # What the editor writes before it starts a script.
    (run / "run.json").write_text(json.dumps({"name": "from-spec", "specPath": "/x/a.vae.json", "startedAt": "2026-01-01T00:00:00Z", "trainer": "script"}))
    monkeypatch.setenv("VAE_LENS_RUN_DIR", str(run))
    a, b = TinyVae(seed=0), TinyVae(seed=1)
    first = Diagnostics(a.encode, a.decode, data, points=32, name="first")
    for epoch in range(3):
        first.diagnose(epoch, epoch)
    if second_starts == "after the first closed":
        first.close("completed")
    with pytest.warns(UserWarning, match="already holds another Diagnostics' run"):
        second = Diagnostics(b.encode, b.decode, data, points=32, name="second")
    second.diagnose(0, 0)
    second.close("completed")
    first.close("completed")
    assert first.run_dir == str(run) and second.run_dir != str(run)
    assert os.path.dirname(second.run_dir) == str(tmp_path)
    # The first run's folder holds its records, its run.json and its summary, nothing of the second.
    assert [r["epoch"] for r in read_records(str(run))] == [0, 1, 2]
    assert [r["elbo"] for r in read_records(str(run))] == [r["elbo"] for r in first.records]
    assert json.load(open(run / "run.json"))["name"] == "from-spec"
    summary = json.load(open(run / "summary.json"))
    assert summary["status"] == "completed" and summary["epochsDone"] == 2
    assert [r["elbo"] for r in read_records(second.run_dir)] == [r["elbo"] for r in second.records]


def test_training_is_not_disturbed(data) -> None:
    m = TinyVae().train()
    m.enc.eval()  # a mixed state must come back as it was
    torch.manual_seed(123)
    np.random.seed(7)
    random.seed(9)
    before = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    d = Diagnostics(m.encode, m.decode, data, write=False)
    r1 = d.diagnose(0, 0)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1]) and random.getstate() == before[2]
    assert m.training and not m.enc.training and m.dropout.training
    assert all(p.grad is None for p in m.parameters())
    # Same pass, same noise: the record does not depend on what the user's RNG did meanwhile.
    torch.randn(1000)
    assert d.diagnose(0, 0)["elbo"] == r1["elbo"]
    assert d.diagnose(1, 0)["elbo"] != r1["elbo"], "a new pass draws new noise"


def test_dropout_is_off_during_the_pass(data) -> None:
    m = TinyVae().train()
    a = Diagnostics(m.encode, m.decode, data, write=False).diagnose(0, 0)
    b = Diagnostics(m.encode, m.decode, data, write=False).diagnose(0, 0)
    assert a["hEnc"] == b["hEnc"]


def test_subset_is_fixed_and_seeded(data) -> None:
    m = TinyVae()
    d = Diagnostics(m.encode, m.decode, data, points=50, seed=3, write=False)
    e = Diagnostics(m.encode, m.decode, data, points=50, seed=3, write=False)
    assert torch.equal(d.points, e.points) and d.points.shape == (50, 5)
    assert d.diagnose(0, 0)["points"] == 50


def test_bernoulli_decoder_is_named_and_its_gap_not_claimed(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    x = (torch.rand(64, 1, 6, 6, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    enc = torch.nn.Linear(36, 4)
    dec = torch.nn.Linear(2, 36)
    d = Diagnostics(lambda x: enc(x.flatten(1)).chunk(2, -1), lambda z: dec(z).view(-1, 1, 6, 6), x,
                    likelihood="bernoulli", runs_dir=str(tmp_path), modules=[enc, dec])
    r = d.diagnose(0, 0)
    d.close()
    assert r["theoremApplies"] is False and "bernoulli" in r["theoremNote"]
    assert r["gap"] is None and r["hDec"] is None and r["elbo"] < 0
    meta = json.load(open(os.path.join(d.run_dir, "run.json")))
    assert meta["theoremApplies"] is False and meta["modelType"] == "bernoulli decoder"
    images = json.load(open(os.path.join(d.run_dir, "images.json")))
    assert images["shape"] == [6, 6] and len(images["originals"]) == 8 and len(images["samples"][0]) == 36
    assert read_records(d.run_dir)[0]["gap"] is None


def test_beta_and_annealing_are_recorded(data) -> None:
    m = TinyVae()
    d = Diagnostics(m.encode, m.decode, data, write=False, beta=lambda epoch: min(1.0, epoch / 2))
    start, early, late = d.diagnose(0, 0), d.diagnose(1, 1), d.diagnose(2, 2)
    assert start["beta"] == 0.0 and start["theoremApplies"] is False and "beta = 0" in start["theoremNote"]
    assert early["beta"] == 0.5 and early["theoremApplies"] is True
    assert late["beta"] == 1.0 and late["theoremApplies"] is True


# -- bad input: a clear error naming the callable and the shape; nothing written is lost ------------

# Prior variances of the wrong kind: each is named, none is a TypeError from inside the pass.
PRIOR_CASES = {
    "prior-scalar": torch.tensor(2.0),
    "prior-matrix": torch.ones(2, 2),
    "prior-wrong-length": torch.ones(3),
    "prior-callable-none": lambda: None,
    "prior-strings": ["a", "b"],
    "prior-zero": [1.0, 0.0],
}


def bad_case(kind: str):
    m = TinyVae()
    if kind == "encode-shape":
        # [batch, 1] broadcasts to the means (an isotropic posterior) and is read; twice H values do not.
        return (lambda x: (m.encode(x)[0], m.encode(x)[1].repeat(1, 2))), m.decode, {}, r"encode .*shape \(\d+, 4\)"
    if kind == "encode-one":
        return (lambda x: m.encode(x)[0]), m.decode, {}, r"encode .*must return \(mean, log_variance\)"
    if kind == "decode-shape":
        return m.encode, (lambda z: (m.decode(z)[0][:, :3], m.log_s2)), {}, r"decode .*mean of shape \(\d+, 3\)"
    if kind == "decode-variance":
        return m.encode, (lambda z: (m.decode(z)[0], torch.zeros(3))), {}, r"decode .*log_variance of shape \(3,\)"
    if kind == "nan":
        return m.encode, (lambda z: (m.decode(z)[0] * float("nan"), m.log_s2)), {}, r"decode .*mean of shape .* non-finite"
    if kind == "negative-prior":
        return m.encode, m.decode, {"prior_variance": torch.tensor([1.0, -0.5])}, r"prior_variance .*positive"
    if kind in PRIOR_CASES:
        return m.encode, m.decode, {"prior_variance": PRIOR_CASES[kind]}, r"^prior_variance (must be H positive|has 3 entries but encode returns H=2)"
    if kind == "logits":
        return m.encode, (lambda z: m.decode(z)[0]), {}, r"decode .*not Gaussian.*likelihood='bernoulli'"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["encode-shape", "encode-one", "decode-shape", "decode-variance", "nan", "negative-prior", "logits", *PRIOR_CASES])
def test_bad_input_is_named_and_loses_nothing(kind, tmp_path, data, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    good = TinyVae()
    encode, decode, extra, message = bad_case(kind)
    d = Diagnostics(good.encode, good.decode, data, runs_dir=str(tmp_path))
    d.diagnose(0, 0)
    before = open(os.path.join(d.run_dir, "metrics.jsonl")).read()
    d.encode, d.decode = encode, decode
    d._prior_variance = extra.get("prior_variance")
    with pytest.raises(VaeLensInputError, match=message):
        d.diagnose(1, 1)
    assert open(os.path.join(d.run_dir, "metrics.jsonl")).read() == before
    assert json.load(open(os.path.join(d.run_dir, "summary.json")))["last"]["epoch"] == 0
    d.close("failed", "bad input")


BAD_DIAGNOSE_ARGUMENTS = [
    ("epoch", "1"), ("epoch", -1), ("epoch", 1.5), ("epoch", None), ("step", [3]), ("step", -2),
    ("samples", "many"), ("samples", -10), ("train_loss", "low"), ("train_loss", [1.0, 2.0]),
    ("beta", -0.5), ("beta", "one"), ("learning_rate", "1e-3"), ("learning_rate", -1e-3), ("learning_rate", float("nan")),
]


@pytest.mark.parametrize("name,value", BAD_DIAGNOSE_ARGUMENTS)
def test_bad_diagnose_arguments_are_named_before_the_pass(name, value, tmp_path, data, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    m = TinyVae()
    d = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path))
    d.diagnose(0, 0)
    before = open(os.path.join(d.run_dir, "metrics.jsonl")).read()
    args = {"epoch": 1, "step": 1, name: value}
    with pytest.raises(VaeLensInputError, match=rf"^diagnose\(\): {name} must be"):
        d.diagnose(**args)
    assert open(os.path.join(d.run_dir, "metrics.jsonl")).read() == before
    d.diagnose(1, 1, train_loss=torch.tensor(0.5), learning_rate=0.0)  # a one-value tensor and a zero step are fine
    d.close()


def test_bad_arguments(data) -> None:
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match="likelihood"):
        Diagnostics(m.encode, m.decode, data, likelihood="poisson", write=False)
    with pytest.raises(VaeLensInputError, match="samples"):
        Diagnostics(m.encode, m.decode, data, samples=0, write=False)
    with pytest.raises(VaeLensInputError, match="non-finite"):
        Diagnostics(m.encode, m.decode, data * float("nan"), write=False)


def test_the_starting_spec_sets_default_points_and_samples(data, monkeypatch) -> None:
    monkeypatch.setenv("VAE_LENS_POINTS", "50")
    monkeypatch.setenv("VAE_LENS_SAMPLES", "3")
    m = TinyVae()
    r = Diagnostics(m.encode, m.decode, data, write=False).diagnose(0, 0)
    assert (r["points"], r["mcSamples"]) == (50, 3)
    r = Diagnostics(m.encode, m.decode, data, write=False, points=20, samples=2).diagnose(0, 0)
    assert (r["points"], r["mcSamples"]) == (20, 2), "arguments in the script win"
    monkeypatch.setenv("VAE_LENS_SAMPLES", "many")
    with pytest.raises(VaeLensInputError, match="VAE_LENS_SAMPLES"):
        Diagnostics(m.encode, m.decode, data, write=False)


def test_an_unwritable_runs_dir_is_a_clear_error(tmp_path, data, monkeypatch) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    m = TinyVae()
    with pytest.raises(VaeLensInputError, match="cannot write the run folder in .*a-file"):
        Diagnostics(m.encode, m.decode, data, runs_dir=str(blocker / "runs"))


@pytest.mark.parametrize("given", ["list", "children", "modules", "generator", "map"])
def test_modules_given_as_any_iterable_are_all_put_in_eval_mode(data, given: str) -> None:
    # modules=model.children() or a generator: its modules were consumed by the check that they are modules,
    # leaving none to put in eval mode, so dropout ran in every pass.
    enc = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(5, 4))
    dec = torch.nn.Linear(2, 5)
    model = torch.nn.ModuleDict({"enc": enc, "dec": dec}).train()
    encode = lambda x: enc(x).chunk(2, 1)  # noqa: E731
    decode = lambda z: (dec(z), torch.zeros(1))  # noqa: E731
    modules = {
        "list": lambda: [model],
        "children": lambda: model.children(),
        "modules": lambda: model.modules(),
        "generator": lambda: (m for m in [enc, dec]),
        "map": lambda: map(lambda name: model[name], ["enc", "dec"]),
    }[given]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lens = Diagnostics(encode, decode, data, write=False, modules=modules())
    record = lens.diagnose(1, 1)
    assert all(m.training for m in model.modules()), "the modes are restored"
    enc.eval()
    # Given none, the pass still runs the training-mode decoder in eval mode, and says it was not given.
    with pytest.warns(UserWarning, match="not given and did not find \\(Linear\\)"):
        off = Diagnostics(encode, decode, data, write=False, modules=[]).diagnose(1, 1)
    assert record["elbo"] == off["elbo"], "the pass ran with dropout off"

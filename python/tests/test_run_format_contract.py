"""The companion writes only what docs/run-format.md allows: every file of its run folders, in every
kind of run it makes, checked against the document's rules by a validator written from the document
(not from the TypeScript reader)."""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import warnings
from typing import Any, Callable, Dict, List

import pytest
import torch

from conftest import REPO, TinyVae
from vae_lens import Diagnostics
from vae_lens._guards import ExitHook

CLI = os.path.join(REPO, "bin", "vae-lens.js")
NODE = shutil.which("node")

NUMBER = (int, float)
STATES = ("too-early", "improving", "not-converged", "noise-limited", "converged", "collapsed", "stationary")
LIKELIHOODS = ("gaussian", "bernoulli", "categorical")

Check = Callable[[Any], bool]


def number(v: Any) -> bool:
    return isinstance(v, NUMBER) and not isinstance(v, bool) and math.isfinite(v)


def json_number(v: Any) -> bool:
    return v is None or number(v)


def numbers(v: Any) -> bool:
    return isinstance(v, list) and all(json_number(x) for x in v)


def whole(v: Any) -> bool:
    return number(v) and float(v).is_integer()


def text(v: Any) -> bool:
    return isinstance(v, str)


def iso_time(v: Any) -> bool:
    try:
        return isinstance(v, str) and dt.datetime.fromisoformat(v.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def one_of(*values: Any) -> Check:
    return lambda v: v in values


# docs/run-format.md, "metrics.jsonl records": the required fields, then every optional one it names.
REQUIRED: Dict[str, Check] = {
    "epoch": number, "step": number, "elbo": json_number, "elboStdErr": json_number, "hEnc": json_number,
    "hPrior": json_number, "hDec": json_number, "entropySum": json_number, "gap": json_number, "gapRel": json_number,
    "rDec": json_number, "rPrior": json_number, "sigma2": json_number, "sigma2Opt": json_number,
    "latentSecondMoment": numbers, "klPerLatent": numbers, "samplesPerSec": json_number, "wallSeconds": json_number,
}
OPTIONAL: Dict[str, Check] = {
    "gapStdErr": json_number, "elboStdErrData": json_number, "elboAtOptVariance": json_number, "logLik": json_number,
    "kl": json_number, "collapsedLatents": lambda v: isinstance(v, list) and all(whole(h) for h in v),
    "trainLoss": json_number, "validationElbo": json_number, "priorVariance": numbers, "convergence": one_of(*STATES),
    "convergenceReason": text, "diagnosticsSeconds": json_number, "points": json_number, "mcSamples": json_number,
    "latentMeanVariance": numbers, "activeUnits": json_number, "hEncPerLatent": numbers, "mutualInformation": json_number,
    "miPoints": json_number, "meanFieldGap": json_number, "meanFieldPoints": json_number,
    "decoderLinear": lambda v: isinstance(v, bool), "averagedElbo": json_number, "averagingSteps": json_number,
    "learningRate": json_number, "elboSlope": json_number, "elboSlopeStdErr": json_number,
    "likelihood": one_of(*LIKELIHOODS), "beta": json_number, "theoremApplies": lambda v: isinstance(v, bool),
    "theoremNote": text,
}
PER_LATENT = ("latentSecondMoment", "klPerLatent", "priorVariance", "latentMeanVariance", "hEncPerLatent")
NULL_FOR_NON_GAUSSIAN = ("hDec", "entropySum", "gap", "gapRel", "rDec", "sigma2", "sigma2Opt")

# run.json's `sessions`: each `{ startedAt, backend, engineDetail?, threads?, pid?, pidStart?, host?, fromEpoch? }`.
SESSION: Dict[str, Check] = {
    "startedAt": iso_time, "backend": text, "engineDetail": text, "threads": lambda v: whole(v) and v >= 1,
    "pid": lambda v: whole(v) and v >= 1, "pidStart": text, "host": text, "fromEpoch": whole,
}
SESSION_REQUIRED = ("startedAt", "backend")


def sessions_ok(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(s, dict) and not problems_of_fields(s, SESSION, SESSION_REQUIRED, "") for s in v)


# "run.json (RunMeta)": its fields, and the optional ones from other writers.
META: Dict[str, Check] = {
    "formatVersion": one_of(1), "name": text, "specPath": lambda v: text(v) and os.path.isabs(v), "startedAt": iso_time,
    "runsDir": lambda v: text(v) and os.path.isabs(v), "sessions": lambda v: sessions_ok(v),
    "backend": text, "engineDetail": text, "modelType": text, "latentDim": whole, "epochs": whole, "dataset": dict.__instancecheck__,
    "resumedFrom": text, "pid": whole, "pidStart": text, "host": text, "threads": whole, "trainer": text, "likelihood": one_of(*LIKELIHOODS),
    "theoremApplies": lambda v: isinstance(v, bool), "theoremNote": text, "tolerance": number, "window": whole,
    "decoderVariance": text, "worldSize": whole, "diagnosticPoints": whole,
    "elasticRunId": lambda v: v is None or text(v), "elasticRestarts": whole,
}
META_REQUIRED = ("formatVersion", "name", "specPath", "startedAt", "backend", "modelType", "latentDim", "epochs", "dataset")
DATASET: Dict[str, Check] = {
    "n": whole, "dim": whole, "source": text, "validationN": whole,
    "imageShape": lambda v: isinstance(v, list) and len(v) in (2, 3) and all(whole(s) and s > 0 for s in v),
}
SUMMARY: Dict[str, Check] = {
    "status": one_of("running", "completed", "stopped", "failed", "diverged"), "endedAt": iso_time, "epochsDone": number,
    "steps": number, "wallSeconds": number, "last": dict.__instancecheck__, "convergence": one_of(*STATES),
    "convergenceReason": text, "message": text, "lastCheckpoint": text,
}
RUN_FILES = {"spec.vae.json", "run.json", "metrics.jsonl", "summary.json", "images.json", "checkpoints", "run.lock"}


def strict_json(s: str, where: str) -> Any:
    """JSON as the document writes it: no NaN or infinity (null stands for them)."""
    def refuse(word: str) -> Any:
        raise AssertionError(f"{where}: {word} is not JSON; the format writes null")
    return json.loads(s, parse_constant=refuse)


def problems_of_fields(value: Dict[str, Any], rules: Dict[str, Check], required: Any, where: str) -> List[str]:
    out = [f"{where}: {k} is missing" for k in required if k not in value]
    for k, v in value.items():
        if k not in rules:
            out.append(f"{where}: {k} is not a field the document names")
        elif not rules[k](v):
            out.append(f"{where}: {k} = {v!r:.80} is not what the document allows")
    return out


def run_folder_problems(run: str) -> List[str]:
    """Everything in the run folder the document does not allow, located (file, line, field)."""
    out = [f"{run}: {f} is not a file of the format" for f in os.listdir(run) if f not in RUN_FILES]
    with open(os.path.join(run, "run.json"), encoding="utf-8") as f:
        meta = strict_json(f.read(), "run.json")
    out += problems_of_fields(meta, META, META_REQUIRED, "run.json")
    if isinstance(meta.get("dataset"), dict):
        out += problems_of_fields(meta["dataset"], DATASET, ("n", "dim", "source"), "run.json dataset")
    records: List[Dict[str, Any]] = []
    sessions = meta.get("sessions") if sessions_ok(meta.get("sessions")) else []
    resumed_from = [s["fromEpoch"] for s in sessions[1:] if "fromEpoch" in s]
    with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8", newline="") as f:
        body = f.read()
    assert body == "" or body.endswith("\n"), "metrics.jsonl: the last line has no newline"
    for i, line in enumerate(body.split("\n")[:-1], start=1):
        where = f"metrics.jsonl:{i}"
        r = strict_json(line, where)
        out += problems_of_fields(r, {**REQUIRED, **OPTIONAL}, REQUIRED, where)
        H = meta.get("latentDim")
        out += [f"{where}: {k} has {len(r[k])} values for {H} latents" for k in PER_LATENT if isinstance(r.get(k), list) and len(r[k]) != H]
        if r.get("likelihood", "gaussian") != "gaussian":
            out += [f"{where}: {k} is not null for a {r['likelihood']} decoder" for k in NULL_FOR_NON_GAUSSIAN if r.get(k) is not None]
        if not (number(r.get("epoch")) and number(r.get("step"))):
            continue
        if records and not (r["epoch"] > records[-1]["epoch"] or (r["epoch"] == records[-1]["epoch"] and r["step"] > records[-1]["step"])):
            # After a resume (a later session, run.json's sessions) the epochs after its start epoch are redone:
            # readers drop the passes they replace.
            if resumed_from and r["epoch"] > resumed_from[0]:
                resumed_from = resumed_from[1:]
                records = [x for x in records if x["epoch"] < r["epoch"]]
            else:
                out.append(f"{where}: not after the pass before it")
        records.append(r)
    with open(os.path.join(run, "summary.json"), encoding="utf-8") as f:
        summary = strict_json(f.read(), "summary.json")
    out += problems_of_fields(summary, SUMMARY, ("status", "epochsDone", "steps", "wallSeconds"), "summary.json")
    if records and summary.get("last") != records[-1]:
        out.append("summary.json: last is not the last record of metrics.jsonl")
    images = os.path.join(run, "images.json")
    if os.path.exists(images):
        with open(images, encoding="utf-8") as f:
            im = strict_json(f.read(), "images.json")
        shape = im.get("shape")
        ok_shape = isinstance(shape, list) and len(shape) in (2, 3) and all(whole(s) and s > 0 for s in shape)
        if not ok_shape or (len(shape) == 3 and shape[2] not in (1, 3, 4)) or im.get("layout") not in (None, "hwc", "chw"):
            out.append(f"images.json: shape {shape} layout {im.get('layout')} is not one the document allows")
        elif len(shape) == 3 and "layout" not in im:
            out.append("images.json: a three-number shape without layout")
        else:
            size = math.prod(shape)
            for key in ("originals", "reconstructions", "samples"):
                grid = im.get(key)
                if not isinstance(grid, list) or len(grid) > 64:
                    out.append(f"images.json: {key} is not a list of at most 64 images")
                    continue
                for j, img in enumerate(grid):
                    if not (isinstance(img, list) and len(img) == size and all(x is None or (number(x) and 0 <= x <= 1) for x in img)):
                        out.append(f"images.json: {key}[{j}] is not {size} values in [0, 1]")
    return out


class Categorical(torch.nn.Module):
    """A categorical decoder over 3 classes per dimension (logits)."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(4)
        self.enc, self.dec = torch.nn.Linear(5, 4), torch.nn.Linear(2, 5 * 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g))

    def encode(self, x: torch.Tensor) -> Any:
        return self.enc(x.float()).chunk(2, -1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z).reshape(-1, 5, 3)


def _cases() -> Dict[str, Callable[[str], str]]:
    def gaussian(variance: str, **kw: Any) -> Callable[[str], str]:
        def make(runs: str) -> str:
            m = TinyVae(variance=variance, learned_prior=kw.pop("learned", False))
            x = torch.randn(60, 5, generator=torch.Generator().manual_seed(2))
            prior = m.prior_variance if m.log_a2 is not None else None
            opt = torch.optim.SGD(m.parameters(), lr=0.01)
            with Diagnostics(m.encode, m.decode, x, runs_dir=runs, modules=[m], prior_variance=prior, optimizer=opt,
                             fixed_variance=variance == "fixed", samples=2, points=40, **kw) as lens:
                for epoch in range(3):
                    lens.step()
                    lens.diagnose(epoch, 4 * epoch, train_loss=1.0)
                    if epoch == 1:
                        lens.diagnose(epoch, 4 * epoch + 2)  # two passes in one epoch
                return lens.run_dir
        return make

    def images(runs: str) -> str:
        m = TinyVae(dim=3 * 4 * 5)
        x = torch.rand(20, 3, 4, 5, generator=torch.Generator().manual_seed(5))
        with Diagnostics(lambda v: m.encode(v.flatten(1)), lambda z: (m.decode(z)[0].reshape(-1, 3, 4, 5), m.decode(z)[1]), x,
                         runs_dir=runs, modules=[m], samples=1) as lens:
            lens.diagnose(0, 0)
            lens.diagnose(1, 5)
            return lens.run_dir

    def bernoulli(runs: str) -> str:
        m = TinyVae()
        x = (torch.rand(40, 5, generator=torch.Generator().manual_seed(6)) > 0.5).float()
        with Diagnostics(m.encode, lambda z: m.decode(z)[0], x, runs_dir=runs, modules=[m], likelihood="bernoulli",
                         decoder_output="logits", beta=lambda e: min(1.0, 0.5 + e / 4)) as lens:
            for epoch in range(3):
                lens.diagnose(epoch, epoch)
            return lens.run_dir

    def categorical(runs: str) -> str:
        m = Categorical()
        x = torch.randint(0, 3, (40, 5), generator=torch.Generator().manual_seed(7))
        with Diagnostics(m.encode, m.decode, x, runs_dir=runs, modules=[m], likelihood="categorical", decoder_output="logits") as lens:
            lens.diagnose(0, 0)
            return lens.run_dir

    def diverged(runs: str) -> str:
        m = TinyVae()
        x = torch.randn(40, 5, generator=torch.Generator().manual_seed(8))
        lens = Diagnostics(m.encode, m.decode, x, runs_dir=runs, modules=[m])
        lens.diagnose(0, 0)
        with torch.no_grad():
            m.log_s2.fill_(-1e4)  # s^2 underflows to 0: the ELBO and R_dec overflow
        lens.diagnose(1, 1)
        lens.close("diverged", "the loss went NaN")
        return lens.run_dir

    def no_pass(runs: str) -> str:
        m = TinyVae()
        lens = Diagnostics(m.encode, m.decode, torch.randn(40, 5), runs_dir=runs, modules=[m])
        lens.close("stopped")
        return lens.run_dir

    def elastic_restarts(runs: str) -> str:
        # torchrun restarting the job's workers twice, each from the checkpoint before its last pass.
        m = TinyVae()
        x = torch.randn(40, 5, generator=torch.Generator().manual_seed(9))
        run = ""
        for restart, epochs in enumerate([[0, 1, 2], [2, 3], [3, 4]]):
            os.environ["TORCHELASTIC_RUN_ID"], os.environ["TORCHELASTIC_RESTART_COUNT"] = "job-1", str(restart)
            lens = Diagnostics(m.encode, m.decode, x, runs_dir=runs, modules=[m], samples=2)
            for e in epochs:
                lens.diagnose(e, e)
            run = lens.run_dir
            if restart < 2:
                ExitHook.unregister(lens)  # killed: never closed
            else:
                lens.close()
        del os.environ["TORCHELASTIC_RUN_ID"], os.environ["TORCHELASTIC_RESTART_COUNT"]
        return run

    return {
        "elastic restarts": elastic_restarts,
        "scalar": gaussian("scalar"), "per-dimension": gaussian("per-dimension"), "latent (VAE-3)": gaussian("latent"),
        "fixed": gaussian("fixed"), "learned prior": gaussian("scalar", learned=True), "beta 0.5": gaussian("scalar", beta=0.5),
        "channels-first images": images, "bernoulli, annealed": bernoulli, "categorical": categorical,
        "diverged": diverged, "no pass": no_pass,
    }


CASES = _cases()


@pytest.mark.parametrize("case", list(CASES))
def test_the_companion_writes_only_what_the_run_format_allows(tmp_path, monkeypatch, case: str) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = CASES[case](str(tmp_path))
    assert run_folder_problems(run) == []


@pytest.mark.skipif(NODE is None or not os.path.exists(os.path.join(REPO, "dist", "cli.js")), reason="needs node and a built dist/")
def test_the_readers_take_the_sessions_the_companion_writes(tmp_path, monkeypatch) -> None:
    """A run the companion continued after elastic restarts: `vae-lens report` (the panel's reader) takes its
    sessions without a note, and they reach the page with the epochs each went on from."""
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = CASES["elastic restarts"](str(tmp_path))
    out = tmp_path / "report.html"
    r = subprocess.run([NODE, CLI, "report", run, "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "sessions" not in r.stderr, r.stderr
    page = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="vae-lens-data">(.*?)</script>', page, re.S).group(1))
    (shown,) = data["runs"] if isinstance(data, dict) and "runs" in data else data
    assert [s.get("fromEpoch") for s in shown["sessions"]] == [0, 1, 2]


def test_the_validator_finds_what_the_document_forbids(tmp_path, monkeypatch) -> None:
    """So that a clean bill above means something: each kind of damage is found, and located."""
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = CASES["diverged"](str(tmp_path))
    lines = open(os.path.join(run, "metrics.jsonl"), encoding="utf-8").read().split("\n")
    assert strict_json(lines[1], "line 2")["rDec"] is None, "the diverged pass has a non-finite value, written null"
    damage = {
        '"rDec":null': ('"rDec":NaN', "metrics.jsonl:2: NaN is not JSON"),
        '"klPerLatent":[': ('"klPerLatent":[0.5,', "metrics.jsonl:2: klPerLatent has 3 values for 2 latents"),
        '"epoch":1': ('"epoch":"1"', "metrics.jsonl:2: epoch = '1'"),
        '"step":1,': ('"step":1,"myField":2,', "metrics.jsonl:2: myField is not a field the document names"),
    }
    for old, (new, found) in damage.items():
        assert old in lines[1], old
        with open(os.path.join(run, "metrics.jsonl"), "w", encoding="utf-8") as f:
            f.write("\n".join([lines[0], lines[1].replace(old, new, 1), ""]))
        try:
            problems = run_folder_problems(run)
        except AssertionError as e:
            problems = [str(e)]
        assert any(found in p for p in problems), (found, problems)

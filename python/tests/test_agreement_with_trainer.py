"""One truth across both trainers: a run of VAE Lens's own trainer, rebuilt in PyTorch by
load_checkpoint and evaluated by the package, agrees with `vae-lens eval --json` on the same points:
the deterministic terms to 1e-5 relative, the sampled ones (ELBO, R_dec) within 4 standard errors."""
from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import subprocess
from typing import Any, Dict, Tuple

import numpy as np
import pytest
import torch

from conftest import REPO
from vae_lens import Diagnostics
from vae_lens.torch import load_checkpoint

CLI = os.path.join(REPO, "bin", "vae-lens.js")
NODE = shutil.which("node")
SAMPLES = 32

pytestmark = pytest.mark.skipif(NODE is None or not os.path.exists(os.path.join(REPO, "dist", "cli.js")),
                                reason="needs node and a built dist/ (npm run build)")

VARIANTS = {
    "vae0": {"type": "VAE-0", "encoder": {"hidden": [8], "activation": "tanh"}, "decoder": {"hidden": [8], "activation": "tanh"}},
    "vae1": {"type": "VAE-1", "encoder": {"hidden": [8, 8], "activation": "elu"}, "decoder": {"hidden": [8], "activation": "softplus"}},
    "vae1-per-dimension": {"type": "VAE-1", "decoderVariance": "per-dimension", "encoder": {"hidden": [8], "activation": "relu"},
                           "decoder": {"hidden": [8], "activation": "leaky_relu"}},
    "vae2": {"type": "VAE-2", "encoder": {"hidden": [8], "activation": "sigmoid"}, "decoder": {"hidden": [], "activation": "linear"}},
    "vae3": {"type": "VAE-3", "encoder": {"hidden": [8], "activation": "tanh"}, "decoder": {"hidden": [8], "activation": "tanh"}},
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple:
    root = tmp_path_factory.mktemp("agreement")
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 2))
    x = np.tanh(z @ rng.normal(size=(2, 4))) + 0.1 * rng.normal(size=(300, 4))
    np.savetxt(root / "data.csv", x.astype(np.float32), delimiter=",", fmt="%.7g")
    return root, torch.from_numpy(np.loadtxt(root / "data.csv", delimiter=",", dtype=np.float32))


def train(root, name: str, model: dict) -> str:
    spec = {"name": name, "data": {"path": "data.csv", "header": False, "scale": "none"},
            "model": {"latentDim": 2, **model},
            "training": {"epochs": 4, "batchSize": 32, "learningRate": 0.01, "seed": 3},
            "diagnostics": {"mcSamples": 2}, "output": {"runsDir": "runs"}}
    (root / f"{name}.vae.json").write_text(json.dumps(spec))
    res = subprocess.run([NODE, CLI, "train", str(root / f"{name}.vae.json")], capture_output=True, text=True, timeout=300, cwd=root)
    assert res.returncode == 0, res.stdout + res.stderr
    (run,) = [d for d in os.listdir(root / "runs") if d.startswith(name + "-")]
    return str(root / "runs" / run)


def close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-3)


def both_evaluations(run: str, x) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The run's last checkpoint evaluated by `vae-lens eval` and by this package's loaded twin of it."""
    res = subprocess.run([NODE, CLI, "eval", run, "--json", "--samples", str(SAMPLES)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    loaded = load_checkpoint(run)
    m = loaded.model
    py = Diagnostics(m.encode, m.decode, x, samples=SAMPLES, write=False, **loaded.diagnostics_kwargs()).diagnose(loaded.epoch, loaded.step)
    return json.loads(res.stdout), py


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_package_agrees_with_vae_lens_eval(variant: str, dataset) -> None:
    root, x = dataset
    run = train(root, variant, VARIANTS[variant])
    ts, py = both_evaluations(run, x)
    assert ts["points"] == py["points"] == 300

    latent = variant == "vae3"
    deterministic = ["hEnc", "hPrior"] + ([] if latent else ["hDec", "sigma2"])
    for k in deterministic:
        assert close(py[k], ts[k], 1e-5), (k, py[k], ts[k])
    for h in range(2):
        assert close(py["latentSecondMoment"][h], ts["latentSecondMoment"][h], 1e-5), ("m_h", h)
        assert close(py["klPerLatent"][h], ts["klPerLatent"][h], 1e-5), ("KL_h", h)
    # Sampled terms: R_dec = gap - R_prior with R_prior deterministic, so its standard error is the gap's.
    for k, se in (("elbo", "elboStdErr"), ("rDec", "gapStdErr")):
        allowed = 4 * math.hypot(py[se], ts[se])
        assert abs(py[k] - ts[k]) <= allowed, (k, py[k], ts[k], allowed)
    if latent:
        # VAE-3's decoder entropy and variance are averages over the samples too.
        assert close(py["hDec"], ts["hDec"], 2e-2) and close(py["sigma2"], ts["sigma2"], 5e-2)
    assert py["theoremApplies"] is (variant != "vae0")
    # The same central differences of the same float32 decoder on the same first points.
    assert py["meanFieldPoints"] == ts["meanFieldPoints"]
    assert py["decoderLinear"] is ts["decoderLinear"] is (variant == "vae2")
    assert close(py["meanFieldGap"], ts["meanFieldGap"], 1e-3), ("meanFieldGap", py["meanFieldGap"], ts["meanFieldGap"])


#: Networks given as layers on images of an odd, non-square shape with two channels (7x5x2): "same"
#: padding with an even kernel and with a stride, "valid" transposed convolutions, upsampling after
#: the output layer, VAE-3's variance twin, and the activations beyond the MLP's.
LAYER_VARIANTS = {
    "conv-same": {"type": "VAE-1", "encoder": {"activation": "gelu", "layers": [
        {"type": "conv2d", "filters": 3, "kernel": 3, "stride": 2}, {"type": "conv2d", "filters": 2, "kernel": 2, "padding": "valid"}]},
        "decoder": {"activation": "swish", "layers": [
            {"type": "dense", "units": 70}, {"type": "reshape", "shape": [7, 5, 2]}, {"type": "conv2d", "filters": 2, "kernel": 4}]}},
    "conv-transpose-vae3": {"type": "VAE-3", "encoder": {"activation": "leakyRelu", "layers": [
        {"type": "conv2d", "filters": 2, "kernel": 4, "stride": 3}, {"type": "flatten"}, {"type": "dense", "units": 6}]},
        "decoder": {"activation": "elu", "layers": [
            {"type": "dense", "units": 18}, {"type": "reshape", "shape": [3, 2, 3]},
            {"type": "conv2dTranspose", "filters": 2, "kernel": 3, "stride": 2, "padding": "valid"}]}},
    "conv-transpose-same-upsample": {"type": "VAE-2", "encoder": {"activation": "silu", "layers": [
        {"type": "conv2d", "filters": 2, "kernel": 5, "stride": 2}]},
        "decoder": {"activation": "tanh", "layers": [
            {"type": "dense", "units": 70}, {"type": "reshape", "shape": [7, 5, 2]},
            {"type": "conv2dTranspose", "filters": 2, "kernel": 2}, {"type": "conv2dTranspose", "filters": 2, "kernel": 1, "stride": 2},
            {"type": "conv2d", "filters": 2, "kernel": 3, "stride": 2, "activation": "linear"}]}},
    # A kernel larger than the image ("same" pads past both sides), strides above the kernel, and a
    # transposed convolution whose output has pixels no window reaches.
    "conv-kernel-past-image-stride-past-kernel": {"type": "VAE-1", "encoder": {"layers": [
        {"type": "conv2d", "filters": 2, "kernel": 9}, {"type": "conv2d", "filters": 3, "kernel": 1, "stride": 3}]},
        "decoder": {"activation": "tanh", "layers": [
            {"type": "dense", "units": 70}, {"type": "reshape", "shape": [7, 5, 2]},
            {"type": "conv2dTranspose", "filters": 2, "kernel": 1, "stride": 3},
            {"type": "conv2d", "filters": 2, "kernel": 9, "stride": 3}]}},
    "mlp-gelu-swish-leaky": {"type": "VAE-1", "decoderVariance": "per-dimension",
                             "encoder": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 8, "activation": "gelu"}]},
                             "decoder": {"activation": "leakyRelu", "layers": [
                                 {"type": "dense", "units": 8, "activation": "swish"}, {"type": "dense", "units": 70},
                                 {"type": "reshape", "shape": [7, 5, 2]}]}},
}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> tuple:
    """300 images 7x5x2, saved channels-first as PyTorch keeps them; the trainer reads them as 7x5x2."""
    root = tmp_path_factory.mktemp("agreement-images")
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 2))
    x = (np.tanh(z @ rng.normal(size=(2, 70))) + 0.1 * rng.normal(size=(300, 70))).astype(np.float32).reshape(300, 7, 5, 2)
    np.save(root / "images.npy", np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return root, torch.from_numpy(x)


@pytest.mark.parametrize("variant", sorted(LAYER_VARIANTS))
def test_load_checkpoint_rebuilds_layer_networks_as_the_trainer_runs_them(variant: str, images) -> None:
    root, x = images
    spec = {"name": variant, "data": {"path": "images.npy", "scale": "none"}, "model": {"latentDim": 2, **LAYER_VARIANTS[variant]},
            "training": {"epochs": 2, "batchSize": 32, "learningRate": 0.01, "seed": 3},
            "diagnostics": {"mcSamples": 2}, "output": {"runsDir": "runs"}}
    (root / f"{variant}.vae.json").write_text(json.dumps(spec))
    res = subprocess.run([NODE, CLI, "train", str(root / f"{variant}.vae.json")], capture_output=True, text=True, timeout=300, cwd=root)
    assert res.returncode == 0, res.stdout + res.stderr
    (run,) = [str(root / "runs" / d) for d in os.listdir(root / "runs") if d.startswith(variant + "-")]
    ts, py = both_evaluations(run, x)
    # float32 convolutions summed in another order: 1e-4 relative.
    assert close(py["hEnc"], ts["hEnc"], 1e-4) and close(py["hPrior"], ts["hPrior"], 1e-4)
    for h in range(2):
        assert close(py["klPerLatent"][h], ts["klPerLatent"][h], 1e-4), ("KL_h", h, py["klPerLatent"][h], ts["klPerLatent"][h])
    assert close(py["meanFieldGap"], ts["meanFieldGap"], 1e-3), ("meanFieldGap", py["meanFieldGap"], ts["meanFieldGap"])
    allowed = 4 * math.hypot(py["elboStdErr"], ts["elboStdErr"])
    assert abs(py["elbo"] - ts["elbo"]) <= allowed, (py["elbo"], ts["elbo"], allowed)


def test_load_checkpoint_explains_a_folder_that_is_not_a_run(tmp_path) -> None:
    from vae_lens import VaeLensInputError

    with pytest.raises(VaeLensInputError, match="checkpoints"):
        load_checkpoint(str(tmp_path))


def _wrapped(data: str) -> str:
    """The same base64 with line breaks every 76 characters, as base64.encodebytes writes it."""
    return "\n".join(data[i:i + 76] for i in range(0, len(data), 76))


@pytest.fixture(scope="module")
def trained_run(dataset) -> str:
    return train(dataset[0], "damage", VARIANTS["vae1"])


@pytest.mark.parametrize("damage", ["bad-character", "cut-by-one-byte", "cut-by-one-number", "padding-inside", "wrapped-lines", "bom"])
def test_load_checkpoint_names_a_damaged_tensor_and_reads_a_wrapped_one(damage: str, trained_run: str, tmp_path) -> None:
    from vae_lens import VaeLensInputError

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    cp_path = run / "checkpoints" / "latest.json"
    cp = json.loads(cp_path.read_text())
    name = sorted(cp["variables"])[0]
    data = cp["variables"][name]["data"]
    raw = base64.b64decode(data)
    if damage == "bad-character":
        cp["variables"][name]["data"] = "!" + data[1:]
    elif damage == "cut-by-one-byte":
        cp["variables"][name]["data"] = base64.b64encode(raw[:-1]).decode()
    elif damage == "cut-by-one-number":
        cp["variables"][name]["data"] = base64.b64encode(raw[:-4]).decode()
    elif damage == "padding-inside":
        cp["variables"][name]["data"] = data[:8] + "=" + data[9:]
    elif damage == "wrapped-lines":
        cp["variables"][name]["data"] = _wrapped(data)
    text = json.dumps(cp)
    cp_path.write_text(("\ufeff" + text) if damage == "bom" else text, encoding="utf-8")
    if damage in ("wrapped-lines", "bom"):
        loaded = load_checkpoint(str(run))
        assert loaded.epoch == cp["epoch"]
        return
    with pytest.raises(VaeLensInputError, match=re.escape(name)):
        load_checkpoint(str(run))


@pytest.mark.parametrize("change,match", [
    (lambda spec, cp: spec["model"]["encoder"].update(hidden=[]), "disagree"),
    (lambda spec, cp: spec.update(model=None), "not as VAE Lens writes them"),
    (lambda spec, cp: spec["model"].update(encoder=None), "not as VAE Lens writes them"),
    (lambda spec, cp: cp.update(epoch="abc"), "epoch, step and batchesDone must be whole numbers"),
    (lambda spec, cp: cp.update(epoch=3.7), "epoch, step and batchesDone must be whole numbers"),
    (lambda spec, cp: cp.update(batchesDone=-1), "epoch, step and batchesDone must be whole numbers"),
    (lambda spec, cp: cp["variables"][sorted(cp["variables"])[0]].update(shape="1"), "must be whole numbers"),
    (lambda spec, cp: cp["variables"][sorted(cp["variables"])[0]].update(shape=[-1, -1]), "not as VAE Lens writes them|malformed|values for shape"),
])
def test_load_checkpoint_names_a_spec_and_checkpoint_that_disagree(change, match: str, trained_run: str, tmp_path) -> None:
    from vae_lens import VaeLensInputError

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    spec = json.loads((run / "spec.vae.json").read_text())
    cp = json.loads((run / "checkpoints" / "latest.json").read_text())
    change(spec, cp)
    (run / "spec.vae.json").write_text(json.dumps(spec))
    (run / "checkpoints" / "latest.json").write_text(json.dumps(cp))
    with pytest.raises(VaeLensInputError, match=match):
        load_checkpoint(str(run))


def test_load_checkpoint_says_how_far_into_an_epoch_a_stopped_run_was(trained_run: str, tmp_path) -> None:
    assert load_checkpoint(trained_run).batches_done == 0
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    cp_path = run / "checkpoints" / "latest.json"
    cp = json.loads(cp_path.read_text())
    cp.update(epoch=2, batchesDone=5, lossSum=12.5)
    cp_path.write_text(json.dumps(cp))
    loaded = load_checkpoint(str(run))
    assert (loaded.epoch, loaded.batches_done, loaded.step) == (2, 5, cp["step"])


def test_load_checkpoint_leaves_the_global_generator_as_it_was(trained_run: str) -> None:
    before = torch.random.get_rng_state()
    load_checkpoint(trained_run)
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize("cp,spec,match", [
    ([], {"model": {}}, r"latest\.json holds a list, not a checkpoint object"),
    (3, {"model": {}}, r"latest\.json holds 3, not a checkpoint object"),
    (None, {"model": {}}, r"latest\.json holds null, not a checkpoint object"),
    ({"version": 2, "variables": {}}, {"model": {}}, r"latest\.json is checkpoint version 2, written by a newer version of VAE Lens; this one reads version 1"),
    ({"variables": {}}, {"model": {}}, r"latest\.json has no \"version\""),
    ({"version": "1", "variables": {}}, {"model": {}}, r"latest\.json: its \"version\" is '1', where this version reads 1"),
    ({"version": 1, "variables": []}, {"model": {}}, r"latest\.json: its \"variables\" must be an object"),
    ({"version": 1, "variables": {}}, [], r"spec\.vae\.json holds a list, not a spec object"),
])
def test_load_checkpoint_says_what_a_file_of_another_kind_or_version_holds(cp, spec, match: str, tmp_path) -> None:
    from vae_lens import VaeLensInputError

    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "latest.json").write_text(json.dumps(cp))
    (tmp_path / "spec.vae.json").write_text(json.dumps(spec))
    with pytest.raises(VaeLensInputError, match=match):
        load_checkpoint(str(tmp_path))

"""load_checkpoint on convolutional runs whose folder was not written whole by the trainer: run.json
(which keeps the images' shape) missing, the shape stated by the spec's data.shape instead."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import pytest
import torch

from vae_lens import VaeLensInputError
from vae_lens.torch import LensVae, load_checkpoint

#: 7x5 images with 2 channels: a strided conv2d encoder, a transposed-conv decoder back to 7x5x2.
MODEL = {"type": "VAE-1", "latentDim": 2,
         "encoder": {"layers": [{"type": "conv2d", "filters": 3, "kernel": 2, "stride": 2}]},
         "decoder": {"layers": [{"type": "dense", "units": 12}, {"type": "reshape", "shape": [3, 2, 2]},
                                {"type": "conv2dTranspose", "filters": 2, "kernel": 3, "stride": 2, "padding": "valid"},
                                {"type": "reshape", "shape": [7, 5, 2]}]}}
SHAPES = {"enc0/w": [2, 2, 2, 3], "enc0/b": [3], "enc_mean/w": [36, 2], "enc_mean/b": [2], "enc_logvar/w": [36, 2],
          "enc_logvar/b": [2], "dec0/w": [2, 12], "dec0/b": [12], "dec2/w": [3, 3, 2, 2], "dec2/b": [2], "log_s2": [1]}


def _tensor(shape: list, rng: np.random.Generator) -> Dict[str, Any]:
    values = rng.normal(size=shape).astype("<f4")
    return {"shape": shape, "data": base64.b64encode(values.tobytes()).decode()}


def _run(root: Path, data: Dict[str, Any], image_shape: Optional[list], decoder_shape: list) -> Path:
    """A run folder as another tool might leave it: the spec snapshot, a checkpoint, and run.json only when given an image shape."""
    rng = np.random.default_rng(0)
    model = json.loads(json.dumps(MODEL))
    model["decoder"]["layers"][-1]["shape"] = decoder_shape
    dim = int(np.prod(decoder_shape))
    (root / "checkpoints").mkdir(parents=True)
    (root / "spec.vae.json").write_text(json.dumps({"name": "conv", "data": data, "model": model}))
    checkpoint = {"version": 1, "modelType": "VAE-1", "dim": dim, "epoch": 1, "step": 4,
                  "variables": {name: _tensor(shape, rng) for name, shape in SHAPES.items()}}
    (root / "checkpoints" / "latest.json").write_text(json.dumps(checkpoint))
    if image_shape is not None:
        (root / "run.json").write_text(json.dumps({"dataset": {"n": 10, "dim": dim, "imageShape": image_shape}}))
    return root


@pytest.mark.parametrize("stated, layout", [([7, 5, 2], None), ([2, 7, 5], "channels-first"), ([7, 5, 2], "channels-last")])
def test_a_conv_run_without_run_json_takes_the_image_shape_from_the_spec(stated: list, layout: Optional[str], tmp_path: Path) -> None:
    data = {"path": "images.npy", "shape": stated, **({"layout": layout} if layout else {})}
    with_meta = load_checkpoint(str(_run(tmp_path / "with", data, [7, 5, 2], [7, 5, 2]))).model
    without = load_checkpoint(str(_run(tmp_path / "without", data, None, [7, 5, 2]))).model
    assert without.data_shape == with_meta.data_shape == (7, 5, 2)
    x = torch.randn(4, 70)
    with torch.no_grad():
        for a, b in zip(without.encode(x), with_meta.encode(x)):
            assert torch.equal(a, b)


def test_a_conv_run_whose_image_shape_is_nowhere_says_so_not_that_its_files_disagree(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", {"path": "images.npy"}, None, [7, 5, 2])
    with pytest.raises(VaeLensInputError) as e:
        load_checkpoint(str(run))
    message = str(e.value)
    assert "disagree" not in message
    assert "conv2d" in message and "enc0" in message and "image" in message
    assert "run.json" in message and "data.shape" in message


@pytest.mark.parametrize("encoder", ["layers", "hidden"])
def test_encode_refuses_images_held_channels_first_instead_of_reading_them_as_channels_last(encoder: str, tmp_path: Path) -> None:
    """PyTorch keeps images (N, C, H, W); the trainer's networks read (N, H, W, C). The same numbers
    reshaped would be other images, so a batch in another arrangement than the run's is refused."""
    run = _run(tmp_path / "run", {"path": "images.npy"}, [7, 5, 2], [7, 5, 2])
    if encoder == "hidden":
        spec = json.loads((run / "spec.vae.json").read_text())
        spec["model"]["encoder"] = {"hidden": []}
        (run / "spec.vae.json").write_text(json.dumps(spec))
        checkpoint = json.loads((run / "checkpoints" / "latest.json").read_text())
        rng = np.random.default_rng(1)
        del checkpoint["variables"]["enc0/w"], checkpoint["variables"]["enc0/b"]
        checkpoint["variables"]["enc_mean/w"] = _tensor([70, 2], rng)
        checkpoint["variables"]["enc_logvar/w"] = _tensor([70, 2], rng)
        (run / "checkpoints" / "latest.json").write_text(json.dumps(checkpoint))
    model = load_checkpoint(str(run)).model
    hwc = torch.randn(3, 7, 5, 2)
    with torch.no_grad():
        expected = model.encode(hwc)
        for accepted in (hwc.reshape(3, 70), hwc):
            for a, b in zip(model.encode(accepted), expected):
                assert torch.equal(a, b)
        with pytest.raises(VaeLensInputError, match=r"\(2, 7, 5\).*channels first.*\(7, 5, 2\).*permute\(0, 2, 3, 1\)"):
            model.encode(hwc.permute(0, 3, 1, 2))
        with pytest.raises(VaeLensInputError, match=r"\(5, 7, 2\).*\(7, 5, 2\)"):
            model.encode(torch.randn(3, 5, 7, 2))



def test_encode_takes_a_grey_batch_with_its_channel_axis_first_or_last_or_none() -> None:
    """One channel: (N, 1, H, W), as PyTorch holds grey images, has the numbers of (N, H, W, 1) in their order."""
    torch.manual_seed(0)
    shapes = {"enc_mean/w": [35, 2], "enc_mean/b": [2], "enc_logvar/w": [35, 2], "enc_logvar/b": [2],
              "dec_mean/w": [2, 35], "dec_mean/b": [35], "log_s2": [1]}
    variables = {name: torch.randn(shape) for name, shape in shapes.items()}
    model = LensVae({"type": "VAE-1", "latentDim": 2, "encoder": {"hidden": []}, "decoder": {"hidden": []}}, variables, 35, [7, 5])
    x = torch.randn(3, 35)
    with torch.no_grad():
        expected = model.encode(x)
        for shape in ((3, 7, 5), (3, 1, 7, 5), (3, 7, 5, 1)):
            for a, b in zip(model.encode(x.reshape(shape)), expected):
                assert torch.equal(a, b)
        with pytest.raises(VaeLensInputError, match=r"\(5, 7\).*\(7, 5, 1\)"):
            model.encode(x.reshape(3, 5, 7))

"""images.json from PyTorch's channels-first images: written channels last with the layout said
(docs/run-format.md, "images.json"), each pixel where the format puts it, and shown by VAE Lens's
own reader."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest
import torch

from conftest import REPO, TinyVae
from vae_lens import Diagnostics, VaeLensInputError

CLI = os.path.join(REPO, "bin", "vae-lens.js")
NODE = shutil.which("node")

H, W = 5, 7  # not square, and neither side a channel count


def _images_run(tmp_path: Path, x: torch.Tensor, image_shape: Optional[Sequence[int]] = None) -> Path:
    """One pass over `x` (fewer points than a pass takes: all of them, in order) written to a run."""
    m = TinyVae(dim=int(x[0].numel()))
    encode = lambda v: m.encode(v.flatten(1))  # noqa: E731
    decode = lambda z: (m.decode(z)[0].reshape(-1, *x.shape[1:]), m.decode(z)[1])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Diagnostics(encode, decode, x, runs_dir=str(tmp_path), modules=[m], image_shape=image_shape) as lens:
            lens.diagnose(0, 0)
    (run,) = os.listdir(tmp_path)
    return tmp_path / run


@pytest.mark.parametrize("stated", [False, True], ids=["inferred", "image_shape"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels_first_images_are_written_channels_last_with_their_layout(tmp_path, channels: int, stated: bool) -> None:
    x = torch.rand(20, channels, H, W, generator=torch.Generator().manual_seed(channels))
    run = _images_run(tmp_path, x.flatten(1) if stated else x, (channels, H, W) if stated else None)
    images = json.loads((run / "images.json").read_text())
    shape = [H, W] if channels == 1 else [H, W, channels]
    assert images["shape"] == shape and images["layout"] == "hwc"
    assert json.loads((run / "run.json").read_text())["dataset"]["imageShape"] == shape
    assert len(images["originals"]) == 8 and all(len(img) == H * W * channels for key in ("originals", "reconstructions", "samples")
                                                 for img in images[key])
    # Every pixel where "hwc" puts it: channel k of row y, column c at (y * W + c) * channels + k.
    for i, img in enumerate(images["originals"]):
        for k in range(channels):
            for y in range(H):
                for c in range(W):
                    assert img[(y * W + c) * channels + k] == round(float(x[i, k, y, c]), 4), (i, k, y, c)


def test_image_shapes_that_cannot_be_drawn_are_refused_with_the_order_expected() -> None:
    m = TinyVae(dim=H * W * 2)
    for bad, why in [((2, H, W), "1, 3 or 4 channels first"), ((H, W, 2), "1, 3 or 4 channels first"), ((H * W * 2,), "does not hold"),
                     ((0, 70), "does not hold")]:
        with pytest.raises(VaeLensInputError, match=re.escape(why)):
            Diagnostics(m.encode, m.decode, torch.rand(10, H * W * 2), write=False, image_shape=bad)
    # Two channels, or channels last, are not taken for images: no images, and no error.
    for x in (torch.rand(10, 2, H, W), torch.rand(10, H, W, 3)):
        assert Diagnostics(lambda v: m.encode(v.flatten(1)), m.decode, x, write=False).image_shape is None


def _report_data(html: str) -> Any:
    island = re.search(r'<script type="application/json" id="vae-lens-data">(.*?)</script>', html, re.S)
    assert island is not None
    return json.loads(island.group(1))


@pytest.mark.skipif(NODE is None or not os.path.exists(os.path.join(REPO, "dist", "cli.js")), reason="needs node and a built dist/ (npm run build)")
def test_vae_lens_shows_the_colour_images_the_companion_wrote(tmp_path) -> None:
    run = _images_run(tmp_path / "runs", torch.rand(20, 3, H, W, generator=torch.Generator().manual_seed(3)))
    written = json.loads((run / "images.json").read_text())
    out = tmp_path / "report.html"
    res = subprocess.run([NODE, CLI, "report", str(run), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "images.json" not in res.stderr, res.stderr
    (shown,) = _report_data(out.read_text())["runs"]
    assert "imagesProblem" not in shown
    assert shown["images"] == written

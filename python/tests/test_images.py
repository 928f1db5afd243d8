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
    for bad, why in [((2, H, W), "1, 3 or 4 channels first"), ((H, W, 2), "(height, width, channels) for data held channels last"),
                     ((H * W * 2,), "does not hold"),
                     ((0, 70), "does not hold")]:
        with pytest.raises(VaeLensInputError, match=re.escape(why)):
            Diagnostics(m.encode, m.decode, torch.rand(10, H * W * 2), write=False, image_shape=bad)
    # Two channels, or channels last, are not taken for images: no images, and no error.
    for x in (torch.rand(10, 2, H, W), torch.rand(10, H, W, 3)):
        assert Diagnostics(lambda v: m.encode(v.flatten(1)), m.decode, x, write=False).image_shape is None


COLOURS = {"red": 0, "green": 1, "blue": 2}


def _single_colours(n: int, held_last: bool) -> torch.Tensor:
    """Point i wholly red, green or blue (i % 3), held [N, 3, H, W] or [N, H, W, 3]."""
    x = torch.zeros(n, 3, H, W)
    for i in range(n):
        x[i, i % 3] = 1.0
    return x.permute(0, 2, 3, 1).contiguous() if held_last else x


@pytest.mark.parametrize("layout", ["chw", "hwc", "hwc rows"])
def test_single_colour_images_are_drawn_in_their_colour_whichever_order_holds_them(tmp_path, layout: str) -> None:
    # Channels-last data said (H, W, 3) were refused, and the advice given, (3, H, W), read their memory as
    # channels first: a red image became stripes of red, green and blue.
    x = _single_colours(12, held_last=layout != "chw")
    if layout == "hwc rows":
        x = x.flatten(1)  # rows of numbers held channels last, as the editor's trainer holds them
    run = _images_run(tmp_path, x, (3, H, W) if layout == "chw" else (H, W, 3))
    images = json.loads((run / "images.json").read_text())
    assert images["shape"] == [H, W, 3] and images["layout"] == "hwc"
    assert json.loads((run / "run.json").read_text())["dataset"]["imageShape"] == [H, W, 3]
    for i, img in enumerate(images["originals"]):
        colour = [1.0 if k == i % 3 else 0.0 for k in range(3)]
        assert [img[p * 3:p * 3 + 3] for p in range(H * W)] == [colour] * (H * W), (i, list(COLOURS)[i % 3])


@pytest.mark.parametrize("held_last", [False, True])
def test_an_image_shape_in_another_order_than_the_points_is_refused_with_their_own(held_last: bool) -> None:
    x = _single_colours(12, held_last)
    own, other = ((H, W, 3), (3, H, W)) if held_last else ((3, H, W), (H, W, 3))
    m = TinyVae(dim=3 * H * W)
    with pytest.raises(VaeLensInputError, match=re.escape(f"image_shape {other} is not the order the data points hold their values "
                                                          f"in: they have shape {own}; give their own order, image_shape={own}")):
        Diagnostics(lambda v: m.encode(v.flatten(1)), m.decode, x, write=False, image_shape=other)


@pytest.mark.parametrize("point,image", [((3, 1, 1), False), ((1, 2, 5), False), ((4, 3, 8), False), ((3, 8, 2), False),
                                         ((2, 9), False), ((1, 4, 4), True), ((3, 4, 9), True), ((4, 6, 6), True), ((4, 5), True)])
def test_points_are_taken_for_images_only_with_sides_of_at_least_4(point: tuple, image: bool) -> None:
    # [N, 3, 1, 1] are three features (a 1x1 convolution's output), as [N, 2, 9] are rows of 2 x 9 numbers.
    x = torch.rand(10, *point)
    m = TinyVae(dim=int(x[0].numel()))
    lens = Diagnostics(lambda v: m.encode(v.flatten(1)), m.decode, x, write=False)
    assert (lens.image_shape is not None) is image
    # Said, any side is drawn.
    assert Diagnostics(lambda v: m.encode(v.flatten(1)), m.decode, x, write=False, image_shape=(int(x[0].numel()), 1)).image_shape


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


class HalfBernoulli(torch.nn.Module):
    """A Bernoulli decoder whose outputs come in float16 (the CPU has no float16 sigmoid or exp in some torch
    versions), as logits, probabilities or log-probabilities."""

    def __init__(self, output: str) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(6)
        self.enc, self.dec, self.output = torch.nn.Linear(H * W, 4), torch.nn.Linear(2, H * W), output
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g))

    def encode(self, x: torch.Tensor) -> Any:
        mean, log_var = self.enc(x.float().flatten(1)).chunk(2, -1)
        return mean.half(), log_var.half()

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z.float())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        lg = self.logits(z)
        out = {"logits": lg, "probabilities": torch.sigmoid(lg), "log_probabilities": torch.nn.functional.logsigmoid(lg)}
        return out[self.output].half().reshape(-1, H, W)


@pytest.mark.parametrize("output", ["logits", "probabilities", "log_probabilities"])
def test_a_float16_bernoulli_decoders_images_are_drawn(tmp_path, output: str) -> None:
    m = HalfBernoulli(output)
    x = (torch.rand(12, H, W, generator=torch.Generator().manual_seed(7)) > 0.5).float()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Diagnostics(m.encode, m.decode, x, runs_dir=str(tmp_path), modules=[m], likelihood="bernoulli",
                         decoder_output=output) as lens:
            lens.diagnose(0, 0)
    (run,) = os.listdir(tmp_path)
    images = json.loads((tmp_path / run / "images.json").read_text())
    with torch.no_grad():
        mean, _ = m.encode(x[:8])
        want = torch.sigmoid(m.logits(mean.float()))
    got = torch.tensor(images["reconstructions"])
    assert got.shape == (8, H * W)
    assert torch.allclose(got, want, atol=2e-3)

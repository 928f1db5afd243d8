"""The run's default name is the script's; where Python runs no script file (a notebook's kernel,
`python -c`, a script piped to `python -`), it is a plain one rather than the launcher's."""
from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import TinyVae
from vae_lens import Diagnostics

NOT_A_SCRIPT = [
    "-c",
    "-",
    "",
    "/usr/lib/python3/dist-packages/ipykernel_launcher.py",
    "/opt/conda/lib/python3.11/site-packages/ipykernel_launcher.py",
    "/usr/local/lib/python3.10/dist-packages/colab_kernel_launcher.py",
]


def run_name(tmp_path, data, monkeypatch, argv0: str) -> str:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    monkeypatch.setattr(sys, "argv", [argv0])
    m = TinyVae()
    d = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path / "runs"), points=32)
    d.diagnose(0, 0)
    d.close("completed")
    with open(os.path.join(d.run_dir, "run.json")) as f:
        return json.load(f)["name"]


@pytest.mark.parametrize("argv0", NOT_A_SCRIPT)
def test_no_script_file_gives_a_plain_name(tmp_path, data, monkeypatch, argv0: str) -> None:
    assert run_name(tmp_path, data, monkeypatch, argv0) == "pytorch-vae"


@pytest.mark.parametrize("argv0,name", [("train.py", "train"), ("/home/me/exp/train_vae.py", "train_vae"), ("fit", "fit")])
def test_a_script_names_the_run(tmp_path, data, monkeypatch, argv0: str, name: str) -> None:
    assert run_name(tmp_path, data, monkeypatch, argv0) == name


# Names as other programs make them: long (an experiment's whole configuration), in any script, with
# separators and control characters. The run folder is made whatever the name, and run.json keeps it whole.
LONG_OR_ODD_NAMES = [
    "x" * 61,
    "x" * 300,
    "lr=0.001_beta=4_" * 40,
    "эксперимент-" * 30,
    "a/" * 200,
    "😀" * 100,
    "." * 255,
    " \t\n" * 50 + "end",
]


@pytest.mark.parametrize("name", LONG_OR_ODD_NAMES, ids=lambda n: f"{len(n)}-chars-{n[:6]!r}")
def test_a_long_or_odd_name_still_makes_a_run_folder_and_is_kept_whole(tmp_path, data, monkeypatch, name: str) -> None:
    monkeypatch.delenv("VAE_LENS_RUN_DIR", raising=False)
    m = TinyVae()
    d = Diagnostics(m.encode, m.decode, data, runs_dir=str(tmp_path / "runs"), name=name, points=32)
    d.diagnose(0, 0)
    d.close("completed")
    folder = os.path.basename(d.run_dir)
    # The trainer's own cut: at most 60 characters of the name before the time stamp.
    assert len(folder) <= 60 + len("-YYYYMMDD-HHMMSS"), folder
    assert os.path.dirname(d.run_dir) == str(tmp_path / "runs")
    with open(os.path.join(d.run_dir, "run.json")) as f:
        assert json.load(f)["name"] == name

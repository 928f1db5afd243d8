"""An elastic restart (torchrun restarts every worker of the job after a failure, with TORCHELASTIC_RESTART_COUNT
raised and the same TORCHELASTIC_RUN_ID) continues the job's run folder, saying so, rather than starting another."""
from __future__ import annotations

import json
import os
import warnings
from typing import List

import pytest
import torch

from conftest import TinyVae
from vae_lens import Diagnostics
from vae_lens._guards import ExitHook
from vae_lens._runfolder import RUN_DIR_ENV


def attempt(runs: str, epochs: List[int], monkeypatch, run_id: str, restarts: int) -> Diagnostics:
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", run_id)
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", str(restarts))
    m = TinyVae()
    x = torch.randn(30, 5, generator=torch.Generator().manual_seed(0))
    d = Diagnostics(m.encode, m.decode, x, samples=2, runs_dir=runs, name="job")
    for e in epochs:
        d.diagnose(e, e * 10)
    return d


def epochs_in(run_dir: str) -> List[int]:
    return [json.loads(line)["epoch"] for line in open(os.path.join(run_dir, "metrics.jsonl"))]


@pytest.mark.parametrize("editor_made", [False, True])
def test_a_restarted_job_continues_its_run_and_says_so(tmp_path, monkeypatch, editor_made: bool) -> None:
    runs = str(tmp_path / "runs")
    if editor_made:
        os.makedirs(runs)
        monkeypatch.setenv(RUN_DIR_ENV, os.path.join(runs, "job-made-by-the-editor"))
    first = attempt(runs, [1, 2, 3], monkeypatch, "job-7", 0)  # killed after epoch 3: never closed
    ExitHook.unregister(first)
    started = json.load(open(os.path.join(first.run_dir, "run.json")))["startedAt"]
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        second = attempt(runs, [3], monkeypatch, "job-7", 1)  # from the checkpoint of epoch 2
    second.close()
    assert second.run_dir == first.run_dir and os.listdir(runs) == [os.path.basename(first.run_dir)]
    assert epochs_in(second.run_dir) == [1, 2, 3, 3]  # readers drop the first epoch 3, which the restart redid
    meta = json.load(open(os.path.join(second.run_dir, "run.json")))
    # The run's first start is its first session's; run.json's own is the restart's, as after any resume.
    assert meta["sessions"][0]["startedAt"] == started and meta["startedAt"] == meta["sessions"][1]["startedAt"] >= started
    assert meta["elasticRestarts"] == 1
    (note,) = [str(w.message) for w in said if "restart" in str(w.message)]
    assert "restart 1 of elastic job 'job-7'" in note and second.run_dir in note


@pytest.mark.parametrize("run_id,restarts", [("job-8", 1), ("job-7", 0)])
def test_another_job_or_a_first_start_makes_a_run_of_its_own(tmp_path, monkeypatch, run_id: str, restarts: int) -> None:
    runs = str(tmp_path / "runs")
    first = attempt(runs, [1], monkeypatch, "job-7", 0)
    ExitHook.unregister(first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second = attempt(runs, [1], monkeypatch, run_id, restarts)
    assert second.run_dir != first.run_dir and epochs_in(first.run_dir) == [1]


def test_restarts_record_each_session_as_the_run_format_says(tmp_path, monkeypatch) -> None:
    """run.json's sessions (docs/run-format.md): every process that wrote the run, oldest first, each with its start,
    engine, pid, host and the epoch it went on from; run.json's own startedAt, backend, pid and host are the last one's."""
    runs = str(tmp_path / "runs")
    passes = [[1, 2, 3], [3, 4], [4, 5, 6]]  # each restart redoes the epochs after its checkpoint
    for restart, epochs in enumerate(passes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = attempt(runs, epochs, monkeypatch, "job-9", restart)
        ExitHook.unregister(d)
        meta = json.load(open(os.path.join(d.run_dir, "run.json")))
        sessions = meta["sessions"]
        assert len(sessions) == restart + 1
        assert [s.get("fromEpoch") for s in sessions] == [0, 2, 3][: restart + 1]
        last = sessions[-1]
        for key in ("startedAt", "backend", "pid", "pidStart", "host"):
            assert last[key] == meta[key], key
        assert last["pid"] == os.getpid() and all(isinstance(s["startedAt"], str) and s["backend"] for s in sessions)
    first_started = sessions[0]["startedAt"]
    assert first_started <= sessions[1]["startedAt"] <= sessions[2]["startedAt"]


def test_a_run_json_of_an_earlier_companion_keeps_what_it_said_as_the_first_session(tmp_path, monkeypatch) -> None:
    runs = str(tmp_path / "runs")
    first = attempt(runs, [1, 2], monkeypatch, "job-10", 0)
    ExitHook.unregister(first)
    path = os.path.join(first.run_dir, "run.json")
    old = json.load(open(path))
    del old["sessions"]
    json.dump(old, open(path, "w"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second = attempt(runs, [2], monkeypatch, "job-10", 1)
    second.close()
    sessions = json.load(open(path))["sessions"]
    assert [(s["startedAt"], s.get("fromEpoch")) for s in sessions] == [(old["startedAt"], 0), (sessions[1]["startedAt"], 1)]

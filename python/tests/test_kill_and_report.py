"""A script killed with kill -9 mid-run leaves a run folder that `vae-lens report` reads (the
viewers show it as stopped: its summary says running while its process is gone)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO

CLI = os.path.join(REPO, "bin", "vae-lens.js")
NODE = shutil.which("node")

SCRIPT = textwrap.dedent("""
    import sys, time, torch
    sys.path.insert(0, {pkg!r})
    import vae_lens
    sys.path.insert(0, {tests!r})
    from conftest import TinyVae
    m = TinyVae()
    x = torch.randn(300, 5)
    d = vae_lens.Diagnostics(m.encode, m.decode, x, runs_dir={runs!r}, name="killed", epochs=1000)
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    for epoch in range(1, 1000):
        for _ in range(5):
            mean, log_var = m.encode(x)
            z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
            mu, log_s2 = m.decode(z)
            loss = (0.5 * (log_s2 + (x - mu) ** 2 / log_s2.exp())).sum(1).mean() + (0.5 * (mean ** 2 + log_var.exp() - log_var - 1)).sum(1).mean()
            opt.zero_grad(); loss.backward(); opt.step()
        d.diagnose(epoch, epoch * 5)
        print("epoch", epoch, flush=True)
""")


@pytest.mark.skipif(NODE is None or not os.path.exists(os.path.join(REPO, "dist", "cli.js")), reason="needs node and a built dist/ (npm run build)")
def test_kill_9_leaves_a_readable_run(tmp_path) -> None:
    script = tmp_path / "train.py"
    runs = tmp_path / "runs"
    script.write_text(SCRIPT.format(pkg=os.path.join(REPO, "python"), tests=os.path.dirname(__file__), runs=str(runs)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("VAE_LENS_RUN_DIR", None)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        seen = 0
        deadline = time.monotonic() + 120
        while seen < 3 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line.startswith("epoch")
        assert seen >= 3, "the script did not get to three epochs"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    (run,) = [runs / d for d in os.listdir(runs)]
    assert json.load(open(run / "summary.json"))["status"] == "running"
    out = tmp_path / "report.html"
    res = subprocess.run([NODE, CLI, "report", str(run), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    assert "killed" in html and "stopped" in html
    lines = open(run / "metrics.jsonl").read().splitlines()
    assert len(lines) >= 3 and all(json.loads(line)["epoch"] >= 1 for line in lines)

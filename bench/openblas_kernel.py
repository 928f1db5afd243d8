"""The fastest correct OpenBLAS kernel for this CPU, for the benchmark's PyTorch anchor and sgemm probe.

OpenBLAS picks its kernel from the CPU's family and model at load time, and the 0.3.21 that
Debian's PyTorch uses does not know every processor: on an Intel family 6 model 207 machine it
fell back to the generic Prescott kernel (a VAE step 3x slower than with SkylakeX). Setting
OPENBLAS_CORETYPE overrides the choice, but only before the library loads, so each candidate is
measured in a process of its own:

  the detected kernel (no override), SkylakeX where the CPU has avx512f, Haswell where it has avx2;

each one multiplies the VAE step's matrix shapes on one thread, is checked against a float64
product, and the fastest correct one is kept (the detected one only on a tie).

  /usr/bin/python3 bench/openblas_kernel.py            prints OPENBLAS_CHOICE {json}
  import openblas_kernel; openblas_kernel.use_best()   at the top of a script, before numpy/torch

use_best() measures once and re-executes the script with the winner's environment; the choice
travels in VAE_LENS_OPENBLAS_CHOICE, so bench/run.mjs measures once per run and passes it on.
Tests and CI never import this module: they run with OpenBLAS as the machine sets it up.
"""
import json
import os
import subprocess
import sys

CHOICE_VAR = "VAE_LENS_OPENBLAS_CHOICE"
# float32 products of this depth agree with float64 to ~1e-6 of the operands' scale; a wrong
# kernel is off by far more.
MAX_RELATIVE_ERROR = 1e-4
# The MLP VAE step's products (batch 128, 784-512-20): forward, input gradient, weight gradient.
SHAPES = [(128, 784, 512), (128, 512, 784), (784, 128, 512), (512, 128, 784), (1024, 1024, 1024)]


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set:
    try:
        with open(cpuinfo, encoding="utf8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def candidates(flags: set) -> list:
    """Kernels worth trying, each with the reason: None is OpenBLAS's own detection."""
    out = [(None, "OpenBLAS's own detection")]
    if "avx512f" in flags:
        out.append(("SkylakeX", "the CPU has avx512f"))
    if "avx2" in flags:
        out.append(("Haswell", "the CPU has avx2"))
    return out


def probe() -> dict:
    """In this process (its OPENBLAS_CORETYPE already set): GFLOP/s on SHAPES, error against float64."""
    import time

    import numpy as np
    import threadpoolctl

    with threadpoolctl.threadpool_limits(1):
        info = [lib for lib in threadpoolctl.threadpool_info() if lib.get("internal_api") == "openblas"]
        rng = np.random.default_rng(0)
        flops, seconds, worst = 0.0, 0.0, 0.0
        for m, k, n in SHAPES:
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            c = a @ b
            exact = a.astype(np.float64) @ b.astype(np.float64)
            scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
            worst = max(worst, float((np.abs(c - exact) / scale).max()))
            # This thread's CPU time, best of a few: other jobs on a shared machine take the
            # core away between products (wall time) far more than they slow one down.
            best = float("inf")
            for _ in range(7 if m < 1024 else 3):
                t = time.thread_time()
                a @ b
                best = min(best, time.thread_time() - t)
            flops, seconds = flops + 2.0 * m * k * n, seconds + best
    return {
        "architecture": info[0].get("architecture") if info else None,
        "version": info[0].get("version") if info else None,
        "gflops": flops / seconds / 1e9,
        "maxRelativeError": worst,
    }


def _run_probe(coretype, python: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", CHOICE_VAR)}
    env["OPENBLAS_NUM_THREADS"] = "1"
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    r = subprocess.run([python, os.path.abspath(__file__), "--probe"], env=env, capture_output=True, text=True, timeout=300)
    line = next((l for l in r.stdout.splitlines() if l.startswith("OPENBLAS_PROBE ")), None)
    if r.returncode != 0 or line is None:
        # A kernel using instructions the CPU lacks dies with SIGILL (return code -4).
        why = f"signal {-r.returncode}" if r.returncode < 0 else (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
        return {"error": why}
    return json.loads(line.split(" ", 1)[1])


def choose(python: str = sys.executable, rounds: int = 3) -> dict:
    """Measure every candidate (rounds interleaved, best of each) and pick the fastest correct one."""
    tried = [{"coretype": c, "reason": why, "runs": []} for c, why in candidates(cpu_flags())]
    for _ in range(rounds):
        for t in tried:
            t["runs"].append(_run_probe(t["coretype"], python))
    for t in tried:
        runs = t.pop("runs")
        measured = [r for r in runs if "error" not in r]
        correct = [r for r in measured if r["maxRelativeError"] <= MAX_RELATIVE_ERROR]
        if correct:
            t.update(max(correct, key=lambda r: r["gflops"]), correct=True)
        elif measured:
            t.update(max(measured, key=lambda r: r["maxRelativeError"]), correct=False)
            t["error"] = f"wrong results: error {t['maxRelativeError']:.1e} of the operands' scale"
        else:
            t.update(error=runs[0]["error"], correct=False)
    detected = tried[0]
    good = [t for t in tried if t.get("correct")]
    if not good:
        return {"coretype": None, "tried": tried, "why": "no kernel passed the float64 check; OpenBLAS left as detected"}
    fastest = max(good, key=lambda t: t["gflops"])
    # The anchor is PyTorch at its best: the fastest correct kernel however small its lead (each
    # probe is already a best of several CPU-time runs); a tie keeps what OpenBLAS detects.
    pick = detected if detected.get("correct") and detected["gflops"] >= fastest["gflops"] else fastest
    if pick is detected:
        why = f"the detected kernel ({detected['architecture']}, {detected['gflops']:.0f} GFLOP/s) is the fastest correct one"
    else:
        base = f"{detected['architecture']} {detected['gflops']:.0f}" if detected.get("correct") else f"detected: {detected.get('error')}"
        why = f"OPENBLAS_CORETYPE={pick['coretype']} ({pick['reason']}): {pick['gflops']:.0f} GFLOP/s against {base}"
    return {"coretype": pick["coretype"], "architecture": pick["architecture"], "gflops": pick["gflops"], "why": why, "tried": tried}


def detected_asked(argv: list) -> bool:
    """Whether the command line says --blas-kernel detected (read before argparse runs: the
    choice has to be made before numpy or torch is imported)."""
    return "--blas-kernel=detected" in argv or any(a == "--blas-kernel" and b == "detected" for a, b in zip(argv, argv[1:]))


def use_best(python: str = sys.executable) -> dict:
    """Run the calling script under the best kernel; call before numpy or torch is imported.
    Measures (or reads the choice bench/run.mjs passed on) and re-executes the script once."""
    given = os.environ.get(CHOICE_VAR)
    if given:
        choice = json.loads(given)
        if os.environ.get("OPENBLAS_CORETYPE") == choice["coretype"] or (choice["coretype"] is None and "OPENBLAS_CORETYPE" not in os.environ):
            return choice
    else:
        choice = choose(python)
        print(f"OpenBLAS kernel: {choice['why']}", file=sys.stderr, flush=True)
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if choice["coretype"]:
        env["OPENBLAS_CORETYPE"] = choice["coretype"]
    env[CHOICE_VAR] = json.dumps(choice)
    sys.stdout.flush()
    os.execve(python, [python, *sys.argv], env)


def main() -> None:
    if "--probe" in sys.argv:
        print("OPENBLAS_PROBE " + json.dumps(probe()), flush=True)
        return
    choice = choose()
    print(f"OpenBLAS kernel: {choice['why']}", file=sys.stderr)
    print("OPENBLAS_CHOICE " + json.dumps(choice), flush=True)


if __name__ == "__main__":
    main()

"""Single-core sgemm peak of this machine, measured with OpenBLAS through numpy on one
thread: the yardstick for "share of the machine's peak". Square float32 products of a few
sizes, best of several repeats each; the result is checked against float64 so a wrong
kernel (see OPENBLAS_CORETYPE in BENCHMARKS.md) cannot pass for a fast one.
Runs on the fastest correct OpenBLAS kernel (bench/openblas_kernel.py) unless given
--blas-kernel detected. Prints one line: SGEMM_RESULT {json}.
"""
import json
import mmap
import os
import resource
import sys
import time

# On the fastest correct OpenBLAS kernel, chosen before numpy loads OpenBLAS (bench/openblas_kernel.py);
# with --blas-kernel detected, OpenBLAS as the environment sets it up.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openblas_kernel  # noqa: E402

BLAS_CHOICE = None if openblas_kernel.detected_asked(sys.argv) else openblas_kernel.use_best()

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402


def best_gflops(n: int, repeats: int) -> tuple:
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = a @ b
    ref = a.astype(np.float64) @ b.astype(np.float64)
    rel_err = float(np.abs(c - ref).max() / np.abs(ref).max())
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9, rel_err


def page_fault_micros(size: int = 64 << 20, repeats: int = 5) -> float:
    """CPU time of one minor page fault (touching a freshly mapped 4 KiB page), best of a few.
    Cheap on bare metal (well under a microsecond); on some virtual machines tens of times more,
    which punishes programs that return memory to the system and map it again every step."""
    best = float("inf")
    for _ in range(repeats):
        m = mmap.mmap(-1, size)
        f0, c0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
        for i in range(0, size, mmap.PAGESIZE):
            m[i] = 1
        c1, f1 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        m.close()
        if f1 > f0:
            best = min(best, (c1 - c0) / (f1 - f0) * 1e6)
    return best


def main() -> None:
    with threadpoolctl.threadpool_limits(1):
        info = [
            {k: lib.get(k) for k in ("internal_api", "architecture", "version", "num_threads")}
            for lib in threadpoolctl.threadpool_info()
        ]
        sizes = {n: best_gflops(n, 8) for n in (512, 1024, 2048)}
    peak = max(g for g, _ in sizes.values())
    worst_err = max(e for _, e in sizes.values())
    print(
        "SGEMM_RESULT "
        + json.dumps(
            {
                "gflops": peak,
                "bySize": {str(n): g for n, (g, _) in sizes.items()},
                "maxRelativeError": worst_err,
                "correct": worst_err < 1e-4,
                "blas": info,
                "openblasChoice": BLAS_CHOICE and {k: BLAS_CHOICE.get(k) for k in ("coretype", "architecture", "why")},
                "openblasEnv": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
                "pageFaultMicros": page_fault_micros(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()

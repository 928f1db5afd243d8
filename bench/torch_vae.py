"""The PyTorch side of `npm run bench`: the same Gaussian VAE-1 as VAE Lens's trainer
(src/train/model.ts), the same data, batch, optimiser and step count; one thread unless
--threads says otherwise, on the fastest correct OpenBLAS kernel (bench/openblas_kernel.py).

  /usr/bin/python3 bench/torch_vae.py --workload fmnist --steps 469 [--threads 2]
  /usr/bin/python3 bench/torch_vae.py --workload manifold --data file.f32 --n 2000 --dim 2 --steps 300

Model: encoder MLP -> (nu, log t^2) heads, decoder MLP -> mu, one learned scalar log s^2
starting at 0.05 x the data's mean column variance; loss = mean over the batch of
KL(q(z|x) || N(0, I)) - log N(x; mu(z), s^2 I) with z = nu + t * eps (one sample).
Glorot-uniform weights, zero biases, the log-variance head's weights zero (as VAE Lens's
model), Adam with tfjs's defaults (eps 1e-7).
Prints one line: BENCH_RESULT {json}, the shape of bench/resultTypes.ts's EngineResult.

  /usr/bin/python3 bench/torch_vae.py --replay DIR

repeats the steps bench/crossCheck.ts recorded from VAE Lens's trainer (same initial weights,
batches and noise) and prints both losses side by side.
"""
import argparse
import base64
import ctypes
import gzip
import json
import math
import os
import resource
import statistics
import sys
import time

# The anchor at its best: the fastest correct OpenBLAS kernel, chosen before numpy and torch load
# OpenBLAS (bench/openblas_kernel.py); --blas-kernel detected keeps OpenBLAS's own choice.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openblas_kernel  # noqa: E402

BLAS_CHOICE = None if openblas_kernel.detected_asked(sys.argv) else openblas_kernel.use_best()

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
import torch  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
LOG_2PI = math.log(2 * math.pi)
# The training loss is reported as the mean over this many last steps: one batch's loss is noisy.
TAIL_STEPS = 50
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> None:
    """Tell glibc's malloc to keep freed memory for reuse instead of returning it to the system.

    By default a freed block of more than a few MB is unmapped (or the heap top trimmed), and
    the next step's temporaries of the same size (Adam's on the 784x512 weights are 1.6 MB
    each) fault their pages back in: about 1000 page faults per step. On a virtual machine
    like this benchmark's, a fault costs ~18 us (BENCHMARKS.md), and Adam's step took 20-40 ms
    instead of 2. Keeping the memory mapped is the ordinary fix (the same effect as running
    PyTorch with jemalloc or tcmalloc, as its CPU performance guide suggests)."""
    libc = ctypes.CDLL("libc.so.6")
    # 32 MiB is the largest mmap threshold glibc accepts on 64-bit; larger blocks (the data) are mapped once.
    if not (libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)):
        raise RuntimeError("mallopt refused the settings")


def load_fmnist() -> np.ndarray:
    with gzip.open(FMNIST, "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16, count=n * rows * cols)
    # The trainer's default scaling for 8-bit data ("unit"): divide by 255.
    return (pixels.astype(np.float32) / 255.0).reshape(n, rows * cols)


def glorot(fan_in: int, fan_out: int) -> torch.nn.Linear:
    layer = torch.nn.Linear(fan_in, fan_out)
    torch.nn.init.xavier_uniform_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    return layer


class Vae(torch.nn.Module):
    def __init__(self, dim: int, hidden: list, latent: int, initial_variance: float):
        super().__init__()
        enc, fan = [], dim
        for width in hidden:
            enc += [glorot(fan, width), torch.nn.ReLU()]
            fan = width
        self.encoder = torch.nn.Sequential(*enc)
        self.mean = glorot(fan, latent)
        # As VAE Lens's model: the log-variance head starts flat (zero weights and bias), so
        # q(z|x) starts at N(nu(x), I) for every x.
        self.logvar = glorot(fan, latent)
        torch.nn.init.zeros_(self.logvar.weight)
        dec, fan = [], latent
        for width in hidden:
            dec += [glorot(fan, width), torch.nn.ReLU()]
            fan = width
        dec.append(glorot(fan, dim))
        self.decoder = torch.nn.Sequential(*dec)
        self.log_s2 = torch.nn.Parameter(torch.full((1,), math.log(initial_variance)))
        self.dim = dim

    def loss(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        nu, log_t2 = self.mean(h), self.logvar(h)
        z = nu + torch.exp(0.5 * log_t2) * eps
        mu = self.decoder(z)
        log_lik = -0.5 * ((self.log_s2 + (x - mu) ** 2 * torch.exp(-self.log_s2)).sum(1) + self.dim * LOG_2PI)
        kl = 0.5 * (-log_t2 + torch.exp(log_t2) + nu ** 2 - 1).sum(1)
        return (kl - log_lik).mean()


def glorot_conv(conv: torch.nn.Module) -> torch.nn.Module:
    torch.nn.init.xavier_uniform_(conv.weight)
    torch.nn.init.zeros_(conv.bias)
    return conv


class ConvVae(torch.nn.Module):
    """The convolutional VAE of examples/conv-fashion-mnist and bench/workloads.ts (CONV_MODEL):
    conv 32 and 64 channels, kernel 4, stride 2 (28 -> 14 -> 7; VAE Lens's "same" padding is
    padding=1 here), flatten into the two heads; dense to 7x7x64, transposed convs back to
    28x28x1 (the last one linear). NCHW here, NHWC in VAE Lens: the same arithmetic."""

    def __init__(self, latent: int, initial_variance: float):
        super().__init__()
        conv = lambda i, o: glorot_conv(torch.nn.Conv2d(i, o, 4, 2, padding=1))
        deconv = lambda i, o: glorot_conv(torch.nn.ConvTranspose2d(i, o, 4, 2, padding=1))
        self.encoder = torch.nn.Sequential(conv(1, 32), torch.nn.ReLU(), conv(32, 64), torch.nn.ReLU(), torch.nn.Flatten())
        self.mean = glorot(3136, latent)
        self.logvar = glorot(3136, latent)
        torch.nn.init.zeros_(self.logvar.weight)
        self.decoder = torch.nn.Sequential(
            glorot(latent, 3136), torch.nn.ReLU(), torch.nn.Unflatten(1, (64, 7, 7)),
            deconv(64, 32), torch.nn.ReLU(), deconv(32, 1), torch.nn.Flatten(),
        )
        self.log_s2 = torch.nn.Parameter(torch.full((1,), math.log(initial_variance)))
        self.dim = 784

    def loss(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x.view(-1, 1, 28, 28))
        nu, log_t2 = self.mean(h), self.logvar(h)
        z = nu + torch.exp(0.5 * log_t2) * eps
        mu = self.decoder(z)
        log_lik = -0.5 * ((self.log_s2 + (x - mu) ** 2 * torch.exp(-self.log_s2)).sum(1) + self.dim * LOG_2PI)
        kl = 0.5 * (-log_t2 + torch.exp(log_t2) + nu ** 2 - 1).sum(1)
        return (kl - log_lik).mean()


def load_checkpoint(model: Vae, file: str) -> None:
    """Set the model's weights from a VAE Lens checkpoint (src/train/checkpoint.ts: base64
    little-endian float32; dense weights stored [in, out], torch's Linear keeps [out, in])."""
    with open(file, encoding="utf8") as f:
        stored = json.load(f)["variables"]

    def tensor(name: str) -> torch.Tensor:
        raw = np.frombuffer(base64.b64decode(stored[name]["data"]), dtype="<f4")
        return torch.from_numpy(raw.copy().reshape(stored[name]["shape"]))

    def dense(layer: torch.nn.Linear, name: str) -> None:
        layer.weight.copy_(tensor(f"{name}/w").T)
        layer.bias.copy_(tensor(f"{name}/b"))

    linear = lambda seq: [m for m in seq if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for i, layer in enumerate(linear(model.encoder)):
            dense(layer, f"enc{i}")
        dense(model.mean, "enc_mean")
        dense(model.logvar, "enc_logvar")
        dec = linear(model.decoder)
        for i, layer in enumerate(dec[:-1]):
            dense(layer, f"dec{i}")
        dense(dec[-1], "dec_mean")
        model.log_s2.copy_(tensor("log_s2"))


def replay(folder: str, hidden: list) -> None:
    """Repeat the steps bench/crossCheck.ts recorded from VAE Lens's trainer (same initial
    weights, batches and noise) and compare the losses step by step."""
    with open(f"{folder}/steps.json", encoding="utf8") as f:
        rec = json.load(f)
    dim, latent, rows = rec["dim"], rec["latentDim"], rec["rows"]
    batches = np.fromfile(f"{folder}/batches.f32", dtype="<f4")
    noise = np.fromfile(f"{folder}/eps.f32", dtype="<f4")

    def run(dtype: torch.dtype) -> list:
        model = Vae(dim, hidden, latent, 1.0)
        load_checkpoint(model, f"{folder}/init.json")
        model.to(dtype)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        losses, bo, eo = [], 0, 0
        for n in rows:
            x = torch.from_numpy(batches[bo:bo + n * dim].reshape(n, dim)).to(dtype)
            eps = torch.from_numpy(noise[eo:eo + n * latent].reshape(n, latent)).to(dtype)
            bo, eo = bo + n * dim, eo + n * latent
            opt.zero_grad(set_to_none=True)
            loss = model.loss(x, eps)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    theirs, ours, exact = rec["losses"], run(torch.float32), run(torch.float64)
    rel = lambda a, b: abs(a - b) / max(abs(b), 1e-12)
    # float32 against float64 PyTorch shows how fast rounding alone makes two runs drift apart.
    print(f"step  {rec['engine']:>12}  {'pytorch f32':>12}  {'pytorch f64':>12}  {rec['engine']} vs f32  f32 vs f64")
    for k in sorted({1, 2, 3, 5, 10, 20, 50, 100, 200, len(rows)}):
        if k <= len(rows):
            a, b, c = theirs[k - 1], ours[k - 1], exact[k - 1]
            print(f"{k:4d}  {a:12.4f}  {b:12.4f}  {c:12.4f}  {rel(a, b):12.2e}  {rel(b, c):10.2e}")
    print("REPLAY_RESULT " + json.dumps({"engine": rec["engine"], "theirs": theirs, "pytorch": ours, "pytorch64": exact}), flush=True)


def threads_text(threads: int, blas_threads: int) -> str:
    plural = lambda n, what: f"{n} {what}{'' if n == 1 else 's'}"
    return plural(threads, "thread") + ("" if blas_threads == 1 else f", {plural(blas_threads, 'BLAS thread')}")


def mean_column_variance(x: np.ndarray) -> float:
    return float(x.astype(np.float64).var(axis=0, ddof=1).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=["fmnist", "manifold", "conv"], default="fmnist")
    ap.add_argument("--data", help="raw float32 rows (manifold), as exported by engineBench --export")
    ap.add_argument("--n", type=int)
    ap.add_argument("--dim", type=int)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads: PyTorch's own threads")
    ap.add_argument("--blas-threads", type=int, default=1, help="OpenBLAS threads per product (1 beside --threads > 1: both oversubscribe)")
    ap.add_argument(
        "--blas-kernel",
        choices=["best", "detected"],
        default="best",
        help="best: the fastest correct OpenBLAS kernel (bench/openblas_kernel.py); detected: OpenBLAS's own choice.",
    )
    ap.add_argument("--replay", help="a folder written by bench/crossCheck.ts: repeat its steps and compare the losses")
    ap.add_argument(
        "--malloc",
        choices=["keep", "default"],
        default="keep",
        help="keep: glibc malloc keeps freed memory (the benchmark's setting); default: glibc's own thresholds",
    )
    args = ap.parse_args()
    if args.malloc == "keep":
        keep_freed_memory()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.replay:
        return replay(args.replay, [512] if args.workload == "fmnist" else [64, 64])
    t_load = time.perf_counter()
    if args.workload in ("fmnist", "conv"):
        values = load_fmnist()
        hidden, latent = [512], 20
    else:
        values = np.fromfile(args.data, dtype=np.float32).reshape(args.n, args.dim)
        hidden, latent = [64, 64], 2
    load_seconds = time.perf_counter() - t_load
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    n, dim = values.shape
    data = torch.from_numpy(values)

    initial_variance = 0.05 * mean_column_variance(values)
    model = ConvVae(latent, initial_variance) if args.workload == "conv" else Vae(dim, hidden, latent, initial_variance)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    steps_per_epoch = math.ceil(n / args.batch)

    times, cpu_times, losses, step = [], [], [], 0
    # BLAS only: an unrestricted limit also sets OpenMP's, which is PyTorch's own thread pool here,
    # and would undo torch.set_num_threads above.
    with threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas"):
        torch_threads = torch.get_num_threads()
        blas = [
            {k: lib.get(k) for k in ("internal_api", "architecture", "version", "num_threads")}
            for lib in threadpoolctl.threadpool_info()
        ]
        faults_before = 0
        while step < args.steps:
            order = torch.randperm(n)
            for b in range(steps_per_epoch):
                if step >= args.steps:
                    break
                if step == args.warmup:
                    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0, c0 = time.perf_counter(), time.process_time()
                x = data.index_select(0, order[b * args.batch:(b + 1) * args.batch])
                eps = torch.randn(x.shape[0], latent)
                opt.zero_grad(set_to_none=True)
                loss = model.loss(x, eps)
                loss.backward()
                opt.step()
                losses.append(loss.item())
                times.append((time.perf_counter() - t0) * 1000)
                cpu_times.append((time.process_time() - c0) * 1000)
                step += 1
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before

    def stats(ms: list) -> dict:
        s = sorted(ms[args.warmup:])
        at = lambda q: s[min(len(s) - 1, int(q * len(s)))]
        return {"count": len(s), "medianMs": statistics.median(s), "meanMs": statistics.fmean(s), "p10Ms": at(0.1), "p90Ms": at(0.9)}

    result = {
        "kind": "pytorch",
        "engine": "pytorch",
        "engineDetail": f"PyTorch {torch.__version__}, {threads_text(torch_threads, args.blas_threads)}; BLAS: "
        + ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in blas),
        # What PyTorch ran on, read while the steps ran.
        "threads": torch_threads,
        "blasThreads": args.blas_threads,
        # Which OpenBLAS kernel, and why (None: --blas-kernel=detected).
        "openblasChoice": BLAS_CHOICE and {k: BLAS_CHOICE.get(k) for k in ("coretype", "architecture", "why")},
        "workload": args.workload,
        "n": n,
        "dim": dim,
        "batch": args.batch,
        "steps": step,
        "step": stats(times),
        "stepCpu": stats(cpu_times),
        "loadSeconds": load_seconds,
        "rssAfterLoadBytes": rss_after_load,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "dataFloat32Bytes": values.nbytes,
        "modelParams": sum(p.numel() for p in model.parameters()),
        "finalLoss": losses[-1],
        "tailLoss": {"steps": min(TAIL_STEPS, len(losses)), "mean": statistics.fmean(losses[-TAIL_STEPS:])},
        "minorFaultsPerStep": faults / max(1, step - args.warmup),
        "malloc": args.malloc,
        # What OpenBLAS saw (the kernel choice above sets OPENBLAS_CORETYPE).
        "openblasEnv": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "blas": blas,
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

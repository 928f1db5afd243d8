"""The PyTorch side of `npm run bench`: the same Gaussian VAE-1 as VAE Lens's trainer
(src/train/model.ts), the same data, batch, optimiser and step count, on one thread.

  /usr/bin/python3 bench/torch_vae.py --workload fmnist --steps 469
  /usr/bin/python3 bench/torch_vae.py --workload manifold --data file.f32 --n 2000 --dim 2 --steps 300

Model: encoder MLP -> (nu, log t^2) heads, decoder MLP -> mu, one learned scalar log s^2
starting at 0.05 x the data's mean column variance; loss = mean over the batch of
KL(q(z|x) || N(0, I)) - log N(x; mu(z), s^2 I) with z = nu + t * eps (one sample).
Glorot-uniform weights, zero biases, Adam with tfjs's defaults (eps 1e-7).
Prints one line: BENCH_RESULT {json}, the shape of bench/resultTypes.ts's EngineResult.
"""
import argparse
import gzip
import json
import math
import resource
import statistics
import time

import numpy as np
import threadpoolctl
import torch

FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
LOG_2PI = math.log(2 * math.pi)


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
        self.logvar = glorot(fan, latent)
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


def mean_column_variance(x: np.ndarray) -> float:
    return float(x.astype(np.float64).var(axis=0, ddof=1).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=["fmnist", "manifold"], default="fmnist")
    ap.add_argument("--data", help="raw float32 rows (manifold), as exported by engineBench --export")
    ap.add_argument("--n", type=int)
    ap.add_argument("--dim", type=int)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    t_load = time.perf_counter()
    if args.workload == "fmnist":
        values = load_fmnist()
        hidden, latent = [512], 20
    else:
        values = np.fromfile(args.data, dtype=np.float32).reshape(args.n, args.dim)
        hidden, latent = [64, 64], 2
    load_seconds = time.perf_counter() - t_load
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    n, dim = values.shape
    data = torch.from_numpy(values)

    model = Vae(dim, hidden, latent, 0.05 * mean_column_variance(values))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    steps_per_epoch = math.ceil(n / args.batch)

    times, cpu_times, step, last_loss = [], [], 0, float("nan")
    with threadpoolctl.threadpool_limits(1):
        blas = [
            {k: lib.get(k) for k in ("internal_api", "architecture", "version", "num_threads")}
            for lib in threadpoolctl.threadpool_info()
        ]
        while step < args.steps:
            order = torch.randperm(n)
            for b in range(steps_per_epoch):
                if step >= args.steps:
                    break
                t0, c0 = time.perf_counter(), time.process_time()
                x = data.index_select(0, order[b * args.batch:(b + 1) * args.batch])
                eps = torch.randn(x.shape[0], latent)
                opt.zero_grad(set_to_none=True)
                loss = model.loss(x, eps)
                loss.backward()
                opt.step()
                last_loss = loss.item()
                times.append((time.perf_counter() - t0) * 1000)
                cpu_times.append((time.process_time() - c0) * 1000)
                step += 1

    def stats(ms: list) -> dict:
        s = sorted(ms[args.warmup:])
        at = lambda q: s[min(len(s) - 1, int(q * len(s)))]
        return {"count": len(s), "medianMs": statistics.median(s), "meanMs": statistics.fmean(s), "p10Ms": at(0.1), "p90Ms": at(0.9)}

    result = {
        "kind": "pytorch",
        "engine": "pytorch",
        "engineDetail": f"PyTorch {torch.__version__}, 1 thread; BLAS: "
        + ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in blas),
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
        "finalLoss": last_loss,
        "blas": blas,
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

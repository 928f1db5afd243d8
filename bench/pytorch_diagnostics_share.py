"""The Python companion's cost: one diagnostics pass (vae_lens.Diagnostics at its defaults: 4096
fixed images, 2 samples each) as a share of one training epoch of the PyTorch example
(examples/pytorch-fashion-mnist: conv VAE-1, 60000 Fashion-MNIST images, batch 128, Adam).

    /usr/bin/python3 bench/pytorch_diagnostics_share.py [--threads 1] [--full-epoch] [--rounds 3]

The machine is shared and noisy, so training and diagnostics are timed interleaved in one run:
each round trains `--steps` steps, then runs one pass; the epoch time is steps/epoch x the median
step time (or, with --full-epoch, measured over a whole epoch). Prints JSON with both timings and
the share, side by side.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "pytorch-fashion-mnist"))

import vae_lens  # noqa: E402
from model import ConvVAE, load_fashion_mnist  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=40, help="training steps timed per round")
    p.add_argument("--full-epoch", action="store_true", help="time one whole epoch instead of sampled steps")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = load_fashion_mnist()
    model = ConvVAE(20, initial_variance=0.05 * images.var(0).mean().item())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(images, batch_size=128, shuffle=True, drop_last=True)
    steps_per_epoch = len(loader)
    lens = vae_lens.Diagnostics(model.encode, model.decode, images, write=False)

    def train(n: int) -> list:
        times = []
        it = iter(loader)
        for _ in range(n):
            t = time.perf_counter()
            try:
                x = next(it)
            except StopIteration:
                it = iter(loader)
                x = next(it)
            loss = model(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t)
        return times

    train(5)  # warm-up
    step_times, pass_times, epoch_times = [], [], []
    for r in range(args.rounds):
        if args.full_epoch:
            t = time.perf_counter()
            train(steps_per_epoch)
            epoch_times.append(time.perf_counter() - t)
        else:
            step_times += train(args.steps)
        t = time.perf_counter()
        lens.diagnose(r + 1, 0)
        pass_times.append(time.perf_counter() - t)
    epoch = statistics.median(epoch_times) if args.full_epoch else steps_per_epoch * statistics.median(step_times)
    diag = statistics.median(pass_times)
    print(json.dumps({
        "model": "conv VAE-1 (examples/pytorch-fashion-mnist), batch 128, 60000 images",
        "threads": args.threads,
        "stepsPerEpoch": steps_per_epoch,
        "epochSeconds": round(epoch, 3),
        "epochMeasured": "whole epochs" if args.full_epoch else f"{args.steps} steps x {args.rounds} rounds, median step x steps/epoch",
        "diagnosticsSeconds": round(diag, 3),
        "diagnosticsPoints": int(lens.points.shape[0]),
        "mcSamples": lens.samples,
        "share": round(diag / epoch, 4),
        "loadAverage": os.getloadavg()[0],
    }, indent=1))


if __name__ == "__main__":
    main()

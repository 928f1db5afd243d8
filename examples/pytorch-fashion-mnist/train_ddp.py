"""The same VAE trained with DistributedDataParallel on several processes (gloo, CPU).

Two ways to start it (Debian's torchrun crashes under Python 3.11 in its elastic agent):

    python3 train_ddp.py --nprocs 2 --epochs 10          # spawns the ranks itself

    # or start every rank yourself (one shell each, or any launcher that sets these):
    MASTER_ADDR=127.0.0.1 MASTER_PORT=29512 WORLD_SIZE=2 RANK=0 python3 train_ddp.py --epochs 10
    MASTER_ADDR=127.0.0.1 MASTER_PORT=29512 WORLD_SIZE=2 RANK=1 python3 train_ddp.py --epochs 10

Every rank creates the same vae_lens.Diagnostics: each evaluates its share of the fixed images, the
sums are all-reduced, and rank 0 alone writes the run folder. The record equals one process's.
"""
import argparse
import os
import signal
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

import vae_lens
from model import ConvVAE, load_fashion_mnist


def train(rank, world_size, args):
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    images = load_fashion_mnist(limit=args.limit)
    model = ConvVAE(args.latent_dim, initial_variance=0.05 * images.var(0).mean().item())
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    sampler = DistributedSampler(images, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = DataLoader(images, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    try:
        with vae_lens.Diagnostics(model.encode, model.decode, images, epochs=args.epochs, optimizer=optimizer,
                                  name="pytorch-fashion-mnist-ddp") as lens:
            lens.diagnose(epoch=0, step=0)
            step = 0
            for epoch in range(1, args.epochs + 1):
                sampler.set_epoch(epoch)
                ddp.train()
                start, total = time.perf_counter(), 0.0
                for x in loader:
                    loss = ddp(x)  # forward() is the loss; DDP averages the gradients over the ranks
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    lens.step()  # optional: the weights averaged over the epoch's steps, evaluated at the next pass
                    step += 1
                    total += loss.item()
                # Examples trained by all ranks together, for samplesPerSec.
                record = lens.diagnose(epoch, step, samples=len(loader) * args.batch_size * world_size, train_loss=total / len(loader))
                if rank == 0:
                    print(f"epoch {epoch}: ELBO {record['elbo']:.2f}, gap {record['gap']:.3f} (R_dec {record['rDec']:.3f}, "
                          f"R_prior {record['rPrior']:.3f}), {time.perf_counter() - start:.1f}s", flush=True)
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nprocs", type=int, default=None, help="spawn this many ranks (else RANK/WORLD_SIZE from the environment)")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("VAE_LENS_EPOCHS", 10)))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128, help="per rank")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--latent-dim", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.nprocs is None:
        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args)
        return
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port()))
    context = mp.start_processes(train, args=(args.nprocs, args), nprocs=args.nprocs, join=False, start_method="spawn")
    try:
        while not context.join():
            pass
    except KeyboardInterrupt:
        # Stop (SIGINT) reaches this launcher: pass it on so rank 0 closes the run as stopped, then make sure.
        for p in context.processes:
            if p.is_alive():
                os.kill(p.pid, signal.SIGINT)
        deadline = time.time() + 5
        for p in context.processes:
            p.join(max(0.0, deadline - time.time()))
            if p.is_alive():
                p.kill()
        raise


if __name__ == "__main__":
    main()

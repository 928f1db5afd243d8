"""Train a convolutional VAE-1 on Fashion-MNIST, with VAE Lens watching convergence.

    python3 train.py --epochs 20

Run it from VS Code with "VAE Lens: Train VAE" on fashion-mnist.vae.json (or `vae-lens train
fashion-mnist.vae.json`), or on its own: the run folder then goes to .vae-lens/runs here.
"""
import argparse
import os
import time

import torch

import vae_lens
from model import ConvVAE, load_fashion_mnist


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("VAE_LENS_EPOCHS", 20)))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--latent-dim", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core machine)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = load_fashion_mnist(limit=args.limit)
    model = ConvVAE(args.latent_dim, initial_variance=0.05 * images.var(0).mean().item())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = torch.utils.data.DataLoader(images, batch_size=args.batch_size, shuffle=True, drop_last=True)

    # VAE Lens, line 1 of 3: what to evaluate (a fixed subset of 4096 images, 2 samples each).
    with vae_lens.Diagnostics(model.encode, model.decode, images, epochs=args.epochs, optimizer=optimizer, name="pytorch-fashion-mnist") as lens:
        lens.diagnose(epoch=0, step=0)  # line 2 of 3, before training too
        step = 0
        for epoch in range(1, args.epochs + 1):
            model.train()
            start, total = time.perf_counter(), 0.0
            for x in loader:
                loss = model(x)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                lens.step()  # optional: the next pass also evaluates the weights averaged over these steps
                step += 1
                total += loss.item()
            seconds = time.perf_counter() - start
            record = lens.diagnose(epoch, step, samples=len(loader) * args.batch_size, train_loss=total / len(loader))
            print(f"epoch {epoch}: loss {total / len(loader):.2f}, ELBO {record['elbo']:.2f}, gap {record['gap']:.3f} "
                  f"(R_dec {record['rDec']:.3f}, R_prior {record['rPrior']:.3f}), {seconds:.1f}s + diagnostics "
                  f"{record['diagnosticsSeconds']:.2f}s")
    # line 3 of 3 is the `with`: it closes the run as completed, stopped (Ctrl-C, Stop) or failed.


if __name__ == "__main__":
    main()

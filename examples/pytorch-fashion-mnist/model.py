"""A convolutional Gaussian VAE-1 for 28x28 images: q(z|x) = N(nu(x), diag t^2(x)) from a conv
encoder, p(x|z) = N(mu(z), s^2 I) with mu from transposed convs and one learned variance s^2."""
import gzip
import math

import numpy as np
import torch
from torch import nn


def load_fashion_mnist(path="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", limit=None):
    """Images as a float tensor [N, 1, 28, 28] in [0, 1] (Debian: apt-get install dataset-fashion-mnist)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, rows, cols)
    if limit:
        images = images[:limit]
    return torch.from_numpy(images.astype(np.float32) / 255.0)


class ConvVAE(nn.Module):
    def __init__(self, latent_dim=20, initial_variance=0.01):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.ReLU(),   # 32 x 14 x 14
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),  # 64 x 7 x 7
            nn.Flatten(),
        )
        self.to_mean = nn.Linear(64 * 7 * 7, latent_dim)
        self.to_log_var = nn.Linear(64 * 7 * 7, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 64 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),  # 32 x 14 x 14
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1),              # 1 x 28 x 28
        )
        # VAE-1: one decoder variance s^2 for every pixel, learned with the rest.
        self.log_var_x = nn.Parameter(torch.tensor([math.log(initial_variance)]))

    def encode(self, x):
        h = self.encoder(x)
        return self.to_mean(h), self.to_log_var(h)

    def decode(self, z):
        return self.decoder(z), self.log_var_x

    def forward(self, x):
        """The training loss: minus the single-sample ELBO, averaged over the batch (nats per image)."""
        mean, log_var = self.encode(x)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        mu, log_var_x = self.decode(z)
        nll = 0.5 * (math.log(2 * math.pi) + log_var_x + (x - mu) ** 2 / log_var_x.exp()).flatten(1).sum(1)
        kl = 0.5 * (mean ** 2 + log_var.exp() - log_var - 1).sum(1)
        return (nll + kl).mean()

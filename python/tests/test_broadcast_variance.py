"""Decoder variances that broadcast to the data, as the user's loss broadcasts them: generated shapes."""
from __future__ import annotations

import itertools
from typing import List, Tuple

import numpy as np
import pytest
import torch

from vae_lens import Diagnostics, VaeLensInputError

POINTS = [(3, 4, 5), (2, 6), (1, 4, 4), (4, 4, 3), (7,)]
KEYS = ("elbo", "gap", "entropySum", "hDec", "rDec", "sigma2", "sigma2Opt", "meanFieldGap")


def broadcasting(point: Tuple[int, ...]) -> List[Tuple[int, ...]]:
    """Every shape that broadcasts to [1, *point], but one value and the point's own D values ([D], [1, D], the
    point's shape with or without a leading 1): axes kept or set to 1, leading axes left out (those of length 1
    too: [4, 4] for [1, 4, 4]) or leading 1s added (torch's rule, from the right)."""
    D = int(np.prod(point))
    out = set()
    for keep in itertools.product((False, True), repeat=len(point)):
        full = tuple(n if k else 1 for n, k in zip(point, keep))
        for cut in range(len(point)):
            for lead in ((), (1,), (1, 1)):
                shape = lead + full[cut:]
                if int(np.prod(shape)) != 1 and shape not in (point, (1, *point), (D,), (1, D)):
                    out.add(shape)
    return sorted(out)


def not_broadcasting(point: Tuple[int, ...]) -> List[Tuple[int, ...]]:
    """Shapes of more than one value and fewer than D that do not broadcast to the point: an axis of another length."""
    out = []
    for i, n in enumerate(point):
        shape = [1] * len(point)
        shape[i] = n + 1
        out.append(tuple(shape))
        out.append((1, *shape))
    return out


class _Model(torch.nn.Module):
    def __init__(self, point: Tuple[int, ...]) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.point = point
        D = int(np.prod(point))
        self.enc, self.dec = torch.nn.Linear(D, 4), torch.nn.Linear(2, D)

    def encode(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return self.enc(x.flatten(1)).chunk(2, 1)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z).view(-1, *self.point)


def _records(point: Tuple[int, ...], second: torch.Tensor, points: int, block_rows: int) -> Tuple[dict, dict]:
    m = _Model(point)
    x = torch.randn(points, *point, generator=torch.Generator().manual_seed(1))
    kw = dict(write=False, modules=[m], block_rows=block_rows, samples=1)
    got = Diagnostics(m.encode, lambda z: (m.mean(z), second), x, **kw).diagnose(1, 1)
    expanded = (second * torch.ones(1, *point)).reshape(1, *point)
    want = Diagnostics(m.encode, lambda z: (m.mean(z), expanded), x, **kw).diagnose(1, 1)
    return got, want


@pytest.mark.parametrize("point", POINTS)
def test_every_decoder_variance_that_broadcasts_to_the_point_is_read_as_the_d_values_it_stands_for(point: Tuple[int, ...]) -> None:
    # A per-channel variance [C, 1, 1] (a loss broadcasts it against [batch, C, H, W] as it does [1, C, 1, 1]) was
    # refused, and at a block of C rows read as one variance per latent row.
    for shape in broadcasting(point):
        second = torch.rand(shape, generator=torch.Generator().manual_seed(2)) - 0.5
        for points, block_rows in ((20, 64), (9, 4), (max(point), max(point)), (3, 1)):
            got, want = _records(point, second, points, block_rows)
            for k in KEYS:
                assert got[k] == want[k], (shape, points, block_rows, k)


@pytest.mark.parametrize("point", POINTS)
def test_a_decoder_variance_that_does_not_broadcast_is_refused_with_its_shape_and_the_points(point: Tuple[int, ...]) -> None:
    m = _Model(point)
    x = torch.randn(20, *point)
    for shape in not_broadcasting(point):
        second = torch.zeros(shape)
        d = Diagnostics(m.encode, lambda z: (m.mean(z), second), x, write=False, modules=[m])
        with pytest.raises(VaeLensInputError, match=r"shape \(" + ", ".join(map(str, shape)) + r",?\).*data points of shape "
                           + r"\(" + ", ".join(map(str, point)) + r",?\).*broadcast"):
            d.diagnose(1, 1)


@pytest.mark.parametrize("point", [(3, 4, 5), (1, 4, 4), (2, 6)])
@pytest.mark.parametrize("points,block_rows", [(20, 64), (9, 3), (8, 4), (6, 2), (3, 1)])
def test_a_variance_per_latent_row_that_broadcasts_to_each_point_is_read_per_row(point: Tuple[int, ...], points: int,
                                                                                  block_rows: int) -> None:
    # [rows, C, 1, 1]: a per-channel variance that depends on z, as a loss broadcasts it against [rows, C, H, W].
    m = _Model(point)
    head = torch.nn.Linear(2, point[0])
    x = torch.randn(points, *point, generator=torch.Generator().manual_seed(1))

    def per_row(z: torch.Tensor) -> torch.Tensor:
        return head(z).reshape(-1, point[0], *([1] * (len(point) - 1)))

    kw = dict(write=False, modules=[m, head], block_rows=block_rows, samples=1)
    got = Diagnostics(m.encode, lambda z: (m.mean(z), per_row(z)), x, **kw).diagnose(1, 1)
    want = Diagnostics(m.encode, lambda z: (m.mean(z), per_row(z).expand(-1, *point)), x, **kw).diagnose(1, 1)
    for k in KEYS:
        assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12), k


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("points,block_rows", [(7, 4), (3, 3), (10, 3)])
def test_every_rank_asks_the_decoder_as_often_when_a_first_block_has_as_many_rows_as_a_points_axis(
        world: int, points: int, block_rows: int) -> None:
    # A block of C rows asks the decoder about one row ([C, 1, 1]: per channel or per latent row?): every rank asks at
    # its first block when any rank's first block needs it, or a sharded model's forward calls would hang.
    from vae_lens._pass import PassSetup, run_pass

    point = (3, 4, 4)
    counts, sums = [], []
    for rank in range(world):
        m = _Model(point)
        second = torch.linspace(-0.5, 0.5, 3).reshape(3, 1, 1)
        calls = {"decode": 0}

        def decode(z: torch.Tensor):  # type: ignore[no-untyped-def]
            calls["decode"] += 1
            return m.mean(z), second

        x = torch.randn(points, *point, generator=torch.Generator().manual_seed(0))
        setup = PassSetup(m.encode, decode, x, 1, 0, block_rows, "gaussian", False, None, torch.device("cpu"), torch.float32)
        with torch.no_grad():
            sums.append(run_pass(setup, 1, rank, world).sums)
        counts.append(calls["decode"])
    assert all(c == counts[0] for c in counts), counts


ENCODER_SHAPES = {"per point [P, 1]": lambda P, H: (P, 1), "per latent [1, H]": lambda P, H: (1, H),
                  "per latent [H]": lambda P, H: (H,), "one [1, 1]": lambda P, H: (1, 1), "one []": lambda P, H: ()}


@pytest.mark.parametrize("shape", list(ENCODER_SHAPES))
@pytest.mark.parametrize("scale", ["log_variance", "std"])
@pytest.mark.parametrize("H", [1, 3, 4])
def test_an_encoder_variance_that_broadcasts_to_the_means_is_read_as_the_values_it_stands_for(shape: str, scale: str, H: int) -> None:
    # An isotropic posterior (one variance per point, [P, 1]) or one learned for each latent whatever x ([H]), as the
    # KL term of the user's loss broadcasts it against the means, was refused for not being [P, H].
    torch.manual_seed(0)
    enc, dec, head = torch.nn.Linear(5, H), torch.nn.Linear(H, 5), torch.nn.Linear(5, 1)
    learned = torch.rand(H) + 0.3
    x = torch.randn(24, 5, generator=torch.Generator().manual_seed(1))

    def second(t: torch.Tensor) -> torch.Tensor:
        P = t.shape[0]
        v = {"per point [P, 1]": lambda: head(t).exp(), "one [1, 1]": lambda: learned[:1].reshape(1, 1),
             "one []": lambda: learned[0]}.get(shape, lambda: learned)()
        return v.reshape(ENCODER_SHAPES[shape](P, H))

    kw = dict(write=False, modules=[enc, dec, head], encoder_scale=scale, block_rows=8)
    decode = lambda z: (dec(z), torch.zeros(1))  # noqa: E731
    got = Diagnostics(lambda t: (enc(t), second(t)), decode, x, **kw).diagnose(1, 1)
    want = Diagnostics(lambda t: (enc(t), second(t).expand(t.shape[0], H)), decode, x, **kw).diagnose(1, 1)
    for k in ("elbo", "gap", "hEnc", "kl", "meanFieldGap", "klPerLatent"):
        assert got[k] == want[k], k

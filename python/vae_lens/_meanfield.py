"""The mean-field gap: what a diagonal encoder loses to the correlations of the decoder's local posterior.

With the decoder linearised at the encoder mean nu(x), p(z|x) is Gaussian with precision
Λ = diag(1/a^2) + Jᵀ diag(1/s^2) J, J = ∂mu/∂z at nu(x). The best diagonal q has precision diag(Λ), and
KL(q || p(z|x)) = 1/2 (sum_h log Λ_hh - log det Λ). For a linear decoder this is exact and a rotation of the
latents removes it, so the ELBO can still gain at least this much. The same quantity as the editor's trainer
records (src/core/evidence.ts, meanFieldGap).
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import torch

from ._pass import (LOW_PRECISION, PassSetup, _encode, accumulation_device, broadcast_per_row, broadcast_to_point, callable_name, decoder_log_variance,
                    is_out_of_memory, model_input, model_points, out_of_memory_error, points_per_block)

#: Points of the estimate: the front of the fixed subset, the same every pass (no noise between passes),
#: at most MEAN_FIELD_ROWS decoder rows (2H per point) and never fewer than 16 points: the trainer's rule.
MEAN_FIELD_POINTS = 128
MEAN_FIELD_ROWS = 2048
MIN_MEAN_FIELD_POINTS = 16
#: Above this many latents the gap is left out of the record, as the trainer leaves it out (src/train/evidence.ts):
#: each point's H x H precision and its determinant cost H^2 D + H^3, and the 2H decoder rows per point outgrow the
#: pass (on two loaded CPU cores, a 784-value MLP decoder: 2 s a pass at 256 latents, 12 s at 1024, 175 s at 2048).
MAX_MEAN_FIELD_LATENTS = 256
#: Central-difference step in latent units: far below a posterior's width, far above rounding. A float16 or
#: bfloat16 decoder (8 or 11 significant bits, in its parameters or in the means it returns) takes a longer one,
#: and any step is at least
#: STEP_ULPS of the latent's own rounding; the difference is divided by the step the decoder was given.
JACOBIAN_STEP = 1e-2
LOW_PRECISION_JACOBIAN_STEP = 1e-1
STEP_ULPS = 4
#: Jacobians that differ between points by less than this share of their largest entry are one (a linear decoder).
LINEAR_TOLERANCE = 1e-3


def mean_field_points(n: int, latent_dim: int) -> int:
    """Points the gap is computed on: 0 (left out) above MAX_MEAN_FIELD_LATENTS latents."""
    if latent_dim > MAX_MEAN_FIELD_LATENTS:
        return 0
    return min(n, MEAN_FIELD_POINTS, max(MIN_MEAN_FIELD_POINTS, MEAN_FIELD_ROWS // (2 * latent_dim)))


def mean_field_gap(setup: PassSetup, variance_kind: str) -> Tuple[float, int, bool]:
    """(gap in nats per point, points used, whether the decoder is linear) for a Gaussian decoder whose
    variance kind the pass found. A linear decoder has one Jacobian and one variance at every point; its best
    ELBO has no gap.
    The decoder sees at most ``block_rows`` rows at a time."""
    try:
        return _mean_field_gap(setup, variance_kind)
    except RuntimeError as e:
        if is_out_of_memory(e):
            raise out_of_memory_error(setup, "The mean-field gap") from e
        raise


def _mean_field_gap(setup: PassSetup, variance_kind: str) -> Tuple[float, int, bool]:
    f64 = torch.float64
    here = accumulation_device(setup.device)
    x = model_points(setup.points[:MEAN_FIELD_POINTS], setup.dtype, setup.device)
    D = int(np.prod(x.shape[1:])) if x.dim() > 1 else 1
    # As many points a call as a pass block holds: a block_rows lowered to fit in memory bounds this call too.
    per = points_per_block(setup)
    nu = torch.cat([_encode(setup, x[i:i + per])[0] for i in range(0, x.shape[0], per)])
    H = nu.shape[1]
    P = mean_field_points(x.shape[0], H)
    if P == 0:
        return float("nan"), 0, False
    eye = torch.eye(H, dtype=f64, device=here)
    ulp = torch.finfo(setup.dtype).eps if setup.dtype.is_floating_point else 0.0
    a2 = torch.ones(H, dtype=f64, device=here) if setup.prior_variance is None else setup.prior_variance.detach().to(here).to(f64)
    gaps = []
    first: Optional[torch.Tensor] = None
    first_log_s2: Optional[torch.Tensor] = None
    linear = P > 1
    per_block = max(1, setup.block_rows // (2 * H))
    name = callable_name(setup.decode)
    for lo in range(0, P, per_block):
        centres = nu[lo:lo + per_block]
        B = centres.shape[0]
        # The decoder at the centres first: its variance, and the dtype its means come in, which may be lower than
        # the parameters' (a decode that casts its result, or runs its own autocast).
        centre_mu, lv = setup.decode(model_input(setup, centres))
        low = setup.dtype in LOW_PRECISION or centre_mu.dtype in LOW_PRECISION
        nominal = LOW_PRECISION_JACOBIAN_STEP if low else JACOBIAN_STEP
        # z ± h per latent, rows (point, sign, h); h at least STEP_ULPS of the latent's rounding in the model's dtype.
        h = torch.clamp(STEP_ULPS * ulp * centres.abs(), min=nominal)  # [B, H]
        shift = torch.stack([torch.diag_embed(h), -torch.diag_embed(h)], 1)  # [B, 2, H, H]
        zs = (centres[:, None, None, :] + shift).reshape(B * 2 * H, H).to(setup.dtype)
        # The step the decoder was given: z ± h as rounded to the model's dtype.
        given = zs.to(f64).reshape(B, 2, H, H).diagonal(dim1=2, dim2=3)  # [B, 2, H]
        step = given[:, 0] - given[:, 1]
        # At most block_rows rows a call: a point's 2H rows may be more.
        pieces = [setup.decode(model_input(setup, zs[i:i + setup.block_rows]))[0] for i in range(0, B * 2 * H, setup.block_rows)]
        mu_dtype = pieces[0].dtype
        mu = torch.cat([m.detach().to(here).reshape(-1, D).to(f64) for m in pieces]).reshape(B, 2, H, D)
        jac = (mu[:, 0] - mu[:, 1]) / step[:, :, None]  # [B, H, D]
        if first is None:
            first = jac[0]
        # Rounding of the output moves each difference by up to one of its ulps, at both points: in float32 too,
        # where means at 255 or 1e4 (raw pixels, offsets) would otherwise make a linear decoder look nonlinear.
        slack = 2.0 * torch.finfo(mu_dtype).eps * float(mu.abs().max()) / float(step.min()) if mu_dtype.is_floating_point else 0.0
        linear = linear and float((jac - first).abs().max()) <= LINEAR_TOLERANCE * float(first.abs().max()) + slack
        # Read as the pass reads it: a number is one value, and decoder_scale says what the output is. A
        # value that is not finite here, or a std or variance of 0 or less (the pass checked its own), leaves
        # the gap out.
        log_s2 = decoder_log_variance(setup, lv, name, finite=False).detach().to(f64)
        # One value per point ([B, 1], an isotropic variance that depends on z) stands for D, and so does a variance
        # that broadcasts to the data point (one per channel), of one row or of one per point.
        point = tuple(x.shape[1:])
        log_s2 = (broadcast_per_row(log_s2, B, point).reshape(B, -1).expand(B, D) if variance_kind == "latent"
                  else broadcast_to_point(log_s2, point).reshape(1, -1).expand(B, D))
        # The rotation argument needs one decoder variance for all points too (a VAE-3's varies with z).
        if first_log_s2 is None:
            first_log_s2 = log_s2[0]
        linear = linear and float((log_s2 - first_log_s2).abs().max()) <= LINEAR_TOLERANCE
        # The gap is the same for the precision times any positive number: scaled per point so that no weight is
        # above 1, a decoder variance of e^-800 (whose inverse float64 cannot hold) gives the gap it has.
        top = torch.maximum((-log_s2).max(1).values, (-a2.log()).max()).clamp_min(0.0)[:, None]  # [B, 1]
        precision = (torch.einsum("bhd,bd,bkd->bhk", jac, torch.exp(-log_s2 - top), jac)
                     + torch.diag_embed(torch.exp(-a2.log() - top)))
        log_diag = torch.log(torch.diagonal(precision, dim1=1, dim2=2)).sum(1)
        gaps.append(0.5 * (log_diag - torch.linalg.slogdet(precision)[1]))
    gap = torch.cat(gaps)
    if not bool(torch.isfinite(gap).all()):
        return float("nan"), P, linear
    return max(0.0, float(gap.mean())), P, linear


__all__ = ["MAX_MEAN_FIELD_LATENTS", "MEAN_FIELD_POINTS", "mean_field_gap", "mean_field_points"]

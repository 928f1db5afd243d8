"""A metrics.jsonl record from the sums of one diagnostics pass (numpy only).

Every statistic of a record is a mean over the fixed points of per-point (or per-point-and-sample)
quantities, so a pass is summarised by sums that ranks of a distributed job can all-reduce
(see DESIGN.md, "Beyond the built-in trainer"). The definitions are those of the TypeScript trainer
(src/core/entropy.ts), term by term:

    ELBO    = 1/N sum_n ( 1/S sum_s log p(x_n|z_ns) - KL(q(z|x_n) || p(z)) )
    H_enc   = 1/N sum_n 1/2 sum_h log(2 pi e t_nh^2)
    H_prior = 1/2 sum_h log(2 pi e a_h^2)
    H_dec   = 1/2 sum_d log(2 pi e s_d^2)                  (VAE-3: averaged over n and s)
    R_dec   = 1/2 sum_d (1 - s*_d^2 / s_d^2),  s*_d^2 = 1/(NS) sum_ns (x_nd - mu_d(z_ns))^2
              (VAE-3: 1/(NS) sum_ns 1/2 sum_d (1 - (x_nd - mu_d)^2 / s_d^2(z_ns)))
    R_prior = 1/2 sum_h (1 - m_h / a_h^2),      m_h = 1/N sum_n (nu_nh^2 + t_nh^2)

The ELBO comes from its own per-sample terms and the right-hand side from separate sums, so
ELBO - (H_enc - H_prior - H_dec) = R_dec + R_prior is a check of the implementation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

import numpy as np

LOG_2PI = math.log(2 * math.pi)
LOG_2PIE = LOG_2PI + 1.0
#: Latents whose KL_h is below this many nats carry (almost) no information: collapsed.
COLLAPSE_KL_NATS = 0.01

#: Decoder variance kinds, as in src/core/entropy.ts: homoscedastic (fixed, scalar, per-dimension)
#: or latent-dependent (VAE-3).
VARIANCE_KINDS = ("fixed", "scalar", "per-dimension", "latent")


@dataclass
class PassSums:
    """Sums over the points of one diagnostics pass; adding two gives the sums of the union."""

    latent_dim: int
    dim: int
    samples: int
    #: Number of points summed.
    n: float = 0.0
    #: sum_ns log p(x_n | z_ns)
    log_lik: float = 0.0
    #: sum_n KL(q(z|x_n) || p(z))
    kl: float = 0.0
    #: sum_nh log t_nh^2
    log_t2: float = 0.0
    #: per-point ELBO means e_n = 1/S sum_s elbo_ns: sum_n e_n and sum_n e_n^2 (standard error over points)
    elbo_point: float = 0.0
    elbo_point_sq: float = 0.0
    #: sum_n Var_s(elbo_n.) / S, the within-point Monte-Carlo variance (S >= 2)
    elbo_mc_var: float = 0.0
    #: the same three for the per-sample gap terms elbo_ns - (H_enc,n - H_prior - H_dec,ns)
    gap_point: float = 0.0
    gap_point_sq: float = 0.0
    gap_mc_var: float = 0.0
    #: VAE-3: sum_ns 1/2 sum_d log(2 pi e s_d^2(z_ns)), sum_ns sum_d sq_err / s_d^2, sum_nsd s_d^2
    h_dec: float = 0.0
    norm_sq_err: float = 0.0
    variance: float = 0.0
    #: sum_n KL_nh and sum_n (nu_nh^2 + t_nh^2), per latent
    kl_per_latent: np.ndarray = field(default=None)  # type: ignore[assignment]
    second_moment: np.ndarray = field(default=None)  # type: ignore[assignment]
    #: sum_ns (x_nd - mu_d(z_ns))^2, per dimension
    sq_err: np.ndarray = field(default=None)  # type: ignore[assignment]

    SCALARS = (
        "n", "log_lik", "kl", "log_t2", "elbo_point", "elbo_point_sq", "elbo_mc_var",
        "gap_point", "gap_point_sq", "gap_mc_var", "h_dec", "norm_sq_err", "variance",
    )

    def __post_init__(self) -> None:
        if self.kl_per_latent is None:
            self.kl_per_latent = np.zeros(self.latent_dim)
        if self.second_moment is None:
            self.second_moment = np.zeros(self.latent_dim)
        if self.sq_err is None:
            self.sq_err = np.zeros(self.dim)

    def to_vector(self) -> np.ndarray:
        """Every sum in one float64 vector (what an all-reduce sends)."""
        head = np.array([getattr(self, k) for k in self.SCALARS], dtype=np.float64)
        return np.concatenate([head, self.kl_per_latent, self.second_moment, self.sq_err])

    @classmethod
    def from_vector(cls, v: np.ndarray, latent_dim: int, dim: int, samples: int) -> "PassSums":
        k = len(cls.SCALARS)
        out = cls(latent_dim, dim, samples, **{name: float(v[i]) for i, name in enumerate(cls.SCALARS)})
        out.kl_per_latent = np.array(v[k : k + latent_dim], dtype=np.float64)
        out.second_moment = np.array(v[k + latent_dim : k + 2 * latent_dim], dtype=np.float64)
        out.sq_err = np.array(v[k + 2 * latent_dim :], dtype=np.float64)
        return out


def _std_err(point_sum: float, point_sq: float, mc_var: float, n: float, samples: int) -> float:
    """As monteCarloStdErr in entropy.ts: the Monte-Carlo error with the points held fixed, or,
    with one sample per point, the spread over points (dataStdErr)."""
    if samples >= 2:
        return math.sqrt(max(mc_var, 0.0)) / n
    return _data_std_err(point_sum, point_sq, n)


def _data_std_err(point_sum: float, point_sq: float, n: float) -> float:
    if n < 2:
        return 0.0
    ss = max(point_sq - point_sum * point_sum / n, 0.0)
    return math.sqrt(ss / (n - 1) / n)


def finish_record(
    sums: PassSums,
    variance_kind: str,
    decoder_variance: Optional[Sequence[float]],
    prior_variance: Sequence[float],
    decoder_log_variance: Optional[Sequence[float]] = None,
) -> Dict[str, object]:
    """The statistics of a metrics record (docs/run-format.md) from a pass's sums.

    `decoder_variance` holds s^2 (one value or D values) unless `variance_kind` is "latent" (VAE-3); or
    give `decoder_log_variance`, log s^2, instead (`decoder_variance` None): H_dec and the ELBO at the optimal
    variance then stay finite for variances whose exponential float64 cannot hold (log s^2 of 1e6 or -1e6).
    Returns the record's statistical fields; the caller adds epoch, step and timings.
    """
    if variance_kind not in VARIANCE_KINDS:
        raise ValueError(f"variance kind must be one of {VARIANCE_KINDS}, got {variance_kind!r}")
    N, S, D, H = sums.n, sums.samples, sums.dim, sums.latent_dim
    if N <= 0:
        raise ValueError("a diagnostics pass needs at least one point")
    a2 = np.asarray(prior_variance, dtype=np.float64).reshape(-1)
    if a2.shape[0] != H:
        raise ValueError(f"prior variance has {a2.shape[0]} entries for {H} latents")

    log_lik = sums.log_lik / (N * S)
    kl = sums.kl / N
    elbo = log_lik - kl
    h_enc = 0.5 * (H * LOG_2PIE + sums.log_t2 / N)
    h_prior = float(np.sum(0.5 * (LOG_2PIE + np.log(a2))))
    opt_per_dim = sums.sq_err / (N * S)
    sigma2_opt = float(np.sum(opt_per_dim) / D)

    elbo_at_opt: Optional[float] = None
    if variance_kind == "latent":
        h_dec = sums.h_dec / (N * S)
        r_dec = 0.5 * D - 0.5 * sums.norm_sq_err / (N * S)
        sigma2 = sums.variance / (N * S * D)
    else:
        lv_given = _log_variance(decoder_variance, decoder_log_variance, variance_kind)
        if lv_given.shape[0] not in (1, D):
            raise ValueError(f"decoder variance has {lv_given.shape[0]} entries for {D} dimensions")
        lv = np.broadcast_to(lv_given, (D,))
        h_dec = float(np.sum(0.5 * (LOG_2PIE + lv)))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # s*^2 / s^2, 0 where s*^2 is 0 (whatever s^2), infinite only where float64 cannot hold it.
            ratio = np.where(opt_per_dim == 0, 0.0, opt_per_dim * np.exp(-lv))
            r_dec = float(np.sum(0.5 * (1.0 - ratio)))
            sigma2 = _mean_of_exp(lv_given)
            # Moving s^2 to its optimum s*^2 gives E[log p(x|z)] = -1/2 sum_d (log 2 pi e s*_d^2) whatever s^2 was (a
            # scalar variance can only move to the scalar optimum): computed so, not as the ELBO plus a gain that
            # would cancel it to no digits where s^2 is far from s*^2. A dimension reconstructed exactly (s*^2 = 0)
            # has no bounded gain: the value is not finite and is written as null, as the TypeScript trainer writes it.
            opt = opt_per_dim if variance_kind == "per-dimension" else np.full(D, sigma2_opt)
            elbo_at_opt = float(-0.5 * np.sum(LOG_2PIE + np.log(opt))) - kl

    m = sums.second_moment / N
    kl_h = sums.kl_per_latent / N
    r_prior = float(np.sum(0.5 * (1.0 - m / a2)))
    entropy_sum = h_enc - h_prior - h_dec
    gap = elbo - entropy_sum
    scale = abs(h_enc) + abs(h_prior) + abs(h_dec)
    return {
        "elbo": elbo,
        "elboStdErr": _std_err(sums.elbo_point, sums.elbo_point_sq, sums.elbo_mc_var, N, S),
        "elboStdErrData": _data_std_err(sums.elbo_point, sums.elbo_point_sq, N),
        "hEnc": h_enc,
        "hPrior": h_prior,
        "hDec": h_dec,
        "entropySum": entropy_sum,
        "gap": gap,
        "gapStdErr": _std_err(sums.gap_point, sums.gap_point_sq, sums.gap_mc_var, N, S),
        "gapRel": abs(gap) / scale if scale > 0 else None,
        "rDec": r_dec,
        "rPrior": r_prior,
        "sigma2": sigma2,
        "sigma2Opt": sigma2_opt,
        "elboAtOptVariance": elbo_at_opt,
        "logLik": log_lik,
        "kl": kl,
        "latentSecondMoment": [float(v) for v in m],
        "klPerLatent": [float(v) for v in kl_h],
        "collapsedLatents": [h for h, v in enumerate(kl_h) if v < COLLAPSE_KL_NATS],
    }


def elbo_only_record(sums: PassSums, prior_variance: Sequence[float]) -> Dict[str, object]:
    """A record for a decoder the entropy result does not cover (Bernoulli, categorical): the
    ELBO, its parts, the encoder and prior entropies and the per-latent statistics; the decoder
    terms and the gap are null (not charted) rather than a meaningless number."""
    N, S, H = sums.n, sums.samples, sums.latent_dim
    a2 = np.asarray(prior_variance, dtype=np.float64).reshape(-1)
    if a2.shape[0] != H:
        raise ValueError(f"prior variance has {a2.shape[0]} entries for {H} latents")
    log_lik = sums.log_lik / (N * S)
    kl = sums.kl / N
    m = sums.second_moment / N
    kl_h = sums.kl_per_latent / N
    out: Dict[str, object] = {
        "elbo": log_lik - kl,
        "elboStdErr": _std_err(sums.elbo_point, sums.elbo_point_sq, sums.elbo_mc_var, N, S),
        "elboStdErrData": _data_std_err(sums.elbo_point, sums.elbo_point_sq, N),
        "hEnc": 0.5 * (H * LOG_2PIE + sums.log_t2 / N),
        "hPrior": float(np.sum(0.5 * (LOG_2PIE + np.log(a2)))),
        "rPrior": float(np.sum(0.5 * (1.0 - m / a2))),
        "logLik": log_lik,
        "kl": kl,
        "latentSecondMoment": [float(v) for v in m],
        "klPerLatent": [float(v) for v in kl_h],
        "collapsedLatents": [h for h, v in enumerate(kl_h) if v < COLLAPSE_KL_NATS],
    }
    for k in ("hDec", "entropySum", "gap", "gapRel", "rDec", "sigma2", "sigma2Opt", "elboAtOptVariance", "gapStdErr"):
        out[k] = None
    return out


def _log_variance(variance: Optional[Sequence[float]], log_variance: Optional[Sequence[float]], kind: str) -> np.ndarray:
    """log s^2 of a homoscedastic decoder, from whichever of s^2 and log s^2 the caller gave."""
    if log_variance is not None:
        return np.asarray(log_variance, dtype=np.float64).reshape(-1)
    if variance is None:
        raise ValueError(f"a {kind} decoder variance needs its values")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.asarray(variance, dtype=np.float64).reshape(-1))


def _mean_of_exp(log_values: np.ndarray) -> float:
    """The mean of exp(log_values), finite wherever the mean itself is (a sum of e^709s overflows first)."""
    top = np.max(log_values)
    with np.errstate(over="ignore"):
        if not np.isfinite(top) or top <= 700.0:
            return float(np.mean(np.exp(log_values)))
        return float(np.exp(top + np.log(np.mean(np.exp(log_values - top)))))


def json_safe(v: object) -> object:
    """JSON has no NaN or infinity: the run format writes null for them."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (np.floating, np.integer)):
        return json_safe(v.item())
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


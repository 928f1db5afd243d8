/**
 * The ELBO and the entropy decomposition of Damm et al. (AISTATS 2023), on plain numbers.
 *
 * Notation (per data point, nats): prior p(z) = N(0, diag(a_h^2)), decoder
 * p(x|z) = N(mu(z), diag(s_d^2)), encoder q(z|x_n) = N(nu_n, diag(t_n^2)); N points, S samples z_ns ~ q(z|x_n).
 *
 *   ELBO    = 1/N sum_n ( 1/S sum_s log p(x_n|z_ns) - KL(q(z|x_n) || p(z)) )
 *   H_enc   = 1/N sum_n 1/2 sum_h log(2 pi e t_nh^2)
 *   H_prior = 1/2 sum_h log(2 pi e a_h^2)
 *   H_dec   = 1/2 sum_d log(2 pi e s_d^2)          (VAE-3: averaged over n and s)
 *   ELBO - (H_enc - H_prior - H_dec) = R_dec + R_prior, exactly:
 *   R_dec   = 1/2 sum_d (1 - s*_d^2 / s_d^2),  s*_d^2 = 1/(NS) sum_ns (x_nd - mu_d(z_ns))^2
 *   R_prior = 1/2 sum_h (1 - m_h / a_h^2),      m_h = 1/N sum_n (nu_nh^2 + t_nh^2)
 *
 * The ELBO here is summed from its own per-sample terms (as the trainer computes them),
 * and the right-hand side from separate statistics, so the identity is a real check.
 */

import { COLLAPSE_KL_NATS, LOG_2PI, LOG_2PIE } from './constants';

/** Sufficient statistics of one diagnostics pass, gathered by the trainer. */
export interface PassStatistics {
  /** Points N, samples per point S, data dimension D, latent dimension H. */
  n: number;
  samples: number;
  dim: number;
  latentDim: number;
  /** log p(x_n | z_ns), index n*S + s. */
  logLikPerSample: Float64Array;
  /** KL(q(z|x_n) || p(z)), length N. */
  klPerPoint: Float64Array;
  /** sum_h log t_nh^2, length N. */
  sumLogT2PerPoint: Float64Array;
  /** sum_n KL(q(z_h|x_n) || p(z_h)), length H. */
  klPerLatentSum: Float64Array;
  /** sum_n (nu_nh^2 + t_nh^2), length H. */
  secondMomentSum: Float64Array;
  /** sum_ns (x_nd - mu_d(z_ns))^2, length D. */
  sqErrSum: Float64Array;
  /** VAE-3 only: the latent-dependent variance statistics. */
  latentVariance?: {
    /** 1/2 sum_d log(2 pi e s_d^2(z_ns)), index n*S + s. */
    hDecPerSample: Float64Array;
    /** sum_d (x_nd - mu_d)^2 / s_d^2(z_ns), index n*S + s. */
    normSqErrPerSample: Float64Array;
    /** sum_nsd s_d^2(z_ns). */
    varianceSum: number;
  };
}

/** Zeroed statistics for N points, S samples, D dimensions and H latents (with the VAE-3 part when asked). */
export function emptyPassStatistics(n: number, samples: number, dim: number, latentDim: number, latentVariance = false): PassStatistics {
  return {
    n,
    samples,
    dim,
    latentDim,
    logLikPerSample: new Float64Array(n * samples),
    klPerPoint: new Float64Array(n),
    sumLogT2PerPoint: new Float64Array(n),
    klPerLatentSum: new Float64Array(latentDim),
    secondMomentSum: new Float64Array(latentDim),
    sqErrSum: new Float64Array(dim),
    latentVariance: latentVariance
      ? { hDecPerSample: new Float64Array(n * samples), normSqErrPerSample: new Float64Array(n * samples), varianceSum: 0 }
      : undefined,
  };
}

export type DecoderVariance =
  /**
   * Homoscedastic: log s^2, one value (scalar) or D values (log s_d^2). The log form, as the model holds it:
   * a log-variance of ±1e4 is a finite H_dec where its exponential (0 or infinity) would not be.
   */
  | { kind: 'fixed' | 'scalar' | 'per-dimension'; logValues: Float64Array }
  /** VAE-3: s_d^2(z), summarised in PassStatistics.latentVariance. */
  | { kind: 'latent' };

export interface Decomposition {
  elbo: number;
  /** Monte-Carlo standard error of the ELBO estimate (the data set held fixed). */
  elboStdErr: number;
  /** Standard error over data points, for the ELBO as an estimate of its population value. */
  elboStdErrData: number;
  hEnc: number;
  hPrior: number;
  hDec: number;
  entropySum: number;
  gap: number;
  gapStdErr: number;
  gapRel: number;
  rDec: number;
  rPrior: number;
  /** Mean over d of the decoder variance, and of its optimum s*_d^2. */
  sigma2: number;
  sigma2Opt: number;
  /** The ELBO with the decoder variance moved to its closed-form optimum (null for VAE-3). */
  elboAtOptVariance: number | null;
  /** Mean reconstruction log-likelihood 1/(NS) sum log p(x|z), and mean KL. */
  logLik: number;
  kl: number;
  latentSecondMoment: number[];
  klPerLatent: number[];
  /** Indices h with KL_h below COLLAPSE_KL_NATS: the latent carries (almost) no information. */
  collapsedLatents: number[];
}

/**
 * The ELBO of the pass's first `points` points alone. The pass draws its noise by point index, so
 * this is, to the bit, the ELBO a pass over just those points with the same seed would give.
 */
export function elboOfFirstPoints(st: PassStatistics, points: number): number {
  return mean(st.logLikPerSample.subarray(0, points * st.samples)) - mean(st.klPerPoint.subarray(0, points));
}

/** The decomposition of a pass's statistics, the prior variance given as log a_h^2 (as the model holds it). */
export function decompose(st: PassStatistics, variance: DecoderVariance, priorLogVariance: Float64Array): Decomposition {
  const { n: N, samples: S, dim: D, latentDim: H } = st;
  if (priorLogVariance.length !== H) throw new Error(`prior variance has ${priorLogVariance.length} entries for ${H} latents`);

  // The ELBO from its per-sample terms.
  const elboPerSample = new Float64Array(N * S);
  for (let i = 0; i < N; i++) for (let s = 0; s < S; s++) elboPerSample[i * S + s] = st.logLikPerSample[i * S + s]! - st.klPerPoint[i]!;
  const logLik = mean(st.logLikPerSample);
  const kl = mean(st.klPerPoint);
  const elbo = logLik - kl;

  // The entropies.
  let sumLogT2 = 0;
  for (let i = 0; i < N; i++) sumLogT2 += st.sumLogT2PerPoint[i]!;
  const hEnc = 0.5 * (H * LOG_2PIE + sumLogT2 / N);
  let hPrior = 0;
  for (let h = 0; h < H; h++) hPrior += 0.5 * (LOG_2PIE + priorLogVariance[h]!);

  const sigma2OptPerDim = Array.from(st.sqErrSum, (v) => v / (N * S));
  const sigma2Opt = sum(sigma2OptPerDim) / D;

  let hDec: number;
  let rDec: number;
  let sigma2: number;
  let elboAtOptVariance: number | null = null;
  let hDecPerSample: Float64Array | undefined;
  if (variance.kind === 'latent') {
    const lv = st.latentVariance;
    if (!lv) throw new Error('VAE-3 statistics are missing');
    hDecPerSample = lv.hDecPerSample;
    hDec = mean(lv.hDecPerSample);
    rDec = 0.5 * D - 0.5 * mean(lv.normSqErrPerSample);
    sigma2 = lv.varianceSum / (N * S * D);
  } else {
    const lv = variance.logValues;
    if (lv.length !== 1 && lv.length !== D) throw new Error(`decoder variance has ${lv.length} entries for ${D} dimensions`);
    const logAt = (d: number) => (lv.length === 1 ? lv[0]! : lv[d]!);
    hDec = 0;
    rDec = 0;
    for (let d = 0; d < D; d++) {
      hDec += 0.5 * (LOG_2PIE + logAt(d));
      rDec += 0.5 * (1 - ratioToVariance(sigma2OptPerDim[d]!, logAt(d)));
    }
    sigma2 = meanOfExp(lv);
    // Moving s^2 to its optimum s*^2 gives E[log p(x|z)] = -1/2 sum_d log(2 pi e s*_d^2), whatever s^2 was (a
    // scalar variance can only move to the scalar optimum, the mean of s*_d^2). Computed so, not as the ELBO plus
    // the gain 1/2 (log(s^2/s*^2) + s*^2/s^2 - 1): far from the optimum the two cancel to no digits. A dimension
    // reconstructed exactly (s*^2 = 0) has no bounded optimum: the value is infinite, written as null.
    let atOpt = 0;
    for (let d = 0; d < D; d++) atOpt -= 0.5 * (LOG_2PIE + Math.log(variance.kind === 'per-dimension' ? sigma2OptPerDim[d]! : sigma2Opt));
    elboAtOptVariance = atOpt - kl;
  }

  const m = new Array<number>(H);
  const klPerLatent = new Array<number>(H);
  let rPrior = 0;
  for (let h = 0; h < H; h++) {
    m[h] = st.secondMomentSum[h]! / N;
    klPerLatent[h] = st.klPerLatentSum[h]! / N;
    rPrior += 0.5 * (1 - ratioToVariance(m[h]!, priorLogVariance[h]!));
  }

  const entropySum = hEnc - hPrior - hDec;
  const gap = elbo - entropySum;
  const gapRel = Math.abs(gap) / (Math.abs(hEnc) + Math.abs(hPrior) + Math.abs(hDec));

  // Per-sample gap terms: only H_enc (per point) and, for VAE-3, H_dec (per sample) vary.
  const gapPerSample = new Float64Array(N * S);
  for (let i = 0; i < N; i++) {
    const hEncI = 0.5 * (H * LOG_2PIE + st.sumLogT2PerPoint[i]!);
    for (let s = 0; s < S; s++) {
      const k = i * S + s;
      const hDecK = hDecPerSample ? hDecPerSample[k]! : hDec;
      gapPerSample[k] = elboPerSample[k]! - (hEncI - hPrior - hDecK);
    }
  }

  return {
    elbo,
    elboStdErr: monteCarloStdErr(elboPerSample, N, S),
    elboStdErrData: dataStdErr(elboPerSample, N, S),
    hEnc,
    hPrior,
    hDec,
    entropySum,
    gap,
    gapStdErr: monteCarloStdErr(gapPerSample, N, S),
    gapRel,
    rDec,
    rPrior,
    sigma2,
    sigma2Opt,
    elboAtOptVariance,
    logLik,
    kl,
    latentSecondMoment: m,
    klPerLatent,
    collapsedLatents: klPerLatent.flatMap((k, h) => (k < COLLAPSE_KL_NATS ? [h] : [])),
  };
}

/**
 * Standard error of 1/N sum_n 1/S sum_s v_ns as a Monte-Carlo estimate, the points held fixed:
 * sqrt(1/N^2 sum_n Var_s(v_n.) / S). With one sample per point the within-point variance cannot be
 * seen, and the spread over points (an upper bound on it) is used instead.
 */
export function monteCarloStdErr(v: Float64Array, N: number, S: number): number {
  if (S < 2) return dataStdErr(v, N, S);
  let acc = 0;
  for (let i = 0; i < N; i++) {
    let mu = 0;
    for (let s = 0; s < S; s++) mu += v[i * S + s]!;
    mu /= S;
    let ss = 0;
    for (let s = 0; s < S; s++) ss += (v[i * S + s]! - mu) ** 2;
    acc += ss / (S - 1) / S;
  }
  return Math.sqrt(acc) / N;
}

/** Standard error over points of the per-point means. */
export function dataStdErr(v: Float64Array, N: number, S: number): number {
  if (N < 2) return 0;
  const perPoint = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let mu = 0;
    for (let s = 0; s < S; s++) mu += v[i * S + s]!;
    perPoint[i] = mu / S;
  }
  const mu = mean(perPoint);
  let ss = 0;
  for (let i = 0; i < N; i++) ss += (perPoint[i]! - mu) ** 2;
  return Math.sqrt(ss / (N - 1) / N);
}

/** log N(x; mu, s2) summed over d — the decoder's log-likelihood of one point. */
export function gaussianLogLik(x: ArrayLike<number>, mu: ArrayLike<number>, s2: ArrayLike<number>): number {
  let acc = 0;
  for (let d = 0; d < x.length; d++) {
    const v = s2.length === 1 ? s2[0]! : s2[d]!;
    acc += -0.5 * (LOG_2PI + Math.log(v) + (x[d]! - mu[d]!) ** 2 / v);
  }
  return acc;
}

/** KL(N(nu, t2) || N(0, a2)) for one latent coordinate. */
export function gaussianKl(nu: number, t2: number, a2 = 1): number {
  return 0.5 * (Math.log(a2 / t2) + (t2 + nu * nu) / a2 - 1);
}

/**
 * Exact log-likelihood per point of probabilistic PCA fitted by maximum likelihood
 * (Tipping & Bishop 1999) for data with sample covariance eigenvalues `eig` (descending) and rank q:
 *   s^2 = mean of the discarded eigenvalues,
 *   log p = -D/2 log(2 pi) - 1/2 (sum_{j<=q} log l_j + (D-q) log s^2) - D/2.
 */
export function ppcaLogLikelihood(eigDescending: readonly number[], q: number): number {
  const D = eigDescending.length;
  if (q >= D) throw new Error('pPCA needs q < D');
  const rest = eigDescending.slice(q);
  const s2 = sum(rest) / rest.length;
  let logDet = (D - q) * Math.log(s2);
  for (let j = 0; j < q; j++) logDet += Math.log(eigDescending[j]!);
  return -0.5 * D * LOG_2PI - 0.5 * logDet - 0.5 * D;
}

/** Beyond this |log|, Math.exp overflows or loses digits to subnormals (e^-708 is the least normal float64). */
export const EXP_NORMAL_RANGE = 700;

/** v / s^2 from log s^2, for v >= 0: 0 where v is 0 (whatever s^2), infinite only where float64 cannot hold the ratio. */
export function ratioToVariance(v: number, logVariance: number): number {
  if (v === 0) return 0;
  return Math.abs(logVariance) <= EXP_NORMAL_RANGE ? v * Math.exp(-logVariance) : Math.exp(Math.log(v) - logVariance);
}

/** The mean of exp(logValues), finite wherever the mean itself is (a sum of e^709s overflows before it). */
export function meanOfExp(logValues: ArrayLike<number>): number {
  let top = -Infinity;
  for (let i = 0; i < logValues.length; i++) top = Math.max(top, logValues[i]!);
  const shift = Number.isFinite(top) && top > EXP_NORMAL_RANGE ? top : 0;
  let acc = 0;
  for (let i = 0; i < logValues.length; i++) acc += Math.exp(logValues[i]! - shift);
  return shift === 0 ? acc / logValues.length : Math.exp(shift + Math.log(acc / logValues.length));
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
function mean(a: ArrayLike<number>): number {
  return a.length === 0 ? NaN : sum(a) / a.length;
}

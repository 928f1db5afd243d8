/**
 * The evidence practitioners read beside the gap, on plain numbers (no tfjs):
 *  - active units (Burda et al. 2016): latent h is active when the posterior mean varies over the
 *    data, Cov_x(E_q[z_h]) = Var_n(nu_nh) > 0.01;
 *  - per-latent encoder entropy 1/N sum_n 1/2 log(2 pi e t_nh^2) beside the prior's 1/2 log(2 pi e a_h^2):
 *    a latent whose encoder is as wide as the prior says nothing about x;
 *  - the mutual information I(x; z) under q(x, z) = p_data(x) q(z|x), by the aggregate-posterior
 *    (minibatch-free) estimator of Hoffman & Johnson (2016):
 *      I = 1/M sum_n [ log q(z_n|x_n) - log( 1/M sum_m q(z_n|x_m) ) ],  z_n ~ q(z|x_n),
 *    on M points, one sample each. It is bounded by log M (it cannot see more information than M
 *    points hold), which is why the record also carries M;
 *  - the mean-field gap: what the diagonal encoder loses to the correlations of the decoder's local
 *    posterior (see meanFieldGap);
 *  - a noise-aware plateau test: the (robust) slope of the ELBO over the last passes against its
 *    standard error.
 */
import { LOG_2PI } from './constants';

export const ACTIVE_UNIT_THRESHOLD = 0.01;

/** What one encoder pass over the diagnostics points says about the latents. */
export interface LatentEvidence {
  /** Var_n(nu_nh) per latent: the activity statistic of Burda et al. */
  latentMeanVariance: number[];
  /** Number of latents with latentMeanVariance > ACTIVE_UNIT_THRESHOLD. */
  activeUnits: number;
  /** 1/N sum_n 1/2 log(2 pi e t_nh^2) per latent. */
  hEncPerLatent: number[];
  /** I(x; z) in nats, aggregate-posterior estimator on `miPoints` points. */
  mutualInformation: number;
  miPoints: number;
}

/**
 * nu and logT2 are row-major N x H; eps (M x H, standard normal) draws z_n for the first M points.
 * Var and entropy use all N points; the mutual information the first M.
 */
export function latentEvidence(
  nu: Float32Array | Float64Array,
  logT2: Float32Array | Float64Array,
  N: number,
  H: number,
  eps: ArrayLike<number>,
): LatentEvidence {
  const mean = new Float64Array(H);
  const logT2Sum = new Float64Array(H);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      mean[h] = mean[h]! + nu[n * H + h]!;
      logT2Sum[h] = logT2Sum[h]! + logT2[n * H + h]!;
    }
  }
  for (let h = 0; h < H; h++) mean[h] = mean[h]! / N;
  // Deviations from the mean, not E[nu^2] - E[nu]^2: means of 1e4 with a spread of 0.1 would lose the variance.
  const sq = new Float64Array(H);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) sq[h] = sq[h]! + (nu[n * H + h]! - mean[h]!) ** 2;
  const latentMeanVariance = Array.from(sq, (s) => s / N);
  const M = Math.min(N, Math.floor(eps.length / Math.max(1, H)));
  return {
    latentMeanVariance,
    activeUnits: latentMeanVariance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
    hEncPerLatent: Array.from(logT2Sum, (s) => 0.5 * (LOG_2PI + 1 + s / N)),
    mutualInformation: mutualInformation(nu, logT2, M, H, eps),
    miPoints: M,
  };
}

/** The aggregate-posterior estimator of I(x; z) on the first M points (see the file comment). */
export function mutualInformation(nu: ArrayLike<number>, logT2: ArrayLike<number>, M: number, H: number, eps: ArrayLike<number>): number {
  if (M < 2) return 0;
  // 1/t, not 1/t^2: it overflows only for log t^2 below -1418, and a zero distance counts as zero.
  const invSd = Float64Array.from({ length: M * H }, (_, i) => Math.exp(-0.5 * logT2[i]!));
  // log q(z | x_m) without the -H/2 log 2pi, which cancels between the two terms.
  const logNormConst = Float64Array.from({ length: M }, (_, m) => {
    let s = 0;
    for (let h = 0; h < H; h++) s += logT2[m * H + h]!;
    return -0.5 * s;
  });
  // The means as float64 (exactly the same numbers): the M x M loop below then reads one kind of array.
  const means = Float64Array.from({ length: M * H }, (_, i) => nu[i]!);
  const z = new Float64Array(H);
  const logq = new Float64Array(M);
  let total = 0;
  for (let n = 0; n < M; n++) {
    for (let h = 0; h < H; h++) z[h] = means[n * H + h]! + Math.exp(0.5 * logT2[n * H + h]!) * eps[n * H + h]!;
    const max = logDensities(z, means, invSd, logNormConst, logq);
    let sum = 0;
    for (let m = 0; m < M; m++) sum += Math.exp(logq[m]! - max);
    // log q(z_n|x_n) - log(1/M sum_m q(z_n|x_m)), with the larger terms taken out first: the log
    // normalisers of very narrow posteriors are so large that their difference would round away.
    total += Math.log(M) - Math.log(sum) - (max - logq[n]!);
  }
  return total / M;
}

/**
 * log q(z | x_m) for every m, without -H/2 log 2pi, into logq; returns their largest. A function of
 * its own: called once per point, it is compiled after the first few, where the loop inline ran
 * unoptimised for much of a pass (V8 optimises a function called often sooner than a long loop).
 * Four m at a time: each is still its own sum over h in ascending order, so the same bits as one
 * at a time, but four independent sums keep the core busy where one waits on its own subtractions.
 */
function logDensities(z: Float64Array, means: Float64Array, invSd: Float64Array, logNormConst: Float64Array, logq: Float64Array): number {
  const H = z.length;
  const M = logq.length;
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const r0 = m * H;
    const r1 = r0 + H;
    const r2 = r1 + H;
    const r3 = r2 + H;
    let q0 = logNormConst[m]!;
    let q1 = logNormConst[m + 1]!;
    let q2 = logNormConst[m + 2]!;
    let q3 = logNormConst[m + 3]!;
    for (let h = 0; h < H; h++) {
      const zh = z[h]!;
      q0 -= halfSquare(zh - means[r0 + h]!, invSd[r0 + h]!);
      q1 -= halfSquare(zh - means[r1 + h]!, invSd[r1 + h]!);
      q2 -= halfSquare(zh - means[r2 + h]!, invSd[r2 + h]!);
      q3 -= halfSquare(zh - means[r3 + h]!, invSd[r3 + h]!);
    }
    logq[m] = q0;
    logq[m + 1] = q1;
    logq[m + 2] = q2;
    logq[m + 3] = q3;
  }
  for (; m < M; m++) {
    const row = m * H;
    let q = logNormConst[m]!;
    for (let h = 0; h < H; h++) q -= halfSquare(z[h]! - means[row + h]!, invSd[row + h]!);
    logq[m] = q;
  }
  let max = -Infinity;
  for (let k = 0; k < M; k++) if (logq[k]! > max) max = logq[k]!;
  return max;
}

/** (d / t)² / 2 for a distance d and 1/t; a zero distance counts as zero, whatever t. */
function halfSquare(d: number, invSd: number): number {
  const u = d === 0 ? 0 : d * invSd;
  return 0.5 * u * u;
}

export interface MeanFieldEvidence {
  /** Nats per point, the mean over `meanFieldPoints` points. */
  meanFieldGap: number;
  meanFieldPoints: number;
  /**
   * The decoder's Jacobian and variance are the same at every point: a linear Gaussian decoder,
   * whose best ELBO has no mean-field gap (a rotation of the latents removes it), so a gap shows the
   * optimum is not reached.
   */
  decoderLinear: boolean;
}

/**
 * The mean-field gap: what a factorised (diagonal) encoder must lose to the correlations of the
 * decoder's local posterior. With the decoder linearised at the encoder mean, p(z|x) is Gaussian
 * with precision Λ = diag(1/a^2) + Jᵀ diag(1/s^2) J (J = ∂mu/∂z, a^2 the prior's variances), the
 * best diagonal q has precision diag(Λ), and
 *   KL(q || p(z|x)) = 1/2 (sum_h log Λ_hh - log det Λ) >= 0,
 * zero exactly where the decoder's Jacobian has orthogonal columns in the metric 1/s^2. For a
 * linear decoder this is exact, and a rotation of the latents, which leaves log p(x) unchanged
 * under an isotropic prior, takes it to zero: the ELBO can still gain at least this much (Lucas et
 * al. 2019). Nonlinear decoders are pushed towards such Jacobians by the same term (Rolinek et al.
 * 2019), but need not reach zero.
 * `precisions` holds P row-major H x H matrices Λ; the result is their mean gap in nats.
 */
export function meanFieldGap(precisions: ArrayLike<number>, P: number, H: number): number {
  if (P === 0) return 0;
  const L = new Float64Array(H * H);
  let total = 0;
  for (let p = 0; p < P; p++) {
    const base = p * H * H;
    let logDiag = 0;
    for (let h = 0; h < H; h++) logDiag += Math.log(precisions[base + h * H + h]!);
    total += 0.5 * (logDiag - choleskyLogDet(precisions, base, H, L));
  }
  return Math.max(0, total / P);
}

/** log det of the symmetric positive-definite H x H matrix at `m[base..]`, by Cholesky into `L`. */
function choleskyLogDet(m: ArrayLike<number>, base: number, H: number, L: Float64Array): number {
  let logDet = 0;
  for (let i = 0; i < H; i++) {
    for (let j = 0; j <= i; j++) {
      let s = m[base + i * H + j]!;
      for (let k = 0; k < j; k++) s -= L[i * H + k]! * L[j * H + k]!;
      if (i === j) {
        // Λ >= diag(1/a^2) > 0 in exact arithmetic; rounding cannot make a pivot negative by more than it.
        const pivot = Math.sqrt(Math.max(s, Number.MIN_VALUE));
        L[i * H + i] = pivot;
        logDet += 2 * Math.log(pivot);
      } else L[i * H + j] = s / L[j * H + j]!;
    }
  }
  return logDet;
}

/**
 * A line through (x_i, y_i) that one wild pass cannot tilt: the Theil-Sen slope (the median of the
 * pairwise slopes), the spread of the residuals as 1.4826 x their median absolute deviation (the
 * standard deviation for Gaussian noise), and the slope's standard error as least squares would
 * give it with that spread. The spread is kept at or above `noiseFloor`, the points' own standard
 * error where it is known: the median of a few residuals can come out near zero by chance, and a
 * slope would then look sure that is not.
 */
export interface TrendFit {
  slope: number;
  slopeStdErr: number;
  /** Robust standard deviation of the residuals about the line. */
  residualSd: number;
  n: number;
}

export function fitTrend(x: readonly number[], y: readonly number[], noiseFloor = 0): TrendFit {
  const n = Math.min(x.length, y.length);
  if (n < 3) return { slope: 0, slopeStdErr: Infinity, residualSd: NaN, n };
  const pairs = pairScratch((n * (n - 1)) / 2);
  let count = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (x[j] !== x[i]) pairs[count++] = (y[j]! - y[i]!) / (x[j]! - x[i]!);
  if (count === 0) return { slope: 0, slopeStdErr: Infinity, residualSd: NaN, n };
  const slope = median(pairs.subarray(0, count));
  const residuals = new Float64Array(n);
  for (let i = 0; i < n; i++) residuals[i] = y[i]! - slope * x[i]!;
  const intercept = median(residuals);
  for (let i = 0; i < n; i++) residuals[i] = Math.abs(y[i]! - intercept - slope * x[i]!);
  const residualSd = Math.max(noiseFloor, 1.4826 * median(residuals));
  let mx = 0;
  for (let i = 0; i < n; i++) mx += x[i]! / n;
  let sxx = 0;
  for (let i = 0; i < n; i++) sxx += (x[i]! - mx) ** 2;
  return { slope, slopeStdErr: residualSd / Math.sqrt(sxx), residualSd, n };
}

/**
 * The median, by selection rather than a sort: a trend over the last quarter of a long run has
 * tens of thousands of pairwise slopes, judged after every pass. The same value a sort gives; with
 * a NaN among the values (whose place a sort leaves to chance) it sorts as before.
 */
function median(v: readonly number[] | Float64Array): number {
  if (hasNaN(v)) {
    const s = Array.from(v).sort((a, b) => a - b);
    const k = s.length >> 1;
    return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
  }
  // A typed array is the caller's scratch (the pairwise slopes), reordered in place.
  const a = v instanceof Float64Array ? v : Float64Array.from(v);
  const k = a.length >> 1;
  select(a, k);
  if (a.length % 2) return a[k]!;
  // Below k after selection lie the k smallest values: the largest of them is the lower middle.
  let lower = -Infinity;
  for (let i = 0; i < k; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + a[k]!) / 2;
}

function hasNaN(v: readonly number[] | Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) return true;
  return false;
}

/**
 * The pairwise slopes' buffer, kept between fits: the verdict fits a few trends at every pass, and a
 * run of thousands of passes judged again (report, eval, the panel) would otherwise allocate and
 * collect a buffer of up to 4950 slopes each time. Single-threaded use only (each fit fills and reads it before returning).
 */
let pairBuffer = new Float64Array(0);
function pairScratch(size: number): Float64Array {
  if (pairBuffer.length < size) pairBuffer = new Float64Array(size);
  return pairBuffer.subarray(0, size);
}

/** Reorders `a` so that a[k] holds the value a sort would put there, the smaller ones before it and the larger after (Hoare's selection). */
function select(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

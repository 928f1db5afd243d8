import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataStdErr, decompose, emptyPassStatistics, gaussianKl, gaussianLogLik, monteCarloStdErr, ppcaLogLikelihood } from '../../src/core/entropy';
import { Rng } from '../../src/core/random';

const close = (a: number, b: number, tol = 1e-12, what = '') => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} != ${b}`);

/**
 * A hand-made "model": N=2 points in D=2, H=1 latent, S=2 samples, with explicit encoder
 * outputs, samples and decoder means. The test computes the ELBO straight from the
 * definitions and compares with decompose(), which only sees the statistics.
 */
function handCase(s2: number[], a2: number) {
  const x = [
    [0.5, -1.0],
    [2.0, 0.3],
  ];
  const nu = [0.2, -0.7];
  const t2 = [0.5, 0.25];
  const mu = [
    [
      [0.4, -0.8],
      [0.7, -1.3],
    ],
    [
      [1.5, 0.1],
      [2.6, 0.2],
    ],
  ];
  const N = 2,
    S = 2,
    D = 2,
    H = 1;
  const st = emptyPassStatistics(N, S, D, H);
  let elbo = 0;
  for (let n = 0; n < N; n++) {
    const kl = gaussianKl(nu[n]!, t2[n]!, a2);
    st.klPerPoint[n] = kl;
    st.klPerLatentSum[0]! += kl;
    st.sumLogT2PerPoint[n] = Math.log(t2[n]!);
    st.secondMomentSum[0]! += nu[n]! ** 2 + t2[n]!;
    for (let s = 0; s < S; s++) {
      const ll = gaussianLogLik(x[n]!, mu[n]![s]!, s2);
      st.logLikPerSample[n * S + s] = ll;
      for (let d = 0; d < D; d++) st.sqErrSum[d]! += (x[n]![d]! - mu[n]![s]![d]!) ** 2;
      elbo += (ll - kl) / (N * S);
    }
  }
  return { st, elbo, x, nu, t2 };
}

test('hand-computed case: every term matches its definition, scalar variance', () => {
  const s2 = 0.3;
  const { st, elbo, nu, t2 } = handCase([s2], 1);
  const r = decompose(st, { kind: 'scalar', logValues: Float64Array.of(Math.log(s2)) }, Float64Array.of(0));
  close(r.elbo, elbo, 1e-12, 'elbo');
  const log2pie = Math.log(2 * Math.PI * Math.E);
  close(r.hEnc, (0.5 * (log2pie + Math.log(t2[0]!))) / 2 + (0.5 * (log2pie + Math.log(t2[1]!))) / 2, 1e-12, 'hEnc');
  close(r.hPrior, 0.5 * log2pie, 1e-12, 'hPrior');
  close(r.hDec, 2 * 0.5 * Math.log(2 * Math.PI * Math.E * s2), 1e-12, 'hDec');
  // s*^2 per dimension by hand from the squared errors above.
  const sStar = [(0.1 ** 2 + 0.2 ** 2 + 0.5 ** 2 + 0.6 ** 2) / 4, (0.2 ** 2 + 0.3 ** 2 + 0.2 ** 2 + 0.1 ** 2) / 4];
  close(r.sigma2Opt, (sStar[0]! + sStar[1]!) / 2, 1e-12, 'sigma2Opt');
  close(r.rDec, 0.5 * (1 - sStar[0]! / s2) + 0.5 * (1 - sStar[1]! / s2), 1e-12, 'rDec');
  const m = (nu[0]! ** 2 + t2[0]! + nu[1]! ** 2 + t2[1]!) / 2;
  close(r.latentSecondMoment[0]!, m, 1e-12, 'm');
  close(r.rPrior, 0.5 * (1 - m), 1e-12, 'rPrior');
  close(r.elbo - r.entropySum, r.rDec + r.rPrior, 1e-12, 'identity');
  // Moving s^2 to the scalar optimum can only raise the ELBO, by the closed form.
  const opt = r.sigma2Opt;
  close(r.elboAtOptVariance!, elbo + 2 * 0.5 * (Math.log(s2 / opt) + opt / s2 - 1), 1e-12, 'elboAtOpt');
  assert.ok(r.elboAtOptVariance! >= r.elbo);
});

test('per-dimension variance and a learned prior variance (VAE-2) keep the identity exact', () => {
  const s2 = [0.2, 0.9];
  const a2 = 1.7;
  const { st, elbo } = handCase(s2, a2);
  const r = decompose(st, { kind: 'per-dimension', logValues: Float64Array.from(s2, Math.log) }, Float64Array.of(Math.log(a2)));
  close(r.elbo, elbo, 1e-12, 'elbo');
  close(r.hPrior, 0.5 * Math.log(2 * Math.PI * Math.E * a2), 1e-12, 'hPrior');
  close(r.elbo - r.entropySum, r.rDec + r.rPrior, 1e-12, 'identity');
  close(r.gapRel, Math.abs(r.gap) / (Math.abs(r.hEnc) + Math.abs(r.hPrior) + Math.abs(r.hDec)), 1e-12, 'gapRel');
});

test('VAE-3 (latent-dependent variance): identity holds on random statistics', () => {
  const rng = new Rng(3);
  const N = 50,
    S = 3,
    D = 4,
    H = 2;
  const x = Array.from({ length: N * D }, () => rng.normal());
  const st = emptyPassStatistics(N, S, D, H, true);
  for (let n = 0; n < N; n++) {
    let kl = 0;
    for (let h = 0; h < H; h++) {
      const nu = rng.normal(),
        t2 = Math.exp(rng.normal() - 1);
      const k = gaussianKl(nu, t2);
      kl += k;
      st.klPerLatentSum[h]! += k;
      st.secondMomentSum[h]! += nu * nu + t2;
      st.sumLogT2PerPoint[n]! += Math.log(t2);
    }
    st.klPerPoint[n] = kl;
    for (let s = 0; s < S; s++) {
      const mu = Array.from({ length: D }, () => rng.normal());
      const v = Array.from({ length: D }, () => Math.exp(rng.normal()));
      const xs = x.slice(n * D, (n + 1) * D);
      st.logLikPerSample[n * S + s] = gaussianLogLik(xs, mu, v);
      let hd = 0,
        ns = 0;
      for (let d = 0; d < D; d++) {
        hd += 0.5 * Math.log(2 * Math.PI * Math.E * v[d]!);
        ns += (xs[d]! - mu[d]!) ** 2 / v[d]!;
        st.sqErrSum[d]! += (xs[d]! - mu[d]!) ** 2;
        st.latentVariance!.varianceSum += v[d]!;
      }
      st.latentVariance!.hDecPerSample[n * S + s] = hd;
      st.latentVariance!.normSqErrPerSample[n * S + s] = ns;
    }
  }
  const r = decompose(st, { kind: 'latent' }, new Float64Array(H));
  close(r.elbo - r.entropySum, r.rDec + r.rPrior, 1e-10, 'identity');
  assert.equal(r.elboAtOptVariance, null);
  assert.ok(r.gapStdErr > 0);
});

test('collapsed latents are flagged by their KL', () => {
  const { st } = handCase([0.3], 1);
  st.klPerLatentSum[0] = 0.001;
  const r = decompose(st, { kind: 'scalar', logValues: Float64Array.of(Math.log(0.3)) }, Float64Array.of(0));
  assert.deepEqual(r.collapsedLatents, [0]);
});

test('Monte-Carlo standard error follows its formula; with one sample it falls back to the spread over points', () => {
  const v = Float64Array.from([1, 3, 10, 14]); // N=2, S=2: within-point variances 2 and 8
  close(monteCarloStdErr(v, 2, 2), Math.sqrt(2 / 2 + 8 / 2) / 2, 1e-12, 'mc');
  close(dataStdErr(v, 2, 2), Math.sqrt(((2 - 7) ** 2 + (12 - 7) ** 2) / 1 / 2), 1e-12, 'data');
  close(monteCarloStdErr(Float64Array.from([1, 3]), 2, 1), dataStdErr(Float64Array.from([1, 3]), 2, 1), 1e-12);
});

test('pPCA log-likelihood: the closed form equals the Gaussian density with C = W W^T + s^2 I', () => {
  // Diagonal covariance diag(4, 2, 0.5, 0.5): q = 2 keeps 4 and 2, s^2 = 0.5, C equals the data covariance.
  const eig = [4, 2, 0.5, 0.5];
  const expected = -0.5 * 4 * Math.log(2 * Math.PI) - 0.5 * Math.log(4 * 2 * 0.5 * 0.5) - 0.5 * 4; // tr(C^-1 S) = D
  close(ppcaLogLikelihood(eig, 2), expected, 1e-12);
  assert.throws(() => ppcaLogLikelihood(eig, 4));
});

/**
 * Statistics of N=2 points, S=2 samples, D=3 dimensions and one latent whose squared errors are
 * `sq[n][s][d]`, under the homoscedastic log-variance `logS2` (1 or D values); the per-sample
 * log-likelihoods in float64 from the Gaussian's density, -infinity where float64 cannot hold them.
 */
function extremeCase(sq: number[][][], logS2: number[], kl: number) {
  const N = 2,
    S = 2,
    D = 3;
  const st = emptyPassStatistics(N, S, D, 1);
  for (let n = 0; n < N; n++) {
    st.klPerPoint[n] = kl;
    st.klPerLatentSum[0]! += kl;
    st.sumLogT2PerPoint[n] = -1;
    st.secondMomentSum[0]! += 1.5;
    for (let s = 0; s < S; s++) {
      let ll = 0;
      for (let d = 0; d < D; d++) {
        const lv = logS2[logS2.length === 1 ? 0 : d]!;
        const e = sq[n]![s]![d]!;
        ll -= 0.5 * (Math.log(2 * Math.PI) + lv + (e === 0 ? 0 : e / Math.exp(lv)));
        st.sqErrSum[d]! += e;
      }
      st.logLikPerSample[n * S + s] = ll;
    }
  }
  return st;
}

/** Closed forms for a Gaussian decoder N(mu, s^2) written from log s^2 and the log of the optimum. */
function extremeReference(sq: number[][][], logS2: number[], kl: number, kind: 'scalar' | 'per-dimension') {
  const D = 3;
  const opt = [0, 1, 2].map((d) => (sq[0]![0]![d]! + sq[0]![1]![d]! + sq[1]![0]![d]! + sq[1]![1]![d]!) / 4);
  const optMean = (opt[0]! + opt[1]! + opt[2]!) / 3;
  const lv = (d: number) => logS2[logS2.length === 1 ? 0 : d]!;
  let hDec = 0;
  let rDec = 0;
  let atOpt = -kl;
  for (let d = 0; d < D; d++) {
    hDec += 0.5 * (Math.log(2 * Math.PI) + 1 + lv(d));
    rDec += 0.5 * (1 - (opt[d] === 0 ? 0 : Math.exp(Math.log(opt[d]!) - lv(d))));
    atOpt -= 0.5 * (Math.log(2 * Math.PI) + 1 + Math.log(kind === 'per-dimension' ? opt[d]! : optMean));
  }
  // The mean of s_d^2, shifted by the largest log-variance so that a finite mean of e^709s stays finite.
  const top = Math.max(...logS2);
  const sigma2 = Math.exp(top + Math.log(logS2.reduce((a, v) => a + Math.exp(v - top), 0) / logS2.length));
  return { hDec, rDec, sigma2, elboAtOptVariance: atOpt };
}

/** Equal to 1e-12 relative, or both the same infinity (a value float64 cannot hold, written as null). */
function agrees(got: number | null, want: number, what: string) {
  if (!Number.isFinite(want)) return assert.equal(got, want, what);
  assert.ok(got !== null && Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: ${got} != ${want}`);
}

const LOG_VARIANCES = [-1e4, -800, -100, -30, -1, 0, 2, 30, 88, 100, 709, 800, 1e4];
const ERRORS: Record<string, number[][][]> = {
  typical: [
    [
      [0.01, 1.2, 30],
      [0.04, 0.7, 12],
    ],
    [
      [0.02, 2.5, 45],
      [0.0, 0.9, 7],
    ],
  ],
  // The first dimension reconstructed exactly: no bounded optimum there, a bounded R_dec.
  exact: [
    [
      [0, 1e-3, 1e6],
      [0, 2e-3, 3e6],
    ],
    [
      [0, 5e-4, 2e6],
      [0, 1e-3, 4e6],
    ],
  ],
};

for (const [errorsName, sq] of Object.entries(ERRORS))
  for (const kind of ['scalar', 'per-dimension'] as const)
    for (const lv of LOG_VARIANCES) {
      // A per-dimension variance spread around lv, so its mean is not any one of them.
      const logS2 = kind === 'scalar' ? [lv] : [lv, lv + 0.5, lv - 1];
      test(`extreme decoder log-variance ${lv} (${kind}, ${errorsName} errors): H_dec, R_dec, sigma2 and the ELBO at the optimum match the closed forms`, () => {
        // KL(N(nu, t^2) || N(0, 1)) of the statistics' log t^2 = -1 and nu^2 + t^2 = 1.5.
        const kl = 0.5 * (1 + 1.5 - 1);
        const r = decompose(extremeCase(sq, logS2, kl), { kind, logValues: Float64Array.from(logS2) }, Float64Array.of(0));
        const want = extremeReference(sq, logS2, kl, kind);
        agrees(r.hDec, want.hDec, 'hDec');
        agrees(r.rDec, want.rDec, 'rDec');
        agrees(r.sigma2, want.sigma2, 'sigma2');
        agrees(r.elboAtOptVariance, want.elboAtOptVariance, 'elboAtOptVariance');
        agrees(r.entropySum, r.hEnc - r.hPrior - want.hDec, 'entropySum');
        if (Number.isFinite(r.elbo) && Number.isFinite(r.rDec)) {
          const scale = Math.abs(r.elbo) + Math.abs(r.hEnc) + Math.abs(r.hPrior) + Math.abs(r.hDec) + Math.abs(r.rDec);
          assert.ok(Math.abs(r.elbo - r.entropySum - (r.rDec + r.rPrior)) <= 1e-12 * scale, 'identity');
        }
      });
    }

test('the ELBO at the optimal variance keeps its digits: a huge ELBO with a tiny gain, and a huge gain', () => {
  const sq = ERRORS.typical!;
  const opt = [0, 1, 2].map((d) => (sq[0]![0]![d]! + sq[0]![1]![d]! + sq[1]![0]![d]! + sq[1]![1]![d]!) / 4);
  // At the optimum already, under a KL of 1e15: the gain is 0, the ELBO -1e15.
  const atOptimum = opt.map(Math.log);
  const huge = decompose(extremeCase(sq, atOptimum, 1e15), { kind: 'per-dimension', logValues: Float64Array.from(atOptimum) }, Float64Array.of(0));
  agrees(huge.elboAtOptVariance, extremeReference(sq, atOptimum, 1e15, 'per-dimension').elboAtOptVariance, 'at the optimum');
  // e^-40 below the optimum: log p and the gain are each ~1e17, their sum a few nats.
  const below = opt.map((o) => Math.log(o) - 40);
  const far = decompose(extremeCase(sq, below, 0.5), { kind: 'per-dimension', logValues: Float64Array.from(below) }, Float64Array.of(0));
  assert.ok(far.elbo < -1e15, `${far.elbo}`);
  agrees(far.elboAtOptVariance, extremeReference(sq, below, 0.5, 'per-dimension').elboAtOptVariance, 'far below the optimum');
});

for (const logA2 of LOG_VARIANCES)
  test(`extreme prior log-variance ${logA2} (VAE-2): H_prior and R_prior match the closed forms`, () => {
    const sq = ERRORS.typical!;
    // The statistics' log t^2 = -1 and nu^2 + t^2 = 1.5, against N(0, e^logA2).
    const m = 1.5;
    const st = extremeCase(sq, [0], 0.5 * (logA2 + 1 + Math.exp(Math.log(m) - logA2) - 1));
    const r = decompose(st, { kind: 'scalar', logValues: Float64Array.of(0) }, Float64Array.of(logA2));
    const hPrior = 0.5 * (Math.log(2 * Math.PI) + 1 + logA2);
    agrees(r.hPrior, hPrior, 'hPrior');
    agrees(r.rPrior, 0.5 * (1 - Math.exp(Math.log(m) - logA2)), 'rPrior');
    agrees(r.entropySum, r.hEnc - hPrior - r.hDec, 'entropySum');
  });

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
  const r = decompose(st, { kind: 'scalar', values: Float64Array.of(s2) }, Float64Array.of(1));
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
  const r = decompose(st, { kind: 'per-dimension', values: Float64Array.from(s2) }, Float64Array.of(a2));
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
  const r = decompose(st, { kind: 'latent' }, new Float64Array(H).fill(1));
  close(r.elbo - r.entropySum, r.rDec + r.rPrior, 1e-10, 'identity');
  assert.equal(r.elboAtOptVariance, null);
  assert.ok(r.gapStdErr > 0);
});

test('collapsed latents are flagged by their KL', () => {
  const { st } = handCase([0.3], 1);
  st.klPerLatentSum[0] = 0.001;
  const r = decompose(st, { kind: 'scalar', values: Float64Array.of(0.3) }, Float64Array.of(1));
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

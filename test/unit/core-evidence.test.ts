/**
 * The encoder's evidence (core/evidence.ts) on posteriors made elsewhere: latent means far from
 * zero, and posteriors so narrow that their variances leave float64's range.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latentEvidence } from '../../src/core/evidence';
import { Rng } from '../../src/core/random';

test('Var_n(nu_h) of latent means far from zero matches a two-pass float64 computation (sizes x offsets x spreads)', () => {
  const rng = new Rng(2);
  for (const N of [2, 1000, 60000])
    for (const offset of [0, 1e2, 1e4, 1e6, -1e7])
      for (const spread of [0.05, 0.2, 3]) {
        const H = 2;
        const nu = Float32Array.from({ length: N * H }, () => offset + spread * rng.normal());
        const got = latentEvidence(nu, new Float32Array(N * H), N, H, []).latentMeanVariance;
        for (let h = 0; h < H; h++) {
          let mean = 0;
          for (let n = 0; n < N; n++) mean += nu[n * H + h]! / N;
          let v = 0;
          for (let n = 0; n < N; n++) v += (nu[n * H + h]! - mean) ** 2 / N;
          assert.ok(Math.abs(got[h]! - v) <= 1e-9 * v + 1e-18 * offset * offset, `N=${N} means ${offset} + ${spread} u, latent ${h}: ${got[h]} vs ${v}`);
        }
      }
});

test('the mutual information of posteriors narrower than float64 can weigh stays finite and within [0, log M]', () => {
  const [N, H] = [50, 2];
  const rng = new Rng(3);
  const nu = Float32Array.from({ length: N * H }, () => 2 * rng.normal());
  const eps = Float64Array.from({ length: N * H }, () => rng.normal());
  for (const logT2 of [-3, -100, -700, -709, -750, -1000, -1e5, -3e38]) {
    const mi = latentEvidence(nu, new Float32Array(N * H).fill(logT2), N, H, eps).mutualInformation;
    assert.ok(Number.isFinite(mi) && mi >= 0 && mi <= Math.log(N) + 1e-9, `log t^2 = ${logT2}: I = ${mi}`);
    // Points this far apart in posterior widths are told apart by every sample: all of log M.
    if (logT2 <= -100) assert.ok(Math.abs(mi - Math.log(N)) < 1e-9, `log t^2 = ${logT2}: I = ${mi}, log M = ${Math.log(N)}`);
  }
});

test('I(x; z) is, to the bit, the estimator written out in one loop (float32 means, narrow and exact posteriors)', () => {
  // The estimator as it reads on paper, one loop over n, m and h, in the same order of operations.
  const plain = (nu: Float32Array, logT2: Float32Array, M: number, H: number, eps: Float64Array) => {
    let total = 0;
    for (let n = 0; n < M; n++) {
      const logq: number[] = [];
      for (let m = 0; m < M; m++) {
        let norm = 0;
        for (let h = 0; h < H; h++) norm += logT2[m * H + h]!;
        let q = -0.5 * norm;
        for (let h = 0; h < H; h++) {
          const d = nu[n * H + h]! + Math.exp(0.5 * logT2[n * H + h]!) * eps[n * H + h]! - nu[m * H + h]!;
          const u = d === 0 ? 0 : d * Math.exp(-0.5 * logT2[m * H + h]!);
          q -= 0.5 * u * u;
        }
        logq.push(q);
      }
      const max = Math.max(...logq);
      const sum = logq.reduce((s, q) => s + Math.exp(q - max), 0);
      total += Math.log(M) - Math.log(sum) - (max - logq[n]!);
    }
    return total / M;
  };
  const rng = new Rng(5);
  for (const [M, H, logT2Mean] of [
    [300, 20, -2],
    [64, 3, -1500],
    [50, 1, 0],
  ] as const) {
    const nu = Float32Array.from({ length: M * H }, () => 3 * rng.normal());
    const logT2 = Float32Array.from({ length: M * H }, () => logT2Mean + rng.normal());
    const eps = Float64Array.from({ length: M * H }, () => rng.normal());
    assert.equal(latentEvidence(nu, logT2, M, H, eps).mutualInformation, plain(nu, logT2, M, H, eps), `M ${M}, H ${H}`);
  }
});

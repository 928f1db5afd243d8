import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic, type SyntheticParams } from '../../src/data/synthetic';
import { expectUserError } from './data-testkit';

const ringParams = (extra: Partial<SyntheticParams> = {}): SyntheticParams => ({
  synthetic: 'ring',
  n: 600,
  noise: 0,
  seed: 4,
  dim: 7,
  intrinsicDim: undefined,
  ...extra,
});

/** Column means and the D x D sample covariance (divided by n). */
function moments(values: Float32Array, n: number, D: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mean[d] = mean[d]! + values[i * D + d]! / n;
  const cov = new Float64Array(D * D);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < D; a++)
      for (let b = 0; b < D; b++) cov[a * D + b] = cov[a * D + b]! + ((values[i * D + a]! - mean[a]!) * (values[i * D + b]! - mean[b]!)) / n;
  return { mean, cov };
}

test('synthetic ring: noise-free points lie on a unit circle through the origin of R^D', () => {
  const ds = generateSynthetic(ringParams());
  assert.equal(ds.dim, 7);
  assert.equal(ds.source, 'synthetic ring (n=600, noise=0, seed=4, dim=7)');
  for (let i = 0; i < ds.n; i++) {
    let r2 = 0;
    for (let d = 0; d < 7; d++) r2 += ds.values[i * 7 + d]! ** 2;
    assert.ok(Math.abs(Math.sqrt(r2) - 1) < 1e-5, `point ${i} has radius ${Math.sqrt(r2)}`);
  }
});

test('synthetic ring: its covariance is Q Q^T / 2 + noise^2 I (rank 2 plus isotropic noise)', () => {
  const D = 5;
  const n = 40000;
  const noise = 0.2;
  const ds = generateSynthetic(ringParams({ n, dim: D, noise, seed: 9 }));
  const { mean, cov } = moments(ds.values, n, D);
  for (let d = 0; d < D; d++) assert.ok(Math.abs(mean[d]!) < 0.02, `mean[${d}] = ${mean[d]}`);
  // Trace: the circle adds 1/2 per in-plane direction (2 of them), noise adds noise^2 in each of D.
  let trace = 0;
  for (let d = 0; d < D; d++) trace += cov[d * D + d]!;
  assert.ok(Math.abs(trace - (1 + D * noise * noise)) < 0.03, `trace ${trace}`);
  // Removing the noise leaves a rank-2 matrix whose non-zero eigenvalues are both 1/2: so
  // (C - noise^2 I)^2 = (C - noise^2 I) / 2, entry by entry up to sampling error.
  const signal = cov.map((v, k) => v - (k % (D + 1) === 0 ? noise * noise : 0));
  for (let a = 0; a < D; a++)
    for (let b = 0; b < D; b++) {
      let sq = 0;
      for (let c = 0; c < D; c++) sq += signal[a * D + c]! * signal[c * D + b]!;
      assert.ok(Math.abs(sq - signal[a * D + b]! / 2) < 0.02, `(${a},${b}): ${sq} vs ${signal[a * D + b]! / 2}`);
    }
});

test('synthetic ring: needs a plane', () => {
  expectUserError(() => generateSynthetic(ringParams({ dim: undefined })), /data\.dim.*required/, { field: 'data.dim' });
  expectUserError(() => generateSynthetic(ringParams({ dim: 1 })), /at least 2/, { field: 'data.dim' });
});

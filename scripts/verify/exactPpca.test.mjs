// node --test scripts/verify/
// The closed forms behind docs/verification.md's linear-model rows, checked against an independent
// computation: the ELBO of a linear VAE written out direction by direction in the data's eigenbasis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedVarianceLogLikelihood, fixedVarianceRDec, sampleCovariance, symmetricEigenvalues } from './exactPpca.mjs';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * ELBO and R_dec of a linear VAE whose decoder weight along eigen-direction j is w_j (zero beyond
 * the q latents), noise variance s2, and the exact (diagonal) posterior as encoder:
 * mean w x / (w^2 + s2), variance s2 / (w^2 + s2).
 */
function linearVaeInEigenbasis(eig, q, s2, w) {
  let elbo = 0;
  let sqErr = 0;
  eig.forEach((l, j) => {
    const wj = j < q ? w[j] : 0;
    const m = wj * wj + s2;
    const meanSq = (wj * wj * l) / (m * m); // E[nu^2]
    const v = s2 / m; // posterior variance
    const err = j < q ? l - (2 * wj * wj * l) / m + wj * wj * (meanSq + v) : l;
    const kl = j < q ? 0.5 * (meanSq + v - 1 - Math.log(v)) : 0;
    elbo += -0.5 * (LOG_2PI + Math.log(s2)) - err / (2 * s2) - kl;
    sqErr += err;
  });
  return { elbo, rDec: (eig.length / 2) * (1 - sqErr / eig.length / s2) };
}

test('fixed noise variance: the closed form equals the linear VAE at its optimum W', () => {
  const eig = [4, 2.5, 0.9, 0.3, 0.2, 0.1];
  for (const s2 of [1, 0.5, 0.2]) {
    const q = 2;
    const w = eig.slice(0, q).map((l) => Math.sqrt(Math.max(l - s2, 0)));
    const vae = linearVaeInEigenbasis(eig, q, s2, w);
    assert.ok(Math.abs(vae.elbo - fixedVarianceLogLikelihood(eig, q, s2)) < 1e-12, `s2=${s2}: ${vae.elbo}`);
    assert.ok(Math.abs(vae.rDec - fixedVarianceRDec(eig, q, s2)) < 1e-12, `s2=${s2}: ${vae.rDec}`);
    // Any other W does worse.
    for (const f of [0.8, 1.2]) assert.ok(linearVaeInEigenbasis(eig, q, s2, w.map((x) => x * f)).elbo < vae.elbo);
  }
});

test('at the maximum-likelihood noise variance the fixed-variance form is the pPCA maximum and R_dec = 0', () => {
  const eig = [5, 2, 0.3, 0.25, 0.2];
  const s2 = (0.3 + 0.25 + 0.2) / 3;
  const ml = -0.5 * (5 * LOG_2PI + Math.log(5) + Math.log(2) + 3 * Math.log(s2) + 5);
  assert.ok(Math.abs(fixedVarianceLogLikelihood(eig, 2, s2) - ml) < 1e-12);
  assert.ok(Math.abs(fixedVarianceRDec(eig, 2, s2)) < 1e-12);
  for (const f of [0.9, 1.1]) assert.ok(fixedVarianceLogLikelihood(eig, 2, s2 * f) < ml);
});

test('eigenvalues of a sample covariance', () => {
  // Points (±1, ±1) scaled: covariance diag(a^2, b^2) rotated by 45 degrees.
  const r = Math.SQRT1_2;
  const pts = [[3, 1], [-3, 1], [3, -1], [-3, -1]].map(([a, b]) => [r * a - r * b, r * a + r * b]);
  const eig = symmetricEigenvalues(sampleCovariance(Float32Array.from(pts.flat()), 4, 2));
  assert.ok(Math.abs(eig[0] - 9) < 1e-5 && Math.abs(eig[1] - 1) < 1e-5, String(eig));
});

/**
 * The mean-field gap (core/evidence.ts): the closed form on hand-made precisions, and the trainer's
 * finite-difference Jacobians against the exact value of linear decoders, where
 * Λ = diag(1/a^2) + Wᵀ W / s^2 for every point and a rotation to orthogonal columns removes the gap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanFieldGap } from '../../src/core/evidence';
import { Rng } from '../../src/core/random';
import { DEFAULT_DIAGNOSTIC_SUBSET, parseSpec } from '../../src/core/spec';
import { SPEC_SCHEMA } from '../../src/core/specSchema';
import { generateSynthetic } from '../../src/data/synthetic';
import { chooseEngine, type Tf } from '../../src/train/backend';
import { gatherStatistics } from '../../src/train/diagnostics';
import { localPrecision, meanFieldEvidence, meanFieldPoints } from '../../src/train/evidence';
import { Vae } from '../../src/train/model';

test('mean-field gap: 1/2 log(ac / (ac - b^2)) for a 2x2 precision, zero for a diagonal one, averaged over points', () => {
  const [a, b, c] = [3, 1.2, 2];
  const expected = 0.5 * Math.log((a * c) / (a * c - b * b));
  assert.ok(Math.abs(meanFieldGap([a, b, b, c], 1, 2) - expected) < 1e-12);
  assert.equal(meanFieldGap([5, 0, 0, 0.5], 1, 2), 0);
  // Two points: the mean of their gaps.
  assert.ok(Math.abs(meanFieldGap([a, b, b, c, 5, 0, 0, 0.5], 2, 2) - expected / 2) < 1e-12);
});

test('mean-field gap of random SPD matrices: 1/2 (sum log diag - log det), the determinant by cofactors', () => {
  const rng = new Rng(4);
  for (let trial = 0; trial < 200; trial++) {
    const g = Array.from({ length: 9 }, () => rng.normal());
    // Λ = I + Gᵀ G, 3x3.
    const m = Array.from({ length: 9 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      let s = i === j ? 1 : 0;
      for (let r = 0; r < 3; r++) s += g[r * 3 + i]! * g[r * 3 + j]!;
      return s;
    });
    const det = m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
    const expected = 0.5 * (Math.log(m[0]!) + Math.log(m[4]!) + Math.log(m[8]!) - Math.log(det));
    const got = meanFieldGap(m, 1, 3);
    assert.ok(got >= 0 && Math.abs(got - expected) < 1e-9 * Math.max(1, expected), `trial ${trial}: ${got} vs ${expected}`);
  }
});

function linearVae(tf: Tf, type: 'VAE-1' | 'VAE-2', D: number, H: number): Vae {
  const text = `{ "data": { "synthetic": "ppca", "dim": ${D}, "intrinsicDim": ${H} }, "model": { "type": "${type}", "latentDim": ${H}, "encoder": { "hidden": [] }, "decoder": { "hidden": [] } } }`;
  return new Vae(tf, parseSpec(text, 't.vae.json').spec.model, D, 3, 0.3);
}

/** A model of `model` (the spec's JSON) on `dim`-dimensional data, disposed after `fn`. */
async function withModel(model: string, dim: number, fn: (tf: Tf, vae: Vae) => void): Promise<void> {
  const { tf } = await chooseEngine('wasm');
  const vae = new Vae(tf, parseSpec(`{ "data": { "synthetic": "spiral3d" }, "model": ${model} }`, 't.vae.json').spec.model, dim, 5, 0.3);
  try {
    fn(tf, vae);
  } finally {
    vae.dispose();
  }
}

/** The exact gap of a linear decoder W (H x D, row-major as the layer stores it), under variances s^2 and a_h^2. */
const exactGap = (w: Float32Array, D: number, H: number, s2: number, a2: number[]): number => exactGapOfLogs(w, D, H, Math.log(s2), a2.map(Math.log));

test('the trainer reads the exact gap of a linear decoder, and none once its columns are orthogonal', async () => {
  const { tf } = await chooseEngine('wasm');
  const [D, H, n] = [7, 3, 200];
  const rng = new Rng(9);
  const data = Float32Array.from({ length: n * D }, () => rng.normal());
  for (const type of ['VAE-1', 'VAE-2'] as const) {
    const vae = linearVae(tf, type, D, H);
    try {
      const layer = vae.params.decoderLayers.at(-1)!;
      const w = Float32Array.from({ length: H * D }, () => rng.normal());
      layer.w!.assign(tf.tensor2d(w, [H, D]));
      vae.params.logS2!.assign(tf.tensor1d([Math.log(0.2)]));
      const a2 = type === 'VAE-2' ? [0.5, 1, 2] : [1, 1, 1];
      if (vae.params.logA2) vae.params.logA2.assign(tf.tensor1d(a2.map(Math.log)));
      const got = meanFieldEvidence(tf, vae, data, n)!;
      assert.equal(got.meanFieldPoints, Math.min(n, 128));
      assert.equal(got.decoderLinear, true);
      const expected = exactGap(w, D, H, 0.2, a2);
      assert.ok(expected > 0.05, `a random W correlates the posterior (${expected})`);
      assert.ok(Math.abs(got.meanFieldGap - expected) < 2e-3 * expected, `${type}: ${got.meanFieldGap} vs exact ${expected}`);

      // Orthogonal rows of the [H, D] weight (columns of W = ∂mu/∂z) with distinct lengths: no correlation left.
      const q = new Float32Array(H * D);
      for (let h = 0; h < H; h++) q[h * D + h] = 1 + h;
      layer.w!.assign(tf.tensor2d(q, [H, D]));
      assert.ok(meanFieldEvidence(tf, vae, data, n)!.meanFieldGap < 1e-5, `${type}: orthogonal columns leave no gap`);
    } finally {
      vae.dispose();
    }
  }
});

/**
 * The exact gap of a linear decoder from log s^2 and log a^2: of e^c Λ = e^(c - log s^2) W Wᵀ + diag(e^(c - log a^2)),
 * the same gap as Λ's, with c the least of the log-variances so that no exponent is positive.
 */
function exactGapOfLogs(w: Float32Array, D: number, H: number, logS2: number, logA2: number[]): number {
  const c = Math.min(logS2, ...logA2);
  const lambda = new Float64Array(H * H);
  for (let i = 0; i < H; i++)
    for (let j = 0; j < H; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += w[i * D + d]! * w[j * D + d]!;
      lambda[i * H + j] = s * Math.exp(c - logS2) + (i === j ? Math.exp(c - logA2[i]!) : 0);
    }
  return meanFieldGap(lambda, 1, H);
}

test('the gap of a linear decoder under decoder and prior variances float32 and float64 cannot exponentiate', async () => {
  const { tf } = await chooseEngine('wasm');
  const [D, H, n] = [7, 3, 40];
  const rng = new Rng(12);
  const data = Float32Array.from({ length: n * D }, () => rng.normal());
  const w = Float32Array.from({ length: H * D }, () => rng.normal());
  for (const type of ['VAE-1', 'VAE-2'] as const)
    for (const logS2 of [-1e4, -800, -100, -30, 0, 30, 100, 800, 1e4]) {
      const vae = linearVae(tf, type, D, H);
      try {
        vae.params.decoderLayers.at(-1)!.w!.assign(tf.tensor2d(w, [H, D]));
        vae.params.logS2!.assign(tf.tensor1d([logS2]));
        // VAE-2: a prior as extreme as the decoder variance, a little apart per latent.
        const logA2 = type === 'VAE-2' ? [logS2 - 1, logS2, logS2 + 2] : [0, 0, 0];
        if (vae.params.logA2) vae.params.logA2.assign(tf.tensor1d(logA2));
        const got = meanFieldEvidence(tf, vae, data, n);
        const expected = exactGapOfLogs(w, D, H, logS2, logA2);
        const show = `${type}, log s^2 ${logS2}: ${got?.meanFieldGap} vs exact ${expected}`;
        assert.ok(got !== undefined, show);
        assert.ok(Math.abs(got.meanFieldGap - expected) < 2e-3 * Math.max(expected, 1e-3), show);
        assert.equal(got.decoderLinear, true, show);
      } finally {
        vae.dispose();
      }
    }
});

test("a point's precision four entries at a time is, to the bit, each entry summed on its own", () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 300; trial++) {
    const H = 1 + (trial % 23);
    const D = 1 + Math.floor(rng.uniform() * 60);
    // Magnitudes that differ by orders, so a sum taken in another order would round differently.
    const draw = () => Float64Array.from({ length: H * D }, () => rng.normal() * 10 ** Math.floor(rng.uniform() * 8 - 4));
    const [weighted, jacobian] = [draw(), draw()];
    const a2 = Array.from({ length: H }, () => 0.1 + rng.uniform());
    const got = new Float64Array(H * H);
    localPrecision(weighted, jacobian, H, D, a2, got);
    for (let i = 0; i < H; i++)
      for (let j = 0; j < H; j++) {
        const [r, c] = j <= i ? [i, j] : [j, i];
        let s = 0;
        for (let d = 0; d < D; d++) s += weighted[r * D + d]! * jacobian[c * D + d]!;
        const want = s + (i === j ? 1 / a2[i]! : 0);
        assert.ok(Object.is(got[i * H + j], want), `H ${H}, D ${D}, entry (${i}, ${j}): ${got[i * H + j]} vs ${want}`);
      }
  }
});

test('the points the gap reads: 128 at most, 2048 decoder rows at most, 16 at least', () => {
  assert.equal(meanFieldPoints(3000, 3), 128);
  assert.equal(meanFieldPoints(60, 3), 60);
  assert.equal(meanFieldPoints(4096, 20), 51);
  assert.equal(meanFieldPoints(4096, 200), 16);
  assert.equal(meanFieldPoints(10, 200), 10);
});

test("the gap's work stays bounded for every latentDim a spec may give; beyond its bound it is not computed", async () => {
  const { maximum } = SPEC_SCHEMA.properties!.model!.properties!.latentDim!;
  for (let H = 1; H <= maximum!; H++) {
    const P = meanFieldPoints(DEFAULT_DIAGNOSTIC_SUBSET, H);
    // Cholesky of P precisions of H x H, and their float64 storage.
    assert.ok((P * H ** 3) / 6 <= 1e8 && P * H * H * 8 <= 64 * 2 ** 20, `latentDim ${H}: ${P} points`);
  }
  await withModel('{ "latentDim": 4096, "encoder": { "hidden": [] }, "decoder": { "hidden": [] } }', 2, (tf, vae) => {
    const t0 = performance.now();
    assert.equal(meanFieldEvidence(tf, vae, new Float32Array(40 * 2), 40), undefined);
    assert.ok(performance.now() - t0 < 2000);
  });
});

test('a linear mean with a variance that varies with z (VAE-3) is not a linear Gaussian decoder', () =>
  withModel('{ "type": "VAE-3", "latentDim": 2, "encoder": { "hidden": [] }, "decoder": { "hidden": [] } }', 5, (tf, vae) => {
    const rng = new Rng(6);
    const data = Float32Array.from({ length: 40 * 5 }, () => rng.normal());
    // The variance head starts flat (one variance for every z): then the decoder is linear Gaussian.
    assert.equal(meanFieldEvidence(tf, vae, data, 40)!.decoderLinear, true);
    const head = vae.params.decoderLogVar!;
    head.w!.assign(
      tf.tensor2d(
        Float32Array.from({ length: 2 * 5 }, () => 0.5 * rng.normal()),
        [2, 5],
      ),
    );
    assert.equal(meanFieldEvidence(tf, vae, data, 40)!.decoderLinear, false);
  }));

test('one latent has nothing to correlate with: a gap of zero, and weights that diverged give none', () =>
  withModel('{ "type": "VAE-1", "latentDim": 1, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } }', 3, (tf, vae) => {
    const data = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
    assert.equal(meanFieldEvidence(tf, vae, data, 10)?.meanFieldGap, 0);
    const out = vae.params.decoderLayers.at(-1)!;
    out.w!.assign(tf.fill(out.w!.shape, NaN));
    assert.equal(meanFieldEvidence(tf, vae, data, 10), undefined);
  }));

test('a nonlinear decoder is not taken for a linear one, and its gap is the mean over points', () =>
  withModel('{ "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [16], "activation": "tanh" } }', 3, (tf, vae) => {
    const rng = new Rng(2);
    const data = Float32Array.from({ length: 60 * 3 }, () => rng.normal());
    const all = meanFieldEvidence(tf, vae, data, 60)!;
    assert.equal(all.decoderLinear, false);
    assert.ok(all.meanFieldGap > 0 && Number.isFinite(all.meanFieldGap));
    // Point by point: the mean of one-point gaps (each from the front of its own slice).
    let sum = 0;
    for (let p = 0; p < 60; p++) sum += meanFieldEvidence(tf, vae, data.subarray(p * 3), 1)!.meanFieldGap;
    assert.ok(Math.abs(sum / 60 - all.meanFieldGap) < 1e-9 * Math.max(1, all.meanFieldGap));
  }));

test('a linear decoder far from the origin (raw pixels, offsets, large latent means, tiny scales) is read as linear, with its exact gap', async () => {
  const { tf } = await chooseEngine('wasm');
  const [D, H, n] = [20, 3, 50];
  let cases = 0;
  for (const outOffset of [0, 255, 1e4])
    for (const latentOffset of [0, 1e3, 1e5])
      for (const spread of [1e-6, 1, 100]) {
        const rng = new Rng(9);
        const data = Float32Array.from({ length: n * D }, () => outOffset + spread * rng.normal());
        const vae = linearVae(tf, 'VAE-1', D, H);
        try {
          const layer = vae.params.decoderLayers.at(-1)!;
          const w = Float32Array.from({ length: H * D }, () => spread * rng.normal());
          layer.w!.assign(tf.tensor2d(w, [H, D]));
          layer.b!.assign(tf.fill([D], outOffset));
          vae.params.encoderMean.b.assign(tf.fill([H], latentOffset));
          const s2 = 0.2 * spread * spread;
          vae.params.logS2!.assign(tf.tensor1d([Math.log(s2)]));
          const got = meanFieldEvidence(tf, vae, data, n)!;
          const expected = exactGap(w, D, H, s2, [1, 1, 1]);
          const label = `outputs ${outOffset} + ${spread} z, latent means ${latentOffset}`;
          assert.equal(got.decoderLinear, true, `${label}: read as nonlinear`);
          // The outputs' own float32 rounding (an ulp of 1e4 against a slope of 1) bounds what a difference can see.
          const outputs = outOffset + spread * (1 + H * latentOffset);
          const tolerance = 2e-3 + (2 ** -23 * outputs) / (spread * 1e-2);
          assert.ok(Math.abs(got.meanFieldGap - expected) <= tolerance * expected, `${label}: ${got.meanFieldGap} vs exact ${expected}`);
          cases++;
        } finally {
          vae.dispose();
        }
      }
  assert.equal(cases, 27);
});

test("the gap read off the pass's encoder means is, to the bit, the gap that encodes its points itself", async () => {
  const { tf } = await chooseEngine('wasm');
  const data = generateSynthetic({ synthetic: 'manifold', n: 300, noise: 0.1, seed: 8, dim: 31, intrinsicDim: 2 });
  for (const model of [
    '{ "type": "VAE-1", "latentDim": 3, "encoder": { "hidden": [24] }, "decoder": { "hidden": [24] } }',
    '{ "type": "VAE-1", "latentDim": 4, "decoderVariance": "per-dimension", "encoder": { "hidden": [16] }, "decoder": { "hidden": [16, 8] } }',
    '{ "type": "VAE-3", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }',
  ]) {
    const spec = parseSpec(`{ "data": { "synthetic": "spiral3d", "n": 300 }, "model": ${model} }`, 't.vae.json').spec;
    const vae = new Vae(tf, spec.model, data.dim, 4, 0.3);
    try {
      const H = spec.model.latentDim;
      const encodings = { nu: new Float32Array(data.n * H), logT2: new Float32Array(data.n * H) };
      // The pass encodes in blocks of 256 points; the gap alone encodes its 128 at once.
      gatherStatistics(tf, vae, { values: data.values, n: data.n, samples: 2, seed: 3 }, encodings);
      assert.deepEqual(meanFieldEvidence(tf, vae, data.values, data.n, encodings.nu), meanFieldEvidence(tf, vae, data.values, data.n), model);
    } finally {
      vae.dispose();
    }
  }
});

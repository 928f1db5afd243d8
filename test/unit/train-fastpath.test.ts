/**
 * The trainer's fast paths must compute what the plain formulas compute:
 * - the dense layers' hand-written backward pass (transposed products, ones·dy for the bias,
 *   no dL/dx for data) gives the gradients tfjs's own matMul/add gradients give;
 * - the diagnostics pass (x broadcast instead of repeated, decoder in blocks) gives the
 *   statistics of the straightforward computation with repeated rows and the same noise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { parseSpec, type ModelSpec } from '../../src/core/spec';
import { generateSynthetic } from '../../src/data/synthetic';
import { chooseEngine, type Tf } from '../../src/train/backend';
import { gatherStatistics } from '../../src/train/diagnostics';
import { activate } from '../../src/train/layers';
import { Vae, type Decoded, type Encoded } from '../../src/train/model';

function model(json: string): ModelSpec {
  return parseSpec(`{ "data": { "synthetic": "spiral3d", "n": 300 }, "model": ${json} }`, 't.vae.json').spec.model;
}

/** The objective with plain tf.matMul layers: tfjs's own gradients, nothing hand-arranged. */
function plainObjective(tf: Tf, vae: Vae, x: Tensor2D, eps: Tensor2D): Scalar {
  const p = vae.params;
  const dense = (h: Tensor2D, l: { w?: Tensor; b?: Tensor }) => tf.add(tf.matMul(h, l.w as Tensor2D), l.b!) as Tensor2D;
  let h = x;
  for (const l of p.encoderLayers) h = activate(tf, dense(h, l), vae.spec.encoder.activation);
  const e: Encoded = { nu: dense(h, p.encoderMean), logT2: dense(h, p.encoderLogVar) };
  let g = vae.sample(e, eps);
  const hidden = p.decoderLayers.slice(0, -1);
  for (const l of hidden) g = activate(tf, dense(g, l), vae.spec.decoder.activation);
  const d: Decoded = {
    mu: dense(g, p.decoderLayers[p.decoderLayers.length - 1]!),
    logS2: p.decoderLogVar ? dense(g, p.decoderLogVar) : (tf.reshape(p.logS2!, [1, -1]) as Tensor2D),
  };
  const kl = tf.sum(vae.klPerLatent(e, vae.priorLogVar()), 1);
  return tf.mean(tf.sub(kl, vae.logLikelihood(x, d))) as Scalar;
}

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

const GRADIENT_CASES: Record<string, { model: string; batch: number }> = {
  // Batch 8: every weight matrix is larger than its dy.
  'VAE-1, wide layers on a small batch': {
    model: '{ "type": "VAE-1", "latentDim": 3, "encoder": { "hidden": [40] }, "decoder": { "hidden": [40, 24] } }',
    batch: 8,
  },
  // Batch 200: dy is the larger one.
  'VAE-1 per-dimension, large batch, tanh': {
    model:
      '{ "type": "VAE-1", "latentDim": 4, "decoderVariance": "per-dimension", "encoder": { "hidden": [16], "activation": "tanh" }, "decoder": { "hidden": [16] } }',
    batch: 200,
  },
  // No encoder hidden layer: both heads read the data directly.
  'VAE-2, heads on the data': { model: '{ "type": "VAE-2", "latentDim": 2, "encoder": { "hidden": [] }, "decoder": { "hidden": [32] } }', batch: 64 },
  'VAE-3': { model: '{ "type": "VAE-3", "latentDim": 2, "encoder": { "hidden": [32] }, "decoder": { "hidden": [32] } }', batch: 32 },
};

for (const [label, c] of Object.entries(GRADIENT_CASES)) {
  test(`dense fast path gives tfjs's own gradients: ${label}`, async () => {
    const { tf } = await chooseEngine('wasm');
    const data = generateSynthetic({ synthetic: 'manifold', n: c.batch, noise: 0.1, seed: 2, dim: 50, intrinsicDim: 3 });
    const spec = model(c.model);
    const vae = new Vae(tf, spec, data.dim, 5, 0.4);
    try {
      const x = tf.tensor2d(data.values, [c.batch, data.dim]);
      const eps = tf.randomNormal([c.batch, spec.latentDim], 0, 1, 'float32', 3) as Tensor2D;
      const vars = vae.trainableVariables();
      const fast = tf.variableGrads(() => vae.objective(x, eps).loss, vars);
      const plain = tf.variableGrads(() => plainObjective(tf, vae, x, eps), vars);
      assert.ok(Math.abs(fast.value.dataSync()[0]! - plain.value.dataSync()[0]!) <= 1e-5 * Math.abs(plain.value.dataSync()[0]!));
      assert.deepEqual(Object.keys(fast.grads).sort(), Object.keys(plain.grads).sort());
      for (const name of Object.keys(plain.grads)) {
        const diff = maxRelativeDifference(fast.grads[name]!.dataSync() as Float32Array, plain.grads[name]!.dataSync() as Float32Array);
        assert.ok(diff <= 1e-5, `${name}: gradients differ by ${diff} of their largest entry`);
      }
      tf.dispose([x, eps, fast.value, plain.value, ...Object.values(fast.grads), ...Object.values(plain.grads)] as Tensor[]);
    } finally {
      vae.dispose();
    }
  });
}

/** The diagnostics statistics computed the plain way: every point's row repeated S times. */
function plainStatistics(tf: Tf, vae: Vae, values: Float32Array, n: number, S: number, seed: number) {
  const D = vae.dim;
  const H = vae.spec.latentDim;
  const perChunk = Math.max(1, Math.floor(16384 / S));
  const logLik: number[] = [];
  const normSqErr: number[] = [];
  const sqErrSum = new Float64Array(D);
  for (let start = 0, chunk = 0; start < n; start += perChunk, chunk++) {
    const C = Math.min(perChunk, n - start);
    tf.tidy(() => {
      const x = tf.tensor2d(values.subarray(start * D, (start + C) * D), [C, D]);
      const e = vae.encode(x);
      const rep = (t: Tensor2D) => tf.reshape(tf.tile(tf.reshape(t, [C, 1, -1]), [1, S, 1]), [C * S, -1]) as Tensor2D;
      const xr = rep(x);
      const eps = tf.randomNormal([C * S, H], 0, 1, 'float32', seed + chunk) as Tensor2D;
      const dec = vae.decode(vae.sample({ nu: rep(e.nu), logT2: rep(e.logT2) }, eps));
      logLik.push(...vae.logLikelihood(xr, dec).dataSync());
      const sq = tf.square(tf.sub(xr, dec.mu));
      tf.sum(sq, 0)
        .dataSync()
        .forEach((v, d) => (sqErrSum[d] = sqErrSum[d]! + v));
      if (vae.spec.type === 'VAE-3') normSqErr.push(...(tf.sum(tf.mul(sq, tf.exp(tf.neg(dec.logS2))), 1) as Tensor1D).dataSync());
    });
  }
  return { logLik, sqErrSum, normSqErr };
}

const DIAGNOSTIC_CASES: Record<string, { model: string; n: number; S: number }> = {
  // 600 points x 5 samples: one noise draw, decoded in two blocks.
  'VAE-1, two blocks': { model: '{ "type": "VAE-1", "latentDim": 3, "encoder": { "hidden": [24] }, "decoder": { "hidden": [24] } }', n: 600, S: 5 },
  // 100 points x 400 samples: three noise draws (40 points each), blocks of 5 points.
  'VAE-3, several draws': { model: '{ "type": "VAE-3", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }', n: 100, S: 400 },
};

for (const [label, c] of Object.entries(DIAGNOSTIC_CASES)) {
  test(`diagnostics pass matches the plain repeated-rows computation: ${label}`, async () => {
    const { tf } = await chooseEngine('wasm');
    const data = generateSynthetic({ synthetic: 'manifold', n: c.n, noise: 0.1, seed: 6, dim: 30, intrinsicDim: 2 });
    const vae = new Vae(tf, model(c.model), data.dim, 7, 0.3);
    try {
      const st = gatherStatistics(tf, vae, { values: data.values, n: c.n, samples: c.S, seed: 11 });
      const ref = plainStatistics(tf, vae, data.values, c.n, c.S, 11);
      assert.equal(st.logLikPerSample.length, ref.logLik.length);
      const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
        const diff = maxRelativeDifference(Float32Array.from(a), Float32Array.from(b));
        assert.ok(diff <= 1e-5, `${what} differs by ${diff} of its largest entry`);
      };
      close(st.logLikPerSample, ref.logLik, 'log p(x|z) per sample');
      close(st.sqErrSum, ref.sqErrSum, 'summed squared errors');
      if (st.latentVariance) close(st.latentVariance.normSqErrPerSample, ref.normSqErr, 'normalised squared errors');
    } finally {
      vae.dispose();
    }
  });
}

// Where one variance serves every point, the pass's data terms are one fused pass over its decoder
// means; each sample's log p(x|z) is then the model's own, bit for bit, not a second formula's.
for (const [label, json] of Object.entries({
  'VAE-1 scalar': '{ "type": "VAE-1", "latentDim": 3, "encoder": { "hidden": [24] }, "decoder": { "hidden": [24] } }',
  'VAE-1 per-dimension': '{ "type": "VAE-1", "latentDim": 2, "decoderVariance": "per-dimension", "encoder": { "hidden": [] }, "decoder": { "hidden": [16] } }',
})) {
  test(`the pass's log p(x|z) per sample is, to the bit, the model's own on repeated rows: ${label}`, async () => {
    const { tf } = await chooseEngine('wasm');
    // 31 dimensions: the fused pass's vector loop and its scalar tail both count.
    const data = generateSynthetic({ synthetic: 'manifold', n: 300, noise: 0.1, seed: 8, dim: 31, intrinsicDim: 2 });
    const vae = new Vae(tf, model(json), data.dim, 4, 0.3);
    try {
      const S = 3;
      const st = gatherStatistics(tf, vae, { values: data.values, n: data.n, samples: S, seed: 5 });
      const ref = plainStatistics(tf, vae, data.values, data.n, S, 5);
      assert.deepEqual(Array.from(st.logLikPerSample), ref.logLik);
    } finally {
      vae.dispose();
    }
  });
}

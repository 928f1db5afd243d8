/**
 * Weights packed once for a scope of products (src/train/packedWeights.ts, WasmKernels.withPackedWeights):
 * - a dense layer's product in a scope is, to the bit, the product outside one, on 1 and 2 threads,
 *   whichever side the threads split and for ragged sizes;
 * - in a scope the packed copy is what is read (a weight changed in place meanwhile is not seen),
 *   and the next scope packs the weights as they are then;
 * - the diagnostics pass gathers the same bits in a scope as outside one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { Rng } from '../../src/core/random';
import { parseSpec } from '../../src/core/spec';
import { generateSynthetic } from '../../src/data/synthetic';
import { chooseEngine, type Tf } from '../../src/train/backend';
import { gatherStatistics } from '../../src/train/diagnostics';
import { makeDense } from '../../src/train/layers';
import { Vae } from '../../src/train/model';
import type { WasmKernels } from '../../src/train/wasmKernels';

async function wasm(): Promise<{ tf: Tf; kernels: WasmKernels }> {
  const { tf, kernels } = await chooseEngine('wasm');
  assert.ok(kernels, 'the wasm engine has the trainer kernels');
  return { tf, kernels };
}

function uniform(tf: Tf, shape: number[], seed: number) {
  const rng = new Rng(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1),
    shape,
  );
}

// m x k x n: split along n (n >= m), along m, ragged in every dimension, deeper than one 256 slice,
// and one too wide to pack whole (more than 4096 columns: it is packed at every product as before).
const SHAPES: [number, number, number][] = [
  [64, 300, 520],
  [700, 90, 36],
  [37, 531, 803],
  [16, 40, 4100],
];

for (const threads of [1, 2]) {
  test(`a dense product in a packed-weights scope has the bits of one outside it, on ${threads} thread(s)`, async () => {
    const { tf, kernels } = await wasm();
    await kernels.setThreads(threads);
    const dense = makeDense(tf);
    try {
      for (const [m, k, n] of SHAPES) {
        const x = uniform(tf, [m, k], m) as Tensor2D;
        const w = tf.variable(uniform(tf, [k, n], k));
        const b = uniform(tf, [n], n) as Tensor1D;
        const plain = dense(x, w as Tensor2D, b, 'relu');
        const packed = kernels.withPackedWeights([w], () => [0, 1].map(() => dense(x, w as Tensor2D, b, 'relu')));
        for (const p of packed) assert.deepEqual(p.dataSync(), plain.dataSync(), `${m} x ${k} x ${n}`);
        tf.dispose([x, w, b, plain, ...packed]);
      }
    } finally {
      await kernels.setThreads(1);
    }
  });
}

test('in a scope the packed copy is read, and the next scope packs the weights anew', async () => {
  const { tf, kernels } = await wasm();
  const dense = makeDense(tf);
  const x = uniform(tf, [32, 50], 1) as Tensor2D;
  const w = tf.variable(uniform(tf, [50, 40], 2));
  const b = tf.zeros([40]) as Tensor1D;
  const before = dense(x, w as Tensor2D, b, 'linear');
  const halve = () => {
    const floats = kernels.onMemory.floats();
    const at = kernels.onMemory.address(w) / 4;
    for (let i = 0; i < w.size; i++) floats[at + i] = floats[at + i]! / 2;
  };
  const inScope = kernels.withPackedWeights([w], () => {
    tf.dispose(dense(x, w as Tensor2D, b, 'linear'));
    // Changed in place after the first product packed it: the scope still multiplies by its copy.
    halve();
    return dense(x, w as Tensor2D, b, 'linear');
  });
  assert.deepEqual(inScope.dataSync(), before.dataSync());
  const after = dense(x, w as Tensor2D, b, 'linear');
  const nextScope = kernels.withPackedWeights([w], () => dense(x, w as Tensor2D, b, 'linear'));
  assert.notDeepEqual(after.dataSync(), before.dataSync());
  assert.deepEqual(nextScope.dataSync(), after.dataSync());
  tf.dispose([x, w, b, before, inScope, after, nextScope]);
});

for (const threads of [1, 2]) {
  test(`the diagnostics pass gathers the same bits with its weights packed once, on ${threads} thread(s)`, async () => {
    const { tf, kernels } = await wasm();
    await kernels.setThreads(threads);
    const model = parseSpec(
      '{ "data": { "synthetic": "spiral3d", "n": 300 }, "model": { "type": "VAE-1", "latentDim": 4, "encoder": { "hidden": [96] }, "decoder": { "hidden": [80] } } }',
      't.vae.json',
    ).spec.model;
    const data = generateSynthetic({ synthetic: 'manifold', n: 700, noise: 0.1, seed: 3, dim: 60, intrinsicDim: 2 });
    const vae = new Vae(tf, model, data.dim, 9, 0.3);
    try {
      // Blocks of 64 rows: 700 points x 3 samples take many blocks, each with the same weights.
      const input = { values: data.values, n: data.n, samples: 3, seed: 4 };
      const plain = gatherStatistics(tf, vae, input, undefined, 64);
      const packed = kernels.withPackedWeights(vae.denseWeights(), () => gatherStatistics(tf, vae, input, undefined, 64));
      assert.deepEqual(packed, plain);
    } finally {
      vae.dispose();
      await kernels.setThreads(1);
    }
  });
}

/**
 * The hand-written step of dense VAEs (src/train/denseStep.ts) against tfjs's autodiff of
 * Vae.objective, on the same weights, batch and noise: the same loss and the same gradient for
 * every trainable variable, on models of each kind it takes (and not on those it does not), with
 * fewer rows than its buffers hold, and on two kernel threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { parseSpec } from '../../src/core/spec';
import { generateSynthetic } from '../../src/data/synthetic';
import { chooseEngine } from '../../src/train/backend';
import { DenseStep } from '../../src/train/denseStep';
import { Vae } from '../../src/train/model';

function modelOf(json: string) {
  return parseSpec(`{ "data": { "synthetic": "spiral3d", "n": 300 }, "model": ${json} }`, 't.vae.json').spec.model;
}

const CASES: Record<string, { model: string; batch: number; rows: number; dim?: number }> = {
  'VAE-1, two decoder layers, a batch smaller than the buffers': {
    model: '{ "type": "VAE-1", "latentDim": 3, "encoder": { "hidden": [40] }, "decoder": { "hidden": [40, 24] } }',
    batch: 16,
    rows: 11,
  },
  'VAE-1 per-dimension variance, linear hidden layers, hidden wider than the data': {
    model:
      '{ "type": "VAE-1", "latentDim": 4, "decoderVariance": "per-dimension", "encoder": { "hidden": [64, 16], "activation": "linear" }, "decoder": { "hidden": [64] } }',
    batch: 200,
    rows: 200,
  },
  'VAE-0: the variance is not trained': {
    model: '{ "type": "VAE-0", "latentDim": 2, "encoder": { "hidden": [32] }, "decoder": { "hidden": [32] } }',
    batch: 64,
    rows: 64,
  },
  'VAE-2, heads on the data': { model: '{ "type": "VAE-2", "latentDim": 2, "encoder": { "hidden": [] }, "decoder": { "hidden": [32] } }', batch: 64, rows: 50 },
  // 2H = 8 latent outputs against 3 data dimensions and no hidden layer: the narrowest buffers.
  'linear VAE-1, more heads than data dimensions': {
    model: '{ "type": "VAE-1", "latentDim": 4, "encoder": { "hidden": [] }, "decoder": { "hidden": [] } }',
    batch: 32,
    rows: 32,
    dim: 3,
  },
};

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

for (const threads of [1, 2]) {
  for (const [label, c] of Object.entries(CASES)) {
    test(`the hand-written step gives tfjs's loss and gradients (${threads} thread${threads > 1 ? 's' : ''}): ${label}`, async () => {
      const engine = await chooseEngine('wasm');
      const { tf } = engine;
      await engine.kernels!.setThreads(threads);
      const data = generateSynthetic({ synthetic: 'manifold', n: c.rows, noise: 0.1, seed: 2, dim: c.dim ?? 50, intrinsicDim: Math.min(3, (c.dim ?? 50) - 1) });
      const spec = modelOf(c.model);
      const vae = new Vae(tf, spec, data.dim, 5, 0.4);
      const vars = vae.trainableVariables();
      // Weights away from their start (the log-variance heads start at zero).
      tf.tidy(() => vars.forEach((v, i) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 40 + i), 0.1)))));
      const step = DenseStep.for(tf, vae, engine.kernels!.onMemory, vars, c.batch);
      assert.ok(step, 'the step takes this model');
      try {
        const x = tf.tensor2d(data.values, [c.rows, data.dim]);
        const eps = tf.randomNormal([c.rows, spec.latentDim], 0, 1, 'float32', 3) as Tensor2D;
        const ours = step.gradients(data.values, c.rows, eps.dataSync() as Float32Array);
        const theirs = tf.variableGrads(() => vae.objective(x, eps).loss, vars);
        const loss = theirs.value.dataSync()[0]!;
        assert.ok(Math.abs(ours.loss - loss) <= 1e-5 * Math.abs(loss), `loss ${ours.loss} against ${loss}`);
        assert.deepEqual(Object.keys(ours.grads).sort(), Object.keys(theirs.grads).sort());
        for (const name of Object.keys(theirs.grads)) {
          const diff = maxRelativeDifference(ours.grads[name]!.dataSync(), theirs.grads[name]!.dataSync());
          assert.ok(diff <= 2e-5, `${name}: gradients differ by ${diff} of their largest entry`);
        }
        tf.dispose([x, eps, theirs.value, ...Object.values(theirs.grads)] as Tensor[]);
      } finally {
        step.dispose();
        vae.dispose();
        await engine.kernels!.setThreads(1);
      }
    });
  }
}

test('the hand-written step declines what it does not do, and engines without the kernels', async () => {
  const engine = await chooseEngine('wasm');
  const declined = [
    '{ "type": "VAE-3", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }',
    '{ "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [16], "activation": "tanh" }, "decoder": { "hidden": [16] } }',
  ];
  for (const json of declined) {
    const vae = new Vae(engine.tf, modelOf(json), 10, 1);
    assert.equal(DenseStep.for(engine.tf, vae, engine.kernels!.onMemory, vae.trainableVariables(), 8), undefined, json);
    vae.dispose();
  }
  // Engines without the trainer's kernels (cpu, tfjs-node) have no kernels on memory to give it.
  const vae = new Vae(engine.tf, modelOf('{ "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }'), 10, 1);
  assert.equal(DenseStep.for(engine.tf, vae, undefined, vae.trainableVariables(), 8), undefined);
  assert.ok(DenseStep.for(engine.tf, vae, engine.kernels!.onMemory, vae.trainableVariables(), 8));
  vae.dispose();
});

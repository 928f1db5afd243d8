/**
 * Convolutional VAEs in the trainer: for every model type, the identity ELBO − Hsum = R_dec +
 * R_prior holds for the estimates of a conv VAE (as for the MLPs, train-identity.test.ts); the
 * model has exactly the parameters the size estimate counts; and the whole objective's
 * gradients on the wasm engine (im2col kernels, channel-bias fast path, upsampling) match
 * tfjs's cpu engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { MODEL_TYPES, type ModelType } from '../../src/core/modelTypes';
import { Rng } from '../../src/core/random';
import { parseSpec, type ModelSpec } from '../../src/core/spec';
import { chooseEngine, type Tf } from '../../src/train/backend';
import { diagnose } from '../../src/train/diagnostics';
import { Vae } from '../../src/train/model';
import { parameterCount } from '../../src/train/modelSize';

/** 8×8 single-channel "images": blurry blobs, so the networks have something to fit. */
function images(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n * 64);
  for (let i = 0; i < n; i++) {
    const cx = rng.uniform() * 8;
    const cy = rng.uniform() * 8;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) v[i * 64 + y * 8 + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 6) + 0.05 * rng.normal();
  }
  return v;
}

function convModel(type: ModelType, extra = ''): ModelSpec {
  const text = `{ "data": { "path": "x.csv", "shape": [8, 8] }, "model": { "type": "${type}", "latentDim": 3, ${extra}
    "encoder": { "layers": [ { "type": "conv2d", "filters": 4, "kernel": 3, "stride": 2 }, { "type": "conv2d", "filters": 6, "kernel": 3, "stride": 1, "padding": "valid", "activation": "gelu" } ] },
    "decoder": { "layers": [ { "type": "dense", "units": 24, "activation": "swish" }, { "type": "reshape", "shape": [2, 2, 6] },
      { "type": "upsample2d" }, { "type": "conv2dTranspose", "filters": 5, "kernel": 3, "stride": 1, "activation": "elu" },
      { "type": "conv2dTranspose", "filters": 1, "kernel": 4, "stride": 2 } ] } } }`;
  return parseSpec(text, 't.vae.json').spec.model;
}

const N = 48;
const DATA = images(N, 3);

for (const type of MODEL_TYPES) {
  test(`conv ${type}: identity ELBO − Hsum = R_dec + R_prior, and the size estimate counts its parameters`, async () => {
    const { tf } = await chooseEngine('wasm');
    const spec = convModel(type, type === 'VAE-1' ? '"decoderVariance": "per-dimension",' : '');
    const vae = new Vae(tf, spec, 64, 7, 0.3, [8, 8]);
    try {
      assert.equal(vae.namedVariables().size > 0, true);
      const count = [...vae.namedVariables().values()].reduce((a, v) => a + v.size, 0);
      assert.equal(parameterCount(spec, 64, [8, 8]), count, 'parameterCount = the variables the model made');
      const opt = tf.train.adam(0.02);
      for (let i = 0; i < 15; i++) {
        tf.tidy(() => {
          const x = tf.tensor2d(DATA.subarray(0, 32 * 64), [32, 64]);
          const eps = tf.randomNormal([32, 3], 0, 1, 'float32', i + 1) as Tensor2D;
          opt.minimize(() => vae.objective(x, eps).loss, false, vae.trainableVariables());
        });
      }
      const r = diagnose(tf, vae, { values: DATA, n: N, samples: 4, seed: 2 });
      const scale = Math.abs(r.elbo) + Math.abs(r.hEnc) + Math.abs(r.hPrior) + Math.abs(r.hDec);
      const lhs = r.elbo - r.entropySum;
      const rhs = r.rDec + r.rPrior;
      assert.ok(Number.isFinite(lhs) && Math.abs(lhs - rhs) <= 2e-6 * scale, `${type}: ELBO − Hsum = ${lhs}, R_dec + R_prior = ${rhs}`);
      assert.ok(Math.abs(r.rDec) + Math.abs(r.rPrior) > 1e-3, 'away from stationarity');
      opt.dispose();
    } finally {
      vae.dispose();
    }
  });
}

/** The loss and its gradients for every variable, as plain arrays. */
function lossAndGrads(tf: Tf, spec: ModelSpec): { loss: number; grads: Map<string, Float32Array> } {
  const vae = new Vae(tf, spec, 64, 11, 0.3, [8, 8]);
  try {
    const out = { loss: NaN, grads: new Map<string, Float32Array>() };
    tf.tidy(() => {
      const x = tf.tensor2d(DATA.subarray(0, 16 * 64), [16, 64]);
      const eps = tf.tensor2d(images(16, 9).subarray(0, 16 * 3), [16, 3]);
      const names = new Map([...vae.namedVariables()].map(([n, v]) => [v.name, n]));
      const g = tf.variableGrads(() => vae.objective(x, eps).loss, vae.trainableVariables());
      for (const [k, t] of Object.entries(g.grads)) out.grads.set(names.get(k)!, t.dataSync() as Float32Array);
      out.loss = g.value.dataSync()[0]!;
    });
    return out;
  } finally {
    vae.dispose();
  }
}

test("a conv VAE-3's loss and gradients on the wasm engine match the cpu engine's", async () => {
  const { tf } = await chooseEngine('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const spec = convModel('VAE-3');
  const wasm = lossAndGrads(tf, spec);
  await tf.setBackend('cpu');
  let cpu: ReturnType<typeof lossAndGrads>;
  try {
    cpu = lossAndGrads(tf, spec);
  } finally {
    await tf.setBackend('wasm');
  }
  assert.ok(Math.abs(wasm.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss), `loss ${wasm.loss} vs ${cpu.loss}`);
  assert.deepEqual([...wasm.grads.keys()].sort(), [...cpu.grads.keys()].sort());
  assert.ok(wasm.grads.has('dec4/w') && wasm.grads.has('dec_logvar/w'), 'the conv output layer and its VAE-3 twin are trained');
  for (const [name, g] of cpu.grads) {
    const w = wasm.grads.get(name)!;
    const scale = Math.max(1e-12, ...Array.from(g, Math.abs));
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(w[i]! - g[i]!));
    assert.ok(worst <= 1e-4 * scale, `${name}: gradients differ by ${worst} (largest ${scale})`);
  }
});

test("the trainer's ReLU has tfjs's own gradient (dy where the input is positive, else 0)", async () => {
  const { tf } = await chooseEngine('wasm');
  const { activate } = await import('../../src/train/layers');
  const x = tf.tensor1d([-2, -0.5, 0, 0.25, 3, -1e-7, 1e-7]);
  const w = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
  const ours = tf.grad((t) => tf.sum(tf.mul(activate(tf, t, 'relu'), w)))(x);
  const theirs = tf.grad((t) => tf.sum(tf.mul(tf.relu(t), w)))(x);
  assert.deepEqual(Array.from(ours.dataSync()), Array.from(theirs.dataSync()));
  assert.deepEqual(Array.from(ours.dataSync()), [0, 0, 0, 4, 5, 0, 7]);
  tf.dispose([x, w, ours, theirs]);
});

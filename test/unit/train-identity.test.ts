/**
 * The decomposition ELBO - Hsum = R_dec + R_prior must hold for the trainer's own estimates,
 * for every model variant, at arbitrary (here: freshly initialised and briefly trained) parameters.
 * The ELBO comes from the per-sample log-likelihoods and KLs the model computes; the right-hand
 * side from separately gathered squared errors, second moments and log-variances.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpec, type VaeSpec } from '../../src/core/spec';
import { generateSynthetic } from '../../src/data/synthetic';
import { chooseEngine } from '../../src/train/backend';
import { decomposeStatistics, diagnose, gatherStatistics } from '../../src/train/diagnostics';
import { elboOfFirstPoints } from '../../src/core/entropy';
import { Vae } from '../../src/train/model';

function specFor(model: string): VaeSpec {
  return parseSpec(`{ "data": { "synthetic": "spiral3d", "n": 300 }, "model": ${model}, "diagnostics": { "mcSamples": 5 } }`, 't.vae.json').spec;
}

const VARIANTS: Record<string, string> = {
  'VAE-0': '{ "type": "VAE-0", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }',
  'VAE-1 scalar':
    '{ "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16], "activation": "tanh" }, "initialVariance": 0.3 }',
  'VAE-1 per-dimension': '{ "type": "VAE-1", "latentDim": 3, "decoderVariance": "per-dimension", "encoder": { "hidden": [] }, "decoder": { "hidden": [8] } }',
  'VAE-2': '{ "type": "VAE-2", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }',
  'VAE-3': '{ "type": "VAE-3", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } }',
};

for (const [label, model] of Object.entries(VARIANTS)) {
  test(`identity ELBO - Hsum = R_dec + R_prior holds for the estimates: ${label}`, async () => {
    const { tf } = await chooseEngine('wasm');
    const spec = specFor(model);
    const data = generateSynthetic({ synthetic: 'spiral3d', n: 300, noise: 0.1, seed: 4 });
    const vae = new Vae(tf, spec.model, data.dim, 11, spec.model.initialVariance ?? 0.5);
    try {
      // Move away from the initial point so R_prior and R_dec are both far from zero.
      const opt = tf.train.adam(0.02);
      for (let i = 0; i < 20; i++) {
        const x = tf.tensor2d(data.values.subarray(0, 100 * data.dim), [100, data.dim]);
        const eps = tf.randomNormal([100, spec.model.latentDim], 0, 1, 'float32', i);
        opt.minimize(() => vae.objective(x, eps as never).loss, false, vae.trainableVariables());
        tf.dispose([x, eps]);
      }
      const r = diagnose(tf, vae, { values: data.values, n: data.n, samples: 5, seed: 1 });
      const lhs = r.elbo - r.entropySum;
      const rhs = r.rDec + r.rPrior;
      // float32 per-sample terms summed in float64: agreement to ~1e-6 of the terms' size.
      const scale = Math.abs(r.elbo) + Math.abs(r.hEnc) + Math.abs(r.hPrior) + Math.abs(r.hDec);
      assert.ok(Math.abs(lhs - rhs) <= 2e-6 * scale, `${label}: ELBO - Hsum = ${lhs}, R_dec + R_prior = ${rhs}`);
      assert.ok(Math.abs(r.rDec) + Math.abs(r.rPrior) > 1e-3, 'the test point should be away from stationarity');
      assert.equal(r.latentSecondMoment.length, spec.model.latentDim);
      if (label === 'VAE-3') assert.equal(r.elboAtOptVariance, null);
      else assert.ok(r.elboAtOptVariance! >= r.elbo - 1e-9);
      opt.dispose();
    } finally {
      vae.dispose();
    }
  });
}

test('the ELBO estimate agrees with a direct single-pass computation by the model', async () => {
  const { tf } = await chooseEngine('wasm');
  const spec = specFor(VARIANTS['VAE-1 scalar']!);
  const data = generateSynthetic({ synthetic: 'spiral3d', n: 200, noise: 0.1, seed: 5 });
  const vae = new Vae(tf, spec.model, data.dim, 3, 0.3);
  try {
    const S = 400;
    const st = gatherStatistics(tf, vae, { values: data.values, n: data.n, samples: S, seed: 9 });
    const d = diagnose(tf, vae, { values: data.values, n: data.n, samples: S, seed: 9 });
    // With the same seed, the statistics and the decomposition describe the same samples.
    const direct = st.logLikPerSample.reduce((a, b) => a + b, 0) / (data.n * S) - st.klPerPoint.reduce((a, b) => a + b, 0) / data.n;
    assert.ok(Math.abs(direct - d.elbo) < 1e-9);
    // The training objective (one sample) is an unbiased estimate of the same ELBO.
    const x = tf.tensor2d(data.values, [data.n, data.dim]);
    let sum = 0;
    const reps = 50;
    for (let i = 0; i < reps; i++) {
      const eps = tf.randomNormal([data.n, 2], 0, 1, 'float32', 100 + i);
      sum += -vae.objective(x, eps as never).loss.dataSync()[0]!;
      eps.dispose();
    }
    x.dispose();
    const se = d.elboStdErr * Math.sqrt(S / reps) * 4 + 1e-3;
    assert.ok(Math.abs(sum / reps - d.elbo) < se, `objective ${sum / reps} vs diagnostics ${d.elbo} (allowed ${se})`);
  } finally {
    vae.dispose();
  }
});

test('a pass over the first points is, to the bit, the front of a pass over all of them (the averaged ELBO reads it there)', async () => {
  const { tf } = await chooseEngine('wasm');
  const data = generateSynthetic({ synthetic: 'spiral3d', n: 1500, noise: 0.1, seed: 6 });
  for (const model of [VARIANTS['VAE-1 scalar']!, VARIANTS['VAE-3']!]) {
    const spec = specFor(model);
    const vae = new Vae(tf, spec.model, data.dim, 5, 0.3);
    try {
      // 2 samples: one noise draw covers every point; 40: draws of 409 points, so the front crosses draws and blocks.
      for (const [samples, first] of [
        [2, 1024],
        [40, 1024],
        [3, 7],
      ] as const) {
        const all = gatherStatistics(tf, vae, { values: data.values, n: data.n, samples, seed: 21 });
        const front = diagnose(tf, vae, { values: data.values.subarray(0, first * data.dim), n: first, samples, seed: 21 });
        assert.equal(elboOfFirstPoints(all, first), front.elbo, `${samples} samples, the first ${first} of ${data.n} points`);
        assert.equal(elboOfFirstPoints(all, data.n), decomposeStatistics(vae, all).elbo);
      }
    } finally {
      vae.dispose();
    }
  }
});

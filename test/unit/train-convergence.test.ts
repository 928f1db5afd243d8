/**
 * Training to convergence on the shipped examples, checked against what the theory says:
 *  - a linear VAE on pPCA data reaches the exact pPCA log-likelihood (computed here from the data's
 *    sample covariance), and its entropy sum does too;
 *  - VAE-1 on the swiss roll closes the gap (gapRel below 1%); with its constant step the verdict
 *    says the step's noise holds the ELBO (noise-limited), with what averaging would gain;
 *  - runs made to be in the other settled states: converged (the pPCA example), collapsed (more
 *    latents than the data's rank), stationary (VAE-0).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ppcaLogLikelihood } from '../../src/core/entropy';
import type { MetricsRecord } from '../../src/core/runFormat';
import { parseSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { chooseEngine } from '../../src/train/backend';
import { TrainingLoop } from '../../src/train/loop';
import { finiteRecord } from './record-testkit';

const examples = path.join(__dirname, '..', '..', '..', 'examples');

async function trainExample(rel: string): Promise<{ records: MetricsRecord[]; values: Float32Array; n: number; dim: number }> {
  const specPath = path.join(examples, rel);
  return trainSpec(fs.readFileSync(specPath, 'utf8'), specPath);
}

async function trainSpec(text: string, specPath: string): Promise<{ records: MetricsRecord[]; values: Float32Array; n: number; dim: number }> {
  const { spec } = parseSpec(text, specPath);
  const engine = await chooseEngine('wasm');
  const data = await loadData(spec.data, specPath);
  const records: MetricsRecord[] = [];
  const loop = new TrainingLoop({
    spec,
    engine,
    train: data.train,
    epochs: spec.training.epochs,
    shouldStop: () => false,
    events: { progress: () => {}, diagnostics: (r) => records.push(r), log: () => {} },
  });
  try {
    const outcome = await loop.run();
    assert.equal(outcome.status, 'completed');
  } finally {
    loop.dispose();
  }
  return { records, values: data.train.values, n: data.train.n, dim: data.train.dim };
}

/** Eigenvalues of a symmetric matrix (cyclic Jacobi), descending. */
function symmetricEigenvalues(a: number[][]): number[] {
  const n = a.length;
  const m = a.map((r) => [...r]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p]![q]!) < 1e-300) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const kp = m[k]![p]!,
            kq = m[k]![q]!;
          m[k]![p] = c * kp - s * kq;
          m[k]![q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = m[p]![k]!,
            qk = m[q]![k]!;
          m[p]![k] = c * pk - s * qk;
          m[q]![k] = s * pk + c * qk;
        }
      }
  }
  return m.map((r, i) => r[i]!).sort((x, y) => y - x);
}

/** Maximum-likelihood covariance (1/N) of row-major data. */
function sampleCovariance(values: Float32Array, n: number, dim: number): number[][] {
  const mean = new Array<number>(dim).fill(0);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += values[i * dim + d]! / n;
  const c = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  for (let i = 0; i < n; i++)
    for (let a = 0; a < dim; a++) {
      const xa = values[i * dim + a]! - mean[a]!;
      for (let b = 0; b < dim; b++) c[a]![b] += (xa * (values[i * dim + b]! - mean[b]!)) / n;
    }
  return c;
}

test('Jacobi eigenvalues are right on a matrix with known spectrum', () => {
  // Q diag(5, 2, 1) Q^T with a rotation Q.
  const c = Math.cos(0.7),
    s = Math.sin(0.7);
  const q = [
    [c, -s, 0],
    [s, c, 0],
    [0, 0, 1],
  ];
  const l = [5, 2, 1];
  const a = q.map((_, i) => q.map((__, j) => q[i]!.reduce((acc, _x, k) => acc + q[i]![k]! * l[k]! * q[j]![k]!, 0)));
  symmetricEigenvalues(a).forEach((v, i) => assert.ok(Math.abs(v - l[i]!) < 1e-9));
});

test('linear VAE on pPCA data: final ELBO and entropy sum within 1% of the exact log-likelihood', async () => {
  const { records, values, n, dim } = await trainExample('ppca-linear/ppca-linear.vae.json');
  const exact = ppcaLogLikelihood(symmetricEigenvalues(sampleCovariance(values, n, dim)), 2);
  const last = finiteRecord(records[records.length - 1]!);
  const relElbo = Math.abs(last.elbo - exact) / Math.abs(exact);
  const relSum = Math.abs(last.entropySum - exact) / Math.abs(exact);
  console.log(
    `pPCA: exact ${exact.toFixed(4)}, ELBO ${last.elbo.toFixed(4)} (${(relElbo * 100).toFixed(2)}%), entropy sum ${last.entropySum.toFixed(4)} (${(relSum * 100).toFixed(2)}%)`,
  );
  assert.ok(relElbo < 0.01, `ELBO ${last.elbo} vs exact ${exact}`);
  assert.ok(relSum < 0.01, `entropy sum ${last.entropySum} vs exact ${exact}`);
  // The ELBO is a lower bound on the log-likelihood, up to Monte-Carlo error.
  assert.ok(last.elbo <= exact + 4 * last.elboStdErr + 1e-3);
  // A cosine step that settles into the optimum, every latent in use: converged.
  assert.equal(last.convergence, 'converged', last.convergenceReason);
  assert.equal(last.activeUnits, 2);
});

// Small linear models made to be in a state, on pPCA data of rank 2 in 6 dimensions.
const smallLinear = (model: string) => `{ "name": "small",
  "data": { "synthetic": "ppca", "dim": 6, "intrinsicDim": 2, "n": 1500, "noise": 0.3, "seed": 5 },
  "model": { ${model}, "encoder": { "hidden": [] }, "decoder": { "hidden": [] } },
  "training": { "epochs": 150, "batchSize": 128, "learningRate": 0.01, "schedule": "cosine", "seed": 0 },
  "diagnostics": { "every": 2, "mcSamples": 4 } }`;

test('a linear VAE with more latents than the data have: converged with the extra latents collapsed', async () => {
  // The variance held at its optimum: with it learned by Adam the collapsing latents' second moments
  // take far longer to reach the prior's, and the verdict rightly says "not converged" meanwhile.
  const { records } = await trainSpec(smallLinear('"type": "VAE-1", "latentDim": 4, "varianceUpdate": "optimal"'), path.join(examples, 'small.vae.json'));
  const last = finiteRecord(records[records.length - 1]!);
  console.log(`collapse: ${last.convergence}: ${last.convergenceReason}`);
  assert.equal(last.convergence, 'collapsed', last.convergenceReason);
  assert.ok(last.activeUnits! < 4, `active units ${last.activeUnits}`);
  assert.match(last.convergenceReason ?? '', /^At a stationary point with [12] of 4 latents inactive\./);
});

test('a linear VAE-0: stationary, with the gap left open by the fixed variance', async () => {
  const { records } = await trainSpec(smallLinear('"type": "VAE-0", "latentDim": 2, "initialVariance": 1'), path.join(examples, 'small.vae.json'));
  const last = finiteRecord(records[records.length - 1]!);
  assert.equal(last.convergence, 'stationary', last.convergenceReason);
  assert.ok(last.gapRel > 0.05, `gapRel ${last.gapRel}`);
  assert.match(last.convergenceReason ?? '', /fixed decoder variance \(VAE-0\)/);
});

test('a flat ELBO whose decoder variance lags its optimum: not converged, and the reason names the variance', async () => {
  // A cosine step brought to 1 % of its start: the ELBO is flat, but the decoder's mean still sharpens
  // and the variance, moved by the same small step, lags behind it. The benchmark's 600-epoch version of
  // this run ends 10-18 % below what 1800 epochs reach (docs/verification.md §7, swiss-roll-cosine).
  const { records } = await trainSpec(
    `{ "name": "lagging-variance",
      "data": { "synthetic": "swiss_roll", "n": 2000, "noise": 0.05, "seed": 1 },
      "model": { "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [64, 64], "activation": "relu" }, "decoder": { "hidden": [64, 64], "activation": "relu" } },
      "training": { "epochs": 250, "batchSize": 128, "learningRate": 0.001, "schedule": "cosine", "seed": 0 },
      "diagnostics": { "every": 5, "mcSamples": 4 } }`,
    path.join(examples, 'lagging-variance.vae.json'),
  );
  const last = finiteRecord(records[records.length - 1]!);
  assert.equal(last.convergence, 'not-converged', last.convergenceReason);
  assert.match(last.convergenceReason ?? '', /^The gap is open: the decoder variance is off its optimum, though the ELBO is flat\./);
  const moved = Number(/The ELBO moved ([-+][\d.e-]+) over the last 10 passes/.exec(last.convergenceReason ?? '')?.[1]);
  const matters = Number(/a change of ([\d.e-]+) matters/.exec(last.convergenceReason ?? '')?.[1]);
  assert.ok(Math.abs(moved) < matters / 2, `the ELBO moved ${moved}, under half of ${matters}: flat by its own test`);
  // What the residual says, seen directly: the variance is above the one the decoder's error asks for.
  assert.ok(last.sigma2! > 1.05 * last.sigma2Opt!, `s2 ${last.sigma2} against its optimum ${last.sigma2Opt}`);
  assert.ok(last.rDec > 0.05, `R_dec ${last.rDec}`);
  // The reason says so, and that the variance alone is not what is left: its cost is second order.
  const above = Number(/The decoder variance is (\d+) % above the s\*² its error asks for/.exec(last.convergenceReason ?? '')?.[1]);
  assert.equal(above, Math.round(100 * (last.sigma2! / last.sigma2Opt! - 1)));
  const alone = Number(/Setting it to s\*² alone would gain ([\d.e-]+) nats/.exec(last.convergenceReason ?? '')?.[1]);
  assert.ok(Math.abs(alone - (last.elboAtOptVariance! - last.elbo)) < 1e-3 * Math.max(1, alone), `${alone}`);
  assert.ok(alone < last.rDec / 4, `the variance's own cost ${alone} against R_dec ${last.rDec}`);
  assert.match(last.convergenceReason ?? '', /Train longer \(more epochs, so the cosine schedule ends later\)\.$/);
});

test('VAE-1 on the swiss roll closes the gap (gapRel < 1%), and its constant step is named as what holds it', async () => {
  const { records } = await trainExample('swiss-roll/swiss-roll.vae.json');
  const tail = records.slice(-5);
  const meanGapRel = tail.reduce((a, r) => a + finiteRecord(r).gapRel, 0) / tail.length;
  const last = finiteRecord(records[records.length - 1]!);
  console.log(`swiss roll: mean gapRel over the last 5 passes ${(meanGapRel * 100).toFixed(2)}%, final ${last.convergence}: ${last.convergenceReason}`);
  assert.ok(meanGapRel < 0.01, `mean gapRel ${meanGapRel}`);
  // A closed gap, but the weights averaged over the last epochs beat the current ones: a run made to
  // be noise-limited (constant Adam step 0.001). A cosine step reaches a better ELBO (the benchmark).
  assert.equal(last.convergence, 'noise-limited', last.convergenceReason);
  assert.match(last.convergenceReason ?? '', /^A smaller step would gain about \d/);
  assert.match(last.convergenceReason ?? '', /"schedule": "cosine"/);
  assert.ok(last.averagedElbo! > last.elbo, 'the averaged weights are better');
  // Early on it was improving: the verdict is not a constant.
  assert.equal(records[12]!.convergence, 'improving');
  // The evidence beside the gap is in every record: both latents of the 2-D roll are in use.
  assert.equal(last.activeUnits, 2);
  assert.ok(last.mutualInformation! > 1 && last.mutualInformation! <= Math.log(last.points!) + 1e-9, String(last.mutualInformation));
  assert.equal(last.hEncPerLatent?.length, 2);
});

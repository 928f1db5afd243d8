/**
 * The diagnostics pass fits its blocks to the engine's memory. The wasm engine's heap stops at
 * 2 GiB and never shrinks; a block of 512 decoder rows of a 100k-dimensional point took ~3 GiB
 * and the pass died with an engine error an epoch into the run. Blocks are sized by the bytes a
 * row takes, a point's samples split over several blocks when they do not fit in one, and the
 * statistics are the same however the work is blocked.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../src/core/errors';
import { planNetworks } from '../../src/core/layers';
import type { MetricsRecord } from '../../src/core/runFormat';
import { parseSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { chooseEngine } from '../../src/train/backend';
import { readCheckpoint } from '../../src/train/checkpoint';
import { gatherStatistics, passBlockRows } from '../../src/train/diagnostics';
import { TrainingLoop } from '../../src/train/loop';
import { Vae } from '../../src/train/model';
import type { Tf } from '../../src/train/tf';

function model(tf: Tf, type: string, dim: number, hidden = '[]'): Vae {
  const spec = parseSpec(
    `{ "data": { "synthetic": "circle", "n": 10 }, "model": { "type": "${type}", "latentDim": 2, "encoder": { "hidden": ${hidden} }, "decoder": { "hidden": ${hidden} } } }`,
    't.vae.json',
  ).spec;
  return new Vae(tf, spec.model, dim, 3, 0.5);
}

const heapMiB = (tf: Tf) => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength / 2 ** 20;

// First in the file: the heap only grows, so its growth is this pass's working set.
test('a pass of many samples of a wide point stays within its block budget of engine memory', async () => {
  const { tf } = await chooseEngine('wasm');
  const D = 4000;
  const vae = model(tf, 'VAE-3', D);
  try {
    const budget = 16 * 2 ** 20;
    const rows = passBlockRows(D, vae.plan, budget);
    assert.ok(rows < 512, `${rows} rows`);
    const before = heapMiB(tf);
    const values = Float32Array.from({ length: 2 * D }, (_, i) => Math.sin(i));
    // 512 samples of a point: one block of 512 rows grew the heap by ~120 MiB here.
    gatherStatistics(tf, vae, { values, n: 2, samples: 512, seed: 1 }, undefined, rows);
    const grown = heapMiB(tf) - before;
    assert.ok(grown <= 2 * (budget / 2 ** 20), `the heap grew by ${grown} MiB for a block budget of ${budget / 2 ** 20} MiB`);
  } finally {
    vae.dispose();
  }
});

test('blocks are 512 rows for small data, fewer for wide data and wide layers, and never none', () => {
  const cases: [string, number, string, (rows: number) => boolean][] = [
    ['VAE-1', 784, '[512]', (r) => r === 512],
    ['VAE-1', 100_000, '[]', (r) => r > 1 && r < 64],
    ['VAE-3', 100_000, '[]', (r) => r > 1 && r < 64],
    ['VAE-1', 1000, '[65536, 65536]', (r) => r > 1 && r < 512],
  ];
  for (const [type, dim, hidden, ok] of cases) {
    const spec = parseSpec(
      `{ "data": { "synthetic": "circle", "n": 10 }, "model": { "type": "${type}", "latentDim": 2, "encoder": { "hidden": ${hidden} }, "decoder": { "hidden": ${hidden} } } }`,
      't.vae.json',
    ).spec;
    const { plan } = planNetworks(spec.model, [dim], type === 'VAE-3');
    const rows = passBlockRows(dim, plan!);
    assert.ok(ok(rows), `${type} D=${dim} hidden ${hidden}: ${rows} rows`);
  }
});

for (const type of ['VAE-1', 'VAE-3']) {
  test(`a pass gives the same statistics whether a point's samples share a block or are split over several (${type})`, async () => {
    const { tf } = await chooseEngine('wasm');
    const D = 12;
    const vae = model(tf, type, D, '[8]');
    try {
      const n = 7;
      const values = Float32Array.from({ length: n * D }, (_, i) => Math.cos(0.7 * i));
      const input = { values, n, samples: 5, seed: 9 };
      const whole = gatherStatistics(tf, vae, input, { nu: new Float32Array(n * 2), logT2: new Float32Array(n * 2) });
      for (const rows of [1, 3, 5, 11]) {
        const encodings = { nu: new Float32Array(n * 2), logT2: new Float32Array(n * 2) };
        const split = gatherStatistics(tf, vae, input, encodings, rows);
        assert.deepEqual(split.logLikPerSample, whole.logLikPerSample, `${rows} rows a block`);
        assert.deepEqual(split.klPerPoint, whole.klPerPoint);
        assert.deepEqual(split.sumLogT2PerPoint, whole.sumLogT2PerPoint);
        assert.deepEqual(split.latentVariance?.hDecPerSample, whole.latentVariance?.hDecPerSample);
        assert.deepEqual(split.latentVariance?.normSqErrPerSample, whole.latentVariance?.normSqErrPerSample);
        // Sums over a block are float32: blocked differently they may differ in the last digits.
        for (const key of ['sqErrSum', 'klPerLatentSum', 'secondMomentSum'] as const)
          split[key].forEach((v, i) => assert.ok(Math.abs(v - whole[key][i]!) <= 1e-5 * Math.abs(whole[key][i]!), `${key}[${i}] with ${rows} rows a block`));
        assert.ok(!encodings.nu.every((v) => v === 0), 'the encodings are kept');
      }
    } finally {
      vae.dispose();
    }
  });
}

/** A circle spec written to a fresh folder, with its training data and the wasm engine. */
async function circleRun(prefix: string, training: string, diagnostics = '') {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const specPath = path.join(tmp, 'oom.vae.json');
  const text = `{ "data": { "synthetic": "circle", "n": 64 },
     "model": { "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } },
     "training": ${training}${diagnostics ? `, "diagnostics": ${diagnostics}` : ''} }`;
  fs.writeFileSync(specPath, text);
  const { spec } = parseSpec(text, specPath);
  const { train } = await loadData(spec.data, specPath);
  return { spec, specPath, train, checkpointPath: path.join(tmp, 'latest.json'), engine: await chooseEngine('wasm') };
}

/** The engine with its noise draws failing, once armed, as the wasm engine fails when out of memory. */
function failingNoise(tf: Tf): { tf: Tf; arm: () => void } {
  let armed = false;
  const failing = Object.create(tf, {
    randomNormal: {
      value: (...a: Parameters<Tf['randomNormal']>) => {
        if (armed) throw new WebAssembly.RuntimeError('memory access out of bounds');
        return tf.randomNormal(...a);
      },
    },
  }) as Tf;
  return { tf: failing, arm: () => (armed = true) };
}

/**
 * A pass that runs out of engine memory: the engine's own trap, raised here where the pass draws
 * its noise, once the second epoch has trained its last batch.
 */
test('a pass that runs out of memory keeps the epoch it followed and says which spec fields to change', async () => {
  const { spec, specPath, train, checkpointPath, engine } = await circleRun(
    'vae-lens-passmem-',
    '{ "epochs": 3, "batchSize": 32, "seed": 5 }',
    '{ "every": 1, "mcSamples": 4 }',
  );
  const { tf, arm } = failingNoise(engine.tf);
  const records: MetricsRecord[] = [];
  const loop = new TrainingLoop({
    spec,
    engine: { ...engine, tf },
    train,
    epochs: 3,
    checkpointPath,
    specPath,
    shouldStop: () => false,
    events: {
      progress: (p) => {
        if (p.epoch === 2 && p.epochFraction === 1) arm();
      },
      diagnostics: (r) => records.push(r),
      log: () => undefined,
    },
  });
  try {
    await assert.rejects(loop.run(), (e: unknown) => {
      assert.ok(isUserError(e), String(e));
      assert.deepEqual(e.location, { file: specPath, field: 'diagnostics.mcSamples' });
      assert.match(e.message, /after epoch 2 ran out of the wasm engine's memory/);
      assert.match(e.message, /diagnostics\.mcSamples \(now 4\)/);
      assert.match(e.message, /diagnostics\.subset \(now 64 points\)/);
      return true;
    });
  } finally {
    loop.dispose();
  }
  assert.deepEqual(
    records.map((r) => r.epoch),
    [0, 1],
  );
  // The second epoch's weights, with its pass still to make.
  const cp = readCheckpoint(checkpointPath);
  assert.equal(cp.epoch, 1);
  assert.equal(cp.batchesDone, 2);
});

test('a diagnostics.subset larger than the training data is said, with both sizes', async () => {
  const text = `{ "data": { "synthetic": "circle", "n": 64, "validation": 0.25 },
     "model": { "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } },
     "diagnostics": { "subset": 500 } }`;
  const { spec } = parseSpec(text, 'subset.vae.json');
  const { train, validation } = await loadData(spec.data, 'subset.vae.json');
  const logs: string[] = [];
  const loop = new TrainingLoop({
    spec,
    engine: await chooseEngine('wasm'),
    train,
    validation,
    epochs: 1,
    shouldStop: () => false,
    events: { progress: () => undefined, diagnostics: () => undefined, log: (level, m) => logs.push(`${level}: ${m}`) },
  });
  loop.dispose();
  assert.deepEqual(
    logs.filter((l) => l.includes('subset')),
    [`warn: diagnostics.subset is 500, more than the ${train.n} training points: every pass evaluates all ${train.n}`],
  );
});

test('a training step that runs out of memory names training.batchSize and keeps what was written', async () => {
  const { spec, specPath, train, checkpointPath, engine } = await circleRun('vae-lens-stepmem-', '{ "epochs": 2, "batchSize": 32, "seed": 5 }');
  const { tf, arm } = failingNoise(engine.tf);
  const loop = new TrainingLoop({
    spec,
    engine: { ...engine, tf },
    train,
    epochs: 2,
    checkpointPath,
    specPath,
    shouldStop: () => false,
    // Armed once the first pass is written: the next draw is the first step's noise.
    events: { progress: () => undefined, diagnostics: () => arm(), log: () => undefined },
  });
  try {
    await assert.rejects(loop.run(), (e: unknown) => {
      assert.ok(isUserError(e), String(e));
      assert.deepEqual(e.location, { file: specPath, field: 'training.batchSize' });
      assert.match(e.message, /epoch 1, step 1 ran out of the wasm engine's memory/);
      assert.match(e.message, /training\.batchSize \(now 32\)/);
      return true;
    });
  } finally {
    loop.dispose();
  }
  assert.equal(readCheckpoint(checkpointPath).epoch, 0);
});

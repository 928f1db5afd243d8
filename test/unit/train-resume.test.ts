/**
 * A run stopped and resumed is the run never stopped: stopped after any step (mid-epoch, after an
 * epoch's last batch, in the first epoch), its checkpoint says where it is within the epoch, and
 * the resume trains the rest of that epoch and on to the end with the same weights, Adam state and
 * records, bit for bit, as a run of the same spec and seed that was never stopped (cpu engine): the
 * weight average behind averagedElbo and the verdict's memory of the earlier passes included.
 * Checkpoints written before the position within the epoch was recorded still mean a whole epoch.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { MetricsRecord } from '../../src/core/runFormat';
import { parseSpec, type VaeSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { chooseEngine } from '../../src/train/backend';
import { readCheckpoint, type Checkpoint } from '../../src/train/checkpoint';
import { TrainingLoop, type LoopOutcome } from '../../src/train/loop';
import { watchSteps } from '../../bench/stepHook';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-resume-'));

/** 200 points in batches of 32: 7 steps an epoch, the last one of 8 points. */
const STEPS_PER_EPOCH = 7;
const EPOCHS = 4;

function specOf(name: string, model: string, training = ''): { spec: VaeSpec; specPath: string } {
  const specPath = path.join(tmp, `${name}.vae.json`);
  const text = `{ "name": "${name}", "data": { "synthetic": "circle", "n": 200 },
     "model": { "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] }${model} },
     "training": { "epochs": ${EPOCHS}, "batchSize": 32, "seed": 5${training} },
     "diagnostics": { "every": 1, "mcSamples": 2, "subset": 128 } }`;
  fs.writeFileSync(specPath, text);
  return { spec: parseSpec(text, specPath).spec, specPath };
}

interface Trained {
  outcome: LoopOutcome;
  records: MetricsRecord[];
  /** Each step's noise seed and loss, in order. */
  steps: [number, number][];
}

/** Train (or resume) into `checkpointPath`, stopping once the run has taken `stopAfterSteps` steps. */
async function train(
  spec: VaeSpec,
  specPath: string,
  checkpointPath: string,
  o: { stopAfterSteps?: number; resume?: boolean; epochs?: number; previous?: MetricsRecord[] } = {},
): Promise<Trained> {
  const engine = await chooseEngine('cpu');
  const { train: data } = await loadData(spec.data, specPath);
  const records: MetricsRecord[] = [];
  const steps: [number, number][] = [];
  const before = o.resume ? readCheckpoint(checkpointPath).step : 0;
  const loop = new TrainingLoop({
    spec,
    engine,
    train: data,
    epochs: o.epochs ?? EPOCHS,
    checkpointPath,
    resumeFrom: o.resume ? checkpointPath : undefined,
    // As the session reads them back from metrics.jsonl.
    previousRecords: o.previous?.map((r) => JSON.parse(JSON.stringify(r)) as MetricsRecord),
    shouldStop: () => o.stopAfterSteps !== undefined && before + steps.length >= o.stopAfterSteps,
    events: { progress: () => undefined, diagnostics: (r) => records.push(r), log: () => undefined },
  });
  watchSteps(loop, (s) => steps.push([s.seed, s.loss]));
  try {
    return { outcome: await loop.run(), records, steps };
  } finally {
    loop.dispose();
  }
}

/** A record without what depends on the clock. */
function comparable(r: MetricsRecord): Partial<MetricsRecord> {
  const { wallSeconds: _w, samplesPerSec: _s, diagnosticsSeconds: _d, ...rest } = r;
  return rest;
}

/** What a checkpoint holds of the training (Adam's entries without their names, which carry the model's instance number). */
const weightsOf = (cp: Checkpoint) => ({
  variables: cp.variables,
  optimizer: cp.optimizer.map((e) => ({ shape: e.shape, data: e.data })),
  varianceEstimate: cp.varianceEstimate,
  step: cp.step,
});

const CASES: { name: string; model: string; training?: string; stops: number[] }[] = [
  // Mid-epoch in the first and a later epoch, after an epoch's last batch, and twice in one run.
  { name: 'gradient', model: '', stops: [3, 10, 14, 2 * STEPS_PER_EPOCH + 5] },
  // varianceUpdate "optimal": the running estimate of s^2 is part of what a resume restores.
  { name: 'optimal', model: ', "varianceUpdate": "optimal"', stops: [11] },
  // A cosine schedule sets the rate per epoch: the resumed rest of an epoch keeps that epoch's rate.
  { name: 'cosine', model: '', training: ', "schedule": "cosine", "checkpointEvery": 2', stops: [9] },
];

test('a run trained for 3 epochs, then resumed for 1 more, ends as the run trained 4 straight: Adam goes on from its step count', async () => {
  const { spec, specPath } = specOf('epochs', '');
  const whole = path.join(tmp, 'epochs-whole.json');
  const straight = await train(spec, specPath, whole);
  const file = path.join(tmp, 'epochs.json');
  // 21 steps: where beta2^22 by pow and by 21 products differ in the last bit.
  const first = await train(spec, specPath, file, { epochs: 3 });
  assert.equal(first.outcome.status, 'completed');
  const rest = await train(spec, specPath, file, { resume: true });
  assert.equal(rest.outcome.status, 'completed');
  assert.deepEqual([...first.steps, ...rest.steps], straight.steps);
  assert.deepEqual(weightsOf(readCheckpoint(file)), weightsOf(readCheckpoint(whole)));
});

for (const c of CASES) {
  test(`a run stopped after ${c.stops.join(' then ')} steps and resumed ends as the run never stopped (${c.name})`, async () => {
    const { spec, specPath } = specOf(c.name, c.model, c.training);
    const whole = path.join(tmp, `${c.name}-whole.json`);
    const straight = await train(spec, specPath, whole);
    assert.equal(straight.outcome.status, 'completed');
    assert.equal(straight.outcome.steps, EPOCHS * STEPS_PER_EPOCH);

    const cut = path.join(tmp, `${c.name}-cut.json`);
    const records: MetricsRecord[] = [];
    const steps: [number, number][] = [];
    let resume = false;
    for (const stop of c.stops) {
      const part = await train(spec, specPath, cut, { stopAfterSteps: stop, resume, previous: records });
      assert.equal(part.outcome.status, 'stopped');
      assert.equal(part.outcome.steps, stop);
      // The checkpoint says where the run is: whole epochs, then batches of the next one.
      const cp = readCheckpoint(cut);
      assert.equal(cp.step, stop);
      assert.equal(cp.epoch, Math.floor(stop / STEPS_PER_EPOCH) - (stop % STEPS_PER_EPOCH === 0 ? 1 : 0));
      assert.equal(cp.epoch * STEPS_PER_EPOCH + (cp.batchesDone ?? 0), stop);
      assert.equal(part.outcome.epochsDone, cp.epoch);
      records.push(...part.records);
      steps.push(...part.steps);
      resume = true;
    }
    const rest = await train(spec, specPath, cut, { resume: true, previous: records });
    assert.equal(rest.outcome.status, 'completed');
    assert.equal(rest.outcome.steps, EPOCHS * STEPS_PER_EPOCH);
    records.push(...rest.records);
    steps.push(...rest.steps);

    // Each step once, on the batch and with the noise of the run never stopped: the same losses.
    assert.deepEqual(steps, straight.steps);
    assert.deepEqual(weightsOf(readCheckpoint(cut)), weightsOf(readCheckpoint(whole)), 'the final weights and Adam state');
    // Every pass once, as the run never stopped made it (the stops fall between passes).
    assert.deepEqual(records.map(comparable), straight.records.map(comparable));
  });
}

test('a checkpoint as earlier versions wrote it (no position within the epoch, an int32 step count) resumes at the next epoch, exactly', async () => {
  const { spec, specPath } = specOf('older', '');
  const whole = path.join(tmp, 'older-whole.json');
  const straight = await train(spec, specPath, whole);
  const file = path.join(tmp, 'older.json');
  // Stopped after the last batch of epoch 2: now a checkpoint of epoch 1 and 7 batches of epoch 2.
  await train(spec, specPath, file, { stopAfterSteps: 2 * STEPS_PER_EPOCH });
  const cp = readCheckpoint(file);
  assert.deepEqual([cp.epoch, cp.batchesDone], [1, STEPS_PER_EPOCH]);
  // Written the earlier way, as a whole epoch 2 (its pass left out) with Adam's step count in int32's bits.
  const older: Partial<Checkpoint> = { ...cp, epoch: 2 };
  delete older.batchesDone;
  delete older.lossSum;
  delete older.average;
  const iterations = Buffer.from(Int32Array.of(cp.step).buffer).toString('base64');
  older.optimizer = cp.optimizer.map((e, i) => (i === 0 ? { ...e, data: iterations } : e));
  fs.writeFileSync(file, JSON.stringify(older));
  assert.equal(readCheckpoint(file).batchesDone, undefined);
  const rest = await train(spec, specPath, file, { resume: true });
  assert.equal(rest.outcome.status, 'completed');
  assert.deepEqual(
    rest.records.map((r) => [r.epoch, r.step]),
    [
      [3, 3 * STEPS_PER_EPOCH],
      [4, 4 * STEPS_PER_EPOCH],
    ],
  );
  assert.deepEqual(rest.steps, straight.steps.slice(2 * STEPS_PER_EPOCH));
  assert.deepEqual(weightsOf(readCheckpoint(file)), weightsOf(readCheckpoint(whole)));
});

test('a checkpoint whose epoch, step or sizes are not counts (negative, beyond 2^53, zero sizes) is refused by name and value', () => {
  const file = path.join(tmp, 'bad-counts.json');
  const data = { n: 200, dim: 2, sha256: 'x' };
  const good = { version: 1, epoch: 3, step: 21, modelType: 'VAE-1', dim: 2, latentDim: 2, variables: {}, optimizer: [], data };
  const write = (over: object) => fs.writeFileSync(file, JSON.stringify({ ...good, ...over }));
  // A position is 0 or more (0: before training); a size is 1 or more; none beyond what a double counts exactly.
  const positions = [-1, -3, -1e308, 2 ** 53 + 2, 1e300];
  const sizes = [0, -1, -2, -1e308, 2 ** 53 + 2, 1e300];
  const cases: [field: string, over: object, value: number][] = [
    ...positions.flatMap((v): [string, object, number][] => [
      ['"epoch"', { epoch: v }, v],
      ['"step"', { step: v }, v],
    ]),
    ...sizes.flatMap((v): [string, object, number][] => [
      ['"dim"', { dim: v }, v],
      ['"latentDim"', { latentDim: v }, v],
      ['"data.n"', { data: { ...data, n: v } }, v],
      ['"data.dim"', { data: { ...data, dim: v } }, v],
    ]),
  ];
  for (const [field, over, value] of cases) {
    write(over);
    assert.throws(
      () => readCheckpoint(file),
      (e: Error) => e.message.includes(file) && e.message.includes(field) && e.message.includes(JSON.stringify(value)),
      `${JSON.stringify(over)} was read, or not named`,
    );
  }
  for (const over of [{ epoch: 0, step: 0 }, { epoch: 2 ** 53 - 1 }, { dim: 1, latentDim: 1, data: { ...data, n: 1, dim: 1 } }]) {
    write(over);
    assert.doesNotThrow(() => readCheckpoint(file), JSON.stringify(over));
  }
});

test('a checkpoint whose position within the epoch is not a whole number of batches, or has no loss sum, is refused by name', () => {
  const file = path.join(tmp, 'bad-position.json');
  const write = (over: object) =>
    fs.writeFileSync(file, JSON.stringify({ version: 1, epoch: 1, step: 9, modelType: 'VAE-1', dim: 2, latentDim: 2, variables: {}, optimizer: [], ...over }));
  for (const bad of [-1, 1.5, '3', null]) {
    write({ batchesDone: bad, lossSum: 1 });
    assert.throws(() => readCheckpoint(file), /"batchesDone" must be a whole number/);
  }
  for (const bad of [undefined, null, '1']) {
    write({ batchesDone: 2, lossSum: bad });
    assert.throws(() => readCheckpoint(file), /"lossSum" must be a finite number/);
  }
  write({ batchesDone: 0 });
  assert.equal(readCheckpoint(file).batchesDone, 0);
  for (const bad of [-1, 0.5, '2', null]) {
    write({ average: { updates: bad, variables: {} } });
    assert.throws(() => readCheckpoint(file), /"average.updates" must be a whole number/);
  }
  for (const bad of [null, [], { updates: 1 }]) {
    write({ average: bad });
    assert.throws(() => readCheckpoint(file), /"average" must be an object/);
  }
  write({ average: { updates: 1, variables: { w: { shape: [2], data: 'AAAA' } } } });
  assert.throws(() => readCheckpoint(file), /the weight average's variable w has shape \[2\]/);
});

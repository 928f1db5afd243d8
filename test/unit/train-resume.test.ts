/**
 * A run resumed from its checkpoint goes on as the run never stopped: the same steps (batches,
 * noise and losses) and the same final weights and Adam state, bit for bit, as a run of the same
 * spec and seed trained straight through (cpu engine).
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
  o: { stopAfterSteps?: number; resume?: boolean; epochs?: number } = {},
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

/** What a checkpoint holds of the training (Adam's entries without their names, which carry the model's instance number). */
const weightsOf = (cp: Checkpoint) => ({
  variables: cp.variables,
  optimizer: cp.optimizer.map((e) => ({ shape: e.shape, data: e.data })),
  varianceEstimate: cp.varianceEstimate,
  step: cp.step,
});

test('a run trained for 3 epochs, then resumed for 1 more, ends as the run trained 4 straight: Adam goes on from its step count', async () => {
  const { spec, specPath } = specOf('epochs', '');
  const whole = path.join(tmp, 'epochs-whole.json');
  const straight = await train(spec, specPath, whole);
  const file = path.join(tmp, 'epochs.json');
  // 21 steps: where beta2^22 by pow and by 21 products differ in the last bit.
  const first = await train(spec, specPath, file, { epochs: 3 });
  assert.equal(first.outcome.status, 'completed');
  assert.equal(first.steps.length, 3 * STEPS_PER_EPOCH);
  const rest = await train(spec, specPath, file, { resume: true });
  assert.equal(rest.outcome.status, 'completed');
  assert.deepEqual([...first.steps, ...rest.steps], straight.steps);
  assert.deepEqual(weightsOf(readCheckpoint(file)), weightsOf(readCheckpoint(whole)));
});

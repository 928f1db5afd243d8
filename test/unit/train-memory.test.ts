/**
 * The trainer frees what it makes: tf.variable(x) takes a reference of its own to x's data and
 * leaves x to its caller, so every variable made of a fresh tensor, and every assign of one, must
 * free that tensor (or the tensor keeps a copy of the weights alive once the variable moves on).
 * Counted with the engine's own bookkeeping (cpu engine):
 *  - building a model adds exactly its variables, and disposing it gives every tensor and buffer back;
 *  - the weight average adds one variable per weight, and gives them back;
 *  - restoring a checkpoint (weights and Adam state) adds nothing beyond Adam's variables;
 *  - writing checkpoints adds nothing;
 *  - a whole training run, stopped mid-epoch and resumed, leaves nothing behind once disposed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { createAdam } from '../../src/train/adam';
import { chooseEngine } from '../../src/train/backend';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../src/train/checkpoint';
import { WeightAverage } from '../../src/train/evidence';
import { TrainingLoop } from '../../src/train/loop';
import { Vae } from '../../src/train/model';
import type { Tf } from '../../src/train/tf';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-memory-'));

const SPECS: Record<string, string> = {
  // Dense layers, a learned s^2 and a learned prior variance (VAE-2).
  dense: `{ "data": { "synthetic": "circle", "n": 200 },
     "model": { "type": "VAE-2", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } },
     "training": { "epochs": 3, "batchSize": 32, "seed": 2 }, "diagnostics": { "mcSamples": 2, "subset": 64 } }`,
  // Convolutions and a decoder variance per point (VAE-3).
  conv: `{ "data": { "synthetic": "manifold", "intrinsicDim": 2, "dim": 64, "n": 64, "shape": [8, 8] },
     "model": { "type": "VAE-3", "latentDim": 2,
       "encoder": { "layers": [ { "type": "conv2d", "filters": 2, "kernel": 3, "stride": 2 } ] },
       "decoder": { "layers": [ { "type": "dense", "units": 32 }, { "type": "reshape", "shape": [4, 4, 2] },
                                { "type": "conv2dTranspose", "filters": 1, "kernel": 3, "stride": 2 } ] } },
     "training": { "epochs": 2, "batchSize": 16, "seed": 2 }, "diagnostics": { "mcSamples": 2, "subset": 32 } }`,
};

interface Counts {
  tensors: number;
  buffers: number;
}
const counts = (tf: Tf): Counts => {
  const m = tf.memory();
  return { tensors: m.numTensors, buffers: m.numDataBuffers };
};
const grown = (tf: Tf, from: Counts): Counts => {
  const now = counts(tf);
  return { tensors: now.tensors - from.tensors, buffers: now.buffers - from.buffers };
};

async function setup(kind: string) {
  const engine = await chooseEngine('cpu');
  const specPath = path.join(tmp, `${kind}.vae.json`);
  fs.writeFileSync(specPath, SPECS[kind]!);
  const { spec } = parseSpec(SPECS[kind]!, specPath);
  const { train } = await loadData(spec.data, specPath);
  const build = () => new Vae(engine.tf, spec.model, train.dim, spec.training.seed, 0.5, train.imageShape);
  // The bias gradients keep a row of ones per batch length for the process (layers.ts): made here first.
  const warm = build();
  const optimizer = createAdam(engine.tf, 0.01);
  steps(engine.tf, warm, optimizer, train.values, 8);
  warm.dispose();
  optimizer.dispose();
  return { tf: engine.tf, engine, spec, specPath, train, build };
}

/** A few Adam steps on the model, so its variables have moved on from the data they were made with. */
function steps(tf: Tf, vae: Vae, optimizer: ReturnType<typeof createAdam>, values: Float32Array, n: number): void {
  for (let s = 0; s < 3; s++)
    tf.tidy(() => {
      const x = tf.tensor2d(values.subarray(0, n * vae.dim), [n, vae.dim]);
      const eps = tf.randomNormal([n, vae.spec.latentDim], 0, 1, 'float32', s + 1);
      optimizer.minimize(() => vae.objective(x, eps as never, false).loss, false, vae.trainableVariables());
    });
}

for (const kind of Object.keys(SPECS)) {
  test(`building a model adds its variables and nothing else; disposing it frees every one (${kind})`, async () => {
    const { tf, build, train } = await setup(kind);
    const before = counts(tf);
    const vae = build();
    const variables = vae.namedVariables().size;
    assert.deepEqual(grown(tf, before), { tensors: variables, buffers: variables });
    const optimizer = createAdam(tf, 0.01);
    steps(tf, vae, optimizer, train.values, 8);
    vae.dispose();
    optimizer.dispose();
    assert.deepEqual(grown(tf, before), { tensors: 0, buffers: 0 });
  });

  test(`the weight average adds a variable per weight; disposing it frees them (${kind})`, async () => {
    const { tf, build, train } = await setup(kind);
    const before = counts(tf);
    const vae = build();
    const optimizer = createAdam(tf, 0.01);
    const trainable = vae.trainableVariables();
    const built = counts(tf);
    const average = new WeightAverage(tf, trainable, 2);
    // Its variables start on the weights' own data.
    assert.deepEqual(grown(tf, built), { tensors: trainable.length, buffers: 0 });
    steps(tf, vae, optimizer, train.values, 8);
    const stepped = counts(tf);
    for (let s = 1; s <= 4; s++) average.update(s);
    average.withAveragedWeights(() => undefined);
    assert.equal(grown(tf, stepped).tensors, 0);
    average.reset();
    average.dispose();
    vae.dispose();
    optimizer.dispose();
    assert.deepEqual(grown(tf, before), { tensors: 0, buffers: 0 });
  });

  test(`restoring a checkpoint adds only the model's and Adam's variables, and writing one adds nothing (${kind})`, async () => {
    const { tf, build, train } = await setup(kind);
    const file = path.join(tmp, `${kind}-checkpoint.json`);
    {
      const vae = build();
      const optimizer = createAdam(tf, 0.01);
      steps(tf, vae, optimizer, train.values, 8);
      const before = counts(tf);
      for (let i = 0; i < 3; i++) await saveCheckpoint(file, vae, optimizer, { epoch: 1, step: 3 });
      assert.deepEqual(grown(tf, before), { tensors: 0, buffers: 0 }, 'writing checkpoints');
      vae.dispose();
      optimizer.dispose();
    }
    const cp = readCheckpoint(file);
    const before = counts(tf);
    const vae = build();
    const optimizer = createAdam(tf, 0.01);
    await restoreCheckpoint(tf, cp, vae, optimizer, file);
    const variables = vae.namedVariables().size;
    const trainable = vae.trainableVariables().length;
    // The model's variables, Adam's two moments per trainable one and its two bias-correction powers.
    const expected = variables + 2 * trainable + 2;
    assert.deepEqual(grown(tf, before), { tensors: expected, buffers: expected });
    steps(tf, vae, optimizer, train.values, 8);
    assert.deepEqual(grown(tf, before), { tensors: expected, buffers: expected }, 'after steps on the restored model');
    vae.dispose();
    optimizer.dispose();
    assert.deepEqual(grown(tf, before), { tensors: 0, buffers: 0 });
  });

  test(`a training run stopped mid-epoch and resumed leaves no tensor behind once disposed (${kind})`, async () => {
    const { engine, spec, train, tf } = await setup(kind);
    const file = path.join(tmp, `${kind}-run.json`);
    fs.rmSync(file, { force: true });
    let before = counts(tf);
    // A first run, never stopped and without checkpoints, makes the rows of ones of every batch length.
    for (const resume of [undefined, false, true]) {
      if (resume === false) before = counts(tf);
      let polls = 0;
      const loop = new TrainingLoop({
        spec,
        engine,
        train,
        epochs: spec.training.epochs,
        checkpointPath: resume === undefined ? undefined : file,
        resumeFrom: resume ? file : undefined,
        // The first run stops in its second epoch (a poll before training, then one per step).
        shouldStop: () => resume === false && ++polls > 1 + Math.ceil(train.n / spec.training.batchSize) + 1,
        events: { progress: () => undefined, diagnostics: () => undefined, log: () => undefined },
      });
      try {
        const outcome = await loop.run();
        assert.equal(outcome.status, resume === false ? 'stopped' : 'completed');
      } finally {
        loop.dispose();
      }
      if (resume !== undefined) assert.deepEqual(grown(tf, before), { tensors: 0, buffers: 0 }, resume ? 'the resumed run' : 'the stopped run');
    }
  });
}

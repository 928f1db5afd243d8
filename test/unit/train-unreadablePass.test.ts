/**
 * A pass whose ELBO float64 cannot hold (a decoder variance of e^-10000 under errors that are not 0) is no
 * measurement: the trainer leaves it out of its verdict as the run reader does, and says so, so that a run's
 * written verdicts are the ones its records get when judged. Read as a number it made the verdict "converged".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsRecord } from '../../src/core/runFormat';
import { judgeRecords, settingsOfSpec } from '../../src/core/run/settings';
import { parseSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { chooseEngine } from '../../src/train/backend';
import { TrainingLoop } from '../../src/train/loop';

const SPEC = `{ "data": { "synthetic": "spiral3d", "n": 200 },
  "model": { "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } },
  "training": { "epochs": 6, "batchSize": 50 }, "diagnostics": { "window": 2, "mcSamples": 2 } }`;

/** The records of a run whose pass after epoch `at` has a decoder log-variance of -1e4, put back after it when `restore`. */
async function trainWithOverflow(at: number, restore: boolean): Promise<MetricsRecord[]> {
  const { spec } = parseSpec(SPEC, '/tmp/t.vae.json');
  const engine = await chooseEngine('wasm');
  const data = await loadData(spec.data, '/tmp/t.vae.json');
  const records: MetricsRecord[] = [];
  let kept: Float32Array | undefined;
  const loop: TrainingLoop = new TrainingLoop({
    spec,
    engine,
    train: data.train,
    epochs: spec.training.epochs,
    shouldStop: () => false,
    events: {
      progress: (p) => {
        if (p.epoch !== at || p.epochFraction < 1) return;
        const logS2 = loop.vae.params.logS2!;
        kept = Float32Array.from(logS2.dataSync());
        logS2.assign(engine.tf.fill(logS2.shape, -1e4));
      },
      diagnostics: (r) => {
        records.push(r);
        if (r.epoch === at && restore) loop.vae.params.logS2!.assign(engine.tf.tensor(kept!, loop.vae.params.logS2!.shape));
      },
      log: () => {},
    },
  });
  try {
    await loop.run();
  } finally {
    loop.dispose();
  }
  return records;
}

test('a last pass without a finite ELBO is not converged in the trainer as in the reader', async () => {
  const records = await trainWithOverflow(6, false);
  const last = records.at(-1)!;
  assert.equal(last.epoch, 6);
  assert.ok(!Number.isFinite(last.elbo!), `the pass's ELBO is ${last.elbo}`);
  assert.equal(last.convergence, 'not-converged', last.convergenceReason);
  assert.match(last.convergenceReason!, /^The last pass \(epoch 6\) has no finite elbo/);
  const { spec } = parseSpec(SPEC, '/tmp/t.vae.json');
  assert.deepEqual({ state: last.convergence, reason: last.convergenceReason }, judgeRecords(records, settingsOfSpec(spec)));
});

test("a pass without a finite ELBO in the middle is left out of the trainer's verdicts, which say so, as the reader's do", async () => {
  const { spec } = parseSpec(SPEC, '/tmp/t.vae.json');
  for (const at of [2, 4]) {
    const records = await trainWithOverflow(at, true);
    assert.equal(records.length, 7);
    assert.ok(!Number.isFinite(records[at]!.elbo!), `epoch ${at}: ${records[at]!.elbo}`);
    for (let k = 1; k <= records.length; k++) {
      const r = records[k - 1]!;
      assert.deepEqual({ state: r.convergence, reason: r.convergenceReason }, judgeRecords(records.slice(0, k), settingsOfSpec(spec)), `epoch ${r.epoch}`);
    }
    assert.match(records.at(-1)!.convergenceReason!, /1 earlier pass without a finite ELBO or encoder and prior entropies is left out of the verdict\.$/);
  }
});

/**
 * The convergence verdict on runs made elsewhere: records written by another trainer or the Python
 * companion, as the readers judge them (judgeRecords), with the schedules, missing fields and
 * spacings such runs have.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeRecords } from '../../src/core/run/settings';
import type { MetricsRecord } from '../../src/core/runFormat';
import { Rng } from '../../src/core/random';
import { sampleRecord } from './record-testkit';

// sampleRecord's entropies give a scale of 6.3, so with tolerance 0.01 a change of m = 0.063 matters.
const settings = { tolerance: 0.01, window: 5, theoremApplies: true };
const m = 0.063;

/** `passes` records of sampleRecord with the ELBO and the learning rate of each pass, and Monte-Carlo noise of `noise`. */
function run(passes: number, elbo: (i: number) => number, learningRate?: (i: number) => number, noise = 0.0005, seed = 1): MetricsRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: passes }, (_, i) =>
    sampleRecord(i + 1, {
      elbo: elbo(i) + noise * rng.normal(),
      elboStdErr: noise,
      ...(learningRate ? { learningRate: learningRate(i) } : {}),
    }),
  );
}

test('a rise under a warm-up or a cyclic step is still a rise: the trend is read at the largest step, not at a small first one', () => {
  const schedules: Record<string, (i: number) => number> = {
    'linear warm-up': (i) => 1e-5 + 1e-4 * i,
    'exponential warm-up': (i) => 1e-5 * 1.3 ** i,
    'one-cycle, rising half': (i) => 1e-3 * (0.55 - 0.45 * Math.cos((Math.PI * i) / 20)),
    'cyclic (triangular)': (i) => 1e-4 + 9e-4 * Math.abs(((i + 3) % 8) / 4 - 1),
  };
  // Rises of about m/2 to 2m over the 2w = 10 passes: each is improving with no learning rate recorded.
  for (const perPass of [0.004, 0.006, 0.01]) {
    const elbo = (i: number) => -3 + perPass * i;
    assert.equal(judgeRecords(run(20, elbo), settings).state, 'improving', `${perPass} a pass without a recorded step`);
    for (const [name, lr] of Object.entries(schedules)) {
      const v = judgeRecords(run(20, elbo, lr), settings);
      assert.equal(v.state, 'improving', `${name}, ${perPass} a pass: ${v.reason}`);
      // The reason says what the step did, never that it fell to 100 % or more of where it started.
      assert.doesNotMatch(v.reason, /fell to (\d{3,}|100) %/, `${name}: ${v.reason}`);
    }
  }
  assert.ok(m > 0);
});

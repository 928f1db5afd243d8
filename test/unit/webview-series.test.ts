import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsRecord } from '../../src/core/runFormat';
import fc from 'fast-check';
import { addRecord } from '../../src/core/runFormat';
import {
  appendRecords,
  axisAfterAppend,
  collapsedLatents,
  emptySeries,
  latentStats,
  passAt,
  runAxis,
  SERIES_KEYS,
  seriesFromRecords,
  sharedAxis,
  xRange,
} from '../../src/webview/series';
import { record } from './webview-testkit';

test('records become points: band = elbo ± 2 s.e., priors and decoder entropies negated, tolerance band ±tol·scale', () => {
  const r = record(3, { elbo: -50, elboStdErr: 0.25, hEnc: -4, hPrior: 2, hDec: -60, elboAtOptVariance: -49.5 });
  const s = seriesFromRecords([r], 0.01, 'epoch');
  assert.deepEqual(s.elbo, [{ x: 3, y: -50 }]);
  assert.deepEqual(s.elboUpper, [{ x: 3, y: -49.5 }]);
  assert.deepEqual(s.elboLower, [{ x: 3, y: -50.5 }]);
  assert.deepEqual(s.elboOptVar, [{ x: 3, y: -49.5 }]);
  assert.deepEqual(s.hEnc, [{ x: 3, y: -4 }]);
  assert.deepEqual(s.negHPrior, [{ x: 3, y: -2 }]);
  assert.deepEqual(s.negHDec, [{ x: 3, y: 60 }]);
  assert.deepEqual(s.tolUpper, [{ x: 3, y: 0.66 }]);
  assert.deepEqual(s.tolLower, [{ x: 3, y: -0.66 }]);
});

test('null (NaN in JSON) values are skipped, not drawn as zero; the rest of the record still counts', () => {
  const r = record(1, { elbo: null as unknown as number, gap: null as unknown as number, elboAtOptVariance: null });
  const s = seriesFromRecords([r], 0.01, 'epoch');
  assert.equal(s.elbo.length, 0);
  assert.equal(s.elboUpper.length, 0, 'no band without an ELBO');
  assert.equal(s.gap.length, 0);
  assert.equal(s.elboOptVar.length, 0);
  assert.equal(s.entropySum.length, 1);
});

test('appending in pieces equals building at once, and keeps the same arrays (the charts hold them)', () => {
  const records = Array.from({ length: 25 }, (_, i) => record(i + 1));
  const once = seriesFromRecords(records, 0.02, 'epoch');
  const inc = emptySeries();
  const arrays = SERIES_KEYS.map((k) => inc[k]);
  appendRecords(inc, records.slice(0, 10), 0.02, 'epoch', 0);
  appendRecords(inc, records.slice(10, 11), 0.02, 'epoch', 10);
  appendRecords(inc, records.slice(11), 0.02, 'epoch', 11);
  assert.deepEqual(inc, once);
  SERIES_KEYS.forEach((k, i) => assert.equal(inc[k], arrays[i], `${k} is the same array`));
});

// A rebuild per append would be quadratic (minutes here); the bound is loose because CI machines are shared.
test('appending 20 000 records one by one stays fast (linear, no rebuilds)', () => {
  const s = emptySeries();
  const records = Array.from({ length: 20000 }, (_, i) => record(i + 1));
  const t0 = performance.now();
  records.forEach((r, i) => appendRecords(s, [r], 0.01, 'epoch', i));
  const ms = performance.now() - t0;
  assert.equal(s.elbo.length, 20000);
  assert.ok(ms < 4000, `took ${ms.toFixed(1)} ms`);
});

test("collapsed latents: the trainer's list wins; otherwise KL_h below 0.01 (0.01 itself is not collapsed)", () => {
  assert.deepEqual([...collapsedLatents({ klPerLatent: [0.001, 0.5], collapsedLatents: [1] })], [1]);
  assert.deepEqual([...collapsedLatents({ klPerLatent: [0.009, 0.01, 2, null as unknown as number] })], [0]);
  assert.deepEqual([...collapsedLatents({ klPerLatent: [0.5], collapsedLatents: [] })], []);
});

test('latentStats pairs m_h with its target a²_h (1 unless VAE-2) and marks collapse', () => {
  const r: MetricsRecord = record(1, { latentSecondMoment: [0.9, 1.0, 0.7], klPerLatent: [1.2, 0.004, 0.8], priorVariance: [2, 1, 0.5] });
  const stats = latentStats(r);
  assert.deepEqual(
    stats.map((s) => [s.index, s.secondMoment, s.kl, s.priorVariance, s.collapsed]),
    [
      [0, 0.9, 1.2, 2, false],
      [1, 1.0, 0.004, 1, true],
      [2, 0.7, 0.8, 0.5, false],
    ],
  );
  const plain = latentStats(record(1, { latentSecondMoment: [0.5, null as unknown as number], klPerLatent: [0.3, 0.2] }));
  assert.deepEqual(
    plain.map((s) => s.priorVariance),
    [1, 1],
  );
  assert.ok(Number.isNaN(plain[1].secondMoment));
});

test('xRange: all of training from 0, or the last fraction over all runs from a whole epoch', () => {
  const a = seriesFromRecords([record(1), record(100)], 0.01, 'epoch');
  const b = seriesFromRecords([record(5), record(200)], 0.01, 'epoch');
  assert.deepEqual(xRange([a, b], 0.5), { min: 100, max: 200 });
  assert.deepEqual(xRange([a, b], 0.1), { min: 180, max: 200 });
  assert.deepEqual(xRange([a, b], 1), { min: 0, max: 200 });
  assert.deepEqual(xRange([seriesFromRecords([record(50), record(60)], 0.01, 'epoch')], 1), { min: 50, max: 60 }, 'a resumed run starts where it starts');
  assert.deepEqual(xRange([seriesFromRecords([record(3)], 0.01, 'epoch')], 0.5), { min: 3, max: 4 }, 'one pass still gets a range');
  assert.equal(xRange([emptySeries()], 0.5), undefined);
});

test('xRange zooms runs of fractional epochs too: the last tenth of one epoch diagnosed 20 times is not all of it', () => {
  const oneEpoch = seriesFromRecords(
    Array.from({ length: 20 }, (_, i) => record((i + 1) / 20)),
    0.01,
    'epoch',
  );
  assert.deepEqual(xRange([oneEpoch], 1), { min: 0, max: 1 }, 'all of it, and no empty epoch after it');
  const shown = (fraction: number) => {
    const r = xRange([oneEpoch], fraction)!;
    return oneEpoch.elbo.filter((p) => p.x >= r.min && p.x <= r.max).length;
  };
  assert.equal(shown(0.1), 3);
  assert.equal(shown(0.5), 11);
});

test('generated runs: the zoom shows the chosen fraction and at most a round unit more, as before for whole epochs', () => {
  const xsArb = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 300, noNaN: true })), { minLength: 2, maxLength: 40 })
    .map((xs) => [...new Set(xs)].sort((a, b) => a - b))
    .filter((xs) => xs.length >= 2);
  fc.assert(
    fc.property(xsArb, fc.constantFrom(0.5, 0.1), (xs, fraction) => {
      const s = seriesFromRecords(
        xs.map((x) => record(x)),
        0.01,
        'epoch',
      );
      const lo = xs[0]!;
      const hi = xs.at(-1)!;
      const want = (hi - lo) * fraction;
      const r = xRange([s], fraction)!;
      assert.equal(r.max, hi);
      assert.ok(r.min <= hi - want, `${JSON.stringify(r)} hides part of the last ${want}`);
      assert.ok(r.max - r.min <= (want >= 1 ? want + 1 : 2 * want), `${JSON.stringify(r)} shows far more than the last ${want}`);
      if (want >= 1) assert.equal(r.min, Math.floor(hi - want), 'whole epochs, as before');
    }),
    { numRuns: 300 },
  );
});

// ---- the pass axis: runs whose epochs do not advance pass by pass ----

/** A run as the readers keep it: passes added in file order by the run format's rule (addRecord). */
function readRun(passes: readonly { epoch: number; step: number }[]): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  for (const p of passes) addRecord(records, record(p.epoch, { step: p.step }));
  return records;
}

const strictlyRising = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

/** (epoch, step) pairs as other writers make them: several passes an epoch, one epoch for all, fractional epochs, restarting step counters. */
const passesArb = fc.array(
  fc.record({
    epoch: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.double({ min: 0, max: 4, noNaN: true })),
    step: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(0)),
  }),
  { maxLength: 30 },
);

test('a run charts against epochs where they advance, else steps where they do, else pass numbers', () => {
  const byEpoch = readRun([0, 1, 2, 3].map((e) => ({ epoch: e, step: e * 50 })));
  assert.equal(runAxis(byEpoch), 'epoch');
  assert.deepEqual(
    seriesFromRecords(byEpoch, 0.01, runAxis(byEpoch)).elbo.map((p) => p.x),
    [0, 1, 2, 3],
  );
  // Every 100 steps, two passes an epoch: charted by epoch, passes 2 and 3 (and 4 and 5) would stack.
  const everyNSteps = readRun([0, 100, 200, 300, 400].map((step) => ({ epoch: Math.floor(step / 200), step })));
  assert.equal(runAxis(everyNSteps), 'step');
  assert.deepEqual(
    seriesFromRecords(everyNSteps, 0.01, 'step').elbo.map((p) => p.x),
    [0, 100, 200, 300, 400],
  );
  const oneEpoch = readRun([10, 20, 30].map((step) => ({ epoch: 0, step })));
  assert.equal(runAxis(oneEpoch), 'step');
  // A step counter that restarts every epoch (the batch index): only the pass number orders the passes.
  const restarting = readRun([
    { epoch: 0, step: 0 },
    { epoch: 0, step: 50 },
    { epoch: 1, step: 0 },
    { epoch: 1, step: 50 },
  ]);
  assert.equal(runAxis(restarting), 'pass');
  assert.deepEqual(
    seriesFromRecords(restarting, 0.01, 'pass').elbo.map((p) => p.x),
    [1, 2, 3, 4],
  );
  assert.equal(passAt(restarting, 'pass', 3), restarting[2]);
  assert.equal(passAt(everyNSteps, 'step', 300), everyNSteps[3]);
  assert.equal(passAt(everyNSteps, 'step', 250), undefined);
});

test('generated runs: every curve on the run axis rises strictly (no stacked passes), and advancing epochs chart as before', () => {
  fc.assert(
    fc.property(passesArb, (passes) => {
      const records = readRun(passes);
      const axis = runAxis(records);
      const s = seriesFromRecords(records, 0.01, axis);
      for (const k of SERIES_KEYS) assert.ok(strictlyRising(s[k].map((p) => p.x)), `${k} on the ${axis} axis: ${JSON.stringify(s[k].map((p) => p.x))}`);
      assert.equal(s.elbo.length, records.length, 'every pass is charted');
      if (strictlyRising(records.map((r) => r.epoch))) {
        assert.equal(axis, 'epoch');
        assert.deepEqual(
          s.elbo.map((p) => p.x),
          records.map((r) => r.epoch),
        );
      }
      records.forEach((r, i) => assert.equal(passAt(records, axis, s.elbo[i]!.x), r));
    }),
    { numRuns: 300 },
  );
});

test('generated comparisons: the shared axis orders every run, and is the epoch whenever every run advances by epoch', () => {
  fc.assert(
    fc.property(fc.array(passesArb, { minLength: 2, maxLength: 4 }), (runs) => {
      const read = runs.map(readRun);
      const axis = sharedAxis(read);
      for (const records of read) {
        const s = seriesFromRecords(records, 0.01, axis);
        assert.ok(strictlyRising(s.elbo.map((p) => p.x)), `${axis}: ${JSON.stringify(s.elbo.map((p) => p.x))}`);
      }
      if (read.every((r) => runAxis(r) === 'epoch')) assert.equal(axis, 'epoch');
      else if (read.every((r) => strictlyRising(r.map((p) => p.step)))) assert.equal(axis, 'step', 'steps where every run has rising steps');
      else assert.equal(axis, 'pass');
    }),
    { numRuns: 300 },
  );
});

test('appending passes one at a time places them as building at once does, on every axis', () => {
  const records = readRun([
    { epoch: 0, step: 0 },
    { epoch: 0, step: 5 },
    { epoch: 1, step: 0 },
  ]);
  for (const axis of ['epoch', 'step', 'pass'] as const) {
    const inc = emptySeries();
    records.forEach((r, i) => appendRecords(inc, [r], 0.01, axis, i));
    assert.deepEqual(inc, seriesFromRecords(records, 0.01, axis), axis);
  }
});

test('generated live runs: the axis after each append is the one the whole runs would get', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(passesArb, fc.nat()), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 60 }), (runs, order) => {
      const full = runs.map(([passes]) => readRun(passes));
      // Each run is shown with a prefix of its passes; the rest arrive one at a time, runs interleaved.
      const shown = full.map((records, i) => records.slice(0, runs[i]![1] % (records.length + 1)));
      let axis = sharedAxis(shown);
      for (const pick of order) {
        const i = pick % shown.length;
        const next = full[i]![shown[i]!.length];
        if (!next) continue;
        shown[i]!.push(next);
        axis = axisAfterAppend(axis, shown, shown[i]!, shown[i]!.length - 1);
        assert.equal(axis, sharedAxis(shown));
      }
    }),
    { numRuns: 300 },
  );
});

test('a live run of 20 000 passes appended one at a time keeps its axis at the cost of each new pass', () => {
  const other = readRun([{ epoch: 0, step: 0 }]);
  const live: MetricsRecord[] = [];
  let axis = sharedAxis([other, live]);
  const t0 = performance.now();
  for (let i = 0; i < 20000; i++) {
    live.push(record(0, { step: i + 1 }));
    axis = axisAfterAppend(axis, [other, live], live, live.length - 1);
  }
  const ms = performance.now() - t0;
  assert.equal(axis, 'step');
  assert.ok(ms < 1000, `took ${ms.toFixed(1)} ms`);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsRecord } from '../../src/core/runFormat';
import { appendRecords, collapsedLatents, emptySeries, epochRange, latentStats, SERIES_KEYS, seriesFromRecords } from '../../src/webview/series';
import { record } from './webview-testkit';

test('records become points: band = elbo ± 2 s.e., priors and decoder entropies negated, tolerance band ±tol·scale', () => {
  const r = record(3, { elbo: -50, elboStdErr: 0.25, hEnc: -4, hPrior: 2, hDec: -60, elboAtOptVariance: -49.5 });
  const s = seriesFromRecords([r], 0.01);
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
  const s = seriesFromRecords([r], 0.01);
  assert.equal(s.elbo.length, 0);
  assert.equal(s.elboUpper.length, 0, 'no band without an ELBO');
  assert.equal(s.gap.length, 0);
  assert.equal(s.elboOptVar.length, 0);
  assert.equal(s.entropySum.length, 1);
});

test('appending in pieces equals building at once, and keeps the same arrays (the charts hold them)', () => {
  const records = Array.from({ length: 25 }, (_, i) => record(i + 1));
  const once = seriesFromRecords(records, 0.02);
  const inc = emptySeries();
  const arrays = SERIES_KEYS.map((k) => inc[k]);
  appendRecords(inc, records.slice(0, 10), 0.02);
  appendRecords(inc, records.slice(10, 11), 0.02);
  appendRecords(inc, records.slice(11), 0.02);
  assert.deepEqual(inc, once);
  SERIES_KEYS.forEach((k, i) => assert.equal(inc[k], arrays[i], `${k} is the same array`));
});

// A rebuild per append would be quadratic (minutes here); the bound is loose because CI machines are shared.
test('appending 20 000 records one by one stays fast (linear, no rebuilds)', () => {
  const s = emptySeries();
  const records = Array.from({ length: 20000 }, (_, i) => record(i + 1));
  const t0 = performance.now();
  for (const r of records) appendRecords(s, [r], 0.01);
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

test('epochRange: all of training from 0, or the last fraction over all runs from a whole epoch', () => {
  const a = seriesFromRecords([record(1), record(100)], 0.01);
  const b = seriesFromRecords([record(5), record(200)], 0.01);
  assert.deepEqual(epochRange([a, b], 0.5), { min: 100, max: 200 });
  assert.deepEqual(epochRange([a, b], 0.1), { min: 180, max: 200 });
  assert.deepEqual(epochRange([a, b], 1), { min: 0, max: 200 });
  assert.deepEqual(epochRange([seriesFromRecords([record(50), record(60)], 0.01)], 1), { min: 50, max: 60 }, 'a resumed run starts where it starts');
  assert.deepEqual(epochRange([seriesFromRecords([record(3)], 0.01)], 0.5), { min: 3, max: 4 }, 'one pass still gets a range');
  assert.equal(epochRange([emptySeries()], 0.5), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelRun } from '../../src/core/panelProtocol';
import fc from 'fast-check';
import { parseMetricsJsonl, toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { placeholderRecord } from './protocol-samples';
import { applyTrainerEvent, isNewRecord, panelTitle } from '../../src/extension/panel/panelRunModel';

const rec = (epoch: number, step: number): MetricsRecord => placeholderRecord(epoch, step);
const run = (): PanelRun => ({
  runDir: '/r',
  name: 'r',
  modelType: 'VAE-1',
  backend: 'wasm',
  status: 'training',
  tolerance: 0.01,
  epochs: 10,
  records: [rec(0, 0), rec(1, 10)],
});

test('a record already read from disk is not appended twice when the trainer reports it', () => {
  const r = run();
  assert.equal(isNewRecord(r, rec(1, 10)), false);
  assert.deepEqual(applyTrainerEvent(r, { type: 'diagnostics', record: rec(1, 10) }), { kind: 'none' });
  const u = applyTrainerEvent(r, { type: 'diagnostics', record: rec(2, 20) });
  assert.equal(u.kind, 'append');
  assert.deepEqual(
    r.records.map((x) => x.epoch),
    [0, 1, 2],
  );
});

test('progress carries the run epochs; done ends training with the trainer message', () => {
  const r = run();
  const p = applyTrainerEvent(r, { type: 'progress', epoch: 3, epochFraction: 0.5, step: 25, samplesPerSec: 100, etaSeconds: 9, loss: 1 });
  assert.deepEqual(p, { kind: 'status', status: 'training', progress: { epoch: 3, epochs: 10, epochFraction: 0.5, samplesPerSec: 100, etaSeconds: 9 } });
  applyTrainerEvent(r, { type: 'error', message: 'data file not found\n  at stack', userError: true });
  const d = applyTrainerEvent(r, { type: 'done', status: 'failed', runDir: '/r' });
  assert.deepEqual(d, { kind: 'status', status: 'failed', message: 'data file not found' });
  assert.equal(r.status, 'failed');
});

test('panel titles name the run, or the compared runs', () => {
  assert.equal(panelTitle([{ name: 'swiss' }]), 'VAE Lens: swiss');
  assert.equal(panelTitle([{ name: 'a' }, { name: 'b' }]), 'VAE Lens: a vs b');
  assert.equal(panelTitle([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }]), 'VAE Lens: 4 runs');
});

test('the live panel keeps the passes a reread of the run keeps: a later epoch counts whatever its step (a step counter that restarts each epoch)', () => {
  // Each pass after the one before it by the reading rule: a later epoch at any step, or the same epoch at a later step.
  const passes = fc.array(fc.record({ nextEpoch: fc.boolean(), step: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 30 });
  fc.assert(
    fc.property(passes, fc.nat(), (moves, readAtRaw) => {
      const records: MetricsRecord[] = [];
      let epoch = 0;
      for (const m of moves) {
        const last = records[records.length - 1];
        if (last && (m.nextEpoch || m.step <= last.step)) epoch++;
        records.push(rec(epoch, m.step));
      }
      const readAt = readAtRaw % (records.length + 1);
      const fromDisk = parseMetricsJsonl(records.slice(0, readAt).map(toJsonLine).join('')).records;
      const live: PanelRun = { ...run(), records: fromDisk };
      // The trainer (or the follower of another writer) reports every pass, some of them already read.
      for (const r of records) applyTrainerEvent(live, { type: 'diagnostics', record: r });
      const reread = parseMetricsJsonl(records.map(toJsonLine).join('')).records;
      assert.deepEqual(
        live.records.map((r) => [r.epoch, r.step]),
        reread.map((r) => [r.epoch, r.step]),
      );
    }),
  );
});

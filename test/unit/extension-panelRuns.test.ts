import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelRun } from '../../src/core/panelProtocol';
import type { MetricsRecord } from '../../src/core/runFormat';
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

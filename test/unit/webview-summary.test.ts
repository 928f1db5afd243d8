import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtDuration, fmtNats, fmtPercent, fmtRate, MISSING } from '../../src/webview/format';
import { progressFraction, statusView } from '../../src/webview/status';
import { summaryRows } from '../../src/webview/summary';
import { panelRun, record } from './webview-testkit';

const cell = (rows: ReturnType<typeof summaryRows>, label: string, i = 0) => rows.find((r) => r.label === label)!.cells[i];

test("summary: one column per run from its latest record, with the paper's quantities", () => {
  const a = panelRun('a', [
    record(1),
    record(2, {
      elbo: -97.123456,
      elboStdErr: 0.0412,
      gapRel: 0.0042,
      sigma2: 0.0201,
      sigma2Opt: 0.0195,
      convergence: 'converged',
      convergenceReason: 'gap closed',
    }),
  ]);
  const b = panelRun('b', [], { backend: 'cpu' });
  const rows = summaryRows([a, b]);
  assert.deepEqual(
    rows.map((r) => r.label),
    ['ELBO', 'Entropy sum', 'H_enc', 'H_prior', 'H_dec', 'Gap', 'Gap (relative)', 'R_dec', 'R_prior', 'σ² / σ²*', 'Convergence', 'Backend', 'Samples/s'],
  );
  assert.equal(cell(rows, 'ELBO').text, '-97.123 ± 0.041');
  assert.equal(cell(rows, 'Gap (relative)').text, '0.42 %');
  assert.equal(cell(rows, 'Gap (relative)').tone, 'good');
  assert.equal(cell(rows, 'σ² / σ²*').text, '0.0201 / 0.0195');
  assert.deepEqual(cell(rows, 'Convergence'), { text: 'converged', detail: 'gap closed', tone: 'good' });
  assert.equal(cell(rows, 'Samples/s').text, '12.3k');
  assert.equal(cell(rows, 'ELBO', 1).text, MISSING, 'a run without passes shows dashes');
  assert.equal(cell(rows, 'Backend', 1).text, 'cpu');
});

test('summary: a gap above tolerance is flagged', () => {
  const rows = summaryRows([panelRun('a', [record(1, { gapRel: 0.05 })])]);
  assert.equal(cell(rows, 'Gap (relative)').tone, 'bad');
});

test('number formats', () => {
  assert.equal(fmtNats(592.1666), '592.17');
  assert.equal(fmtNats(-3.46123), '-3.461');
  assert.equal(fmtNats(0.00026), '2.60e-4');
  assert.equal(fmtNats(null), MISSING);
  assert.equal(fmtPercent(0.000013), '0.0013 %');
  assert.equal(fmtPercent(0.0702), '7.02 %');
  assert.equal(fmtRate(950), '950');
  assert.equal(fmtDuration(405), '6m 45s');
  assert.equal(fmtDuration(3725), '1h 02m');
});

test('status: training, convergence verdicts and failures read differently', () => {
  const conv = (c: 'converged' | 'not-converged' | 'stationary') => panelRun('a', [record(1, { convergence: c, convergenceReason: 'why' })]);
  assert.deepEqual(statusView({ ...conv('converged'), status: 'training' }), { label: 'Training', tone: 'active', detail: 'why' });
  assert.equal(statusView(conv('converged')).label, 'Converged');
  assert.equal(statusView(conv('not-converged')).tone, 'warn');
  assert.equal(statusView(conv('stationary')).label, 'Stationary, gap open');
  assert.deepEqual(statusView(panelRun('a', [], { status: 'failed', message: 'data file missing' })), {
    label: 'Failed',
    tone: 'bad',
    detail: 'data file missing',
  });
  assert.equal(statusView(panelRun('a', [], { status: 'stopped' })).label, 'Stopped');
});

test('progress fraction counts the epoch in progress and clamps', () => {
  assert.equal(progressFraction({ epoch: 1, epochs: 10, epochFraction: 0.5, samplesPerSec: 1, etaSeconds: 1 }), 0.05);
  assert.equal(progressFraction({ epoch: 10, epochs: 10, epochFraction: 1, samplesPerSec: 1, etaSeconds: 0 }), 1);
  assert.equal(progressFraction({ epoch: 12, epochs: 10, epochFraction: 0.5, samplesPerSec: 1, etaSeconds: 0 }), 1);
  assert.equal(progressFraction({ epoch: 0, epochs: 0, epochFraction: 0, samplesPerSec: 1, etaSeconds: 0 }), 0);
});

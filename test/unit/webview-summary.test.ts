import assert from 'node:assert/strict';
import { test } from 'node:test';
import { num } from '../../src/cli/format';
import { fmtDuration, fmtNats, fmtPercent, fmtRate, MISSING } from '../../src/webview/format';
import { progressFraction } from '../../src/core/wording';
import { statusView } from '../../src/webview/status';
import { summaryRows } from '../../src/webview/summary';
import { panelRun, record } from './webview-testkit';
import type { ConvergenceState } from '../../src/core/convergence';

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
    [
      'ELBO',
      'Entropy sum',
      'H_enc',
      'H_prior',
      'H_dec',
      'Gap',
      'Gap (relative)',
      'R_dec',
      'R_prior',
      'σ² / σ²*',
      'Convergence',
      'ELBO slope',
      'Averaged-weights gain',
      'Active units',
      'I(x; z)',
      'Mean-field gap',
      'H_enc per latent',
      'Validation ELBO',
      'Backend',
      'Samples/s',
    ],
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

test('summary: the evidence beside the gap, where the record has it', () => {
  const rows = summaryRows([
    panelRun('a', [
      record(1, {
        elbo: -5,
        averagedElbo: -4.9,
        activeUnits: 1,
        klPerLatent: [1, 0.001],
        mutualInformation: 2.5,
        miPoints: 512,
        elboSlope: 0.0012,
        elboSlopeStdErr: 0.0004,
        validationElbo: -5.2,
      }),
    ]),
    panelRun('b', [record(1)]),
  ]);
  assert.equal(cell(rows, 'Active units').text, '1 of 2');
  assert.equal(cell(rows, 'Averaged-weights gain').text, fmtNats(0.1));
  assert.match(cell(rows, 'I(x; z)').text, /^2\.5\d* \(512 points\)$/);
  assert.match(cell(rows, 'ELBO slope').text, /± .* \/epoch$/);
  assert.equal(cell(rows, 'Validation ELBO').text, fmtNats(-5.2));
  assert.equal(cell(rows, 'Active units', 1).text, MISSING, 'records from other trainers may lack the evidence');
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

test('generated nats values: in the panel and the CLI, two values a gap of 2e-6 of their size apart never read the same, up to 1e12 nats', () => {
  // ELBO and entropy sum of a model of images can be 1e5..1e7 nats, side by side in the header and the table.
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let i = 0; i < 20000; i++) {
    const v = (rnd() < 0.5 ? -1 : 1) * 10 ** (2 + rnd() * 10);
    const d = (rnd() < 0.5 ? -1 : 1) * (2e-6 * Math.abs(v) + 0.02) * (1 + rnd() * 3);
    assert.notEqual(fmtNats(v), fmtNats(v + d), `${v} and ${v + d}`);
    assert.notEqual(num(v), num(v + d), `CLI: ${v} and ${v + d}`);
  }
  assert.equal(fmtNats(123456.789), '123456.8');
  assert.equal(fmtNats(-1e7 - 3), '-10000003.0');
  assert.equal(fmtNats(-1e7), '-10000000.0');
});

test('generated latent counts: the per-latent encoder entropies fit a table cell and say how many latents there are', () => {
  for (const H of [1, 3, 10, 11, 500, 2000]) {
    const values = Array.from({ length: H }, (_, h) => 1.4 - h / 1000);
    const text = cell(summaryRows([panelRun('a', [record(1, { hEncPerLatent: values })])]), 'H_enc per latent').text;
    assert.ok(text.length < 120, `${H} latents: ${text.length} characters`);
    assert.ok(text.startsWith('1.4 1.4'.slice(0, H === 1 ? 3 : 7)), text);
    assert.equal(text.includes(`of ${H} latents`), H > 10, text);
  }
});

test('status: training, convergence verdicts and failures read differently', () => {
  const conv = (c: ConvergenceState) => panelRun('a', [record(1, { convergence: c, convergenceReason: 'Why.' })]);
  // While training, the latest pass's verdict and its reason.
  assert.deepEqual(statusView({ ...conv('improving'), status: 'training' }), {
    label: 'Training · still improving',
    tone: 'active',
    detail: 'still improving. Why.',
  });
  assert.deepEqual(statusView(conv('converged')), { label: 'Converged', tone: 'good', detail: 'Why.' });
  assert.equal(statusView(conv('not-converged')).tone, 'warn');
  assert.equal(statusView({ ...conv('stationary'), modelType: 'VAE-0' }).label, 'Stationary (VAE-0)');
  // Another model is stationary only outside the theorem or with its gap untested: no VAE-0 in its label.
  assert.equal(statusView(conv('stationary')).label, 'Stationary');
  assert.equal(statusView(conv('noise-limited')).label, "Stalled on the step's noise");
  assert.equal(statusView(conv('collapsed')).tone, 'warn');
  assert.deepEqual(statusView(panelRun('a', [], { status: 'failed', message: 'data file missing' })), {
    label: 'Failed',
    tone: 'bad',
    detail: 'data file missing',
  });
  assert.equal(statusView(panelRun('a', [], { status: 'stopped' })).label, 'Stopped');
});

test('progress fraction counts the epoch in progress and clamps', () => {
  assert.equal(progressFraction({ epoch: 1, epochs: 10, epochFraction: 0.5 }), 0.05);
  assert.equal(progressFraction({ epoch: 10, epochs: 10, epochFraction: 1 }), 1);
  assert.equal(progressFraction({ epoch: 12, epochs: 10, epochFraction: 0.5 }), 1);
  assert.equal(progressFraction({ epoch: 0, epochs: 0, epochFraction: 0 }), 0);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHART_IDS, elboChart, entropiesChart, gapChart, latentsChart, type RunView } from '../../src/webview/chartConfigs';
import { curveKind } from '../../src/webview/legend';
import { appendRecords, seriesFromRecords } from '../../src/webview/series';
import { PALETTE, panelRun, record } from './webview-testkit';

function view(name: string, n: number, colour = PALETTE.blue, over = {}): RunView {
  const run = panelRun(
    name,
    Array.from({ length: n }, (_, i) => record(i + 1, over)),
  );
  return { run, series: seriesFromRecords(run.records, run.tolerance), colour };
}

test('ELBO chart, one run: band edges, ELBO, entropy sum, ELBO at optimal variance; Chart.js set for big data', () => {
  const v = view('a', 5, PALETTE.blue, { elboAtOptVariance: -90 });
  const m = elboChart([v], PALETTE);
  assert.equal(m.id, CHART_IDS.elbo);
  assert.deepEqual(
    m.tracked.map((t) => t.label),
    ['ELBO ± 2 s.e.', 'ELBO ± 2 s.e. (lower edge)', 'ELBO', 'Entropy sum', 'ELBO at σ²*'],
  );
  const ds = m.config.data.datasets;
  assert.equal(ds[0].fill, '+1', 'the upper edge fills down to the lower edge');
  assert.deepEqual(ds[4].borderDash, [6, 4], 'ELBO at σ²* is dashed');
  const o = m.config.options!;
  assert.equal(o.parsing, false);
  assert.equal(o.normalized, true);
  assert.equal(o.animation, false);
  assert.equal(o.plugins?.decimation?.enabled, true);
  assert.equal((o.scales?.x as { type?: string }).type, 'linear', 'decimation needs a linear x axis');
});

test('charts hold the series arrays themselves: a pushed record shows up without rebuilding the config', () => {
  const v = view('a', 3);
  const charts = [elboChart([v], PALETTE), entropiesChart([v], PALETTE), gapChart([v], PALETTE)];
  appendRecords(v.series, [record(4, { elbo: 7, hDec: -9, gap: 0.25 })], v.run.tolerance);
  const last = (id: string, label: string) =>
    charts
      .find((c) => c.id === id)!
      .tracked.find((t) => t.label === label)!
      .data.at(-1);
  assert.deepEqual(last(CHART_IDS.elbo, 'ELBO'), { x: 4, y: 7 });
  assert.deepEqual(last(CHART_IDS.entropies, '−H_dec'), { x: 4, y: 9 });
  assert.deepEqual(last(CHART_IDS.gap, 'gap'), { x: 4, y: 0.25 });
  assert.equal(charts[0].config.data.datasets[2].data, v.series.elbo);
});

test('gap chart: tolerance band first (drawn under), then gap, R_dec, R_prior', () => {
  const m = gapChart([view('a', 2)], PALETTE);
  assert.deepEqual(
    m.tracked.map((t) => t.label),
    ['tolerance ±1 %', 'tolerance ±1 % (lower edge)', 'gap', 'R_dec', 'R_prior'],
  );
});

test('compare mode: one colour per run, every label names its run, ELBO and entropy sum for each', () => {
  const a = view('run-a', 3, PALETTE.blue);
  const b = view('run-b', 4, PALETTE.orange);
  const m = elboChart([a, b], PALETTE);
  const labels = m.tracked.map((t) => t.label);
  for (const name of ['run-a', 'run-b']) {
    assert.ok(labels.includes(`ELBO · ${name}`));
    assert.ok(labels.includes(`Entropy sum · ${name}`));
  }
  const ds = m.config.data.datasets;
  assert.equal(ds.find((d) => d.label === 'ELBO · run-a')!.borderColor, PALETTE.blue);
  assert.equal(ds.find((d) => d.label === 'Entropy sum · run-b')!.borderColor, PALETTE.orange);
  assert.equal(m.tracked.find((t) => t.label === 'ELBO · run-b')!.data.length, 4);
  assert.equal(curveKind('Entropy sum · run-b', true), 'Entropy sum');
  assert.equal(curveKind('ELBO ± 2 s.e. · run · x (lower edge)', true), 'ELBO ± 2 s.e. · run');
});

test('per-latent chart: m_h and KL_h bars, collapsed latents greyed and labelled, target line at a²_h', () => {
  const v = view('a', 2);
  const m = latentsChart([v], PALETTE);
  assert.equal(m.id, CHART_IDS.latents);
  assert.deepEqual(
    m.tracked.map((t) => t.label),
    ['m_h (second moment)', 'KL_h (nats)', 'a²_h (target of m_h)'],
  );
  assert.deepEqual(m.tracked[1].data, [
    { x: 0, y: 1.2 },
    { x: 1, y: 0.004 },
    { x: 2, y: 0.8 },
  ]);
  assert.deepEqual(
    m.tracked[2].data.map((p) => p.y),
    [1, 1, 1],
  );
  assert.deepEqual(m.config.data.labels, ['z0', ['z1', 'collapsed'], 'z2']);
  const colours = m.config.data.datasets[1].backgroundColor as string[];
  assert.equal(colours[0], PALETTE.orange);
  assert.notEqual(colours[1], PALETTE.orange, 'the collapsed bar has another colour');
  assert.deepEqual(m.collapsed(), [1]);
});

test('per-latent chart refreshes in place from the newest record', () => {
  const v = view('a', 1);
  const m = latentsChart([v], PALETTE);
  const klArray = m.tracked[1].data;
  v.run.records.push(record(2, { latentSecondMoment: [1, 1, 1, 0.2], klPerLatent: [0.001, 0.5, 0.5, 3], collapsedLatents: undefined }));
  m.refresh();
  assert.equal(m.tracked[1].data, klArray, 'same array');
  assert.deepEqual(
    klArray.map((p) => p.y),
    [0.001, 0.5, 0.5, 3],
  );
  assert.deepEqual(m.config.data.labels, [['z0', 'collapsed'], 'z1', 'z2', 'z3']);
  assert.deepEqual(m.collapsed(), [0]);
});

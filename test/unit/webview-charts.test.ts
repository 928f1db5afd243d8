import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHART_IDS, elboChart, entropiesChart, gapChart, latentsCaption, latentsChart, type RunView } from '../../src/webview/chartConfigs';
import { curveKind } from '../../src/webview/legend';
import { appendRecords, seriesFromRecords, type PassAxis } from '../../src/webview/series';
import { latestPassText } from '../../src/webview/table';
import { fmtNats } from '../../src/webview/format';
import { PALETTE, panelRun, record } from './webview-testkit';

function view(name: string, n: number, colour = PALETTE.blue, over = {}): RunView {
  const run = panelRun(
    name,
    Array.from({ length: n }, (_, i) => record(i + 1, over)),
  );
  return { run, series: seriesFromRecords(run.records, run.tolerance, 'epoch'), colour };
}

test('ELBO chart, one run: band edges, ELBO, entropy sum, ELBO at optimal variance; Chart.js set for big data', () => {
  const v = view('a', 5, PALETTE.blue, { elboAtOptVariance: -90 });
  const m = elboChart([v], PALETTE, 'epoch');
  assert.equal(m.id, CHART_IDS.elbo);
  assert.deepEqual(
    m.tracked.map((t) => t.label),
    ['ELBO ± 2 s.e.', 'ELBO ± 2 s.e. (lower edge)', 'ELBO', 'Entropy sum', 'ELBO at σ²*'],
  );
  const ds = m.config.data.datasets;
  assert.equal(ds[0].fill, '+1', 'the upper edge fills down to the lower edge');
  assert.deepEqual(ds[3].borderDash, [6, 4], 'the entropy sum is dashed');
  assert.deepEqual(ds[4].borderDash, [2, 3], 'ELBO at σ²* is dotted');
  const o = m.config.options!;
  assert.equal(o.parsing, false);
  assert.equal(o.normalized, true);
  assert.equal(o.animation, false);
  assert.equal(o.plugins?.decimation?.enabled, true);
  assert.equal((o.scales?.x as { type?: string }).type, 'linear', 'decimation needs a linear x axis');
});

test('charts hold the series arrays themselves: a pushed record shows up without rebuilding the config', () => {
  const v = view('a', 3);
  const charts = [elboChart([v], PALETTE, 'epoch'), entropiesChart([v], PALETTE, 'epoch'), gapChart([v], PALETTE, 'epoch')];
  appendRecords(v.series, [record(4, { elbo: 7, hDec: -9, gap: 0.25 })], v.run.tolerance, 'epoch', 3);
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
  const m = gapChart([view('a', 2)], PALETTE, 'epoch');
  assert.deepEqual(
    m.tracked.map((t) => t.label),
    ['tolerance ±1 %', 'tolerance ±1 % (lower edge)', 'gap', 'R_dec', 'R_prior'],
  );
});

test('compare mode: one colour per run, every label names its run, ELBO and entropy sum for each', () => {
  const a = view('run-a', 3, PALETTE.blue);
  const b = view('run-b', 4, PALETTE.orange);
  const m = elboChart([a, b], PALETTE, 'epoch');
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
  // KL_h bars are hollow: their outline has the colour, their fill a faint tint of it.
  const colours = m.config.data.datasets[1].borderColor as string[];
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

/** The x axis of the per-latent chart: its tick colour as Chart.js asks for it, and whether it thins its labels. */
function latentTicks(m: ReturnType<typeof latentsChart>) {
  const ticks = m.config.options!.scales!.x!.ticks as unknown as { color: (ctx: { index: number; tick: { value: number } }) => string; autoSkip: boolean };
  return { colourOf: (index: number, value: number) => ticks.color({ index, tick: { value } }), autoSkip: () => ticks.autoSkip };
}

test('generated latent counts: a red tick marks a collapsed latent even where Chart.js skips labels', () => {
  for (const H of [3, 16, 17, 48, 49, 200, 2000, 5000])
    for (const every of [2, 3, 7, 11]) {
      const kl = Array.from({ length: H }, (_, h) => (h % every === 1 ? 0.001 : 1));
      const v = view('a', 1, PALETTE.blue, { latentSecondMoment: kl.map(() => 1), klPerLatent: kl, collapsedLatents: undefined });
      const ticks = latentTicks(latentsChart([v], PALETTE));
      // With labels skipped, Chart.js passes the kept tick's place among the kept ticks as `index`, its latent as `tick.value`.
      const step = H > 48 ? Math.ceil(H / 20) : 1;
      for (let index = 0; index * step < H; index++) {
        const h = index * step;
        assert.equal(ticks.colourOf(index, h), h % every === 1 ? PALETTE.red : PALETTE.muted, `${H} latents, tick ${index} at z${h}`);
      }
    }
});

test('a live run whose first pass brings 2000 latents gets its latent labels thinned, as a run shown whole does', () => {
  // Chart.js copies the options when it makes the chart: what is set then must suit any latent count.
  const m = latentsChart([view('a', 0)], PALETTE);
  assert.equal(m.config.data.labels!.length, 0);
  assert.equal(latentTicks(m).autoSkip(), true);
});

test('generated latent counts: the per-latent caption names a few collapsed latents and counts the rest', () => {
  for (const H of [1, 3, 10, 11, 200, 2000, 5000])
    for (const every of [1, 2, 7]) {
      const collapsed = Array.from({ length: H }, (_, h) => h).filter((h) => h % every === 0);
      const text = latentsCaption(collapsed, H, H > 100 ? 'run-b' : undefined);
      assert.ok(text.length < 200, `${H} latents, ${collapsed.length} collapsed: ${text.length} characters`);
      assert.ok(text.startsWith(`${collapsed.length} of ${H} latents collapsed${H > 100 ? ' in run-b' : ''}: z0`), text);
      assert.equal(text.includes(`and ${collapsed.length - 10} more`), collapsed.length > 10, text);
    }
  assert.equal(latentsCaption([1], 3), '1 of 3 latents collapsed: z1 — KL_h ≈ 0, m_h ≈ a²_h.');
  assert.equal(latentsCaption([], 0), '');
  assert.match(latentsCaption([], 4), /^No collapsed latents \(all 4/);
});

// ---- the pass axis ----

const passesView = (name: string, passes: { epoch: number; step: number }[], axis: PassAxis): RunView => {
  const run = panelRun(
    name,
    passes.map((p) => record(p.epoch, { step: p.step })),
  );
  return { run, series: seriesFromRecords(run.records, run.tolerance, axis), colour: PALETTE.blue };
};

/** The tooltip title the chart shows for a point at `x`. */
function tooltipTitle(m: ReturnType<typeof elboChart>, x: number): string {
  const title = m.config.options!.plugins!.tooltip!.callbacks!.title as unknown as (items: { parsed: { x: number } }[]) => string;
  return title([{ parsed: { x } }]);
}

test('the x axis and the tooltips name what the passes are charted against', () => {
  const cases: { axis: PassAxis; passes: { epoch: number; step: number }[]; x: number; axisTitle: string; tooltip: string }[] = [
    { axis: 'epoch', passes: [0, 1, 2].map((e) => ({ epoch: e, step: e * 10 })), x: 2, axisTitle: 'epoch', tooltip: 'epoch 2' },
    { axis: 'epoch', passes: [0.1, 0.2, 0.1 + 0.2].map((e) => ({ epoch: e, step: 0 })), x: 0.1 + 0.2, axisTitle: 'epoch', tooltip: 'epoch 0.30' },
    { axis: 'step', passes: [100, 200, 300].map((step) => ({ epoch: 0, step })), x: 200, axisTitle: 'optimizer step', tooltip: 'step 200 (epoch 0)' },
    {
      axis: 'pass',
      passes: [
        { epoch: 0, step: 50 },
        { epoch: 1, step: 50 },
      ],
      x: 2,
      axisTitle: 'diagnostics pass',
      tooltip: 'pass 2 (epoch 1, step 50)',
    },
  ];
  for (const c of cases) {
    const v = passesView('a', c.passes, c.axis);
    for (const chart of [elboChart, entropiesChart, gapChart]) {
      const m = chart([v], PALETTE, c.axis);
      assert.equal((m.config.options!.scales!.x as { title: { text: string } }).title.text, c.axisTitle, `${m.id} on ${c.axis}`);
      assert.equal(tooltipTitle(m, c.x), c.tooltip, `${m.id} on ${c.axis}`);
    }
  }
  // Compared runs share the axis; a step names no single run's epoch.
  const both = [passesView('a', [{ epoch: 0, step: 100 }], 'step'), passesView('b', [{ epoch: 3, step: 100 }], 'step')];
  assert.equal(tooltipTitle(elboChart(both, PALETTE, 'step'), 100), 'step 100');
});

test('the summary table names the latest pass as the charts place it', () => {
  const run = (passes: { epoch: number; step: number }[]) =>
    panelRun(
      'a',
      passes.map((p) => record(p.epoch, { step: p.step })),
    );
  assert.equal(latestPassText(run([{ epoch: 3, step: 30 }]), 'epoch'), 'epoch 3');
  assert.equal(latestPassText(run([{ epoch: 0, step: 300 }]), 'step'), 'step 300 (epoch 0)');
  assert.equal(
    latestPassText(
      run([
        { epoch: 0, step: 5 },
        { epoch: 1, step: 5 },
      ]),
      'pass',
    ),
    'pass 2 (epoch 1, step 5)',
  );
  assert.equal(latestPassText(run([]), 'pass'), undefined);
});

/** The tooltip line the chart shows for a value `y` of the curve `label`. */
function tooltipLabel(m: ReturnType<typeof elboChart>, label: string, y: number): string {
  const line = m.config.options!.plugins!.tooltip!.callbacks!.label as unknown as (item: { dataset: { label: string }; parsed: { y: number } }) => string;
  return line({ dataset: { label }, parsed: { y } });
}

test("a tooltip's value in nats is written as the panel's tables write it, so close values of a large model differ", () => {
  const v = view('a', 3);
  // Values of image models (1e5..1e7 nats) a gap apart that six significant digits would make one.
  const pairs = [
    [-1e7, -1e7 + 3],
    [-1234567.8, -1234566.9],
    [-123456.78, -123455.91],
    [-98765.4, -98765.1],
  ];
  for (const chart of [elboChart, entropiesChart, gapChart]) {
    const m = chart([v], PALETTE, 'epoch');
    for (const [a, b] of pairs) {
      const [ta, tb] = [tooltipLabel(m, 'ELBO', a!), tooltipLabel(m, 'ELBO', b!)];
      assert.notEqual(ta, tb, `${m.id}: ${a} and ${b} read the same`);
      assert.equal(ta, ` ELBO: ${fmtNats(a)}`);
    }
    for (const y of [0.0123456, 1.5, -250.125, 1e-5, 2e9]) assert.equal(tooltipLabel(m, 'ELBO', y), ` ELBO: ${fmtNats(y)}`);
  }
});

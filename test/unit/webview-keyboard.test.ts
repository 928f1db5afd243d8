/**
 * The panel for a keyboard and for eyes that do not tell colours apart: what the legend buttons show
 * and toggle, how the toggles are saved, and what the image thumbnails are called. The pure parts;
 * the page itself is checked in test/e2e/features-panel-a11y.e2e.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPanelState } from '../../src/core/panelProtocol';
import { CHART_IDS, elboChart, entropiesChart, gapChart, latentsChart, type RunView } from '../../src/webview/chartConfigs';
import { hiddenFromState, hiddenToState } from '../../src/webview/hiddenCurves';
import { thumbnailName } from '../../src/webview/images';
import { datasetVisibility, legendEntries, type DatasetLook } from '../../src/webview/legend';
import { seriesFromRecords } from '../../src/webview/series';
import { PALETTE, panelRun, record } from './webview-testkit';

function view(name: string, colour: string): RunView {
  const run = panelRun(
    name,
    Array.from({ length: 4 }, (_, i) => record(i + 1, { elboAtOptVariance: -90 })),
  );
  return { run, series: seriesFromRecords(run.records, run.tolerance, 'epoch'), colour };
}

const chartsOf = (views: RunView[]) => [
  elboChart(views, PALETTE, 'epoch'),
  entropiesChart(views, PALETTE, 'epoch'),
  gapChart(views, PALETTE, 'epoch'),
  latentsChart(views, PALETTE),
];

/** How a curve is drawn apart from its colour: read from the dataset as Chart.js gets it. */
function shapeOf(ds: Record<string, unknown>): string {
  if (ds.fill === '+1') return 'area';
  if (ds.type === 'bar') return typeof ds.borderWidth === 'number' && ds.borderWidth > 0 ? 'hollow bar' : 'bar';
  if (ds.showLine === false) return `points ${String(ds.pointStyle)}`;
  return `line ${JSON.stringify(ds.borderDash ?? [])}`;
}

test('one run alone: the curves of every chart differ in more than their colour (dash, fill or marker)', () => {
  for (const chart of chartsOf([view('a', PALETTE.blue)])) {
    const datasets = chart.config.data.datasets as unknown as (Record<string, unknown> & { label?: string })[];
    const shown = datasets.filter((d) => !String(d.label).endsWith('(lower edge)'));
    const shapes = shown.map((d) => `${shapeOf(d)}`);
    const repeated = shapes.filter((s, i) => shapes.indexOf(s) !== i);
    assert.deepEqual(repeated, [], `${chart.id}: ${shown.map((d, i) => `${d.label} = ${shapes[i]}`).join('; ')}`);
  }
});

test('legend entries: one per kind of curve with points, in its colour and dash; in compare mode one per kind for every run', () => {
  const alone = elboChart([view('a', PALETTE.blue)], PALETTE, 'epoch');
  const entries = legendEntries(alone.config.data.datasets as unknown as DatasetLook[], PALETTE, false);
  assert.deepEqual(
    entries.map((e) => [e.kind, e.mark, e.dash.join(' ')]),
    [
      ['ELBO ± 2 s.e.', 'area', ''],
      ['ELBO', 'line', ''],
      ['Entropy sum', 'line', '6 4'],
      ['ELBO at σ²*', 'line', '2 3'],
    ],
  );
  assert.equal(entries[1]!.colour, PALETTE.blue, 'the ELBO key is drawn in the ELBO curve colour');
  assert.equal(entries[2]!.colour, PALETTE.orange);

  const compared = elboChart([view('a', PALETTE.blue), view('b', PALETTE.red)], PALETTE, 'epoch');
  const kinds = legendEntries(compared.config.data.datasets as unknown as DatasetLook[], PALETTE, true).map((e) => e.kind);
  assert.deepEqual(kinds, ['ELBO ± 2 s.e.', 'ELBO', 'Entropy sum', 'ELBO at σ²*'], 'no entry per run: the toolbar names the runs');

  const empty = legendEntries([{ label: 'ELBO at σ²*', data: [] }], PALETTE, false);
  assert.deepEqual(empty, [], 'a curve without points has no button');
  const latents = legendEntries(latentsChart([view('a', PALETTE.blue)], PALETTE).config.data.datasets as unknown as DatasetLook[], PALETTE, false);
  assert.deepEqual(
    latents.map((e) => e.mark),
    ['bar', 'hollow-bar', 'line'],
    'm_h solid, KL_h hollow, the target a line',
  );
});

test('toggling a kind of curve hides it in every compared run, and a band with both its edges', () => {
  const m = gapChart([view('a', PALETTE.blue), view('b', PALETTE.red)], PALETTE, 'epoch');
  const labels = m.tracked.map((t) => t.label);
  const shown = datasetVisibility(labels, true, new Set(['R_dec', 'tolerance ±1 %']));
  const hidden = labels.filter((_, i) => !shown[i]);
  assert.deepEqual(
    hidden.sort(),
    ['R_dec · a', 'R_dec · b', 'tolerance ±1 % · a (lower edge)', 'tolerance ±1 % · b (lower edge)', 'tolerance ±1 % · a', 'tolerance ±1 % · b'].sort(),
  );
  const alone = elboChart([view('a', PALETTE.blue)], PALETTE, 'epoch');
  const aloneShown = datasetVisibility(
    alone.tracked.map((t) => t.label),
    false,
    new Set(['ELBO']),
  );
  assert.deepEqual(
    alone.tracked.filter((_, i) => !aloneShown[i]).map((t) => t.label),
    ['ELBO'],
    'hiding ELBO leaves its band and ELBO at σ²*',
  );
});

test('compared runs: every dataset knows its run, and switching a run off hides all its curves and only them', () => {
  const views = [view('a', PALETTE.blue), view('b', PALETTE.red), view('c', PALETTE.green)];
  for (const chart of chartsOf(views)) {
    assert.equal(chart.runOf.length, chart.tracked.length, chart.id);
    chart.tracked.forEach((t, i) =>
      assert.ok(t.label.replace(' (lower edge)', '').endsWith(` · ${views[chart.runOf[i]!]!.run.name}`), `${chart.id}: ${t.label}`),
    );
    const shown = datasetVisibility(
      chart.tracked.map((t) => t.label),
      true,
      new Set(),
      chart.runOf,
      new Set([1]),
    );
    const off = chart.tracked.filter((_, i) => !shown[i]).map((t) => t.label);
    assert.ok(off.length > 0 && off.every((l) => /· b( \(lower edge\))?$/.test(l)), `${chart.id}: ${off.join(', ')}`);
    assert.equal(off.length, chart.tracked.filter((t) => /· b( \(lower edge\))?$/.test(t.label)).length);
  }
  const alone = elboChart([view('a', PALETTE.blue)], PALETTE, 'epoch');
  const shownAlone = datasetVisibility(
    alone.tracked.map((t) => t.label),
    false,
    new Set(),
    alone.runOf,
    new Set([0]),
  );
  assert.ok(shownAlone.every(Boolean), 'a run shown alone is never switched off');
});

test('the curves switched off are saved with the panel state and read back; a state from before them still restores the runs', () => {
  const hidden = new Map([
    [CHART_IDS.elbo, new Set(['ELBO', 'Entropy sum'])],
    [CHART_IDS.gap, new Set<string>()],
  ]);
  const saved = { runDirs: ['/r/a'], hiddenCurves: hiddenToState(hidden), hiddenRuns: ['/r/b'] };
  assert.ok(isPanelState(saved));
  assert.deepEqual(saved.hiddenCurves, [{ chart: CHART_IDS.elbo, curves: ['ELBO', 'Entropy sum'] }], 'charts with nothing hidden are left out');
  const reread: unknown = JSON.parse(JSON.stringify(saved));
  assert.ok(isPanelState(reread));
  const back = hiddenFromState(reread.hiddenCurves);
  assert.deepEqual([...back.get(CHART_IDS.elbo)!], ['ELBO', 'Entropy sum']);
  assert.ok(isPanelState({ runDirs: ['/r/a'] }), 'the state older panels saved');
  assert.ok(!isPanelState({ runDirs: [], hiddenCurves: [{ chart: CHART_IDS.elbo, curves: 'ELBO' }] }));
  assert.ok(!isPanelState({ runDirs: [], hiddenRuns: '/r/b' }));
  assert.equal(hiddenFromState([{ chart: 'chart-gone', curves: ['x'] }]).size, 0, 'a chart the panel no longer has is dropped');
  assert.equal(hiddenFromState(undefined).size, 0);
});

test('image thumbnails are named by what they show, which one, whose run and which pass', () => {
  const at = { runName: 'mnist-b', pass: 'epoch 12' };
  assert.equal(thumbnailName('originals', 0, 8, at), 'Training example 1 of 8, mnist-b, epoch 12');
  assert.equal(thumbnailName('reconstructions', 2, 8, at), 'Reconstruction of training example 3, mnist-b, epoch 12');
  assert.equal(thumbnailName('samples', 7, 8, at), 'Sample 8 of 8 from the prior, mnist-b, epoch 12');
  assert.equal(thumbnailName('samples', 0, 1, { runName: 'r' }), 'Sample 1 of 1 from the prior, r', 'no pass yet: none named');
});

/**
 * Chart.js configurations for the four diagnostics charts, built from run series and a palette.
 * No DOM and no Chart.js runtime here (types only), so the shape of every chart (which curves, which
 * labels, which bands) is unit-testable. The datasets hold the series arrays themselves: appending to
 * a RunSeries and calling chart.update('none') is the whole incremental path.
 */
import type { ChartConfiguration, ChartDataset, ChartOptions } from 'chart.js';
import type { PanelRun } from '../core/panelProtocol';
import type { MetricsRecord } from '../core/runFormat';
import { isLowerEdge, legendOptions, LOWER_EDGE_SUFFIX, RUN_SEPARATOR } from './legend';
import { fmtEpoch, fmtNats } from './format';
import { latentNames } from '../core/wording';
import { resumeEpochs } from '../core/sessionHistory';
import { COLLAPSE_KL_THRESHOLD, latentStats, PASS_AXIS_TEXT, passAt, resumeXs, type PassAxis, type RunSeries, type XY } from './series';
import { withAlpha, type Palette } from './theme';
import type { PointWords } from './chartCursor';

export const CHART_IDS = {
  elbo: 'chart-elbo',
  entropies: 'chart-entropies',
  gap: 'chart-gap',
  latents: 'chart-latents',
} as const;
export type ChartId = (typeof CHART_IDS)[keyof typeof CHART_IDS];

/** One run as the charts see it. */
export interface RunView {
  run: PanelRun;
  series: RunSeries;
  colour: string;
}

/** What the test hook reports for a dataset: its label and the full (undecimated) points. */
export interface TrackedDataset {
  label: string;
  data: XY[];
}

export interface ChartModel<T extends 'line' | 'bar' = 'line' | 'bar'> {
  id: ChartId;
  config: ChartConfiguration<T, XY[]>;
  /** Same order as config.data.datasets; the data arrays are shared with the config. */
  tracked: TrackedDataset[];
  /** For each dataset, the index of the run (among the views) it draws. */
  runOf: number[];
  /** Vertical marks on the pass axis: where a run was resumed. */
  marks?: AxisMark[];
  /** How its tooltip and its keyboard cursor name a place and write a value. */
  words: PointWords;
}

export interface AxisMark {
  x: number;
  colour: string;
  label: string;
}

/** Where each run was resumed (run.json's sessions after the first), on the pass axis; labelled with the run in compare mode. */
export function resumeMarks(views: readonly RunView[], axis: PassAxis, p: Palette): AxisMark[] {
  const compare = views.length > 1;
  return views.flatMap((v) =>
    resumeXs(v.run.records, resumeEpochs(v.run.sessions), axis).map((x) => ({
      x,
      colour: compare ? v.colour : p.muted,
      label: compare ? `resumed${RUN_SEPARATOR}${v.run.name}` : 'resumed',
    })),
  );
}

const DASHED = [6, 4];
const DOTTED = [2, 3];

type LineDataset = ChartDataset<'line', XY[]>;

/** In compare mode every label names its run; alone, labels stay short. */
const labelFor = (base: string, view: RunView, compare: boolean) => (compare ? `${base}${RUN_SEPARATOR}${view.run.name}` : base);

function line(label: string, data: XY[], colour: string, extra: Partial<LineDataset> = {}): LineDataset {
  return {
    type: 'line',
    label,
    data,
    borderColor: colour,
    backgroundColor: colour,
    borderWidth: 1.75,
    fill: false,
    ...extra,
  };
}

/** Two invisible edges with the area between them filled; the lower edge is hidden from the legend. */
function band(label: string, upper: XY[], lower: XY[], fillColour: string): [LineDataset, LineDataset] {
  const edge: Partial<LineDataset> = { borderColor: 'transparent', borderWidth: 0, pointRadius: 0, pointHoverRadius: 0, pointHitRadius: 0 };
  return [
    line(label, upper, fillColour, { ...edge, backgroundColor: fillColour, fill: '+1' }),
    line(`${label}${LOWER_EDGE_SUFFIX}`, lower, fillColour, { ...edge, fill: false }),
  ];
}

/**
 * Points are drawn only while curves are short enough for them to help. A plain number (not a
 * scriptable option) so Chart.js can share one options object across all points: per-point option
 * resolution costs more than drawing.
 */
export function pointRadiusFor(tracked: readonly TrackedDataset[]): number {
  return tracked.reduce((m, t) => Math.max(m, t.data.length), 0) <= 40 ? 2 : 0;
}

/**
 * A tooltip's title: the pass's place on the axis, and for one run off the epoch axis, the epoch (and
 * step) of the pass there too, so a pass is named as the run's writer named it.
 */
export function passTitle(views: readonly RunView[], axis: PassAxis, x: number): string {
  const unit = PASS_AXIS_TEXT[axis].unit;
  if (axis === 'epoch') return `${unit} ${fmtEpoch(x)}`;
  const pass = views.length === 1 ? passAt(views[0]!.run.records, axis, x) : undefined;
  if (!pass) return `${unit} ${x}`;
  return axis === 'step' ? `${unit} ${x} (epoch ${fmtEpoch(pass.epoch)})` : `${unit} ${x} (epoch ${fmtEpoch(pass.epoch)}, step ${pass.step})`;
}

/** The pass charts' words: a pass as passTitle names it, a value in nats as the panel's tables write it (fmtNats). */
export function passWords(views: readonly RunView[], axis: PassAxis): PointWords {
  return { title: (x) => passTitle(views, axis, x), value: (y) => fmtNats(y) };
}

/** Options of the charts in nats; a tooltip says a point in `words`. */
function lineOptions(p: Palette, yTitle: string, views: readonly RunView[], passAxis: PassAxis, words: PointWords): ChartOptions<'line'> {
  const compare = views.length > 1;
  const axis = {
    grid: { color: p.grid },
    border: { color: p.border },
    ticks: { color: p.muted, maxTicksLimit: 8 },
  };
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hoverRadius: 4, hitRadius: 6 }, line: { tension: 0 } },
    scales: {
      x: {
        type: 'linear',
        bounds: 'data',
        ...axis,
        ticks: { ...axis.ticks, precision: 0 },
        title: { display: true, text: PASS_AXIS_TEXT[passAxis].title, color: p.muted },
      },
      y: { type: 'linear', ...axis, title: { display: true, text: yTitle, color: p.muted } },
    },
    plugins: {
      decimation: { enabled: true, algorithm: 'min-max' },
      legend: legendOptions<'line'>(p, compare),
      tooltip: {
        filter: (item) => !isLowerEdge(item.dataset.label),
        callbacks: {
          title: (items) => (items.length && items[0].parsed.x !== null ? words.title(items[0].parsed.x) : ''),
          label: (item) => ` ${item.dataset.label}: ${words.value(Number(item.parsed.y))}`,
        },
      },
    },
  };
}

/** Append a run's datasets, noting which run (its index among the views) each one draws. */
function addFor<D>(ds: D[], runOf: number[], run: number, ...items: D[]): void {
  for (const d of items) {
    ds.push(d);
    runOf.push(run);
  }
}

/** A pass chart of these datasets (in nats, on `axis`), its y axis titled `yTitle`. */
function model(
  id: ChartId,
  datasets: LineDataset[],
  runOf: number[],
  views: readonly RunView[],
  axis: PassAxis,
  yTitle: string,
  p: Palette,
): ChartModel<'line'> {
  const tracked = datasets.map((d) => ({ label: d.label ?? '', data: d.data }));
  const words = passWords(views, axis);
  const options = lineOptions(p, yTitle, views, axis, words);
  options.elements!.point!.radius = pointRadiusFor(tracked);
  return { id, config: { type: 'line', data: { datasets }, options }, tracked, runOf, marks: resumeMarks(views, axis, p), words };
}

/** 1. The sampled ELBO (with ±2 s.e.) against the entropy sum: the theorem says they meet. */
export function elboChart(views: readonly RunView[], p: Palette, axis: PassAxis): ChartModel<'line'> {
  const compare = views.length > 1;
  const ds: LineDataset[] = [];
  const runOf: number[] = [];
  for (const [r, v] of views.entries()) {
    const elboColour = compare ? v.colour : p.blue;
    const sumColour = compare ? v.colour : p.orange;
    addFor(ds, runOf, r, ...band(labelFor('ELBO ± 2 s.e.', v, compare), v.series.elboUpper, v.series.elboLower, withAlpha(elboColour, compare ? 0.12 : 0.2)));
    addFor(ds, runOf, r, line(labelFor('ELBO', v, compare), v.series.elbo, elboColour, { borderWidth: 2 }));
    addFor(ds, runOf, r, line(labelFor('Entropy sum', v, compare), v.series.entropySum, sumColour, { borderWidth: 2, borderDash: DASHED }));
    addFor(ds, runOf, r, line(labelFor('ELBO at σ²*', v, compare), v.series.elboOptVar, elboColour, { borderDash: DOTTED, borderWidth: 1.25 }));
  }
  return model(CHART_IDS.elbo, ds, runOf, views, axis, 'nats per data point', p);
}

/** 2. The three entropy terms, signed as they enter H_enc − H_prior − H_dec. */
export function entropiesChart(views: readonly RunView[], p: Palette, axis: PassAxis): ChartModel<'line'> {
  const compare = views.length > 1;
  const ds: LineDataset[] = [];
  const runOf: number[] = [];
  for (const [r, v] of views.entries()) {
    addFor(ds, runOf, r, line(labelFor('H_enc', v, compare), v.series.hEnc, compare ? v.colour : p.green));
    addFor(ds, runOf, r, line(labelFor('−H_prior', v, compare), v.series.negHPrior, compare ? v.colour : p.purple, { borderDash: DOTTED }));
    addFor(ds, runOf, r, line(labelFor('−H_dec', v, compare), v.series.negHDec, compare ? v.colour : p.red, { borderDash: DASHED }));
  }
  return model(CHART_IDS.entropies, ds, runOf, views, axis, 'nats', p);
}

/** 3. ELBO − entropy sum and its exact split R_dec + R_prior, inside the tolerance band. */
export function gapChart(views: readonly RunView[], p: Palette, axis: PassAxis): ChartModel<'line'> {
  const compare = views.length > 1;
  const ds: LineDataset[] = [];
  const runOf: number[] = [];
  for (const [r, v] of views.entries()) {
    const tolPct = `${+(v.run.tolerance * 100).toPrecision(3)} %`;
    addFor(
      ds,
      runOf,
      r,
      ...band(
        labelFor(`tolerance ±${tolPct}`, v, compare),
        v.series.tolUpper,
        v.series.tolLower,
        withAlpha(compare ? v.colour : p.green, compare ? 0.07 : 0.13),
      ),
    );
  }
  for (const [r, v] of views.entries()) {
    addFor(ds, runOf, r, line(labelFor('gap', v, compare), v.series.gap, compare ? v.colour : p.foreground, { borderWidth: 2 }));
    addFor(ds, runOf, r, line(labelFor('R_dec', v, compare), v.series.rDec, compare ? v.colour : p.red, { borderDash: DASHED }));
    addFor(ds, runOf, r, line(labelFor('R_prior', v, compare), v.series.rPrior, compare ? v.colour : p.purple, { borderDash: DOTTED }));
  }
  return model(CHART_IDS.gap, ds, runOf, views, axis, 'nats', p);
}

// ---- per latent ----

type LatentDataset = ChartDataset<'bar' | 'line', XY[]>;

export interface LatentChartModel extends ChartModel<'bar' | 'line'> {
  /** Rewrites the datasets' points, colours and axis labels in place from each run's latest record. */
  refresh(): void;
  /** Collapsed latent indices of the first run (what the caption reports). */
  collapsed(): number[];
}

const last = (v: RunView): MetricsRecord | undefined => v.run.records[v.run.records.length - 1];

function replaceAll<T>(target: T[], items: T[]): void {
  target.splice(0, target.length, ...items);
}

/** The per-latent chart's caption: the collapsed latents of the first run (`runName` in compare mode), a few by name. */
export function latentsCaption(collapsed: readonly number[], H: number, runName?: string): string {
  const who = runName === undefined ? '' : ` in ${runName}`;
  if (H === 0) return '';
  if (collapsed.length === 0) return `No collapsed latents${who} (all ${H} have KL_h ≥ ${COLLAPSE_KL_THRESHOLD}).`;
  return `${collapsed.length} of ${H} latents collapsed${who}: ${latentNames(collapsed)} — KL_h ≈ 0, m_h ≈ a²_h.`;
}

/** 4. m_h against its target a²_h, and KL_h, per latent; collapsed latents greyed out and labelled. */
export function latentsChart(views: readonly RunView[], p: Palette): LatentChartModel {
  const compare = views.length > 1;
  const labels: (string | string[])[] = [];
  const collapsedOfFirst: number[] = [];
  /** Latents collapsed in every shown run that has them: only those are marked on the shared axis. */
  const collapsedEverywhere = new Set<number>();
  const activeSomewhere = new Set<number>();
  const ds: LatentDataset[] = [];
  const runOf: number[] = [];
  const refreshers: (() => void)[] = [];
  const greyed = withAlpha(p.muted, 0.45);

  for (const [r, v] of views.entries()) {
    const kl: XY[] = [];
    const klColours: string[] = [];
    /** Alone, KL_h bars are hollow beside the solid m_h bars: told apart by more than their colour. */
    const klFills: string[] = [];
    const mh: XY[] = [];
    const mhColours: string[] = [];
    const target: XY[] = [];
    const klColour = compare ? v.colour : p.orange;
    const mhColour = compare ? v.colour : p.blue;
    refreshers.push(() => {
      const rec = last(v);
      const stats = rec ? latentStats(rec) : [];
      replaceAll(
        kl,
        stats.filter((s) => Number.isFinite(s.kl)).map((s) => ({ x: s.index, y: s.kl })),
      );
      replaceAll(
        klColours,
        stats.filter((s) => Number.isFinite(s.kl)).map((s) => (s.collapsed ? greyed : klColour)),
      );
      replaceAll(
        klFills,
        klColours.map((c) => withAlpha(c, 0.25)),
      );
      replaceAll(
        mh,
        stats.filter((s) => Number.isFinite(s.secondMoment)).map((s) => ({ x: s.index, y: s.secondMoment })),
      );
      replaceAll(
        mhColours,
        stats.filter((s) => Number.isFinite(s.secondMoment)).map((s) => (s.collapsed ? greyed : mhColour)),
      );
      replaceAll(
        target,
        stats.map((s) => ({ x: s.index, y: s.priorVariance })),
      );
      for (const s of stats) (s.collapsed ? collapsedEverywhere : activeSomewhere).add(s.index);
      if (v === views[0])
        replaceAll(
          collapsedOfFirst,
          stats.filter((s) => s.collapsed).map((s) => s.index),
        );
    });
    if (compare) {
      addFor(ds, runOf, r, {
        type: 'bar',
        label: labelFor('KL_h', v, true),
        data: kl,
        backgroundColor: klColours,
        borderWidth: 0,
        yAxisID: 'kl',
        order: 2,
        pointStyle: 'rect',
      });
      addFor(ds, runOf, r, {
        type: 'line',
        label: labelFor('m_h', v, true),
        data: mh,
        borderColor: v.colour,
        backgroundColor: v.colour,
        showLine: false,
        pointRadius: 3.5,
        pointStyle: 'rectRot',
        yAxisID: 'y',
        order: 1,
      });
    } else {
      addFor(ds, runOf, r, {
        type: 'bar',
        label: 'm_h (second moment)',
        data: mh,
        backgroundColor: mhColours,
        borderWidth: 0,
        yAxisID: 'y',
        order: 2,
        pointStyle: 'rect',
      });
      addFor(ds, runOf, r, {
        type: 'bar',
        label: 'KL_h (nats)',
        data: kl,
        backgroundColor: klFills,
        borderColor: klColours,
        borderWidth: 1.5,
        yAxisID: 'kl',
        order: 2,
        pointStyle: 'rect',
      });
      addFor(ds, runOf, r, {
        type: 'line',
        label: 'a²_h (target of m_h)',
        data: target,
        borderColor: p.foreground,
        backgroundColor: p.foreground,
        borderDash: DASHED,
        borderWidth: 1.25,
        pointRadius: 0,
        pointStyle: 'line',
        stepped: 'middle',
        yAxisID: 'y',
        order: 1,
      });
    }
  }

  const refresh = () => {
    collapsedEverywhere.clear();
    activeSomewhere.clear();
    for (const r of refreshers) r();
    // In compare mode a latent active in one run is not collapsed on the axis (its bars say per run).
    for (const h of activeSomewhere) collapsedEverywhere.delete(h);
    const H = views.reduce((m, v) => Math.max(m, last(v)?.latentSecondMoment.length ?? 0, last(v)?.klPerLatent.length ?? 0), 0);
    // Many latents: bare indices (the axis title says what they are) and red ticks mark the collapsed.
    const name = (h: number) => (H > 16 ? String(h) : `z${h}`);
    replaceAll(
      labels,
      Array.from({ length: H }, (_, h) => (collapsedEverywhere.has(h) && H <= 16 ? [name(h), 'collapsed'] : name(h))),
    );
  };
  refresh();

  const words: PointWords = {
    title: (h) => `latent z${h}${collapsedEverywhere.has(h) ? ' (collapsed)' : ''}`,
    value: (y) => y.toPrecision(4),
  };
  const axis = { grid: { color: p.grid }, border: { color: p.border } };
  const options: ChartOptions<'bar' | 'line'> = {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: {
        type: 'category',
        ...axis,
        grid: { display: false },
        ticks: {
          // With labels thinned, a tick's `index` is its place among the kept ticks; `tick.value` is its latent.
          color: (ctx) => (ctx.tick && collapsedEverywhere.has(ctx.tick.value) ? p.red : p.muted),
          // Thinned only where they would overlap; Chart.js copies the options, so this cannot follow the latent count as passes arrive.
          autoSkip: true,
          maxRotation: 0,
        },
        title: { display: true, text: 'latent h', color: p.muted },
      },
      y: { type: 'linear', position: 'left', beginAtZero: true, ...axis, ticks: { color: p.muted }, title: { display: true, text: 'm_h', color: p.muted } },
      kl: {
        type: 'linear',
        position: 'right',
        beginAtZero: true,
        ...axis,
        grid: { display: false },
        ticks: { color: p.muted },
        title: { display: true, text: 'KL_h (nats)', color: p.muted },
      },
    },
    plugins: {
      legend: legendOptions<'bar' | 'line'>(p, compare),
      tooltip: {
        callbacks: {
          title: (items) => {
            const h = items[0]?.parsed.x;
            return typeof h === 'number' ? words.title(h) : '';
          },
          label: (item) => ` ${item.dataset.label}: ${words.value(Number(item.parsed.y))}`,
        },
      },
    },
  };
  return {
    id: CHART_IDS.latents,
    config: { type: 'bar', data: { labels, datasets: ds }, options },
    tracked: ds.map((d) => ({ label: d.label ?? '', data: d.data })),
    runOf,
    words,
    refresh,
    collapsed: () => [...collapsedOfFirst],
  };
}

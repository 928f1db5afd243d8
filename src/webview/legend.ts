/**
 * What each chart's legend says. Band edges and empty curves are left out; in compare mode, where
 * every run repeats the same curves in its own colour, there is one entry per kind of curve (drawn in
 * the foreground colour with the curve's dash pattern) and toggling it toggles that curve for every
 * run. The run colours themselves are shown once, in the toolbar.
 *
 * The panel shows the legend as buttons (legendButtons.ts); Chart.js draws its own legend only into
 * exported PNGs. Both read the entries from here, so they cannot disagree.
 */
import type { Chart, ChartType, LegendItem, LegendOptions, PointStyle } from 'chart.js';
import { withAlpha, type Palette } from './theme';

export const LOWER_EDGE_SUFFIX = ' (lower edge)';
export const RUN_SEPARATOR = ' · ';

export const isLowerEdge = (label: string | undefined) => !!label && label.endsWith(LOWER_EDGE_SUFFIX);

/** "ELBO · run-a" -> "ELBO"; a band's lower edge belongs to its band. */
export function curveKind(label: string, compare: boolean): string {
  const base = isLowerEdge(label) ? label.slice(0, -LOWER_EDGE_SUFFIX.length) : label;
  if (!compare) return base;
  const cut = base.lastIndexOf(RUN_SEPARATOR);
  return cut > 0 ? base.slice(0, cut) : base;
}

/** The parts of a Chart.js dataset the legend reads. */
export interface DatasetLook {
  label?: string;
  type?: string;
  fill?: unknown;
  borderColor?: unknown;
  backgroundColor?: unknown;
  borderDash?: number[];
  borderWidth?: unknown;
  pointStyle?: unknown;
  showLine?: boolean;
  data: readonly unknown[];
}

/** How an entry's key is drawn: a band is a filled area, a bar a filled (or hollow) box, points a marker, a line a stroke with its dash. */
export type CurveMark = 'area' | 'bar' | 'hollow-bar' | 'point' | 'line';

export interface LegendEntry {
  /** The curve kind (curveKind), which is also the button's text. */
  kind: string;
  mark: CurveMark;
  colour: string;
  /** Dash pattern of a line; empty for a solid one. */
  dash: number[];
  /** Marker shape of a points-only curve. */
  pointStyle?: string;
}

const firstColour = (c: unknown, fallback: string): string => (typeof c === 'string' ? c : Array.isArray(c) && typeof c[0] === 'string' ? c[0] : fallback);

function entryOf(ds: DatasetLook, p: Palette, compare: boolean): LegendEntry {
  const kind = curveKind(ds.label ?? '', compare);
  if (ds.fill === '+1') return { kind, mark: 'area', colour: compare ? withAlpha(p.foreground, 0.18) : firstColour(ds.backgroundColor, p.muted), dash: [] };
  if (ds.type === 'bar') {
    const hollow = typeof ds.borderWidth === 'number' && ds.borderWidth > 0;
    const colour = compare ? p.foreground : firstColour(hollow ? ds.borderColor : ds.backgroundColor, p.muted);
    return { kind, mark: hollow ? 'hollow-bar' : 'bar', colour, dash: [] };
  }
  const colour = compare ? p.foreground : firstColour(ds.borderColor, p.foreground);
  if (ds.showLine === false) return { kind, mark: 'point', colour, dash: [], pointStyle: typeof ds.pointStyle === 'string' ? ds.pointStyle : 'circle' };
  return { kind, mark: 'line', colour, dash: ds.borderDash ?? [] };
}

/** One entry per kind of curve that has points, in dataset order. */
export function legendEntries(datasets: readonly DatasetLook[], p: Palette, compare: boolean): LegendEntry[] {
  const seen = new Set<string>();
  const entries: LegendEntry[] = [];
  for (const ds of datasets) {
    if (isLowerEdge(ds.label) || ds.data.length === 0) continue;
    const entry = entryOf(ds, p, compare);
    if (seen.has(entry.kind)) continue;
    seen.add(entry.kind);
    entries.push(entry);
  }
  return entries;
}

/**
 * Which datasets to show when the kinds in `hidden` are switched off (a band's two edges go together),
 * and, when runs are compared, the runs in `hiddenRuns` (by index; `runOf` gives each dataset's run).
 */
export function datasetVisibility(
  labels: readonly string[],
  compare: boolean,
  hidden: ReadonlySet<string>,
  runOf: readonly number[] = [],
  hiddenRuns: ReadonlySet<number> = new Set(),
): boolean[] {
  return labels.map((label, i) => !hidden.has(curveKind(label, compare)) && !(compare && hiddenRuns.has(runOf[i] ?? -1)));
}

function legendItem(e: LegendEntry, index: number, hidden: boolean, p: Palette): LegendItem {
  const base = { text: e.kind, datasetIndex: index, hidden, fontColor: p.foreground, lineDash: [] as number[] };
  switch (e.mark) {
    case 'area':
    case 'bar':
      return { ...base, pointStyle: 'rect', fillStyle: e.colour, strokeStyle: e.colour, lineWidth: 0 };
    case 'hollow-bar':
      return { ...base, pointStyle: 'rect', fillStyle: withAlpha(e.colour, 0.25), strokeStyle: e.colour, lineWidth: 1.5 };
    case 'point':
      return { ...base, pointStyle: (e.pointStyle ?? 'circle') as PointStyle, fillStyle: e.colour, strokeStyle: e.colour, lineWidth: 1 };
    case 'line':
      return { ...base, pointStyle: 'line', fillStyle: e.colour, strokeStyle: e.colour, lineWidth: 2, lineDash: e.dash };
  }
}

/**
 * Chart.js's own legend: off on screen (the buttons replace it), drawn only while a chart is
 * rendered to a PNG, where it shows the curves as the buttons left them.
 */
export function legendOptions<T extends ChartType>(p: Palette, compare: boolean): Partial<LegendOptions<T>> {
  return {
    display: false,
    position: 'bottom',
    labels: {
      color: p.foreground,
      usePointStyle: true,
      pointStyleWidth: 18,
      boxHeight: 8,
      padding: 12,
      generateLabels: (chart: Chart) => {
        const datasets = chart.data.datasets as unknown as DatasetLook[];
        return legendEntries(datasets, p, compare).map((e) => {
          const index = datasets.findIndex((ds) => curveKind(ds.label ?? '', compare) === e.kind);
          return legendItem(e, index, !chart.isDatasetVisible(index), p);
        });
      },
    } as LegendOptions<T>['labels'],
    // Nothing to click: the legend is only ever drawn into an image.
    onClick: () => undefined,
  };
}

/**
 * Legends that stay short. Band edges and empty curves are left out; in compare mode, where every run
 * repeats the same curves in its own colour, there is one entry per kind of curve (drawn in the
 * foreground colour with the curve's dash pattern) and clicking it toggles that curve for every run.
 * The run colours themselves are shown once, in the toolbar.
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

interface DatasetLook {
  label?: string;
  type?: string;
  fill?: unknown;
  borderColor?: unknown;
  backgroundColor?: unknown;
  borderDash?: number[];
  pointStyle?: unknown;
  showLine?: boolean;
  data: unknown[];
}

const firstColour = (c: unknown, fallback: string): string => (typeof c === 'string' ? c : Array.isArray(c) && typeof c[0] === 'string' ? c[0] : fallback);

function legendItem(ds: DatasetLook, index: number, chart: Chart, p: Palette, compare: boolean): LegendItem {
  const text = curveKind(ds.label ?? '', compare);
  const hidden = !chart.isDatasetVisible(index);
  const base = { text, datasetIndex: index, hidden, fontColor: p.foreground, lineDash: [] as number[] };
  if (ds.fill === '+1') {
    const fill = compare ? withAlpha(p.foreground, 0.18) : firstColour(ds.backgroundColor, p.muted);
    return { ...base, pointStyle: 'rect', fillStyle: fill, strokeStyle: fill, lineWidth: 0 };
  }
  if (ds.type === 'bar') {
    const fill = compare ? p.foreground : firstColour(ds.backgroundColor, p.muted);
    return { ...base, pointStyle: 'rect', fillStyle: fill, strokeStyle: fill, lineWidth: 0 };
  }
  const stroke = compare ? p.foreground : firstColour(ds.borderColor, p.foreground);
  if (ds.showLine === false) {
    return { ...base, pointStyle: (ds.pointStyle as PointStyle) ?? 'circle', fillStyle: stroke, strokeStyle: stroke, lineWidth: 1 };
  }
  return { ...base, pointStyle: 'line', fillStyle: stroke, strokeStyle: stroke, lineWidth: 2, lineDash: ds.borderDash ?? [] };
}

export function legendOptions<T extends ChartType>(p: Palette, compare: boolean): Partial<LegendOptions<T>> {
  return {
    position: 'bottom',
    labels: {
      color: p.foreground,
      usePointStyle: true,
      pointStyleWidth: 18,
      boxHeight: 8,
      padding: 12,
      generateLabels: (chart: Chart) => {
        const seen = new Set<string>();
        const items: LegendItem[] = [];
        chart.data.datasets.forEach((raw, i) => {
          const ds = raw as unknown as DatasetLook;
          if (isLowerEdge(ds.label) || ds.data.length === 0) return;
          const kind = curveKind(ds.label ?? '', compare);
          if (seen.has(kind)) return;
          seen.add(kind);
          items.push(legendItem(ds, i, chart, p, compare));
        });
        return items;
      },
    } as LegendOptions<T>['labels'],
    onClick: (_event, item, legend) => {
      const chart = legend.chart;
      const show = !!item.hidden;
      chart.data.datasets.forEach((ds, i) => {
        if (curveKind(ds.label ?? '', compare) === item.text) chart.setDatasetVisibility(i, show);
      });
      chart.update('none');
    },
  };
}

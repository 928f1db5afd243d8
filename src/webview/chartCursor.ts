/**
 * Reading a chart point by point from the keyboard: which places a cursor can stop at, where a key
 * moves it, and what is said there. Pure (no DOM, no Chart.js runtime), so it is unit-testable; the
 * board (charts.ts) shows Chart.js's tooltip at the cursor and puts the words in a live region.
 */
import { isLowerEdge, LOWER_EDGE_SUFFIX } from './legend';
import type { XY } from './series';

/** How a chart names a place on its x axis and writes a value: shared by its tooltip and its cursor. */
export interface PointWords {
  title(x: number): string;
  value(y: number): string;
}

export interface CursorDataset {
  label: string;
  data: readonly XY[];
}

/** The keys the cursor answers, and what each does. */
export const CURSOR_KEYS_HELP =
  'Arrow keys move through the points, Home and End go to the first and the latest, Page Up and Page Down move by a tenth, Escape leaves.';

/**
 * The x values the cursor stops at: every x of a shown dataset, in order, within the axis range
 * shown (the zoom to the last part of training), once each.
 */
export function cursorStops(datasets: readonly CursorDataset[], shown: readonly boolean[], range: { min?: number; max?: number } = {}): number[] {
  const xs = new Set<number>();
  const lo = range.min ?? -Infinity;
  const hi = range.max ?? Infinity;
  datasets.forEach((d, i) => {
    if (!shown[i]) return;
    for (const p of d.data) if (Number.isFinite(p.x) && Number.isFinite(p.y) && p.x >= lo && p.x <= hi) xs.add(p.x);
  });
  return [...xs].sort((a, b) => a - b);
}

/**
 * Where a key moves the cursor among the stops; undefined for a key the cursor does not answer.
 * With no cursor yet, the first key lands on the latest point (what a user most often wants), or
 * on the first for Home. A cursor between stops (they moved) goes to the nearest.
 */
export function moveCursor(stops: readonly number[], current: number | undefined, key: string): number | undefined {
  const n = stops.length;
  if (n === 0) return undefined;
  const page = Math.max(1, Math.round(n / 10));
  const steps: Record<string, number> = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: page, PageDown: -page };
  if (key === 'Home') return stops[0];
  if (key === 'End') return stops[n - 1];
  const step = steps[key];
  if (step === undefined) return undefined;
  if (current === undefined) return stops[n - 1];
  const at = nearestIndex(stops, current);
  return stops[Math.min(n - 1, Math.max(0, at + step))];
}

/** The index of the stop nearest x (stops in order). */
export function nearestIndex(stops: readonly number[], x: number): number {
  let lo = 0;
  let hi = stops.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stops[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && Math.abs(stops[lo - 1]! - x) <= Math.abs(stops[lo]! - x) ? lo - 1 : lo;
}

/** The value a dataset has at x, if it has a point there. */
export function valueAt(data: readonly XY[], x: number): number | undefined {
  for (let i = data.length - 1; i >= 0; i--) if (data[i]!.x === x) return Number.isFinite(data[i]!.y) ? data[i]!.y : undefined;
  return undefined;
}

/**
 * The words for the point at x: "<place>: <curve> <value>, …, point k of n". A band (a dataset and
 * its lower edge) is said as the range between its edges; curves switched off are left out.
 */
export function pointReading(datasets: readonly CursorDataset[], shown: readonly boolean[], x: number, words: PointWords, stops: readonly number[]): string {
  const parts: string[] = [];
  datasets.forEach((d, i) => {
    if (!shown[i] || isLowerEdge(d.label)) return;
    const y = valueAt(d.data, x);
    if (y === undefined) return;
    const lower = datasets[i + 1]?.label === `${d.label}${LOWER_EDGE_SUFFIX}` ? valueAt(datasets[i + 1]!.data, x) : undefined;
    parts.push(lower === undefined ? `${d.label} ${words.value(y)}` : `${d.label} from ${words.value(lower)} to ${words.value(y)}`);
  });
  const k = stops.indexOf(x);
  const where = k >= 0 ? `, point ${k + 1} of ${stops.length}` : '';
  return `${words.title(x)}: ${parts.length ? parts.join(', ') : 'no shown curve has a point here'}${where}`;
}

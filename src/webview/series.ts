/**
 * Records -> chart points. Pure and DOM-free so it can be tested in node. The arrays built here are
 * the very arrays the charts hold, so appending a record is a push per series, never a rebuild.
 */
import type { MetricsRecord } from '../core/runFormat';
import { inEpochOrder, passesBefore } from '../core/sessionHistory';

export interface XY {
  x: number;
  y: number;
}

/** Every per-epoch curve the panel draws for one run. */
export interface RunSeries {
  elbo: XY[];
  /** elbo + 2 stderr and elbo - 2 stderr: the filled band. */
  elboUpper: XY[];
  elboLower: XY[];
  /** ELBO with the decoder variance at its optimum (when the trainer reports it). */
  elboOptVar: XY[];
  entropySum: XY[];
  hEnc: XY[];
  /** The prior and decoder entropies as they enter the sum: with a minus sign. */
  negHPrior: XY[];
  negHDec: XY[];
  gap: XY[];
  rDec: XY[];
  rPrior: XY[];
  /** ±tolerance·(|H_enc| + |H_prior| + |H_dec|): where the gap counts as closed. */
  tolUpper: XY[];
  tolLower: XY[];
}

export type SeriesKey = keyof RunSeries;

export const SERIES_KEYS: readonly SeriesKey[] = [
  'elbo',
  'elboUpper',
  'elboLower',
  'elboOptVar',
  'entropySum',
  'hEnc',
  'negHPrior',
  'negHDec',
  'gap',
  'rDec',
  'rPrior',
  'tolUpper',
  'tolLower',
];

export function emptySeries(): RunSeries {
  const s = {} as RunSeries;
  for (const k of SERIES_KEYS) s[k] = [];
  return s;
}

/** Writers store NaN/Infinity as null (JSON has neither); such values are skipped, not drawn as 0. */
const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function push(target: XY[], x: number, y: number | null | undefined): void {
  if (finite(y)) target.push({ x, y });
}

/** The scale the tolerance multiplies: |H_enc| + |H_prior| + |H_dec|. */
export function entropyScale(r: Pick<MetricsRecord, 'hEnc' | 'hPrior' | 'hDec'>): number {
  // A decoder outside the theorem has no entropy (null): the scale is the other two.
  return Math.abs(r.hEnc ?? 0) + Math.abs(r.hPrior ?? 0) + Math.abs(r.hDec ?? 0);
}

/**
 * What the x axis of the pass charts counts. Runs made elsewhere do not all advance their epoch from
 * pass to pass: a script may diagnose every N steps within an epoch, or pass one epoch number for
 * every pass. Charted against such epochs, passes would stack at one x; so each run is charted against
 * the first of these that orders its passes.
 */
export type PassAxis = 'epoch' | 'step' | 'pass';

/** The axis title, and the word for one unit of it (tooltips, the zoom buttons). */
export const PASS_AXIS_TEXT: Record<PassAxis, { title: string; unit: string; plural: string }> = {
  epoch: { title: 'epoch', unit: 'epoch', plural: 'epochs' },
  step: { title: 'optimizer step', unit: 'step', plural: 'steps' },
  pass: { title: 'diagnostics pass', unit: 'pass', plural: 'passes' },
};

/** Whether `field` rises strictly from each pass to the next (true for no or one pass). */
function advances(records: readonly MetricsRecord[], field: 'epoch' | 'step'): boolean {
  for (let i = 1; i < records.length; i++) if (!(records[i]![field] > records[i - 1]![field])) return false;
  return records.every((r) => finite(r[field]));
}

/** One run's axis: its epochs where they advance pass by pass (every run of our trainer), else its steps where those do, else the pass number. */
export function runAxis(records: readonly MetricsRecord[]): PassAxis {
  if (advances(records, 'epoch')) return 'epoch';
  return advances(records, 'step') ? 'step' : 'pass';
}

/**
 * The one axis compared runs share. Epochs where every run's advance: an epoch is the same amount of
 * data seen in every run. Else steps where every run's advance: a step is not the same amount of data
 * across batch sizes, but it is the one unit of training all runs count, and a run charted by epoch
 * can be charted by step as well when its steps advance. Else pass numbers: they line the passes up in
 * order only, but a run whose step counter restarts orders its passes by nothing else.
 */
export function sharedAxis(runs: readonly (readonly MetricsRecord[])[]): PassAxis {
  if (runs.every((r) => advances(r, 'epoch'))) return 'epoch';
  return runs.every((r) => advances(r, 'step')) ? 'step' : 'pass';
}

/**
 * Whether a run's passes from `from` on keep to `axis` (a pass number always does).
 */
function keepsAxis(axis: PassAxis, records: readonly MetricsRecord[], from: number): boolean {
  if (axis === 'pass') return true;
  for (let i = Math.max(from, 1); i < records.length; i++) if (!(records[i]![axis] > records[i - 1]![axis])) return false;
  return records.slice(from).every((r) => finite(r[axis]));
}

/**
 * The shared axis after passes were appended to one run (`appended`, from index `from`): the same
 * unless they break it, at the cost of the new passes only (a long live run appends one at a time).
 */
export function axisAfterAppend(current: PassAxis, runs: readonly (readonly MetricsRecord[])[], appended: readonly MetricsRecord[], from: number): PassAxis {
  return keepsAxis(current, appended, from) ? current : sharedAxis(runs);
}

/** Where a pass goes on the axis; `index` is its place in the run's records (0-based), pass numbers count from 1. */
export function passX(axis: PassAxis, record: MetricsRecord, index: number): number {
  return axis === 'epoch' ? record.epoch : axis === 'step' ? record.step : index + 1;
}

/**
 * Where on the axis a run was resumed at each of these epochs: at its pass of that epoch (the last
 * pass the resumed session started after), where the run keeps one.
 */
export function resumeXs(records: readonly MetricsRecord[], epochs: readonly number[], axis: PassAxis): number[] {
  const inOrder = inEpochOrder(records);
  return epochs.flatMap((e) => {
    let at = -1;
    if (inOrder) at = passesBefore(records, e, false) - 1;
    else
      records.forEach((r, i) => {
        if (r.epoch <= e) at = i;
      });
    const x = at >= 0 ? passX(axis, records[at]!, at) : undefined;
    return x !== undefined && finite(x) ? [axis === 'epoch' ? e : x] : [];
  });
}

/** The run's pass at `x` on the axis, if one is there (records are in axis order by construction). */
export function passAt(records: readonly MetricsRecord[], axis: PassAxis, x: number): MetricsRecord | undefined {
  let lo = 0;
  let hi = records.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = passX(axis, records[mid]!, mid);
    if (at === x) return records[mid];
    if (at < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * Add records to a run's series, in place. `firstIndex` is the place of the first of them in the
 * run's records (for pass numbers); the records follow each other in the run.
 */
export function appendRecords(s: RunSeries, records: readonly MetricsRecord[], tolerance: number, axis: PassAxis, firstIndex: number): void {
  records.forEach((r, i) => {
    const x = passX(axis, r, firstIndex + i);
    if (!finite(x)) return;
    push(s.elbo, x, r.elbo);
    if (finite(r.elbo) && finite(r.elboStdErr)) {
      s.elboUpper.push({ x, y: r.elbo + 2 * r.elboStdErr });
      s.elboLower.push({ x, y: r.elbo - 2 * r.elboStdErr });
    }
    push(s.elboOptVar, x, r.elboAtOptVariance);
    push(s.entropySum, x, r.entropySum);
    push(s.hEnc, x, r.hEnc);
    push(s.negHPrior, x, finite(r.hPrior) ? -r.hPrior : null);
    push(s.negHDec, x, finite(r.hDec) ? -r.hDec : null);
    push(s.gap, x, r.gap);
    push(s.rDec, x, r.rDec);
    push(s.rPrior, x, r.rPrior);
    const band = tolerance * entropyScale(r);
    if (finite(band)) {
      s.tolUpper.push({ x, y: band });
      s.tolLower.push({ x, y: -band });
    }
  });
}

/** A run's series on the given axis. */
export function seriesFromRecords(records: readonly MetricsRecord[], tolerance: number, axis: PassAxis): RunSeries {
  const s = emptySeries();
  appendRecords(s, records, tolerance, axis, 0);
  return s;
}

// ---- per latent ----

/** Below this KL_h (nats) a latent carries no information about x: posterior collapse. */
export const COLLAPSE_KL_THRESHOLD = 0.01;

export interface LatentStat {
  index: number;
  /** m_h = 1/N sum_n (nu_nh^2 + t_nh^2); NaN when not reported. */
  secondMoment: number;
  /** KL_h in nats; NaN when not reported. */
  kl: number;
  /** a_h^2: what m_h should equal at a stationary point (1 unless VAE-2). */
  priorVariance: number;
  collapsed: boolean;
}

/** The collapsed latents of a record: the trainer's list when it gives one, else KL_h below the threshold. */
export function collapsedLatents(r: Pick<MetricsRecord, 'klPerLatent' | 'collapsedLatents'>): Set<number> {
  if (Array.isArray(r.collapsedLatents)) return new Set(r.collapsedLatents.filter((h): h is number => Number.isInteger(h)));
  const out = new Set<number>();
  r.klPerLatent.forEach((kl, h) => {
    if (finite(kl) && kl < COLLAPSE_KL_THRESHOLD) out.add(h);
  });
  return out;
}

export function latentStats(r: MetricsRecord): LatentStat[] {
  const H = Math.max(r.latentSecondMoment.length, r.klPerLatent.length);
  const collapsed = collapsedLatents(r);
  const stats: LatentStat[] = [];
  for (let h = 0; h < H; h++) {
    const m = r.latentSecondMoment[h];
    const kl = r.klPerLatent[h];
    const a2 = r.priorVariance?.[h];
    stats.push({
      index: h,
      secondMoment: finite(m) ? m : NaN,
      kl: finite(kl) ? kl : NaN,
      priorVariance: finite(a2) ? a2 : 1,
      collapsed: collapsed.has(h),
    });
  }
  return stats;
}

/**
 * The x range to show: the last `fraction` of training over all runs (1 = all of it). Starts on a
 * whole unit (epoch, step, pass) so ticks stay round, or where the fraction spans less than one (a
 * run of fractional epochs), on a round tenth, hundredth..., so the zoom still zooms. Starts at 0
 * when training starts at 0 or 1. Undefined with no data.
 */
export function xRange(allSeries: readonly RunSeries[], fraction: number): { min: number; max: number } | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of allSeries) {
    const pts = s.elbo.length ? s.elbo : s.entropySum;
    if (pts.length === 0) continue;
    lo = Math.min(lo, pts[0].x);
    hi = Math.max(hi, pts[pts.length - 1].x);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return undefined;
  if (!(fraction > 0 && fraction < 1) || !(hi > lo)) return { min: lo <= 1 ? Math.min(0, lo) : lo, max: hi > lo ? hi : lo + 1 };
  const shown = (hi - lo) * fraction;
  const start = hi - shown;
  if (shown >= 1) return { min: Math.floor(start), max: hi };
  const scale = 10 ** -Math.floor(Math.log10(shown));
  const rounded = Math.floor(start * scale) / scale;
  // Where the scaled value loses digits (a tiny span far from 0) rounding may land past the start, or on NaN.
  return { min: rounded <= start ? rounded : start, max: hi };
}

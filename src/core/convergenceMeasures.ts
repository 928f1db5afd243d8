/**
 * What the convergence rule (convergence.ts) reads off a window of diagnostics passes: the trend's
 * positions (plain epochs, or epochs at the first pass's step), whether a slowing rise has ended,
 * a slow rise over the run's last quarter, the mean-field gap's trend, the averaging gain at the
 * last pass's step and the inactive latents. Numbers only; the rule decides and words them.
 */
import { COLLAPSE_KL_NATS } from './constants';
import { ACTIVE_UNIT_THRESHOLD, fitTrend, type TrendFit } from './evidence';

/** One diagnostics pass as the rule reads it: a record of the run format, or another writer's. */
export interface ConvergencePoint {
  elbo: number;
  /** NaN where the record has none (so are the gap terms). */
  elboStdErr: number;
  gap: number;
  gapStdErr: number;
  rDec: number;
  rPrior: number;
  hEnc: number;
  hPrior: number;
  hDec: number;
  /** Epoch of the pass (the trend is per epoch when present, else per pass). */
  epoch?: number;
  klPerLatent?: readonly (number | null)[];
  /** Var_n(nu_nh) per latent (the active-unit statistic). */
  latentMeanVariance?: readonly (number | null)[];
  /** ELBO of the weights averaged over the recent steps, on the pass's points and noise. */
  averagedElbo?: number | null;
  /** The learning rate at this pass, where the trainer records it. */
  learningRate?: number | null;
  /** What the diagonal encoder loses to the decoder's local posterior correlations (core/evidence.ts). */
  meanFieldGap?: number | null;
  /** The decoder is linear, so its optimum has no mean-field gap. */
  decoderLinear?: boolean | null;
  validationElbo?: number | null;
  /** The decoder variance (its mean over dimensions), the one its error asks for, and the ELBO there. */
  sigma2?: number | null;
  sigma2Opt?: number | null;
  elboAtOptVariance?: number | null;
}

/** How far back a slow rise is read when passes come often: this share of the epochs so far. */
const SLOW_RISE_SHARE_OF_RUN = 0.25;
/**
 * The most passes a slow rise is fitted on: a longer quarter is thinned evenly (every k-th pass back
 * from the last), so that a judgement's cost stays bounded while the fit still spans the quarter.
 */
const MAX_SLOW_RISE_PASSES = 100;

/**
 * Where the last quarter of the epochs so far starts among the first n passes, where it holds more
 * than the last 2w; else where the last 2w start. Only while the epochs advance pass by pass (they
 * place the quarter).
 */
export const slowRiseStart = (all: readonly ConvergencePoint[], n: number, w: number): number => startOfLast(SLOW_RISE_SHARE_OF_RUN, all, n, w);

/**
 * The same for the last half: what `noise-limited` reads, under a steady step, to tell whether
 * training longer would gain too (a rise the verdict does not act on: over half the run a decaying
 * approach reads as one that has not ended).
 */
export const halfRunStart = (all: readonly ConvergencePoint[], n: number, w: number): number => startOfLast(0.5, all, n, w);

function startOfLast(share: number, all: readonly ConvergencePoint[], n: number, w: number): number {
  let start = Math.max(0, n - 2 * w);
  const lastEpoch = all[n - 1]?.epoch;
  if (typeof lastEpoch !== 'number' || !Number.isFinite(lastEpoch) || lastEpoch <= 0) return start;
  const from = lastEpoch * (1 - share);
  while (start > 0) {
    const e = all[start - 1]!.epoch;
    const next = all[start]!.epoch;
    if (typeof e !== 'number' || typeof next !== 'number' || !(e < next) || e < from) break;
    start--;
  }
  return start;
}

/**
 * A rise over the last quarter of the run (passes `start` to n - 1, in plain epochs, thinned to
 * at most MAX_SLOW_RISE_PASSES) the way the 2w-pass trend tests one: beyond tNeeded s.e. and `needed`, and not ended, that is its last half not flat
 * beyond doubt over the quarter's width and no exponential approach through its halves with less
 * than `needed` left (riseLeft). Undefined where it does not rise so, or the epochs do not advance
 * pass by pass.
 */
export function slowRise(
  all: readonly ConvergencePoint[],
  start: number,
  n: number,
  noiseFloor: number,
  needed: number,
  tNeeded: number,
): { rise: number; fit: TrendFit; passes: number } | undefined {
  const stride = Math.ceil((n - start) / MAX_SLOW_RISE_PASSES);
  const passes: ConvergencePoint[] = [];
  for (let i = n - 1; i >= start; i -= stride) passes.unshift(all[i]!);
  const inEpochs = passesInEpochs(passes);
  if (!inEpochs) return undefined;
  const { xs, elbos } = inEpochs;
  const fit = fitTrend(xs, elbos, noiseFloor);
  const width = xs[xs.length - 1]! - xs[0]!;
  const rise = fit.slope * width;
  if (!(fit.n >= 3 && fit.slope > tNeeded * fit.slopeStdErr && rise > needed)) return undefined;
  const half = Math.floor(passes.length / 2);
  const lastHalf = fitTrend(xs.slice(-(half + 1)), elbos.slice(-(half + 1)), noiseFloor);
  if ((lastHalf.slope + 2 * lastHalf.slopeStdErr) * width < needed) return undefined;
  const left = riseLeft(xs, elbos, lastHalf, half, noiseFloor);
  if (left !== undefined && left.gain < needed) return undefined;
  return { rise, fit, passes: n - start };
}

/**
 * The mean without the largest and the smallest value (from 4 values on): signed jitter still
 * cancels, and one wild pass cannot open (or close) the gap for the w passes it stays in the window.
 */
export function trimmedMean(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const kept = s.length >= 4 ? s.slice(1, -1) : s;
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/**
 * The passes' positions in epochs at the first pass's learning rate: an epoch at a tenth of the step
 * counts a tenth (trapezoids between passes). Only for a step that never rises over the window (a
 * decaying schedule, a plateau's cuts): under a warm-up or a cyclic one a linear rise would read as
 * one slowing per unit of step, and be called ended while the ELBO still climbs. Plain epochs there,
 * and where a pass has no learning rate.
 */
export function atFirstStep(span: readonly ConvergencePoint[], epochs: readonly number[]): readonly number[] {
  const lr = span.map((p) => p.learningRate);
  if (!lr.every((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0)) return epochs;
  const ref = lr[0]!;
  if (lr.every((v) => v === ref) || lr.some((v, i) => i > 0 && v > lr[i - 1]!)) return epochs;
  const out = [epochs[0]!];
  for (let i = 1; i < span.length; i++) out.push(out[i - 1]! + ((epochs[i]! - epochs[i - 1]!) * (lr[i - 1]! + lr[i]!)) / 2 / ref);
  return out;
}

/**
 * What a rise that is slowing would still gain: the slope of the last w + 1 passes at most (plus 2
 * s.e.) against that of the first w + 1 at least (minus 2 s.e.). Where it fell, an exponential
 * approach y = A - B exp(-x / tau) with the rate of that fall, tau = dx / ln(first / last) with dx
 * between the two stretches' centres, has slope_last * tau * exp(-(x_now - centre_last) / tau)
 * left to gain after the last pass.
 * Nothing is left where the last stretch's upper bound is not above zero. Undefined where the window
 * is too short or shows no fall (a steady rise has no end in sight), and where the passes `before`
 * the window (w + 1, the last of them its first) deny the approach: going back from the first
 * stretch's centre by dx, its slope grows by first / last, so they must have risen at least
 * slope_first * exp(back / tau); rising slower than that (their slope plus 2 s.e.), the window's
 * slowing is a pause in a steadier rise, not its end. (The README's example, judged every epoch,
 * paused so for a few epochs mid-run and then rose another 0.07 nats.)
 */
export function riseLeft(
  xs: readonly number[],
  elbos: readonly number[],
  last: TrendFit,
  w: number,
  noiseFloor: number,
  before?: { xs: readonly number[]; elbos: readonly number[] },
): { gain: number; ratio: number } | undefined {
  if (xs.length < w + 3 || last.n < w + 1) return undefined;
  const first = fitTrend(xs.slice(0, w + 1), elbos.slice(0, w + 1), noiseFloor);
  const slopeFirst = first.slope - 2 * first.slopeStdErr;
  const slopeLast = last.slope + 2 * last.slopeStdErr;
  const centre = (v: readonly number[]) => (v[0]! + v[v.length - 1]!) / 2;
  const dx = centre(xs.slice(-(w + 1))) - centre(xs.slice(0, w + 1));
  if (!(slopeFirst > Math.max(slopeLast, 0) && dx > 0)) return undefined;
  const ratio = Math.max(slopeLast, 0) / slopeFirst;
  // A stop (ratio 0) is the limit tau -> 0: no rise before the window was steep enough for it.
  const tau = dx / -Math.log(ratio);
  if (before && before.xs.length >= 3) {
    const earlier = fitTrend(before.xs, before.elbos, noiseFloor);
    const back = centre(xs.slice(0, w + 1)) - centre(before.xs);
    if (back > 0 && earlier.slope + 2 * earlier.slopeStdErr < slopeFirst * Math.exp(back / tau)) return undefined;
  }
  if (ratio === 0) return { gain: 0, ratio: 0 };
  const since = xs[xs.length - 1]! - centre(xs.slice(-(w + 1)));
  return { gain: slopeLast * tau * Math.exp(-since / tau), ratio };
}

/** Passes' epochs and ELBOs, where the epochs advance pass by pass (else undefined). */
export function passesInEpochs(passes: readonly ConvergencePoint[]): { xs: number[]; elbos: number[] } | undefined {
  const xs = passes.map((p) => p.epoch);
  if (!xs.every((e, i): e is number => typeof e === 'number' && Number.isFinite(e) && (i === 0 || e > xs[i - 1]!))) return undefined;
  return { xs, elbos: passes.map((p) => p.elbo) };
}

/** A recorded mean-field gap: a KL, so finite and not negative (another writer's odd value counts as none). */
const isGap = (g: number | null | undefined): g is number => typeof g === 'number' && Number.isFinite(g) && g >= 0;

/**
 * The last pass's mean-field gap, whether the decoder is linear, and the gap's fall over the window
 * where it falls beyond 2 s.e. (read along `xs`, the positions the ELBO's trend uses). Undefined
 * where the last pass has no gap.
 */
export function meanFieldTrend(span: readonly ConvergencePoint[], xs: readonly number[]): { gap: number; fall?: number; linear: boolean } | undefined {
  const gaps = span.map((p) => p.meanFieldGap);
  const gap = gaps[gaps.length - 1];
  if (!isGap(gap)) return undefined;
  const linear = span[span.length - 1]!.decoderLinear === true;
  let fall: number | undefined;
  if (span.length >= 3 && gaps.every(isGap)) {
    const fit = fitTrend(xs, gaps as number[]);
    const width = xs[xs.length - 1]! - xs[0]!;
    if (fit.slope + 2 * fit.slopeStdErr < 0) fall = -fit.slope * width;
  }
  return { gap, fall, linear };
}

/**
 * The averaging gain at the last pass's step, on a falling one: the mean over the last w passes is
 * the gain at their mean learning rate, and the gain falls with the step (under the step's noise
 * the excess loss goes about as the step), so it is scaled by the last pass's rate over their mean.
 * At least the last pass's own gain: weights that sit further below their average than the
 * window's were have that much to regain. The plain mean where a pass has no learning rate.
 */
export function gainAtStep(recent: readonly ConvergencePoint[], gains: readonly number[], mean: number): number {
  const lr = recent.map((p) => p.learningRate);
  if (lr.some((v) => typeof v !== 'number' || !(v > 0)) || gains.length === 0) return mean;
  const lrMean = (lr as number[]).reduce((a, b) => a + b, 0) / lr.length;
  return Math.max((mean * (lr[lr.length - 1] as number)) / lrMean, gains[gains.length - 1]!);
}

/** The learning rate at the last pass over the one at the first, where both are recorded (else 1: a steady step). */
export function stepRatio(span: readonly ConvergencePoint[]): number {
  const first = span[0]?.learningRate;
  const last = span[span.length - 1]?.learningRate;
  return typeof first === 'number' && typeof last === 'number' && first > 0 ? last / first : 1;
}

/** Latents without information at this pass: KL_h below 0.01 nats, or posterior means that do not vary. */
export function inactiveLatents(p: ConvergencePoint): number[] {
  const H = Math.max(p.klPerLatent?.length ?? 0, p.latentMeanVariance?.length ?? 0);
  const out: number[] = [];
  for (let h = 0; h < H; h++) {
    const kl = p.klPerLatent?.[h];
    const act = p.latentMeanVariance?.[h];
    if ((typeof kl === 'number' && kl < COLLAPSE_KL_NATS) || (typeof act === 'number' && act <= ACTIVE_UNIT_THRESHOLD)) out.push(h);
  }
  return out;
}

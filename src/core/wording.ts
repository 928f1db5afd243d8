/**
 * The one wording of durations, training progress, the gap percent, plain numbers and run states, for
 * every surface: the CLI, the status bar / CodeLens / runs view, and the panel. Pure, and free of DOM
 * and Node so the panel's browser bundle compiles it too. The verdict's wording is core/verdictText.ts.
 */
import type { RunStatus } from './runFormat';

/** "1 row", "3 rows": a count and its noun, singular for one (plural: the noun's plural when not noun + "s"). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** Latents named in running text at most: a model of 2000 latents would otherwise fill the page with names. */
export const LATENTS_NAMED = 10;

/** "z1, z4, z7" — the first LATENTS_NAMED of them, and how many more ("z0, …, z45 and 390 more"). */
export function latentNames(indices: readonly number[]): string {
  const named = indices
    .slice(0, LATENTS_NAMED)
    .map((h) => `z${h}`)
    .join(', ');
  return indices.length > LATENTS_NAMED ? `${named} and ${indices.length - LATENTS_NAMED} more` : named;
}

/** 3725 -> "1h 02m", 95 -> "1m 35s", 7 -> "7s"; `missing` for an unknown or negative duration. */
export function formatDuration(seconds: number | null | undefined, missing = '?'): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return missing;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Where a training is: `epoch` is the 1-based epoch in progress (0 reads as "before the first"). */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  epochFraction: number;
}

/** The 0..1 fraction of the whole training done: (epoch − 1 + epochFraction) / epochs, clamped. */
export function progressFraction(p: EpochProgress): number {
  if (!(p.epochs > 0)) return 0;
  const done = (Math.max(p.epoch, 1) - 1 + Math.min(Math.max(p.epochFraction, 0), 1)) / p.epochs;
  return Math.min(Math.max(done, 0), 1);
}

/*
 * A training script's run says nothing of its data, epochs, speed or time left until its own run.json
 * and records do: until then the trainer's events carry 0 for them. Those zeros are "not known", never
 * figures to show; these say which figures are.
 */

/** Whether a run's data are known: a script's run has neither count nor dimension until its run.json. */
export const datasetKnown = (d: { n: number; dim: number }): boolean => d.n > 0 || d.dim > 0;

/** "epoch 3/50"; "epoch 3" while the number of epochs is not known; undefined before the first epoch of such a run. */
export function epochText(p: { epoch: number; epochs: number }, format: (epoch: number) => string = String): string | undefined {
  if (p.epochs > 0) return `epoch ${format(Math.max(p.epoch, 1))}/${p.epochs}`;
  return p.epoch > 0 ? `epoch ${format(p.epoch)}` : undefined;
}

/** A measured speed: a script's record without one arrives as 0. */
export const rateKnown = (samplesPerSec: number | undefined): samplesPerSec is number =>
  samplesPerSec !== undefined && Number.isFinite(samplesPerSec) && samplesPerSec > 0;

/** Time left is known only against a known number of epochs, and from a measured pace (a script's run without them reports 0). */
export const etaKnown = (p: { epochs: number; etaSeconds?: number }): boolean =>
  p.epochs > 0 && p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds) && p.etaSeconds > 0;

/** gapRel (a fraction, either sign) as a percentage of |terms|, with enough digits to be useful near zero. */
export function formatGapPercent(gapRel: number | null | undefined): string {
  if (gapRel === null || gapRel === undefined || !Number.isFinite(gapRel)) return 'n/a';
  const pct = Math.abs(gapRel) * 100;
  if (pct >= 10) return `${pct.toFixed(0)}%`;
  if (pct >= 0.1 || pct === 0) return `${pct.toFixed(1)}%`;
  return `${pct.toPrecision(1)}%`;
}

/** A number in prose: `digits` significant digits, an exponent when very large or small. */
export function formatNumber(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

/** A run's state in words (lower case; `training`: a trainer of this window is writing it). */
export const RUN_STATUS_LABEL: Readonly<Record<RunStatus | 'training', string>> = {
  training: 'training',
  running: 'running elsewhere',
  stopped: 'stopped',
  completed: 'completed',
  failed: 'failed',
  diverged: 'diverged',
};

/** "stopped" -> "Stopped", for badges and headings. */
export const capitalised = (text: string): string => (text ? text[0]!.toUpperCase() + text.slice(1) : text);

/** How a run's state reads in the header: a label, a tone the stylesheet colours, and progress. Pure. */
import type { PanelRun, TrainingProgress } from '../core/panelProtocol';
import { verdictLabel, verdictLine, verdictTone } from '../core/verdictText';
import { fmtDuration, fmtEpoch, fmtRate } from './format';

export type StatusTone = 'active' | 'good' | 'warn' | 'bad' | 'neutral';

export interface StatusView {
  label: string;
  tone: StatusTone;
  /** Why (the convergence reason or the trainer's message). */
  detail?: string;
}

export function statusView(run: PanelRun): StatusView {
  const rec = run.records[run.records.length - 1];
  const reason = rec?.convergenceReason;
  switch (run.status) {
    case 'training':
      return {
        label: rec?.convergence ? `Training · ${verdictLabel(rec.convergence)}` : 'Training',
        tone: 'active',
        detail: run.message ?? (reason && verdictLine(rec?.convergence, reason)),
      };
    case 'running':
      return { label: 'Running elsewhere', tone: 'active', detail: run.message ?? 'the run folder is still being written by another process' };
    case 'stopped':
      return { label: 'Stopped', tone: 'neutral', detail: run.message ?? reason };
    case 'failed':
      return { label: 'Failed', tone: 'bad', detail: run.message };
    case 'diverged':
      return { label: 'Diverged', tone: 'bad', detail: run.message ?? 'the loss became non-finite' };
    case 'completed': {
      if (!rec?.convergence) return { label: 'Completed', tone: 'neutral', detail: reason ?? run.message };
      // The shared wording (core/verdictText.ts), capitalised for a badge.
      const label = verdictLabel(rec.convergence);
      return { label: label[0]!.toUpperCase() + label.slice(1), tone: verdictTone(rec.convergence), detail: reason };
    }
    default:
      return { label: String(run.status), tone: 'neutral', detail: run.message };
  }
}

/**
 * Fraction of training done. `epoch` is taken as the 1-based number of the epoch in progress
 * (0 is read as "before the first"), so (epoch − 1 + epochFraction) / epochs.
 */
export function progressFraction(p: TrainingProgress): number {
  if (!(p.epochs > 0)) return 0;
  const done = (Math.max(p.epoch, 1) - 1 + Math.min(Math.max(p.epochFraction, 0), 1)) / p.epochs;
  return Math.min(Math.max(done, 0), 1);
}

export function progressText(p: TrainingProgress): string {
  return `epoch ${fmtEpoch(p.epoch)}/${p.epochs} · ${fmtRate(p.samplesPerSec)} samples/s · ETA ${fmtDuration(p.etaSeconds)}`;
}

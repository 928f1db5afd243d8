/** How a run's state reads in the header: a label, a tone the stylesheet colours, and progress. Pure. */
import type { PanelRun, TrainingProgress } from '../core/panelProtocol';
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
      return { label: 'Training', tone: 'active', detail: run.message ?? reason };
    case 'running':
      return { label: 'Running elsewhere', tone: 'active', detail: run.message ?? 'the run folder is still being written by another process' };
    case 'stopped':
      return { label: 'Stopped', tone: 'neutral', detail: run.message ?? reason };
    case 'failed':
      return { label: 'Failed', tone: 'bad', detail: run.message };
    case 'diverged':
      return { label: 'Diverged', tone: 'bad', detail: run.message ?? 'the loss became non-finite' };
    case 'completed': {
      switch (rec?.convergence) {
        case 'converged':
          return { label: 'Converged', tone: 'good', detail: reason };
        case 'not-converged':
          return { label: 'Not converged', tone: 'warn', detail: reason };
        case 'stationary':
          return { label: 'Stationary, gap open', tone: 'warn', detail: reason };
        default:
          return { label: 'Completed', tone: 'neutral', detail: reason ?? run.message };
      }
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

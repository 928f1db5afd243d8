/** How a run's state reads in the header: a label, a tone the stylesheet colours, and progress. Pure. */
import type { PanelRun, TrainingProgress } from '../core/panelProtocol';
import { verdictLabel, verdictLine, verdictTone } from '../core/verdictText';
import { capitalised, epochText, etaKnown, progressFraction, rateKnown, RUN_STATUS_LABEL } from '../core/wording';
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
        label: `${capitalised(RUN_STATUS_LABEL.training)}${rec?.convergence ? ` · ${verdictLabel(rec.convergence, run)}` : ''}`,
        tone: 'active',
        detail: run.message ?? (reason && verdictLine(rec?.convergence, reason, run)),
      };
    case 'running':
      return {
        label: capitalised(RUN_STATUS_LABEL.running),
        tone: 'active',
        detail: run.message ?? 'the run folder is still being written by another process',
      };
    case 'stopped':
      return { label: capitalised(RUN_STATUS_LABEL.stopped), tone: 'neutral', detail: run.message ?? reason };
    case 'failed':
      return { label: capitalised(RUN_STATUS_LABEL.failed), tone: 'bad', detail: run.message };
    case 'diverged':
      return { label: capitalised(RUN_STATUS_LABEL.diverged), tone: 'bad', detail: run.message ?? 'the loss became non-finite' };
    case 'completed': {
      if (!rec?.convergence) return { label: capitalised(RUN_STATUS_LABEL.completed), tone: 'neutral', detail: reason ?? run.message };
      // The shared wording (core/verdictText.ts), capitalised for a badge.
      const label = verdictLabel(rec.convergence, run);
      return { label: capitalised(label), tone: verdictTone(rec.convergence), detail: reason };
    }
    default:
      return { label: String(run.status), tone: 'neutral', detail: run.message };
  }
}

export function progressText(p: TrainingProgress): string {
  const parts = [epochText(p, fmtEpoch) ?? 'starting…'];
  if (rateKnown(p.samplesPerSec)) parts.push(`${fmtRate(p.samplesPerSec)} samples/s`);
  if (etaKnown(p)) parts.push(`ETA ${fmtDuration(p.etaSeconds)}`);
  return parts.join(' · ');
}

/**
 * What the panel's polite live region says: each run's name and state in words. It holds no number
 * that moves each pass, so a screen reader hears it when a run starts, stops or its verdict changes.
 */
export function liveAnnouncement(runs: readonly PanelRun[]): string {
  return runs.map((run) => `${run.name}: ${statusView(run).label}`).join('; ');
}

/**
 * The progress bar's ARIA attributes: a name, and the epoch and ETA in words. Before the first
 * report the bar is indeterminate, so it has no value rather than a false 0 %.
 */
export function progressBarAttributes(p: TrainingProgress | undefined): Record<string, string> {
  const base = { role: 'progressbar', 'aria-label': 'Training progress', 'aria-valuemin': '0', 'aria-valuemax': '100' };
  if (!p) return { ...base, 'aria-valuetext': 'starting' };
  return { ...base, 'aria-valuenow': (progressFraction(p) * 100).toFixed(0), 'aria-valuetext': progressText(p) };
}

/**
 * Building and updating the panel's view of a run (PanelRun) from a run folder and from
 * trainer events. Pure (no vscode), unit-tested: the panel class only moves messages.
 */
import type { PanelRun, TrainingProgress } from '../../core/panelProtocol';
import type { FromTrainer } from '../../core/protocol';
import type { MetricsRecord } from '../../core/runFormat';

/**
 * A record the run does not have yet (trainer events may repeat what was already read from disk): one
 * after its last by the rule the run readers keep passes by (addRecord), a later epoch at any step or
 * the same epoch at a later step, so the live panel shows the passes a reread would.
 */
export function isNewRecord(run: PanelRun, record: MetricsRecord): boolean {
  const last = run.records[run.records.length - 1];
  if (!last) return true;
  return record.epoch > last.epoch || (record.epoch === last.epoch && record.step > last.step);
}

/** What a trainer event changes in a shown run, as the message(s) to send the webview. */
export type PanelUpdate =
  | { kind: 'append'; records: MetricsRecord[] }
  | { kind: 'status'; status: PanelRun['status']; message?: string; progress?: TrainingProgress }
  | { kind: 'images' }
  | { kind: 'none' };

/** Applies a trainer event to `run` in place and says what to tell the webview. */
export function applyTrainerEvent(run: PanelRun, event: FromTrainer): PanelUpdate {
  switch (event.type) {
    case 'started':
      run.status = 'training';
      run.backend = event.backend;
      run.dataset = event.dataset;
      run.epochs = event.epochs;
      return { kind: 'status', status: 'training' };
    case 'progress':
      run.status = 'training';
      return {
        kind: 'status',
        status: 'training',
        progress: {
          epoch: event.epoch,
          epochs: run.epochs,
          epochFraction: event.epochFraction,
          samplesPerSec: event.samplesPerSec,
          etaSeconds: event.etaSeconds,
        },
      };
    case 'diagnostics':
      if (!isNewRecord(run, event.record)) return { kind: 'none' };
      run.records.push(event.record);
      return { kind: 'append', records: [event.record] };
    case 'images':
      run.images = {
        shape: event.shape,
        ...(event.layout === undefined ? {} : { layout: event.layout }),
        originals: event.originals,
        reconstructions: event.reconstructions,
        samples: event.samples,
      };
      run.imagesProblem = undefined;
      return { kind: 'images' };
    case 'error':
      run.message = event.message.split('\n')[0];
      return { kind: 'none' };
    case 'done':
      run.status = event.status;
      run.message = event.message ?? (event.status === 'failed' ? run.message : undefined);
      return { kind: 'status', status: run.status, message: run.message };
    case 'log':
      return { kind: 'none' };
  }
}

/** "VAE Lens: <run name>", or the compared runs. */
export function panelTitle(runs: readonly Pick<PanelRun, 'name'>[]): string {
  if (runs.length === 0) return 'VAE Lens';
  if (runs.length === 1) return `VAE Lens: ${runs[0]!.name}`;
  if (runs.length <= 3) return `VAE Lens: ${runs.map((r) => r.name).join(' vs ')}`;
  return `VAE Lens: ${runs.length} runs`;
}

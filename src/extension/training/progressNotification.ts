/** The cancellable progress notification of one training run; cancelling stops the trainer. */
import * as vscode from 'vscode';
import { counted, datasetKnown, progressFraction } from '../../core/wording';
import type { ProgressEvent, StartedEvent } from '../../core/protocol';
import { progressMessage, type LiveProgress } from '../status/runStateWording';
import type { TrainerProcess } from '../trainer/trainerProcess';
import { LatestThrottle } from '../throttle';

const REPORT_INTERVAL_MS = 250;

/** What a start says: a training script's figures are not known until it writes its run.json, so it names the script instead. */
export function startedMessage(e: StartedEvent): string {
  if (!datasetKnown(e.dataset)) return `starting ${e.dataset.source} · its data and epochs show once it writes its run.json`;
  return `starting · backend ${e.backend} · ${counted(e.dataset.n, 'point')}`;
}

export function showTrainingProgress(trainer: TrainerProcess, specName: string): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VAE Lens: training ${specName}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reportedPercent = 0;
        const report = (message: string, p?: LiveProgress) => {
          const percent = p ? progressFraction(p) * 100 : reportedPercent;
          const increment = Math.max(0, percent - reportedPercent);
          reportedPercent += increment;
          progress.report({ message, increment });
        };
        token.onCancellationRequested(() => {
          report('stopping after the current step…');
          void trainer.stop();
        });
        // At most one report per interval, and the last progress of a burst is reported late rather than never.
        const progressReports = new LatestThrottle<LiveProgress>(REPORT_INTERVAL_MS, (p) => {
          if (trainer.state !== 'stopping' && trainer.state !== 'exited') report(progressMessage(p), p);
        });
        let lastProgress: ProgressEvent | undefined;
        const sub = trainer.onEvent((e) => {
          if (trainer.state === 'stopping') return;
          // A script's run is announced again once its run.json says its epochs: mid-run, that is the progress with them, not a new start.
          if (e.type === 'started') {
            if (lastProgress) progressReports.offer({ ...lastProgress, epochs: e.epochs });
            else report(startedMessage(e));
          }
          if (e.type === 'progress') {
            lastProgress = e;
            progressReports.offer({ ...e, epochs: trainer.started?.epochs ?? 0 });
          }
        });
        void trainer.whenExited().then(() => {
          sub.dispose();
          progressReports.dispose();
          resolve();
        });
      }),
  );
}

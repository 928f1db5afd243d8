/** The cancellable progress notification of one training run; cancelling stops the trainer. */
import * as vscode from 'vscode';
import { progressFraction } from '../../core/wording';
import { progressMessage, type LiveProgress } from '../status/runStateWording';
import type { TrainerProcess } from '../trainer/trainerProcess';
import { LatestThrottle } from '../throttle';

const REPORT_INTERVAL_MS = 250;

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
        const sub = trainer.onEvent((e) => {
          if (trainer.state === 'stopping') return;
          if (e.type === 'started') report(`starting · backend ${e.backend} · ${e.dataset.n} points`);
          if (e.type === 'progress') {
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

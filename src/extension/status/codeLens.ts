/** CodeLenses at the top of a spec: "▶ Train VAE" (or "■ Stop Training") and the last result. */
import * as vscode from 'vscode';
import type { RunIndex } from '../runs/runIndex';
import { codeLensResult } from './runStateWording';
import { isSpecDocument } from '../specs/specFiles';
import { specRunState } from './specRunState';
import type { TrainerClient } from '../trainer/trainerClient';
import { Throttle } from '../throttle';

const REFRESH_INTERVAL_MS = 400;

export class SpecCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly refreshes = new Throttle(REFRESH_INTERVAL_MS, () => this.changed.fire());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly index: RunIndex,
    private readonly client: TrainerClient,
  ) {
    const refresh = () => this.refreshes.schedule();
    this.disposables.push(
      index.onDidChange(refresh),
      client.onDidChangeTrainers(refresh),
      client.onEvent(({ event }) => {
        if (event.type === 'diagnostics' || event.type === 'started') refresh();
      }),
      // Editing makes the last result stale (or not, if the edit is undone).
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (isSpecDocument(e.document)) refresh();
      }),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    if (!isSpecDocument(doc)) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const state = await specRunState(doc.uri, this.index, this.client);
    if (token.isCancellationRequested) return [];
    const lenses: vscode.CodeLens[] = [];
    if (state.live) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '■ Stop Training',
          command: 'vaeLens.stop',
          arguments: [doc.uri],
          tooltip: 'Stop after the current step; everything is written',
        }),
      );
    } else {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '▶ Train VAE',
          command: 'vaeLens.train',
          arguments: [doc.uri],
          tooltip: 'Train this model and watch the ELBO approach the entropy sum',
        }),
      );
    }
    const result = codeLensResult(state);
    if (result) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: result,
          command: 'vaeLens.showDiagnostics',
          arguments: [state.live && state.runDir ? state.runDir : doc.uri],
          tooltip: state.convergenceReason ?? 'Show the diagnostics panel',
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.refreshes.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

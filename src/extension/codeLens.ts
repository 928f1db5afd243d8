/** CodeLenses at the top of a spec: "▶ Train VAE" (or "■ Stop Training") and the last result. */
import * as vscode from 'vscode';
import type { RunIndex } from './runIndex';
import { codeLensResult } from './runState';
import { isSpecDocument } from './specFiles';
import { specRunState } from './specState';
import type { TrainerClient } from './trainerClient';

const REFRESH_DEBOUNCE_MS = 400;

export class SpecCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly index: RunIndex,
    private readonly client: TrainerClient,
  ) {
    const refresh = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.changed.fire(), REFRESH_DEBOUNCE_MS);
    };
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
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

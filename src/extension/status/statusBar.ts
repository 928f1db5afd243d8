/**
 * The one status bar item (id `vaeLens.status`, name "VAE Lens"): the state of the spec in
 * the active editor, or of the spec last looked at. Updated as the user edits (stale),
 * as runs change on disk and as trainers report.
 */
import * as vscode from 'vscode';
import type { RunIndex } from '../runs/runIndex';
import { runStateKind, statusBarText, statusTooltipMarkdown } from './runStateWording';
import { isSpecDocument } from '../specs/specFiles';
import { specRunState } from './specRunState';
import type { TrainerClient } from '../trainer/trainerClient';
import { Throttle } from '../throttle';

const UPDATE_INTERVAL_MS = 200;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('vaeLens.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private target: vscode.Uri | undefined;
  private readonly updates = new Throttle(UPDATE_INTERVAL_MS, () => void this.update());
  private generation = 0;

  constructor(
    private readonly index: RunIndex,
    private readonly client: TrainerClient,
  ) {
    this.item.name = 'VAE Lens';
    this.item.command = { title: 'Show Diagnostics', command: 'vaeLens.showDiagnostics', arguments: [] };
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && isSpecDocument(e.document)) this.setTarget(e.document.uri);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.target && e.document.uri.toString() === this.target.toString()) this.schedule();
      }),
      index.onDidChange(() => this.schedule()),
      client.onDidChangeTrainers(() => this.schedule()),
      client.onEvent(({ trainer, event }) => {
        if (this.target && trainer.specPath === this.target.fsPath && (event.type === 'progress' || event.type === 'diagnostics')) this.schedule();
      }),
    );
    const active = vscode.window.activeTextEditor?.document;
    if (active && isSpecDocument(active)) this.setTarget(active.uri);
  }

  /** Follow this spec (a run just started for it, or its editor became active). */
  setTarget(uri: vscode.Uri): void {
    this.target = uri;
    this.schedule();
  }

  private schedule(): void {
    this.updates.schedule();
  }

  private async update(): Promise<void> {
    const target = this.target;
    if (!target) {
      this.item.hide();
      return;
    }
    const generation = ++this.generation;
    const state = await specRunState(target, this.index, this.client);
    if (generation !== this.generation) return;
    this.item.text = statusBarText(state);
    const tooltip = new vscode.MarkdownString(statusTooltipMarkdown(state, state.specName), true);
    this.item.tooltip = tooltip;
    this.item.command = { title: 'Show Diagnostics', command: 'vaeLens.showDiagnostics', arguments: [state.live ? (state.runDir ?? target) : target] };
    const kind = runStateKind(state);
    this.item.backgroundColor = kind === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: `VAE Lens: ${state.specName}: ${statusBarText(state).replace(/^\$\([^)]*\)\s*/, '')}` };
    this.item.show();
  }

  dispose(): void {
    this.updates.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

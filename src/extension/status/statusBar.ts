/**
 * The one status bar item (id `vaeLens.status`, name "VAE Lens"): the state of the spec in
 * the active editor, or of the spec last looked at. Updated as the user edits (stale),
 * as runs change on disk and as trainers report.
 */
import * as vscode from 'vscode';
import type { RunIndex } from '../runs/runIndex';
import { runStateKind, statusBarText, statusTooltipMarkdown } from './runStateWording';
import { isSpecDocument, renamedUri } from '../specs/specFiles';
import { specRunState } from './specRunState';
import type { TrainerClient } from '../trainer/trainerClient';
import { Throttle } from '../throttle';
import { fileExists } from '../../core/run/files';
import { isWithin } from '../../core/confinement';

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
    const gone = vscode.workspace.createFileSystemWatcher('**/*', true, true, false);
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && isSpecDocument(e.document)) this.setTarget(e.document.uri);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.target && e.document.uri.toString() === this.target.toString()) this.schedule();
      }),
      // The spec, or a folder holding it, deleted or moved away: its runs stay, but the item no longer speaks of it.
      // Renamed or moved in the explorer: the item follows it there, as an editor of it does.
      vscode.workspace.onDidRenameFiles((e) => {
        const moved = this.target && renamedUri(this.target, e.files);
        if (moved) this.setTarget(moved);
      }),
      gone,
      gone.onDidDelete((uri) => {
        if (this.target && isWithin(uri.fsPath, this.target.fsPath)) this.schedule();
      }),
      vscode.window.onDidChangeWindowState((s) => {
        if (s.focused) this.schedule();
      }),
      index.onDidChange(() => this.schedule()),
      client.onDidChangeTrainers(() => this.schedule()),
      client.onEvent(({ trainer, event }) => {
        if (this.target && (event.type === 'progress' || event.type === 'diagnostics') && this.client.forSpec(this.target.fsPath) === trainer) this.schedule();
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
    const [state, exists] = await Promise.all([
      specRunState(target, this.index, this.client),
      // A trainer may still run a spec deleted under it: its progress is still news.
      this.client.forSpec(target.fsPath) !== undefined || fileExists(target.fsPath),
    ]);
    if (generation !== this.generation) return;
    if (!exists) {
      // Kept as the target: the spec written again (an undo, a checkout) shows again.
      this.item.hide();
      return;
    }
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

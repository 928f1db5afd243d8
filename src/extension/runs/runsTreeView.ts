/**
 * The "VAE Runs" view in the explorer: each spec, and under it its runs, newest first,
 * with an icon for the state. Context menu: open, compare (multi-select), delete.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isWithin } from '../../core/confinement';
import type { ShownOverview } from '../../core/run/judgedVerdicts';
import { resumedText } from '../../core/sessionHistory';
import type { RunIndex } from './runIndex';
import { codeLensResult, runStateKind, type RunStateKind, type RunStateInput } from '../status/runStateWording';
import { findSpecs, isSpecOutsideWorkspace, isSpecPath, SPEC_EXCLUDE, SPEC_GLOB } from '../specs/specFiles';
import { specRunState } from '../status/specRunState';
import type { TrainerClient } from '../trainer/trainerClient';
import { Throttle } from '../throttle';

export interface SpecNode {
  kind: 'spec';
  uri: vscode.Uri;
  /** Its workspace-relative path, when another spec in the view has the same file name (one per folder of a multi-root workspace). */
  where?: string;
}
export interface RunNode {
  kind: 'run';
  runDir: string;
  overview: ShownOverview;
}
export type RunsViewNode = SpecNode | RunNode;

const ICON: Record<RunStateKind, [string, string?]> = {
  none: ['circle-large-outline'],
  training: ['sync~spin', 'charts.blue'],
  converged: ['pass', 'testing.iconPassed'],
  'not-converged': ['warning', 'list.warningForeground'],
  improving: ['arrow-up', 'charts.blue'],
  'noise-limited': ['pulse', 'list.warningForeground'],
  collapsed: ['pass', 'list.warningForeground'],
  stationary: ['debug-pause', 'charts.blue'],
  'too-early': ['question'],
  stale: ['history', 'list.warningForeground'],
  failed: ['error', 'list.errorForeground'],
};

const icon = (kind: RunStateKind) => {
  const [id, color] = ICON[kind];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
};

export class RunsViewProvider implements vscode.TreeDataProvider<RunsViewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsViewNode | undefined>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly refreshes = new Throttle(250, () => this.changed.fire(undefined));
  readonly onDidChangeTreeData = this.changed.event;

  /** The specs of the last listing, to tell whether a deleted folder held one. */
  private listed: string[] = [];
  private filesWatched = false;

  /**
   * `indexOf` makes the run index when first asked: the view asks once it lists a spec. The view watches
   * spec files itself from its first listing (see watchFiles), so that one made with none listed is heard.
   */
  constructor(
    private readonly client: TrainerClient,
    private readonly indexOf: () => RunIndex,
  ) {
    this.disposables.push(
      // A spec from outside the workspace (a lone spec, no folder open) is listed while it is open.
      vscode.workspace.onDidOpenTextDocument((d) => isSpecOutsideWorkspace(d) && this.refresh()),
      vscode.workspace.onDidCloseTextDocument((d) => isSpecOutsideWorkspace(d) && this.refresh()),
      client.onDidChangeTrainers(() => this.refresh()),
    );
  }

  /** Refresh as this index changes (runs, and specs created, saved or deleted), from now on. */
  follow(index: RunIndex): void {
    this.disposables.push(index.onDidChange(() => this.refresh()));
    this.refresh();
  }

  refresh(): void {
    this.refreshes.schedule();
  }

  async getChildren(node?: RunsViewNode): Promise<RunsViewNode[]> {
    if (!node) {
      this.watchFiles();
      const specs = await findSpecs();
      this.listed = specs.map((u) => u.fsPath);
      const name = (uri: vscode.Uri) => path.basename(uri.fsPath).toLowerCase();
      return specs.map((uri) => ({
        kind: 'spec',
        uri,
        where: specs.some((other) => other !== uri && name(other) === name(uri)) ? vscode.workspace.asRelativePath(uri) : undefined,
      }));
    }
    if (node.kind === 'run') return [];
    const index = this.indexOf();
    const runs = await index.shownEach(await index.runsForSpec(node.uri.fsPath));
    return runs.map((overview) => ({ kind: 'run', runDir: overview.runDir, overview }));
  }

  /**
   * Specs made, deleted or renamed outside the editor (a terminal, git checkout) while the view is shown.
   * Not from activation (any JSONC file activates the extension) but from the view's first listing, and
   * whether or not the run index exists yet. A folder moved in or deleted whole is one event for the
   * folder, none for the specs in it: the view is listed again for a folder made that holds a spec, and
   * for one deleted that held a listed spec.
   */
  private watchFiles(): void {
    if (this.filesWatched) return;
    this.filesWatched = true;
    const files = vscode.workspace.createFileSystemWatcher('**/*', false, true, false);
    const created = (uri: vscode.Uri) => {
      if (uri.scheme !== 'file' || skipped(uri.fsPath)) return;
      if (isSpecPath(uri.fsPath)) return this.refresh();
      // A folder made (a script's checkpoints, a build's output) is searched for specs, not the whole workspace again.
      void fsp
        .stat(uri.fsPath)
        .then(async (s) => s.isDirectory() && (await vscode.workspace.findFiles(new vscode.RelativePattern(uri, SPEC_GLOB), SPEC_EXCLUDE, 1)).length > 0)
        .then(
          (holdsSpec) => holdsSpec && this.refresh(),
          () => undefined,
        );
    };
    const deleted = (uri: vscode.Uri) => {
      if (uri.scheme !== 'file' || skipped(uri.fsPath)) return;
      if (isSpecPath(uri.fsPath) || this.listed.some((spec) => isWithin(uri.fsPath, spec))) this.refresh();
    };
    this.disposables.push(files, files.onDidCreate(created), files.onDidDelete(deleted));
  }

  async getTreeItem(node: RunsViewNode): Promise<vscode.TreeItem> {
    return node.kind === 'spec' ? this.specItem(node) : this.runItem(node);
  }

  private async specItem(node: SpecNode): Promise<vscode.TreeItem> {
    const state = await specRunState(node.uri, this.indexOf(), this.client);
    const item = new vscode.TreeItem(
      path.basename(node.uri.fsPath),
      state.hasRun ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `spec:${node.uri.toString()}`;
    item.resourceUri = node.uri;
    const result = `${codeLensResult(state, false) ?? 'no runs yet'}${storedDiffers(state.verdictNotes)}`;
    item.description = node.where ? `${node.where} · ${result}` : result;
    item.tooltip = [vscode.workspace.asRelativePath(node.uri), codeLensResult(state) ?? 'no runs yet', ...differs(state.verdictNotes)].join('\n');
    item.iconPath = icon(runStateKind(state));
    item.contextValue = state.live ? 'vaeLens.spec.training' : 'vaeLens.spec';
    item.command = { title: 'Open Spec', command: 'vscode.open', arguments: [node.uri] };
    return item;
  }

  private runItem(node: RunNode): vscode.TreeItem {
    const r = node.overview;
    const live = this.client.forRun(r.runDir);
    const state: RunStateInput = {
      hasRun: true,
      specChanged: false,
      status: r.status,
      convergence: r.convergence,
      convergenceReason: r.convergenceReason,
      last: r.last,
      message: r.message,
    };
    const kind = live ? 'training' : runStateKind(state);
    // The reader's date: run.json's startedAt, or its file's time where that is not a time (or is later).
    const started = r.meta && r.startedMs > 0 ? new Date(r.startedMs) : undefined;
    const item = new vscode.TreeItem(path.basename(r.runDir), vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.runDir}`;
    item.description = live ? 'training' : `${codeLensResult(state, false)}${storedDiffers(r.verdictNotes)}`;
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${r.meta?.name ?? path.basename(r.runDir)}**  \n`);
    if (started) tip.appendText(`started ${started.toLocaleString()}\n`);
    const resumed = resumedText(r.meta?.sessions);
    if (resumed) tip.appendText(`${resumed}\n`);
    tip.appendText(`${r.meta?.modelType ?? ''} · backend ${r.meta?.backend ?? '?'} · ${r.status}${r.message ? ` — ${r.message}` : ''}\n`);
    tip.appendText(r.runDir);
    for (const note of differs(r.verdictNotes)) tip.appendText(`\n${note}`);
    item.tooltip = tip;
    item.iconPath = icon(kind);
    item.contextValue = live ? 'vaeLens.run.training' : 'vaeLens.run';
    item.command = { title: 'Open Run', command: 'vaeLens.openRun', arguments: [r.runDir] };
    return item;
  }

  dispose(): void {
    this.refreshes.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The notes on stored verdicts that differ from the one judged, as a tooltip says them. */
const differs = (notes: readonly string[] | undefined): string[] => (notes ?? []).map((n) => `Stored verdict differs: ${n}`);

/** After a verdict in a row: that a verdict the run's files store is another (the tooltip says which). */
const storedDiffers = (notes: readonly string[] | undefined): string => ((notes ?? []).length > 0 ? ' · stored verdict differs' : '');

/** Folders no spec is looked for in (findSpecs leaves them out), whose churn (installs, runs) is not the view's. */
const skipped = (p: string) => /[\\/](node_modules|\.git|\.vae-lens)([\\/]|$)/.test(p);

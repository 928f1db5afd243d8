/**
 * Commands that act on existing runs: Show Diagnostics, Open Run..., Compare Runs,
 * Export Run (CSV; PNG charts come from the panel), and deleting a run folder.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { metricsToCsv, RUN_FILES } from '../../core/runFormat';
import { DiagnosticsPanel, type PanelActions, type PanelDeps } from '../panel/diagnosticsPanel';
import { fileExists } from '../../core/run/files';
import { folderGone } from '../../core/run/present';
import { readRunContents, type RunContents, type RunOverview } from '../../core/run/read';
import type { RunIndex } from './runIndex';
import { codeLensResult } from '../status/runStateWording';
import { activeSpecUri, specUriFromArg } from '../specs/specFiles';
import type { TrainerClient } from '../trainer/trainerClient';
import { reasonOf, reportFailure } from '../failures';

export interface RunCommandDeps {
  index: RunIndex;
  client: TrainerClient;
  panelDeps: () => PanelDeps;
  log: (line: string) => void;
}

/** Commands get a run as a folder path, a tree node ({ runDir }), or a Uri of the folder. */
export function runDirFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { runDir?: unknown }).runDir === 'string') return (arg as { runDir: string }).runDir;
  return undefined;
}

const PNG_BATCH_MS = 400;

export class RunCommands implements Pick<PanelActions, 'exportCsv' | 'exportPng'> {
  private pngBatch: { runDir: string; charts: { chart: string; dataUrl: string }[]; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly deps: RunCommandDeps) {}

  private runItem(r: RunOverview) {
    const started = r.meta && r.startedMs > 0 ? new Date(r.startedMs).toLocaleString() : '';
    const live = this.deps.client.forRun(r.runDir) !== undefined;
    const verdict = live
      ? 'training'
      : (codeLensResult({ hasRun: true, specChanged: false, status: r.status, convergence: r.convergence, last: r.last }) ?? r.status);
    return {
      label: r.meta?.name ?? path.basename(r.runDir),
      description: `${started} · ${verdict}`,
      detail: vscode.workspace.asRelativePath(r.runDir),
      runDir: r.runDir,
    };
  }

  async pickRun(placeHolder: string): Promise<string | undefined> {
    const index = this.deps.index;
    const runs = await index.shownEach(await index.allRuns());
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('VAE Lens: no runs yet. Open a *.vae.json spec and run "Train VAE".');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((r) => this.runItem(r)),
      { placeHolder, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.runDir;
  }

  async openRun(arg?: unknown): Promise<void> {
    const runDir = runDirFromArg(arg) ?? (await this.pickRun('Open which run?'));
    if (runDir) await DiagnosticsPanel.createOrShow(this.deps.panelDeps(), [runDir]);
  }

  /** The live or latest run of the given/active spec; else the panel as it is; else a pick. */
  async showDiagnostics(arg?: unknown): Promise<void> {
    const argSpec = specUriFromArg(arg);
    const runDir = argSpec ? undefined : runDirFromArg(arg);
    if (runDir) return this.openRun(runDir);
    const spec = argSpec ?? activeSpecUri();
    if (spec) {
      const live = this.deps.client.forSpec(spec.fsPath)?.runDir;
      const latest = live ?? (await this.deps.index.latestForSpec(spec.fsPath))?.runDir;
      if (latest) return this.openRun(latest);
    }
    const panel = DiagnosticsPanel.active;
    if (panel && panel.runDirs.length > 0) return void (await DiagnosticsPanel.createOrShow(this.deps.panelDeps(), panel.runDirs));
    const anyLive = this.deps.client.all().find((t) => t.runDir)?.runDir;
    if (anyLive) return this.openRun(anyLive);
    await this.openRun();
  }

  async compareRuns(arg?: unknown, selected?: unknown): Promise<void> {
    let dirs = (Array.isArray(selected) ? selected : []).map(runDirFromArg).filter((d): d is string => d !== undefined);
    if (dirs.length < 2) {
      const runs = await this.deps.index.shownEach(await this.deps.index.allRuns());
      if (runs.length < 2) {
        void vscode.window.showInformationMessage('VAE Lens: comparing needs at least two runs.');
        return;
      }
      const first = runDirFromArg(arg);
      const items = runs.map((r) => ({ ...this.runItem(r), picked: r.runDir === first }));
      const picked = await vscode.window.showQuickPick(items, {
        canPickMany: true,
        placeHolder: 'Pick the runs to compare (two or more)',
        matchOnDescription: true,
      });
      if (!picked) return;
      dirs = picked.map((p) => p.runDir);
      if (dirs.length < 2) {
        void vscode.window.showInformationMessage('VAE Lens: pick at least two runs to compare.');
        return;
      }
    }
    await DiagnosticsPanel.createOrShow(this.deps.panelDeps(), dirs);
  }

  async exportRun(arg?: unknown): Promise<void> {
    const shown = DiagnosticsPanel.active?.runDirs ?? [];
    const runDir = runDirFromArg(arg) ?? (shown.length === 1 ? shown[0] : await this.pickRun('Export which run?'));
    if (!runDir) return;
    // The panel keeps what it read of a run whose folder has gone since; a run it does not show is read from its folder.
    if (!DiagnosticsPanel.active?.shownRun(runDir) && !(await fileExists(runDir)))
      return void vscode.window.showErrorMessage(`VAE Lens: cannot export: ${folderGone(runDir)}.`);
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Metrics as CSV', id: 'csv' as const, detail: 'Every diagnostics pass: ELBO, entropies, gap, residuals, per-latent m_h and KL_h' },
        { label: 'Charts as PNG', id: 'png' as const, detail: 'Opens the run in the panel and saves each chart as an image' },
      ],
      { placeHolder: `Export ${path.basename(runDir)} as...` },
    );
    if (choice?.id === 'csv') await this.exportCsv(runDir);
    if (choice?.id === 'png') {
      await DiagnosticsPanel.createOrShow(this.deps.panelDeps(), [runDir]);
      DiagnosticsPanel.active?.requestPngExport(runDir);
    }
  }

  async exportCsv(runDir: string): Promise<void> {
    const shownRecords = DiagnosticsPanel.active?.shownRun(runDir)?.records;
    const read = shownRecords === undefined ? await readRunContents(runDir) : undefined;
    const records = shownRecords ?? read?.records ?? [];
    if (records.length === 0) {
      void vscode.window.showWarningMessage(`VAE Lens: nothing to export: ${read ? await noRecordsReason(read) : 'this run has no diagnostics yet'}.`);
      return;
    }
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(await exportFolder(runDir), `${path.basename(runDir)}-metrics.csv`)),
      filters: { CSV: ['csv'] },
      title: 'Export metrics as CSV',
    });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(metricsToCsv(records)));
    } catch (e) {
      void vscode.window.showErrorMessage(`VAE Lens: could not write ${target.fsPath}: ${reasonOf(e)}`);
      return;
    }
    void vscode.window.showInformationMessage(`VAE Lens: wrote ${records.length} rows to ${vscode.workspace.asRelativePath(target)}.`);
  }

  /** The panel sends one message per chart; they are gathered and saved together into one folder. */
  exportPng(runDir: string, chart: string, dataUrl: string): void {
    if (this.pngBatch && this.pngBatch.runDir !== runDir) this.flushPngs();
    if (!this.pngBatch) this.pngBatch = { runDir, charts: [], timer: setTimeout(() => this.flushPngs(), PNG_BATCH_MS) };
    this.pngBatch.charts.push({ chart, dataUrl });
  }

  private flushPngs(): void {
    const batch = this.pngBatch;
    this.pngBatch = undefined;
    if (!batch) return;
    clearTimeout(batch.timer);
    // The panel's messages are answered long before this runs (PNG_BATCH_MS): a failure is said here.
    reportFailure('Saving the charts as PNG', this.savePngs(batch.runDir, batch.charts), this.deps.log);
  }

  private async savePngs(runDir: string, charts: { chart: string; dataUrl: string }[]): Promise<void> {
    const base = path.basename(runDir);
    const folder = await exportFolder(runDir);
    const fileName = (chart: string) => `${base}-${chart.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart'}.png`;
    let files: vscode.Uri[];
    let where: string;
    if (charts.length === 1) {
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(folder, fileName(charts[0]!.chart))),
        filters: { PNG: ['png'] },
      });
      if (!target) return;
      files = [target];
      where = path.dirname(target.fsPath);
    } else {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        defaultUri: vscode.Uri.file(folder),
        openLabel: `Save ${charts.length} charts here`,
      });
      if (!picked?.[0]) return;
      files = charts.map((c) => vscode.Uri.joinPath(picked[0]!, fileName(c.chart)));
      where = picked[0].fsPath;
      // A folder picker, unlike the save dialog, does not ask about the files it will replace (an earlier export's, the user's own).
      if (!(await replaceAgreed(files))) return;
    }
    const written = await Promise.allSettled(
      charts.map((c, i) => vscode.workspace.fs.writeFile(files[i]!, Buffer.from(c.dataUrl.slice(c.dataUrl.indexOf(',') + 1), 'base64'))),
    );
    const failed = written.flatMap((r, i) => (r.status === 'rejected' ? [{ file: files[i]!, why: reasonOf(r.reason) }] : []));
    if (failed.length > 0) {
      const more = failed.length > 1 ? ` (and ${failed.length - 1} more chart${failed.length > 2 ? 's' : ''})` : '';
      void vscode.window.showErrorMessage(`VAE Lens: could not save ${failed[0]!.file.fsPath}${more}: ${failed[0]!.why}`);
      return;
    }
    void vscode.window.showInformationMessage(`VAE Lens: saved ${charts.length} chart${charts.length > 1 ? 's' : ''} as PNG in ${where}.`);
  }

  async deleteRun(arg?: unknown): Promise<void> {
    const runDir = runDirFromArg(arg) ?? (await this.pickRun('Delete which run?'));
    if (!runDir) return;
    if (this.deps.client.forRun(runDir)) {
      void vscode.window.showWarningMessage('VAE Lens: this run is training; stop it before deleting it.');
      return;
    }
    if (!(await fileExists(runDir))) {
      void vscode.window.showWarningMessage(`VAE Lens: nothing to delete: ${folderGone(runDir)}.`);
      this.deps.index.invalidate(runDir);
      return;
    }
    // Only ever delete something that is a run folder.
    if (!(await fileExists(path.join(runDir, RUN_FILES.meta)))) {
      void vscode.window.showErrorMessage(`VAE Lens: ${runDir} is not a run folder (no ${RUN_FILES.meta}); not deleting it.`);
      return;
    }
    // Written by a live process this window cannot stop (another window, a terminal, a script): deleting it would cut that run off.
    const overview = await this.deps.index.overview(runDir);
    if (overview.status === 'running') {
      const meta = overview.meta;
      const writer = meta?.pid !== undefined ? ` (process ${meta.pid}${meta.host ? ` on ${meta.host}` : ''})` : '';
      void vscode.window.showWarningMessage(`VAE Lens: this run is being written by another window or terminal${writer}; stop it there before deleting it.`);
      return;
    }
    const del = 'Delete';
    const choice = await vscode.window.showWarningMessage(
      `Delete the run folder ${vscode.workspace.asRelativePath(runDir)}?`,
      { modal: true, detail: 'Its metrics, checkpoints and images are removed (moved to the trash where the system has one).' },
      del,
    );
    if (choice !== del) return;
    const trashed = await vscode.workspace.fs.delete(vscode.Uri.file(runDir), { recursive: true, useTrash: true }).then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    if (trashed !== undefined) {
      // The user agreed to the trash, not to losing the run for good: ask again.
      const forever = 'Delete Permanently';
      const again = await vscode.window.showWarningMessage(
        `The run folder ${vscode.workspace.asRelativePath(runDir)} could not be moved to the trash. Delete it permanently?`,
        { modal: true, detail: `The trash said: ${trashed}. A permanent deletion cannot be undone.` },
        forever,
      );
      if (again !== forever) return;
      await vscode.workspace.fs.delete(vscode.Uri.file(runDir), { recursive: true, useTrash: false });
    }
    this.deps.log(`deleted run folder ${runDir}`);
    this.deps.index.invalidate(runDir);
    const panel = DiagnosticsPanel.active;
    if (panel?.runDirs.includes(runDir)) await panel.load(panel.runDirs.filter((d) => d !== runDir));
  }
}

/** Where an export is offered to go: the run folder, or, when the panel still shows a run whose folder has gone, the workspace (else the home folder). */
async function exportFolder(runDir: string): Promise<string> {
  if (await fileExists(runDir)) return runDir;
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? os.homedir();
}

/** True when none of the files is there, or the user agrees to replace those that are. */
async function replaceAgreed(files: vscode.Uri[]): Promise<boolean> {
  const there = (await Promise.all(files.map(async (f) => ((await fileExists(f.fsPath)) ? [f] : [])))).flat();
  if (there.length === 0) return true;
  const replace = 'Replace';
  const names = there.map((f) => path.basename(f.fsPath));
  const choice = await vscode.window.showWarningMessage(
    there.length === 1
      ? `${names[0]} is already in ${path.dirname(there[0]!.fsPath)}. Replace it?`
      : `${there.length} of the chart files are already in ${path.dirname(there[0]!.fsPath)}. Replace them?`,
    { modal: true, detail: names.join('\n') },
    replace,
  );
  return choice === replace;
}

/** Why a run read from its folder has no records: its folder or metrics.jsonl gone or unusable, or no pass written yet. */
async function noRecordsReason(c: RunContents): Promise<string> {
  if (!(await fileExists(c.runDir))) return folderGone(c.runDir);
  const metrics = path.join(c.runDir, RUN_FILES.metrics);
  const unread = c.problems.find((p) => p.file === metrics);
  if (unread) return `${metrics}: ${unread.message}`;
  if (c.badLines.length > 0) return `no line of ${metrics} is a record (${metrics}:${c.badLines[0]!.line}: ${c.badLines[0]!.message})`;
  if (!(await fileExists(metrics)) && c.status !== 'running') return `${metrics} is not there (deleted or renamed?)`;
  return 'this run has no diagnostics yet';
}

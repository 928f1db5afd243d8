/**
 * Which runs exist, per spec and overall, with a cache of each run's overview that file
 * watchers and trainer events invalidate. The status bar, CodeLens, runs view and the
 * quick picks all ask here, so run folders are read once per change, not once per view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isProcessAlive } from '../../core/run/liveness';
import { listRunDirs } from '../../core/run/files';
import { readRunOverview, type RunOverview } from '../../core/run/read';
import { runsOfSpec, newestFirst } from '../../core/run/paths';
import { readSettings } from '../settings';
import { RUN_META_GLOB, runsDirsForSpec, specText } from '../specs/specFiles';
import type { TrainerClient } from '../trainer/trainerClient';
import { Throttle } from '../throttle';

export class RunIndex implements vscode.Disposable {
  private readonly cache = new Map<string, Promise<RunOverview>>();
  /** Run folders per runs folder; cleared on any change, so listing costs one readdir per change. */
  private readonly listings = new Map<string, Promise<string[]>>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly notify = new Throttle(150, () => this.changed.fire());
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: TrainerClient) {
    // Not metrics.jsonl: it grows every epoch. Runs of this window report through trainer
    // events, and other writers rewrite summary.json at each checkpoint.
    const watcher = vscode.workspace.createFileSystemWatcher('**/.vae-lens/runs/*/{run.json,summary.json}');
    const onFile = (uri: vscode.Uri) => this.invalidate(path.dirname(uri.fsPath));
    this.disposables.push(watcher, watcher.onDidCreate(onFile), watcher.onDidChange(onFile), watcher.onDidDelete(onFile));
    this.disposables.push(
      client.onEvent(({ trainer, event }) => {
        // Not on every diagnostics pass: a fast model makes several a second, and each refresh re-reads
        // run folders for the status bar, CodeLens and runs view; while training they follow the trainer's events.
        if (event.type !== 'started' && event.type !== 'done') return;
        const runDir = trainer.runDir ?? (event.type === 'done' ? event.runDir : undefined);
        if (runDir) this.invalidate(runDir);
      }),
    );
  }

  /** Forget one run (or all) and tell listeners, throttled so a burst of writes is one refresh per 150 ms. */
  invalidate(runDir?: string): void {
    if (runDir) this.cache.delete(runDir);
    else this.cache.clear();
    this.listings.clear();
    this.notify.schedule();
  }

  overview(runDir: string): Promise<RunOverview> {
    let p = this.cache.get(runDir);
    if (!p) {
      p = readRunOverview(runDir, (pid) => this.client.forRun(runDir) !== undefined || isProcessAlive(pid));
      this.cache.set(runDir, p);
    }
    return p;
  }

  async runsForSpec(specPath: string): Promise<RunOverview[]> {
    const text = await specText(vscode.Uri.file(specPath));
    const dirs = (await Promise.all(runsDirsForSpec(specPath, text).map((d) => this.listing(d)))).flat();
    const overviews = await Promise.all(dirs.map((d) => this.overview(d)));
    return runsOfSpec(overviews, specPath);
  }

  private listing(runsDir: string): Promise<string[]> {
    let p = this.listings.get(runsDir);
    if (!p) {
      p = listRunDirs(runsDir);
      this.listings.set(runsDir, p);
    }
    return p;
  }

  async latestForSpec(specPath: string): Promise<RunOverview | undefined> {
    return (await this.runsForSpec(specPath))[0];
  }

  /** Every run in the workspace's default runs folders and the configured one, newest first. */
  async allRuns(): Promise<RunOverview[]> {
    const metas = await vscode.workspace.findFiles(RUN_META_GLOB, '**/node_modules/**');
    const dirs = new Set(metas.filter((u) => u.scheme === 'file').map((u) => path.dirname(u.fsPath)));
    const configured = readSettings().runsDirectory;
    if (configured) for (const d of await this.listing(configured)) dirs.add(d);
    const overviews = await Promise.all([...dirs].map((d) => this.overview(d)));
    return overviews.filter((o) => o.meta !== undefined).sort(newestFirst);
  }

  dispose(): void {
    this.notify.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

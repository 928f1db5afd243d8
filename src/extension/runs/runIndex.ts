/**
 * Which runs exist, per spec and overall, with a cache of each run's overview that file
 * watchers and trainer events invalidate. The status bar, CodeLens, runs view and the
 * quick picks all ask here, so run folders are read once per change, not once per view.
 * Runs are looked for, and watched, in the same folders the runs view reads (runsFolders.ts):
 * every spec's and each workspace folder's runsDirectory, custom ones included.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isOtherHost, isWriterAlive, type WriterRecord } from '../../core/run/liveness';
import { fileExists, isEmptyRunStamp, listRunDirs, runFilesStamp } from '../../core/run/files';
import { runFolderProblem } from '../../core/run/present';
import { JudgedVerdicts, withJudgedVerdict, type ShownOverview } from '../../core/run/judgedVerdicts';
import { PassIntervals } from '../../core/run/passIntervals';
import { readRunOverview, type RunOverview } from '../../core/run/read';
import { runSettingsOf, type SpecSettings } from '../../core/run/settings';
import { RUN_FILES, type RunStatus } from '../../core/runFormat';
import { CachedSpecLookup, runsOfSpec, newestFirst } from '../../core/run/paths';
import { affectsSettings, readSettings, workspaceRoots } from '../settings';
import { findSpecs, isSpecOutsideWorkspace, isSpecPath, RUN_META_GLOB, SPEC_GLOB, runsDirsForSpec, specText } from '../specs/specFiles';
import { FolderWatchers, foldersOutside, RunsFolders, runOfChangedFile, uniqueFolders } from './runsFolders';
import type { TrainerClient } from '../trainer/trainerClient';
import { Throttle } from '../throttle';

/** The files of a run folder that say it started, checkpointed or ended (relative to its runs folder). */
const RUN_FILES_GLOB = '*/{run.json,summary.json}';

/** How often the runs folders in use are listed again, beside the file watchers. */
const LISTING_POLL_MS = 5000;

export class RunIndex implements vscode.Disposable {
  private readonly cache = new Map<string, Promise<RunOverview>>();
  /** Verdicts judged again from the runs' passes, shared by every surface (and the panel, through panelDeps). */
  readonly verdicts = new JudgedVerdicts();
  /** The pace of each run's writer that cannot be looked up, read from one overview to the next as its metrics.jsonl grows. */
  private readonly intervals = new PassIntervals();
  /** Runs being judged for a surface. */
  private readonly judging = new Set<string>();
  /** Those judgements one at a time: a runs view of fifty long runs must not read and hold them all at once. */
  private judgements: Promise<unknown> = Promise.resolve();
  /** When each cached overview's run.json and summary.json were last written, as the poll compares them. */
  private readonly stamps = new Map<string, Promise<string>>();
  /** Run folders per runs folder; cleared on any change, so listing costs one readdir per change. */
  private readonly listings = new Map<string, Promise<string[]>>();
  /** Which specs exist, and the texts of those beside a spec, as runsOfSpec asks for runs of moved or renamed specs. */
  private readonly specLookup = new CachedSpecLookup();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly notify = new Throttle(150, () => this.changed.fire());
  /**
   * A run file heard in no runs folder we know: the folders may be out of date (at activation the
   * workspace's file search can still come back empty, so a spec's output.runsDir is not known yet);
   * look again, at most once a second.
   */
  private readonly unknownRunFile = new Throttle(1000, () => this.foldersChanged());
  /**
   * File watchers can be deaf for a while (a remote editor's watcher still starting when a terminal
   * writes a run) or miss a folder made after them: the runs folders in use are listed again every
   * LISTING_POLL_MS, one readdir each, and a run that came or went is a refresh.
   */
  private readonly poll = setInterval(() => void this.pollListings(), LISTING_POLL_MS);
  readonly onDidChange = this.changed.event;
  private readonly folders = new RunsFolders({
    specs: async () => (await findSpecs()).map((u) => u.fsPath),
    runsDirsForSpec: async (specPath) => runsDirsForSpec(specPath, await specText(vscode.Uri.file(specPath))),
    configuredRunsDirs: () =>
      (vscode.workspace.workspaceFolders ?? [])
        .filter((f) => f.uri.scheme === 'file')
        .map((f) => readSettings(f.uri).runsDirectory)
        .filter((d): d is string => d !== undefined),
  });
  /** Watchers of the runs folders outside the workspace, which the workspace-wide one does not see. */
  private readonly folderWatchers = new FolderWatchers((folder) => this.watchRunsFolder(new vscode.RelativePattern(vscode.Uri.file(folder), RUN_FILES_GLOB)));
  /** The runs folders as last computed, to tell a run file of ours from another file of that name. */
  private knownFolders: string[] = [];
  private watcherSync = 0;
  private disposed = false;
  /** Run folders left out of the lists because their run.json cannot be used, with why, as last said. */
  private readonly unlisted = new Map<string, string>();

  constructor(private readonly client: TrainerClient) {
    // Not metrics.jsonl: it grows every epoch. Runs of this window report through trainer
    // events, and other writers rewrite summary.json at each checkpoint. In the workspace, every
    // run.json and summary.json is heard and those of runs in our runs folders are kept.
    this.disposables.push(this.watchRunsFolder('**/{run.json,summary.json}', true), this.folderWatchers);
    // A spec created, deleted or saved (its output.runsDir may have changed) changes the runs folders;
    // so do the settings (runsDirectory, per folder) and the workspace folders themselves.
    const specs = vscode.workspace.createFileSystemWatcher(SPEC_GLOB);
    const onSpec = (uri: vscode.Uri) => {
      if (!uri.fsPath.endsWith('.vae.json')) return;
      // Any *.vae.json, run snapshots too: a run may name one as its spec.
      this.specLookup.clear();
      if (isSpecPath(uri.fsPath)) this.foldersChanged();
    };
    this.disposables.push(
      specs,
      specs.onDidCreate(onSpec),
      specs.onDidChange(onSpec),
      specs.onDidDelete(onSpec),
      // A spec opened from outside the workspace (a lone spec) brings its runs folders, which no watcher above sees.
      vscode.workspace.onDidOpenTextDocument((d) => isSpecOutsideWorkspace(d) && this.foldersChanged()),
      vscode.workspace.onDidCloseTextDocument((d) => isSpecOutsideWorkspace(d) && this.foldersChanged()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSettings(e)) this.invalidate();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.invalidate()),
    );
    void this.syncWatchers();
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

  private watchRunsFolder(pattern: vscode.GlobPattern, filter = false): vscode.Disposable {
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const onFile = (uri: vscode.Uri) => {
      if (uri.scheme !== 'file') return;
      const runDir = filter ? runOfChangedFile(uri.fsPath, this.knownFolders) : path.dirname(uri.fsPath);
      if (runDir) this.invalidate(runDir);
      else this.unknownRunFile.schedule();
    };
    return vscode.Disposable.from(watcher, watcher.onDidCreate(onFile), watcher.onDidChange(onFile), watcher.onDidDelete(onFile));
  }

  /**
   * Forget one run, or everything (the set of runs folders too: after a settings, workspace folder or
   * trust change), and tell listeners, throttled so a burst of writes is one refresh per 150 ms.
   */
  invalidate(runDir?: string): void {
    // A run that came or went may name a spec (a script too, which no spec watcher hears) that came or went with it.
    this.specLookup.clear();
    if (runDir) this.forget(runDir);
    else {
      this.cache.clear();
      this.stamps.clear();
      this.folders.invalidate();
      void this.syncWatchers();
    }
    this.listings.clear();
    this.notify.schedule();
  }

  private forget(runDir: string): void {
    this.cache.delete(runDir);
    this.stamps.delete(runDir);
  }

  /** A spec came, went or was saved: its runs folders may have changed, its runs' overviews have not. */
  private foldersChanged(): void {
    this.specLookup.clear();
    this.folders.invalidate();
    this.listings.clear();
    this.notify.schedule();
    void this.syncWatchers();
  }

  /** Watch the runs folders as they are now; a later call's answer wins over an earlier one still on its way. */
  private async syncWatchers(): Promise<void> {
    const sync = ++this.watcherSync;
    let folders: string[];
    try {
      folders = await this.folders.folders();
    } catch {
      return;
    }
    if (this.disposed || sync !== this.watcherSync) return;
    this.knownFolders = folders;
    this.folderWatchers.sync(foldersOutside(folders, workspaceRoots()));
  }

  /** Whether the writer of this run lives: a trainer of this window, or the process run.json names. */
  private writerAlive(runDir: string, writer: WriterRecord): boolean {
    return this.client.forRun(runDir) !== undefined || isWriterAlive(writer);
  }

  overview(runDir: string): Promise<RunOverview> {
    let p = this.cache.get(runDir);
    if (!p) {
      // The files' times first: a write after the read is then a change the poll sees.
      const stamp = runFilesStamp(runDir);
      p = stamp.then(() =>
        readRunOverview(
          runDir,
          (writer) => this.writerAlive(runDir, writer),
          // Read from where its last judgement ended: a summary rewritten at each checkpoint must not cost the whole file.
          (dir, settings) => this.verdicts.judge(dir, settings),
          this.intervals,
        ),
      );
      this.cache.set(runDir, p);
      this.stamps.set(runDir, stamp);
    }
    return p;
  }

  /**
   * The overview as the surfaces show it: its verdict judged again from its passes, by the one rule,
   * when that is known for the run's metrics.jsonl as it is now. Until then the stored verdict, and
   * the run is judged (in slices) meanwhile; listeners hear when it is ready. A run this window trains
   * keeps its trainer's verdicts, judged pass by pass by this version's rule.
   */
  async shown(o: RunOverview): Promise<ShownOverview> {
    if (o.lastRecord === undefined || this.client.forRun(o.runDir) !== undefined) return withJudgedVerdict(o, undefined);
    const settings = runSettingsOf(o.meta, o.specText, o.lastRecord);
    const judged = await this.verdicts.current(o.runDir, settings);
    if (judged === undefined) this.judgeLater(o.runDir, settings);
    return withJudgedVerdict(o, judged);
  }

  /** Every overview as the surfaces show it (see shown()). */
  shownEach(overviews: readonly RunOverview[]): Promise<ShownOverview[]> {
    return Promise.all(overviews.map((o) => this.shown(o)));
  }

  private judgeLater(runDir: string, settings: SpecSettings): void {
    if (this.judging.has(runDir) || this.disposed) return;
    this.judging.add(runDir);
    const judged = this.judgements.then(() => (this.disposed ? undefined : this.verdicts.judge(runDir, settings)));
    this.judgements = judged.catch(() => undefined);
    void judged
      .then((v) => {
        // A run without passes has nothing to show: no refresh, or it would ask again for ever.
        if (v !== undefined && !this.disposed) this.notify.schedule();
      })
      .catch(() => undefined)
      .finally(() => this.judging.delete(runDir));
  }

  async runsForSpec(specPath: string): Promise<RunOverview[]> {
    const text = await specText(vscode.Uri.file(specPath));
    const dirs = (await Promise.all(runsDirsForSpec(specPath, text).map((d) => this.listing(d)))).flat();
    const overviews = await Promise.all(dirs.map((d) => this.overview(d)));
    await this.sayUnlisted(overviews);
    return runsOfSpec(overviews, specPath, text, this.specLookup);
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

  /**
   * Every run in the runs folders the runs view reads (each spec's, each workspace folder's setting),
   * and in any default runs folder of the workspace (runs of a spec since deleted), newest first.
   */
  async allRuns(): Promise<RunOverview[]> {
    const [metas, folders] = await Promise.all([vscode.workspace.findFiles(RUN_META_GLOB, '**/node_modules/**'), this.folders.folders()]);
    const found = metas.filter((u) => u.scheme === 'file').map((u) => path.dirname(u.fsPath));
    // Each run once, however its path was spelt (a found file's drive letter, a joined setting).
    const dirs = uniqueFolders([found, ...(await Promise.all(folders.map((f) => this.listing(f))))]);
    const overviews = await Promise.all(dirs.map((d) => this.overview(d)));
    await this.sayUnlisted(overviews);
    return overviews.filter((o) => o.meta !== undefined).sort(newestFirst);
  }

  /**
   * A run.json edited by hand with a mistake takes its run out of every list (its spec is not known):
   * said once per mistake, with the file and where, or the run would vanish without a word.
   */
  private async sayUnlisted(overviews: readonly RunOverview[]): Promise<void> {
    for (const o of overviews) {
      if (o.meta !== undefined) {
        this.unlisted.delete(o.runDir);
        continue;
      }
      // A folder deleted or not yet written since it was listed is no mistake to point out.
      const problem = (await fileExists(path.join(o.runDir, RUN_FILES.meta))) ? await runFolderProblem(o.runDir) : undefined;
      if (problem === undefined || this.unlisted.get(o.runDir) === problem) continue;
      this.unlisted.set(o.runDir, problem);
      void vscode.window.showWarningMessage(`VAE Lens: the run folder ${o.runDir} is not listed: ${problem}.`);
    }
  }

  private async pollListings(): Promise<void> {
    // A run whose run.json or summary.json changed since its overview was read (another writer's checkpoint, its end).
    for (const [runDir, stamp] of [...this.stamps]) {
      const [before, now] = await Promise.all([stamp, runFilesStamp(runDir)]);
      if (this.stamps.get(runDir) !== stamp) continue;
      if (before !== now) this.invalidate(runDir);
      // A run folder gone (or never written) is not kept: a view that still shows it reads it again.
      else if (isEmptyRunStamp(now)) {
        this.forget(runDir);
        this.verdicts.forget(runDir);
        this.intervals.forget(runDir);
      }
    }
    // A run read as written here whose writer has ended since without a word (kill -9, a closed terminal): no file changes.
    for (const [runDir, cached] of [...this.cache]) {
      const o = await cached.catch(() => undefined);
      const pid = o?.status === 'running' && !isOtherHost(o.meta?.host) ? o.meta?.pid : undefined;
      if (pid !== undefined && this.cache.get(runDir) === cached && !this.writerAlive(runDir, { pid, pidStart: o?.meta?.pidStart })) this.invalidate(runDir);
      // One whose writer cannot be looked up: silent past its time, or heard from again after it was.
      else if (o?.silence !== undefined && this.cache.get(runDir) === cached && (await silenceChanged(runDir, o.status, o.silence))) this.invalidate(runDir);
    }
    for (const [runsDir, cached] of [...this.listings]) {
      const [before, now] = await Promise.all([cached, listRunDirs(runsDir)]);
      if (this.listings.get(runsDir) !== cached) continue; // refreshed meanwhile
      const seen = new Set(before);
      if (now.length !== before.length || now.some((d) => !seen.has(d))) {
        this.listings.delete(runsDir);
        this.notify.schedule();
      }
    }
  }

  dispose(): void {
    clearInterval(this.poll);
    this.disposed = true;
    this.notify.dispose();
    this.unknownRunFile.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Whether a run read as silent has passed its stale time while shown running, or has written its metrics since. */
async function silenceChanged(runDir: string, status: RunStatus, silence: { silentSinceMs: number; staleAtMs: number }): Promise<boolean> {
  if (status === 'running') return Date.now() > silence.staleAtMs;
  const written = await fsp.stat(path.join(runDir, RUN_FILES.metrics)).then(
    (s) => s.mtimeMs,
    () => -Infinity,
  );
  return written > silence.silentSinceMs;
}

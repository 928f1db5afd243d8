/**
 * The diagnostics panel: the single owner of the WebviewPanel `vaeLens.diagnostics`.
 *
 * Hidden panels: retainContextWhenHidden stays false. The host keeps every shown run
 * (records, images, status) in memory and the webview is stateless: whenever its script
 * (re)loads it sends `ready` and gets one `show` with everything. That one path serves
 * a tab coming back into view, a window reload (through the serializer, from the run
 * folders) and a first open, and a hidden panel costs no renderer memory.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isFromPanel, isPanelState, type FromPanel, type PanelRun, type ToPanel } from '../../core/panelProtocol';
import type { FromTrainer } from '../../core/protocol';
import { RUN_FILES, type MetricsRecord } from '../../core/runFormat';
import { renderPanelHtml } from '../../pages/html';
import { ExternalRunFollower } from './runFollower';
import { judgeFollowed, type FollowedRun, type RunJudge } from './followedVerdict';
import { applyTrainerEvent, isNewRecord, panelTitle } from './panelRunModel';
import { fileExists } from '../../core/run/files';
import { isWriterAlive } from '../../core/run/liveness';
import { runFolderProblem } from '../../core/run/present';
import { readRunContents, runFolderNotes, type MetricsJudge } from '../../core/run/read';
import { panelRunToSend } from '../../core/panelPayload';
import { toPanelRun } from '../../core/panelRun';
import type { TrainerClient, TrainerEvent } from '../trainer/trainerClient';
import { reportFailure } from '../failures';
import { LatestThrottle } from '../throttle';

/** What the panel's buttons do; an action that fails is said (what and why) and logged, never an unhandled rejection. */
export interface PanelActions {
  stop(runDir: string): void | Promise<void>;
  retrain(runDir: string): void | Promise<void>;
  exportCsv(runDir: string): void | Promise<void>;
  exportPng(runDir: string, chart: string, dataUrl: string): void | Promise<void>;
}

export interface PanelDeps {
  extensionUri: vscode.Uri;
  client: TrainerClient;
  actions: PanelActions;
  log: (line: string) => void;
  /** The editor's shared judge of recorded passes (the run index's), so a run state is judged once for every surface. */
  judge?: MetricsJudge;
  /** The same judge on a run's metrics.jsonl as it now is: the verdict on the passes of a run another process writes, as they come. */
  judgeRun?: RunJudge;
}

const PROGRESS_INTERVAL_MS = 250;

export class DiagnosticsPanel implements vscode.Disposable {
  static readonly viewType = 'vaeLens.diagnostics';
  private static current: DiagnosticsPanel | undefined;

  private runs: PanelRun[] = [];
  private ready = false;
  private loadToken = 0;
  /** Trainer events that arrive while run folders are being read, replayed after. */
  private buffered: TrainerEvent[] | undefined;
  /** A PNG export asked for before the webview was ready to render it. */
  private pendingPngExport: string | undefined;
  /**
   * Progress goes to the webview at most every PROGRESS_INTERVAL_MS per run, and the last report of a
   * burst is deferred, not dropped: the panel never stays on a stale epoch.
   */
  private readonly progressPosts = new Map<string, LatestThrottle<ToPanel>>();
  /** Runs written by another process (the CLI): followed by polling their files. */
  private readonly external = new ExternalRunFollower({
    records: async (runDir, records) => {
      const run = this.shownRun(runDir);
      if (!run) return;
      const fresh: MetricsRecord[] = [];
      for (const r of records) {
        if (!isNewRecord(run, r)) continue;
        run.records.push(r);
        fresh.push(r);
      }
      if (fresh.length === 0) return;
      const verdictNote = await this.judgeFollowed(run);
      if (this.shownRun(runDir) !== run) return; // read again meanwhile
      this.post({ type: 'append', runDir, records: fresh, ...(verdictNote === undefined ? {} : { verdictNote }) });
    },
    restarted: (runDir) => {
      if (!this.shownRun(runDir)) return;
      // Its passes shown so far are another run's: read the folder again rather than mix the two.
      this.deps.log(`panel: ${runDir}: ${RUN_FILES.metrics} was started over by its writer; the run is read again`);
      void this.load(this.runDirs);
    },
    problem: (runDir, { file, message }) => {
      if (!this.shownRun(runDir)) return;
      this.deps.log(`panel: ${message}`);
      // A writer that writes a bad line every pass is said once per file, not every poll; the log has each.
      if (this.warnedFiles.has(file)) return;
      this.warnedFiles.add(file);
      void vscode.window.showWarningMessage(
        `VAE Lens: ${message}. The run is still followed; the panel keeps what it shows (see the VAE Lens output for more).`,
      );
    },
    finished: (runDir, status, message) => {
      const run = this.shownRun(runDir);
      if (!run) return;
      run.status = status;
      run.message = message;
      this.post({ type: 'status', runDir, status, message });
    },
  });
  private readonly disposables: vscode.Disposable[] = [];
  /** Files of followed runs whose mistakes were already shown in a notification since the runs were read. */
  private readonly warnedFiles = new Set<string>();
  /** Runs another process writes, as read when the panel loaded them: their verdict's settings and stored verdicts. */
  private readonly followed = new Map<string, FollowedRun>();

  static get active(): DiagnosticsPanel | undefined {
    return DiagnosticsPanel.current;
  }

  /** Show these runs, in the existing panel if there is one. */
  static async createOrShow(deps: PanelDeps, runDirs: string[], preserveFocus = false): Promise<DiagnosticsPanel> {
    const existing = DiagnosticsPanel.current;
    if (existing) {
      existing.panel.reveal(undefined, preserveFocus);
      await existing.load(runDirs);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      DiagnosticsPanel.viewType,
      'VAE Lens',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false },
    );
    const created = new DiagnosticsPanel(panel, deps);
    await created.load(runDirs);
    return created;
  }

  /**
   * Open the panel before there is a run to show, so the webview (Chart.js and all) loads while the
   * trainer process starts; `createOrShow` then fills it. Cuts the wait for the first chart point.
   */
  static async prepare(deps: PanelDeps): Promise<void> {
    if (DiagnosticsPanel.current) DiagnosticsPanel.current.panel.reveal(undefined, true);
    else await DiagnosticsPanel.createOrShow(deps, [], true);
  }

  /**
   * Restore a panel after a window reload, from the run folders its state names. VS Code restores a
   * background tab only when it is first shown, which can be after Train VAE or Show Diagnostics opened
   * a new panel: that one stays the owner (it may be following a run in progress), and the restored
   * tab closes in its favour rather than taking it over.
   */
  static async revive(deps: PanelDeps, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const current = DiagnosticsPanel.current;
    if (current) {
      deps.log('panel: a panel restored from before the reload was closed; the open panel is shown instead');
      panel.dispose();
      current.panel.reveal(undefined, false);
      return;
    }
    const revived = new DiagnosticsPanel(panel, deps);
    await revived.load(isPanelState(state) ? state.runDirs : []);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly deps: PanelDeps,
  ) {
    DiagnosticsPanel.current = this;
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.render();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidChangeViewState(({ webviewPanel }) => {
        // A hidden webview is torn down; it says `ready` again when it comes back.
        if (!webviewPanel.visible) this.ready = false;
      }),
      deps.client.onEvent((e) => this.onTrainerEvent(e)),
    );
  }

  get runDirs(): string[] {
    return this.runs.map((r) => r.runDir);
  }

  /** Ask the webview for PNGs of its charts; they arrive as exportPng messages. Waits until it shows the run. */
  requestPngExport(runDir: string): void {
    this.pendingPngExport = runDir;
    this.flushPngRequest();
  }

  private flushPngRequest(): void {
    const runDir = this.pendingPngExport;
    if (!runDir || !this.ready || this.buffered || !this.shownRun(runDir)) return;
    this.pendingPngExport = undefined;
    this.post({ type: 'exportPngs', runDir });
  }

  /** The run as the panel holds it (records included), if shown. */
  shownRun(runDir: string): PanelRun | undefined {
    return this.runs.find((r) => r.runDir === runDir);
  }

  async load(runDirs: string[]): Promise<void> {
    const token = ++this.loadToken;
    this.buffered = [];
    const unique = [...new Set(runDirs)];
    const present = await Promise.all(unique.map((d) => fileExists(d)));
    const isLive = (runDir: string) => this.deps.client.forRun(runDir) !== undefined;
    const contents = await Promise.all(
      unique.filter((_, i) => present[i]).map((d) => readRunContents(d, (writer) => isLive(d) || isWriterAlive(writer), this.deps.judge)),
    );
    // A folder whose run.json went or broke since it was listed (a terminal, an edit by hand): shown, with what is wrong in place of a status it cannot have.
    const broken = await Promise.all(contents.map((c) => (isLive(c.runDir) || c.meta !== undefined ? undefined : runFolderProblem(c.runDir))));
    if (token !== this.loadToken) return;
    // What the panel leaves out of a run folder is said where the user can find it, by line number.
    for (const c of contents) for (const note of runFolderNotes(c)) this.deps.log(`panel: ${note}`);
    this.runs = contents.map((c, i) => {
      const run = toPanelRun(c, isLive(c.runDir));
      return broken[i] === undefined ? run : { ...run, message: broken[i] };
    });
    this.clearProgressPosts();
    this.external.clear();
    this.warnedFiles.clear();
    // Said below: the follower of a run still written, finding the same mistake, does not say it again.
    contents.forEach((c, i) => {
      if (broken[i] !== undefined) this.warnedFiles.add(path.join(c.runDir, RUN_FILES.meta));
    });
    this.followed.clear();
    for (const [i, run] of this.runs.entries()) {
      if (run.status !== 'running') continue;
      // Someone else is writing this run: the follower's first read is the whole file so far.
      run.records = await this.external.follow(run.runDir);
      if (token !== this.loadToken) return;
      this.followed.set(run.runDir, contents[i]!);
      await this.judgeFollowed(run);
      if (token !== this.loadToken) return;
    }
    const gone = unique.filter((_, i) => !present[i]);
    const said = broken.filter((b): b is string => b !== undefined);
    for (const b of said) this.deps.log(`panel: ${b}`);
    if (gone.length > 0) {
      // A run listed a moment ago (runs view, quick pick, a panel restored after a reload) may have been deleted or moved since.
      const what = `${gone.length === 1 ? 'the run folder' : 'these run folders'} ${gone.join(', ')} no longer exist${gone.length === 1 ? 's' : ''} (deleted, renamed or moved)`;
      this.deps.log(`panel: ${what}; left out`);
      said.unshift(what);
    }
    if (said.length > 0) void vscode.window.showWarningMessage(`VAE Lens: ${said.join('; ')}.`);
    const replay = this.buffered;
    this.buffered = undefined;
    for (const e of replay) this.applyEvent(e, false);
    this.panel.title = panelTitle(this.runs);
    this.sendShow();
  }

  /**
   * A run another process writes shows, on its latest pass, the verdict the shared judge gives its passes
   * as they now stand (as the status bar does), not the one its writer stored there (another version's
   * rule, the Python companion's, an edit by hand); returns the note on stored verdicts that differ.
   * A run this window trains keeps its trainer's, judged pass by pass by this version's rule.
   */
  private async judgeFollowed(run: PanelRun): Promise<string | undefined> {
    const read = this.followed.get(run.runDir);
    const latest = run.records[run.records.length - 1];
    if (this.deps.judgeRun === undefined || read === undefined || latest === undefined || this.deps.client.forRun(run.runDir) !== undefined) return undefined;
    try {
      const note = await judgeFollowed(this.deps.judgeRun, read, latest);
      if (note !== undefined) run.verdictNote = note || undefined;
      return note;
    } catch (err) {
      this.deps.log(`panel: ${run.runDir}: its passes could not be judged (${String(err)}); the verdict its writer stored is shown`);
      return undefined;
    }
  }

  private render(): void {
    const webview = this.panel.webview;
    const nonce = randomBytes(18).toString('base64url');
    webview.html = renderPanelHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'panel.css')).toString(),
      cspSource: webview.cspSource,
      nonce,
      title: this.panel.title,
    });
  }

  private sendShow(): void {
    this.post({ type: 'show', runs: this.runs.map(panelRunToSend) });
    this.flushPngRequest();
  }

  private post(message: ToPanel): void {
    if (!this.ready) return;
    void this.panel.webview.postMessage(message).then(undefined, (err: unknown) => this.deps.log(`panel: could not post ${message.type}: ${String(err)}`));
  }

  private onMessage(m: unknown): void {
    if (!isFromPanel(m)) {
      this.deps.log(`panel: ignored a malformed message from the webview`);
      return;
    }
    this.handle(m);
  }

  private handle(m: FromPanel): void {
    if (m.type === 'ready') {
      this.ready = true;
      // While run folders are still being read, load() sends the show when it is done.
      if (!this.buffered) this.sendShow();
      return;
    }
    // Only act on runs this panel shows: the webview is not trusted to name arbitrary folders.
    if (!this.shownRun(m.runDir)) {
      this.deps.log(`panel: ignored "${m.type}" for a run it does not show`);
      return;
    }
    const { actions } = this.deps;
    const act = (what: string, done: void | Promise<void>) => {
      if (done) reportFailure(what, done, (line) => this.deps.log(`panel: ${line}`));
    };
    switch (m.type) {
      case 'stop':
        return act('Stop', actions.stop(m.runDir));
      case 'retrain':
        return act('Retrain', actions.retrain(m.runDir));
      case 'exportCsv':
        return act('Export CSV', actions.exportCsv(m.runDir));
      case 'exportPng':
        return act('Export PNG', actions.exportPng(m.runDir, m.chart, m.dataUrl));
    }
  }

  private onTrainerEvent(e: TrainerEvent): void {
    if (this.buffered) this.buffered.push(e);
    else this.applyEvent(e, true);
  }

  private applyEvent({ trainer, event }: TrainerEvent, post: boolean): void {
    const runDir = trainer.runDir ?? runDirOf(event);
    const run = runDir ? this.shownRun(runDir) : undefined;
    if (!run) return;
    const update = applyTrainerEvent(run, event);
    if (!post) return;
    switch (update.kind) {
      case 'append':
        this.post({ type: 'append', runDir: run.runDir, records: update.records });
        break;
      case 'images':
        if (run.images) this.post({ type: 'images', runDir: run.runDir, images: run.images });
        break;
      case 'status': {
        const message: ToPanel = { type: 'status', runDir: run.runDir, status: update.status, message: update.message, progress: update.progress };
        if (update.progress) this.postProgress(run.runDir, message);
        else {
          // A status without progress (started, done) goes at once, and a progress report still pending is older than it.
          this.progressPosts.get(run.runDir)?.dispose();
          this.progressPosts.delete(run.runDir);
          this.post(message);
        }
        break;
      }
      case 'none':
        break;
    }
  }

  private postProgress(runDir: string, message: ToPanel): void {
    let pending = this.progressPosts.get(runDir);
    if (!pending) {
      pending = new LatestThrottle<ToPanel>(PROGRESS_INTERVAL_MS, (latest) => {
        if (this.shownRun(runDir)) this.post(latest);
      });
      this.progressPosts.set(runDir, pending);
    }
    pending.offer(message);
  }

  private clearProgressPosts(): void {
    for (const p of this.progressPosts.values()) p.dispose();
    this.progressPosts.clear();
  }

  dispose(): void {
    if (DiagnosticsPanel.current === this) DiagnosticsPanel.current = undefined;
    this.clearProgressPosts();
    this.external.clear();
    this.followed.clear();
    this.loadToken++;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function runDirOf(event: FromTrainer): string | undefined {
  return event.type === 'started' || event.type === 'done' ? event.runDir : event.type === 'error' ? event.runDir : undefined;
}

/** Re-creates the panel after a reload from the state its webview saved. */
export class DiagnosticsPanelSerializer implements vscode.WebviewPanelSerializer {
  constructor(private readonly deps: PanelDeps) {}

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    await DiagnosticsPanel.revive(this.deps, panel, state);
  }
}

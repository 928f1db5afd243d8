/**
 * Starting and stopping training from the editor: Train VAE, Stop Training, Retrain (panel),
 * retrain on save. Checks trust and the spec before a trainer is forked, then wires the
 * trainer to the progress notification, the panel and the diagnostics.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { startRequest } from '../../core/protocol';
import { DiagnosticsPanel, type PanelDeps } from '../panel/diagnosticsPanel';
import { finishedMessage } from '../status/runStateWording';
import { specChangedSince } from '../../core/specChange';
import { readSettings, workspaceRoots } from '../settings';
import { checkSpec } from '../specs/specChecks';
import type { SpecDiagnostics } from '../specs/specDiagnostics';
import { runDirFromArg } from '../runs/runCommands';
import { isSpecDocument, resolveSpec, specText, specUriFromArg } from '../specs/specFiles';
import { specLabel } from '../specs/specLabel';
import { AlreadyTrainingError, type TrainerClient } from '../trainer/trainerClient';
import type { TrainerProcess } from '../trainer/trainerProcess';
import type { RunOverview } from '../../core/run/read';
import { TrainingTimings } from './editorTimings';
import { OwnSaves, SpecStarts, type Superseded } from './specStarts';
import { showTrainingProgress } from './progressNotification';
import { requireTrust } from '../trust';
import { tfjsNodeSearchPaths } from '../engine/nativeEngine';
import { reportFailure } from '../failures';
import { followSpecFiles } from '../trainer/specFileEvents';

export interface TrainingDeps {
  extensionUri: vscode.Uri;
  client: TrainerClient;
  diagnostics: SpecDiagnostics;
  panelDeps: () => PanelDeps;
  output: vscode.OutputChannel;
  /** The extension's global storage, where "Install Native TensorFlow" puts tfjs-node. */
  storageDir: string;
  /** The spec's runs as the run index reads them (their status says whether another process still writes them). */
  runsOfSpec: (specPath: string) => Promise<RunOverview[]>;
}

export class Training implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** One start of a spec at a time; a newer request supersedes a waiting one. */
  private readonly starts = new SpecStarts();
  /** The saves trainSpec makes itself, which retrain on save must not answer with a second start. */
  private readonly ownSaves = new OwnSaves();

  private readonly log = (line: string) => this.deps.output.appendLine(line);

  constructor(private readonly deps: TrainingDeps) {
    this.disposables.push(
      vscode.workspace.onDidSaveTextDocument((doc) => reportFailure('Retraining on save', this.onSave(doc), this.log)),
      followSpecFiles(deps.client),
    );
  }

  /** Train VAE: the given spec, the active one, or the user's pick. */
  async train(arg?: unknown): Promise<TrainerProcess | undefined> {
    const uri = await resolveSpec(arg, 'Which spec do you want to train?');
    if (!uri) return undefined;
    return this.trainSpec(uri, { ask: true });
  }

  /**
   * Check the spec and start its trainer. The text is read and parsed once here (the checks' parse);
   * the trainer gets that same text, so it trains exactly what was checked. `quietIfUnparsable`: a
   * spec that does not parse starts nothing and says nothing (retrain on save; the editor underlines it).
   * Starts of one spec run one at a time, and one that a newer start of the same spec has overtaken
   * while it waited (to save, for the user, for the old run to stop) gives way to it and returns undefined.
   */
  async trainSpec(uri: vscode.Uri, opts: { ask: boolean; quietIfUnparsable?: boolean }): Promise<TrainerProcess | undefined> {
    if (!requireTrust('Training')) return undefined;
    const timings = new TrainingTimings();
    const outcome = await this.starts.run(uri.toString(), (superseded) => this.startSpec(uri, opts, timings, superseded));
    return outcome.superseded ? undefined : outcome.value;
  }

  private async startSpec(
    uri: vscode.Uri,
    opts: { ask: boolean; quietIfUnparsable?: boolean },
    timings: TrainingTimings,
    superseded: Superseded,
  ): Promise<TrainerProcess | undefined> {
    const trainerPath = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'trainer.js').fsPath;
    if (!fs.existsSync(trainerPath)) {
      void vscode.window.showErrorMessage(
        `VAE Lens: the trainer is missing (${trainerPath}). Reinstall the extension, or run the build if you are developing it.`,
      );
      return undefined;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc?.isDirty) {
      // This save is part of this start: retrain on save must not start the spec for it as well.
      this.ownSaves.begin(uri.toString(), doc.version);
      const saved = await doc.save();
      this.ownSaves.end(uri.toString(), saved);
      if (!saved) return undefined;
    }
    // A newer start came while saving: it reads the text (its own save's, or later) and starts.
    if (superseded()) return undefined;
    const text = await specText(uri);
    if (text === undefined) {
      void vscode.window.showErrorMessage(`VAE Lens: cannot read ${uri.fsPath}.`);
      return undefined;
    }
    // The same checks as the editor's diagnostics (schema, data file, workspace): refuse before forking.
    const settings = readSettings(uri);
    for (const problem of settings.problems) this.log(`warn: ${problem}`);
    const checked = checkSpec(text, uri.fsPath, {
      trusted: true,
      workspaceRoots: workspaceRoots(),
      allowOutsideWorkspace: settings.allowDataOutsideWorkspace,
    });
    if (!checked.doc && opts.quietIfUnparsable) return undefined;
    const errors = checked.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0 || !checked.doc) {
      const count = errors.length;
      const show = 'Show Problems';
      void vscode.window
        .showErrorMessage(
          `VAE Lens: ${specLabel(uri)} has ${count} problem${count > 1 ? 's' : ''}; fix ${count > 1 ? 'them' : 'it'} before training. First: ${errors[0]!.message}`,
          show,
        )
        .then((c) => c === show && vscode.commands.executeCommand('workbench.actions.view.problems'));
      return undefined;
    }
    const name = specLabel(uri, checked.doc.parsed.spec.name);

    const running = this.deps.client.forSpecOnDisk(uri.fsPath);
    if (running) {
      if (opts.ask) {
        const restart = 'Stop and Restart';
        // A newer start of this spec (a save, another click) answers for the user: the question is dropped.
        const choice = await Promise.race([
          vscode.window.showWarningMessage(`VAE Lens: ${name} is already training.`, restart, 'Show Diagnostics'),
          superseded.overtaken.then(() => undefined),
        ]);
        if (choice === 'Show Diagnostics' && running.runDir) await DiagnosticsPanel.createOrShow(this.deps.panelDeps(), [running.runDir]);
        if (choice !== restart || superseded()) return undefined;
      }
      await running.stop();
      // Saved again while the old run stopped (retrain on save): the newer start trains the newer text.
      if (superseded()) return undefined;
    } else if (!(await this.confirmBesideOtherWriter(uri, name, opts.ask, superseded))) return undefined;

    const request = startRequest({
      specPath: uri.fsPath,
      specText: text,
      requestedBy: 'editor',
      runsDir: settings.runsDirectory,
      backend: settings.backend === 'auto' ? undefined : settings.backend,
      allowOutsideWorkspace: settings.allowDataOutsideWorkspace,
      threads: settings.threads,
      // The editor keeps a core for itself (its window, the panel) unless the user says otherwise.
      reserveCores: 1,
      // The native engine is not in the .vsix: use the user's own install where there is one,
      // or the one "Install Native TensorFlow" made.
      tfjsNodeSearchPaths: tfjsNodeSearchPaths(this.deps.storageDir, uri),
      // No folder open (a lone spec file): no workspace to confine data to. An empty list would refuse every file.
      workspaceRoots: workspaceRoots().length > 0 ? workspaceRoots() : undefined,
    });
    let trainer: TrainerProcess;
    try {
      trainer = this.deps.client.start(request, settings.trainerPriority, name);
      reportFailure('Opening the diagnostics panel', DiagnosticsPanel.prepare(this.deps.panelDeps()), this.log);
    } catch (e) {
      if (e instanceof AlreadyTrainingError) {
        void vscode.window.showWarningMessage(`VAE Lens: ${name} is already training.`);
        return undefined;
      }
      throw e;
    }
    this.deps.diagnostics.clearTrainerErrors(uri);
    this.follow(trainer, uri, name, text, timings);
    showTrainingProgress(trainer, name);
    return trainer;
  }

  /**
   * Another window, a terminal (the CLI) or a script may be training this spec: a run of it says so and
   * its writer lives. This window cannot stop that run, and a second one beside it halves the speed of
   * both, so it starts only when the user says so; retrain on save does not ask, and starts nothing.
   */
  private async confirmBesideOtherWriter(uri: vscode.Uri, name: string, ask: boolean, superseded: Superseded): Promise<boolean> {
    const other = (await this.deps.runsOfSpec(uri.fsPath)).find((r) => r.status === 'running' && !this.deps.client.forRun(r.runDir));
    if (!other) return true;
    const writer = other.meta?.pid !== undefined ? `process ${other.meta.pid}${other.meta.host ? ` on ${other.meta.host}` : ''}, ` : '';
    const what = `VAE Lens: ${name} is already training in another window or terminal (${writer}run ${path.basename(other.runDir)})`;
    if (!ask) {
      void vscode.window.showWarningMessage(`${what}; not retraining it on save.`);
      return false;
    }
    const anyway = 'Train Anyway';
    const show = 'Show Diagnostics';
    const choice = await Promise.race([
      vscode.window.showWarningMessage(`${what}. Train a second run beside it?`, anyway, show),
      superseded.overtaken.then(() => undefined),
    ]);
    if (choice === show) await DiagnosticsPanel.createOrShow(this.deps.panelDeps(), [other.runDir]);
    return choice === anyway && !superseded();
  }

  private follow(trainer: TrainerProcess, specUri: vscode.Uri, name: string, text: string, timings: TrainingTimings): void {
    const errors: string[] = [];
    const sub = trainer.onEvent((e) => {
      switch (e.type) {
        case 'diagnostics':
          timings.pointArrived();
          break;
        case 'started':
          reportFailure('Showing the new run in the diagnostics panel', DiagnosticsPanel.createOrShow(this.deps.panelDeps(), [e.runDir], true), this.log);
          break;
        case 'error':
          errors.push(e.message.split('\n')[0]!);
          if (e.userError) this.deps.diagnostics.reportTrainerError(specUri, text, e);
          break;
        case 'progress':
        case 'images':
        case 'log':
          break;
        case 'done':
          sub.dispose();
          this.deps.output.appendLine(`[${name}] ${timings.finish()}`);
          this.announce(e.status, name, errors, trainer, specUri, text);
          break;
      }
    });
  }

  private announce(status: string, name: string, errors: string[], trainer: TrainerProcess, specUri: vscode.Uri, trainedText: string): void {
    const output = 'Show Output';
    const onOutput = (c: string | undefined) => c === output && this.deps.output.show(true);
    if (status === 'failed') {
      const first = errors[0] ?? trainer.done?.message ?? 'the trainer failed';
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more; see Problems)` : '';
      void vscode.window.showErrorMessage(`VAE Lens: training ${name} failed: ${first}${more}`, output).then(onOutput);
    } else if (status === 'diverged') {
      void vscode.window.showWarningMessage(`VAE Lens: ${name} diverged. ${trainer.done?.message ?? ''}`, output).then(onOutput);
    } else if (status === 'completed') {
      const message = specText(specUri).then((now) => finishedMessage(name, trainer.lastRecord, now !== undefined && specChangedSince(now, trainedText)));
      reportFailure(
        'Announcing the end of training',
        message.then((m) => void vscode.window.showInformationMessage(m)),
        this.log,
      );
    }
  }

  /**
   * Stop Training. With a target (a spec from its CodeLens or editor title, a run or spec from the runs
   * view) exactly that one is stopped, or nothing: a stale Stop on a spec that has finished must not stop
   * another. Without one (the palette): the active spec's trainer, the only trainer, or the user's pick.
   */
  async stop(arg?: unknown): Promise<void> {
    const all = this.deps.client.all();
    const argSpec = specUriFromArg(arg);
    const argRun = argSpec ? undefined : runDirFromArg(arg);
    if (argSpec || argRun) {
      const target = argSpec ? this.deps.client.forSpecOnDisk(argSpec.fsPath) : (this.deps.client.forRun(argRun!) ?? this.deps.client.forSpecOnDisk(argRun!));
      if (!target) {
        void vscode.window.showInformationMessage(`VAE Lens: ${argSpec ? specLabel(argSpec) : path.basename(argRun!)} is not training.`);
        return;
      }
      return this.stopTrainer(target);
    }
    if (all.length === 0) {
      void vscode.window.showInformationMessage('VAE Lens: nothing is training.');
      return;
    }
    let target: TrainerProcess | undefined;
    const active = vscode.window.activeTextEditor?.document;
    if (!target && active && isSpecDocument(active)) target = this.deps.client.forSpecOnDisk(active.uri.fsPath);
    if (!target && all.length === 1) target = all[0];
    if (!target) {
      const picked = await vscode.window.showQuickPick(
        // Two folders of a multi-root workspace may each hold a model.vae.json: the path tells them apart.
        all.map((t) => ({
          label: specLabel(vscode.Uri.file(this.deps.client.specPathOf(t))),
          description: t.runDir ? path.basename(t.runDir) : 'starting',
          trainer: t,
        })),
        { placeHolder: 'Which training do you want to stop?' },
      );
      target = picked?.trainer;
    }
    if (target) await this.stopTrainer(target);
  }

  private async stopTrainer(target: TrainerProcess): Promise<void> {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `VAE Lens: stopping ${specLabel(vscode.Uri.file(this.deps.client.specPathOf(target)))}` },
      () => target.stop(),
    );
  }

  /** Retrain the spec a run came from (the panel's button). */
  async retrain(specPath: string): Promise<void> {
    await this.trainSpec(vscode.Uri.file(specPath), { ask: true });
  }

  private async onSave(doc: vscode.TextDocument): Promise<void> {
    if (!isSpecDocument(doc)) return;
    // Train VAE saved an unsaved spec to train it: that start is under way, not a reason for another.
    if (this.ownSaves.take(doc.uri.toString(), doc.version)) return;
    if (!readSettings(doc.uri).retrainOnSave || !vscode.workspace.isTrusted) return;
    // A spec that does not parse: the diagnostics already say what is wrong; start nothing.
    await this.trainSpec(doc.uri, { ask: false, quietIfUnparsable: true });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

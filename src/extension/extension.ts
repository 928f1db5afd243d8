/**
 * VAE Lens extension entry point: wiring only. Each concern lives in its own module and
 * every disposable goes into context.subscriptions (or is released in deactivate).
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { SpecCodeLensProvider } from './status/codeLens';
import { newModel } from './specs/newModel';
import { DiagnosticsPanel, DiagnosticsPanelSerializer, type PanelDeps } from './panel/diagnosticsPanel';
import { installNativeEngine } from './engine/nativeEngine';
import { retrainProblem } from '../core/confinement';
import { readRunOverview } from '../core/run/read';
import { specPathOfRun } from '../core/run/paths';
import { RunCommands } from './runs/runCommands';
import { RunIndex } from './runs/runIndex';
import { RunsViewProvider, type RunsViewNode } from './runs/runsTreeView';
import { SpecDiagnostics } from './specs/specDiagnostics';
import { isSpecDocument, runsDirsForSpec, specText as readSpecFileText } from './specs/specFiles';
import { StatusBar } from './status/statusBar';
import { TrainerClient } from './trainer/trainerClient';
import { Training } from './training/trainCommands';
import { workspaceRoots } from './settings';
import { registerLayerHover } from './specs/layerHover';

/** How long deactivate waits for trainers to write their summaries before killing them. */
const DEACTIVATE_STOP_MS = 4000;

let client: TrainerClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const activationStart = performance.now();
  const output = vscode.window.createOutputChannel('VAE Lens');
  const log = (line: string) => output.appendLine(`[${new Date().toLocaleTimeString()}] ${line}`);
  context.subscriptions.push(output);

  client = new TrainerClient({ trainerPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'trainer.js').fsPath, log });
  const trainers = client;
  // A backstop only: it asks trainers to stop, never kills them. deactivate owns the shutdown, and VS Code
  // disposes these subscriptions right after calling it, without waiting for it.
  context.subscriptions.push({ dispose: () => trainers.dispose() });

  const index = new RunIndex(trainers);
  const diagnostics = new SpecDiagnostics();
  context.subscriptions.push(index, diagnostics);

  let runCommands: RunCommands | undefined;
  let training: Training | undefined;
  const panelDeps = (): PanelDeps => ({
    extensionUri: context.extensionUri,
    client: trainers,
    log,
    actions: {
      // Each returns its promise: the panel says what failed and why.
      stop: (runDir) => trainers.forRun(runDir)?.stop(),
      retrain: async (runDir) => {
        const r = await readRunOverview(runDir);
        if (!r.meta) return void vscode.window.showErrorMessage('VAE Lens: this run does not say which spec it came from (run.json is missing).');
        // run.json belongs to the run folder, which anyone may have written: train what it names only when that is this run's spec in the workspace.
        // Where its spec is now: a moved or cloned workspace's run.json names where it was.
        const specPath = specPathOfRun(r) ?? r.meta.specPath;
        const specText = await readSpecFileText(vscode.Uri.file(specPath));
        const problem = retrainProblem(specPath, runDir, workspaceRoots(), (spec) => runsDirsForSpec(spec, specText));
        if (problem) {
          const train = 'Train It Anyway';
          const choice = await vscode.window.showWarningMessage(`VAE Lens: not retraining this run without asking: ${problem}.`, { modal: true }, train);
          if (choice !== train || !vscode.workspace.isTrusted) return;
        }
        await training?.retrain(specPath);
      },
      exportCsv: (runDir) => runCommands?.exportCsv(runDir),
      exportPng: (runDir, chart, dataUrl) => runCommands?.exportPng(runDir, chart, dataUrl),
    },
  });
  runCommands = new RunCommands({ index, client: trainers, panelDeps, log });
  training = new Training({
    extensionUri: context.extensionUri,
    client: trainers,
    diagnostics,
    panelDeps,
    output,
    storageDir: context.globalStorageUri.fsPath,
    runsOfSpec: (specPath) => index.runsForSpec(specPath),
  });
  context.subscriptions.push(training, vscode.window.registerWebviewPanelSerializer(DiagnosticsPanel.viewType, new DiagnosticsPanelSerializer(panelDeps())));
  context.subscriptions.push({ dispose: () => DiagnosticsPanel.active?.dispose() });

  const statusBar = new StatusBar(index, trainers);
  const codeLenses = new SpecCodeLensProvider(index, trainers);
  const runsView = new RunsViewProvider(index, trainers);
  const tree = vscode.window.createTreeView<RunsViewNode>('vaeLens.runs', { treeDataProvider: runsView, canSelectMany: true, showCollapseAll: true });
  context.subscriptions.push(
    statusBar,
    codeLenses,
    runsView,
    tree,
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.vae.json' }, codeLenses),
    registerLayerHover(),
  );

  const rc = runCommands;
  const tr = training;
  const register = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  register('vaeLens.train', async (arg) => {
    const t = await tr.train(arg);
    if (t) statusBar.setTarget(vscode.Uri.file(t.specPath));
  });
  register('vaeLens.stop', (arg) => tr.stop(arg));
  register('vaeLens.showDiagnostics', (arg) => rc.showDiagnostics(arg));
  register('vaeLens.openRun', (arg) => rc.openRun(arg));
  register('vaeLens.compareRuns', (arg, selected) => rc.compareRuns(arg, selected ?? tree.selection));
  register('vaeLens.exportRun', (arg) => rc.exportRun(arg));
  register('vaeLens.newModel', () => newModel(context.extensionUri));
  register('vaeLens.deleteRun', (arg) => rc.deleteRun(arg));
  register('vaeLens.installNativeEngine', () => installNativeEngine(context.globalStorageUri.fsPath, log));
  register('vaeLens.refreshRuns', () => {
    index.invalidate();
    runsView.refresh();
  });

  // Context keys for menus: something is training; the active spec is training.
  const updateContext = () => {
    const active = vscode.window.activeTextEditor?.document;
    void vscode.commands.executeCommand('setContext', 'vaeLens.training', trainers.isTraining);
    void vscode.commands.executeCommand(
      'setContext',
      'vaeLens.activeSpecTraining',
      !!(active && isSpecDocument(active) && trainers.forSpec(active.uri.fsPath)),
    );
  };
  updateContext();
  context.subscriptions.push(trainers.onDidChangeTrainers(updateContext), vscode.window.onDidChangeActiveTextEditor(updateContext));

  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      log('workspace trusted: training and data checks are enabled');
      index.invalidate();
    }),
  );
  log(
    `activated in ${(performance.now() - activationStart).toFixed(1)} ms (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'in Restricted Mode: training is off'})`,
  );
}

/**
 * Closing or reloading the window: ask every trainer to stop, give them DEACTIVATE_STOP_MS to finish
 * their step and write summary.json and a checkpoint, then kill what is left (the extension host gives
 * deactivate 5 s before it exits). A trainer also stops by itself when its IPC channel closes.
 */
export async function deactivate(): Promise<void> {
  const trainers = client;
  client = undefined;
  await trainers?.stopAll(DEACTIVATE_STOP_MS);
}

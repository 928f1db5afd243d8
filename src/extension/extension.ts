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
import { RunCommands } from './runs/runCommands';
import { retrainRun } from './runs/retrainRun';
import { RunIndex } from './runs/runIndex';
import { RunsViewProvider, type RunsViewNode } from './runs/runsTreeView';
import { SpecDiagnostics } from './specs/specDiagnostics';
import { isSpecDocument } from './specs/specFiles';
import { whenSpecInSight, type SpecParts } from './specParts';
import { StatusBar } from './status/statusBar';
import { TrainerClient } from './trainer/trainerClient';
import { Training } from './training/trainCommands';
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

  const panelDeps = (): PanelDeps => ({
    extensionUri: context.extensionUri,
    client: trainers,
    log,
    judge: (runDir, metrics, settings) => specParts().index.verdicts.judgeRead(runDir, metrics, settings),
    judgeRun: (runDir, settings) => specParts().index.verdicts.judge(runDir, settings),
    actions: {
      // Each returns its promise: the panel says what failed and why.
      stop: (runDir) => trainers.forRun(runDir)?.stop(),
      retrain: (runDir) => retrainRun(runDir, (specPath) => specParts().training.retrain(specPath)),
      exportCsv: (runDir) => specParts().runCommands.exportCsv(runDir),
      exportPng: (runDir, chart, dataUrl) => specParts().runCommands.exportPng(runDir, chart, dataUrl),
    },
  });

  // The runs view is there from the start (its welcome says how to make a spec); it asks for the run index only once it lists a spec.
  const runsView = new RunsViewProvider(trainers, () => specParts().index);
  const tree = vscode.window.createTreeView<RunsViewNode>('vaeLens.runs', { treeDataProvider: runsView, canSelectMany: true, showCollapseAll: true });
  const panels = new DiagnosticsPanelSerializer(panelDeps());
  context.subscriptions.push(
    runsView,
    tree,
    vscode.window.registerWebviewPanelSerializer(DiagnosticsPanel.viewType, {
      deserializeWebviewPanel: (panel, state) => {
        specParts();
        return panels.deserializeWebviewPanel(panel, state);
      },
    }),
    { dispose: () => DiagnosticsPanel.active?.dispose() },
  );

  /**
   * What reads run folders, watches files and shows a status: made the first time a spec is in sight (open
   * in an editor, listed in the runs view, a command, a restored panel), not at activation. The extension
   * activates whenever any JSONC file opens (settings.json, tsconfig.json), as a lone spec opened with no
   * folder fires nothing else.
   */
  let parts: SpecParts | undefined;
  const specParts = (): SpecParts => {
    if (parts) return parts;
    const started = performance.now();
    const index = new RunIndex(trainers);
    const diagnostics = new SpecDiagnostics();
    const runCommands = new RunCommands({ index, client: trainers, panelDeps, log });
    const training = new Training({
      extensionUri: context.extensionUri,
      client: trainers,
      diagnostics,
      panelDeps,
      output,
      storageDir: context.globalStorageUri.fsPath,
      runsOfSpec: (specPath) => index.runsForSpec(specPath),
    });
    const statusBar = new StatusBar(index, trainers);
    const codeLenses = new SpecCodeLensProvider(index, trainers);
    context.subscriptions.push(
      index,
      diagnostics,
      training,
      statusBar,
      codeLenses,
      vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.vae.json' }, codeLenses),
      registerLayerHover(),
    );
    runsView.follow(index);
    parts = { index, runCommands, training, statusBar };
    log(`a spec is in sight: run index, watchers and status started in ${(performance.now() - started).toFixed(1)} ms`);
    return parts;
  };
  context.subscriptions.push(whenSpecInSight(() => specParts()));

  const register = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  register('vaeLens.train', async (arg) => {
    const { training, statusBar } = specParts();
    const t = await training.train(arg);
    if (t) statusBar.setTarget(vscode.Uri.file(t.specPath));
  });
  register('vaeLens.stop', (arg) => specParts().training.stop(arg));
  register('vaeLens.showDiagnostics', (arg) => specParts().runCommands.showDiagnostics(arg));
  register('vaeLens.openRun', (arg) => specParts().runCommands.openRun(arg));
  register('vaeLens.compareRuns', (arg, selected) => specParts().runCommands.compareRuns(arg, selected ?? tree.selection));
  register('vaeLens.exportRun', (arg) => specParts().runCommands.exportRun(arg));
  register('vaeLens.newModel', () => newModel(context.extensionUri));
  register('vaeLens.deleteRun', (arg) => specParts().runCommands.deleteRun(arg));
  register('vaeLens.installNativeEngine', () => installNativeEngine(context.globalStorageUri.fsPath, log));
  register('vaeLens.refreshRuns', () => {
    specParts().index.invalidate();
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
      parts?.index.invalidate();
    }),
  );
  log(
    `activated in ${(performance.now() - activationStart).toFixed(1)} ms (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'in Restricted Mode: training is off'}${parts ? '' : '; waiting for a spec to be in sight'})`,
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

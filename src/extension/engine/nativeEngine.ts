/**
 * "VAE Lens: Install Native TensorFlow": one step from "I want native speed" to training on it.
 * Finds an existing @tensorflow/tfjs-node (the vaeLens.tfjsNodePath setting, the workspace
 * folders, an earlier install) or installs one with npm into the extension's global storage,
 * with a cancellable progress notification; the trainer searches that folder, so the next run
 * with backend auto (or tensorflow) uses it, and run.json records the engine and where it came from.
 */
import * as vscode from 'vscode';
import { installTfjsNode, locateTfjsNode, nativeEngineFolder, TFJS_NODE, TFJS_NODE_VERSION, tfjsNodeLoadProblem } from './nativeEngineInstall';
import { readSettings, workspaceRoots } from '../settings';

/** The folders the trainer searches for tfjs-node, in order: the setting, the installer's folder, the workspace. */
export function tfjsNodeSearchPaths(storageDir: string, scope?: vscode.Uri): string[] {
  const setting = readSettings(scope).tfjsNodePath;
  return [...(setting ? [setting] : []), nativeEngineFolder(storageDir), ...workspaceRoots()];
}

export async function installNativeEngine(storageDir: string, log: (line: string) => void): Promise<void> {
  // The setting of the folder being worked in (it may differ per folder): the active editor's.
  const searchPaths = tfjsNodeSearchPaths(storageDir, vscode.window.activeTextEditor?.document.uri);
  const found = locateTfjsNode(searchPaths);
  // Found is not usable: a copy whose native library is missing would be "available" and never used.
  const problem = found === undefined ? undefined : await tfjsNodeLoadProblem(found);
  if (found && problem === undefined) {
    log(`native TensorFlow: ${TFJS_NODE} found in ${found}`);
    void vscode.window.showInformationMessage(
      `VAE Lens: native TensorFlow is already available (${found}). Training uses it when vaeLens.backend is auto or tensorflow; the run's engine shows "tensorflow".`,
    );
    return;
  }
  if (found) {
    log(`native TensorFlow: ${TFJS_NODE} in ${found} does not load: ${problem}`);
    // The trainer takes the first copy it finds: the setting's, found before the installer's folder, would hide a new install.
    const foundAt = searchPaths.findIndex((p) => locateTfjsNode([p]) === found);
    if (foundAt < searchPaths.indexOf(nativeEngineFolder(storageDir))) {
      void vscode.window.showErrorMessage(
        `VAE Lens: ${TFJS_NODE} in ${found} (vaeLens.tfjsNodePath) does not load: ${problem}. Rebuild it there (npm rebuild ${TFJS_NODE}), or clear vaeLens.tfjsNodePath and run this command again to install one.`,
      );
      return;
    }
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VAE Lens: installing native TensorFlow (${TFJS_NODE} ${TFJS_NODE_VERSION})`, cancellable: true },
    (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return installTfjsNode({
        storageDir,
        signal: abort.signal,
        onLine: (line) => {
          log(`native TensorFlow: ${line}`);
          progress.report({ message: line.slice(0, 100) });
        },
      });
    },
  );
  if (result.ok) {
    log(`native TensorFlow: installed in ${result.folder} (${result.seconds.toFixed(0)} s)`);
    void vscode.window.showInformationMessage(
      `VAE Lens: native TensorFlow installed in ${result.seconds.toFixed(0)} s. The next training run uses it (engine "tensorflow").`,
    );
    return;
  }
  log(`native TensorFlow: ${result.message} (log: ${result.logFile})`);
  if (result.cancelled) return void vscode.window.showInformationMessage(`VAE Lens: ${result.message}.`);
  const show = 'Show Log';
  const choice = await vscode.window.showErrorMessage(
    `VAE Lens: native TensorFlow could not be installed: ${result.message}. Nothing was left installed; training keeps using the WebAssembly engine.`,
    show,
  );
  if (choice === show) await vscode.window.showTextDocument(vscode.Uri.file(result.logFile));
}

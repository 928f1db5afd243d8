/**
 * The panel's Retrain: train again the spec a run came from. run.json says which spec that is, and
 * belongs to the run folder, which anyone may have written, deleted or edited since the panel read it.
 */
import * as vscode from 'vscode';
import { retrainProblem } from '../../core/confinement';
import { specPathOfRun } from '../../core/run/paths';
import { runFolderProblem } from '../../core/run/present';
import { readRunOverview } from '../../core/run/read';
import { workspaceRoots } from '../settings';
import { runsDirsForSpec, specText as readSpecFileText } from '../specs/specFiles';

export async function retrainRun(runDir: string, train: (specPath: string) => Promise<void>): Promise<void> {
  const problem = await runFolderProblem(runDir);
  const r = problem === undefined ? await readRunOverview(runDir) : undefined;
  if (!r?.meta) {
    const why = problem ?? `${runDir} changed while it was read`;
    return void vscode.window.showErrorMessage(
      `VAE Lens: cannot retrain this run, its spec is not known: ${why}. Open the spec it came from and run "Train VAE" there.`,
    );
  }
  // Train what run.json names only when that is this run's spec in the workspace.
  // Where its spec is now: a moved or cloned workspace's run.json names where it was.
  const specPath = specPathOfRun(r) ?? r.meta.specPath;
  const specText = await readSpecFileText(vscode.Uri.file(specPath));
  const doubt = retrainProblem(specPath, runDir, workspaceRoots(), (spec) => runsDirsForSpec(spec, specText));
  if (doubt) {
    const anyway = 'Train It Anyway';
    const choice = await vscode.window.showWarningMessage(`VAE Lens: not retraining this run without asking: ${doubt}.`, { modal: true }, anyway);
    if (choice !== anyway || !vscode.workspace.isTrusted) return;
  }
  await train(specPath);
}

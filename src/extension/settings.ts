/** The extension's settings (contributes.configuration in package.json), read with their types. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendChoice } from '../core/spec';
import type { TrainerPriority } from './trainer/trainerProcess';
import { resolveSettingPath } from './settingPaths';
import { integerFieldBounds } from '../core/specSchema';

const SECTION = 'vaeLens';

export interface VaeLensSettings {
  retrainOnSave: boolean;
  /** 'auto' means: use the spec's training.backend. */
  backend: BackendChoice;
  allowDataOutsideWorkspace: boolean;
  /** Absolute, or undefined for the spec's own runs folder. */
  runsDirectory: string | undefined;
  /** A folder with node_modules/@tensorflow/tfjs-node in it (e.g. a global npm prefix), or undefined. */
  tfjsNodePath: string | undefined;
  trainerPriority: TrainerPriority;
  /** Threads for the trainer's kernels; undefined: the spec's training.threads, else all cores but one. */
  threads: number | undefined;
  /** Values of the engine settings that are not theirs to have (a hand-edited settings.json), and what is used instead. */
  problems: string[];
}

const BACKENDS: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
/** As the spec's training.threads allows. */
const MAX_THREADS = integerFieldBounds('training', 'threads').maximum;

export function readSettings(scope?: vscode.Uri): VaeLensSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const backend = c.get<unknown>('backend', 'auto');
  const threads = c.get<unknown>('threads', 0);
  const problems: string[] = [];
  const runsDirectory = c.get<string>('runsDirectory', '').trim();
  const tfjsNodePath = c.get<string>('tfjsNodePath', '').trim();
  return {
    retrainOnSave: c.get<boolean>('retrainOnSave', false),
    backend: knownBackend(backend, problems),
    allowDataOutsideWorkspace: c.get<boolean>('allowDataOutsideWorkspace', false),
    runsDirectory: runsDirectory ? resolveAgainstWorkspace(runsDirectory, scope) : undefined,
    tfjsNodePath: tfjsNodePath ? resolveAgainstWorkspace(tfjsNodePath, scope) : undefined,
    trainerPriority: c.get<string>('trainerPriority', 'below-normal') === 'normal' ? 'normal' : 'below-normal',
    threads: threadCount(threads, problems),
    problems,
  };
}

// Settings editors hold the values to the manifest's schema; settings.json written by hand is not.
function knownBackend(v: unknown, problems: string[]): BackendChoice {
  if ((BACKENDS as readonly unknown[]).includes(v)) return v as BackendChoice;
  problems.push(`vaeLens.backend is ${JSON.stringify(v)}, not one of ${BACKENDS.join(', ')} (lower case): "auto" is used`);
  return 'auto';
}

/** 0 (the setting's "automatic") means: not set; so does a value out of the setting's range, said in `problems`. */
function threadCount(v: unknown, problems: string[]): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_THREADS) return v >= 1 ? v : undefined;
  problems.push(`vaeLens.threads is ${JSON.stringify(v)}, not a whole number from 0 to ${MAX_THREADS}: 0 (automatic) is used`);
  return undefined;
}

/** A path setting's folder (resolveSettingPath), relative ones against the workspace folder of `scope` (or the first one, or with none open `scope`'s folder). */
function resolveAgainstWorkspace(p: string, scope?: vscode.Uri): string {
  const own = scope && vscode.workspace.getWorkspaceFolder(scope);
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => ({ name: f.name, path: f.uri.fsPath }));
  const fileDir = scope?.scheme === 'file' ? path.dirname(scope.fsPath) : undefined;
  return resolveSettingPath(p, { folders, scope: own?.uri.scheme === 'file' ? own.uri.fsPath : undefined, home: os.homedir(), fileDir });
}

/** Whether a configuration change touches a VAE Lens setting. */
export function affectsSettings(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(SECTION);
}

export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

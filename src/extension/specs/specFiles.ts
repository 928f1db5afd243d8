/** Finding and picking *.vae.json specs (never the snapshots inside run folders). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseSpecDocument } from '../../core/spec';
import { runsDirFor } from '../../core/specParts/outputPaths';
import { isRunSnapshot } from '../../core/run/files';
import { isInsideRoots, isWithin } from '../../core/confinement';
import { decodeText } from '../../core/text';
import { readSettings, workspaceRoots } from '../settings';

export const SPEC_GLOB = '**/*.vae.json';
export const SPEC_EXCLUDE = '{**/node_modules/**,**/.vae-lens/**}';
export const RUN_META_GLOB = '**/.vae-lens/runs/*/run.json';

/**
 * Where a file is after a rename in the explorer (of the file itself, or of a folder above it); undefined
 * when none of the renames moved it.
 */
export function renamedUri(uri: vscode.Uri, renames: vscode.FileRenameEvent['files']): vscode.Uri | undefined {
  for (const { oldUri, newUri } of renames)
    if (oldUri.scheme === uri.scheme && isWithin(oldUri.fsPath, uri.fsPath))
      return vscode.Uri.joinPath(
        newUri,
        ...path
          .relative(oldUri.fsPath, uri.fsPath)
          .split(path.sep)
          .filter((part) => part !== ''),
      );
  return undefined;
}

/**
 * A spec of the user's: a *.vae.json file, not a run's snapshot of one (in .vae-lens, or a spec.vae.json
 * beside a run.json in a custom runs folder).
 */
export function isSpecPath(p: string): boolean {
  return p.endsWith('.vae.json') && !p.replace(/\\/g, '/').includes('/.vae-lens/') && !isRunSnapshot(p);
}

export function isSpecDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && isSpecPath(doc.uri.fsPath);
}

/** A spec open in the editor that no workspace folder holds: findSpecs lists it while it is open. */
export function isSpecOutsideWorkspace(doc: vscode.TextDocument): boolean {
  return isSpecDocument(doc) && !isInsideRoots(doc.uri.fsPath, workspaceRoots());
}

/** The workspace's specs, and those open in the editor outside it (a lone spec opened with no folder open). */
export async function findSpecs(): Promise<vscode.Uri[]> {
  // isSpecPath leaves out the spec.vae.json snapshots of runs kept in a custom folder (output.runsDir) too.
  const uris = (await vscode.workspace.findFiles(SPEC_GLOB, SPEC_EXCLUDE)).filter((u) => u.scheme === 'file' && isSpecPath(u.fsPath));
  // Those inside the workspace the search has found, or leaves out on purpose (files.exclude).
  for (const d of vscode.workspace.textDocuments) if (isSpecOutsideWorkspace(d)) uris.push(d.uri);
  return uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export function activeSpecUri(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && isSpecDocument(doc) ? doc.uri : undefined;
}

/** A spec passed to a command: a Uri (editor title, explorer) or a runs-view node ({ uri }). */
export function specUriFromArg(arg: unknown): vscode.Uri | undefined {
  const uri =
    arg instanceof vscode.Uri
      ? arg
      : typeof arg === 'object' && arg !== null && (arg as { uri?: unknown }).uri instanceof vscode.Uri
        ? (arg as { uri: vscode.Uri }).uri
        : undefined;
  return uri && uri.scheme === 'file' && isSpecPath(uri.fsPath) ? uri : undefined;
}

/** The spec a command acts on: the argument, the active editor, or the user's pick. */
export async function resolveSpec(arg: unknown, placeHolder: string): Promise<vscode.Uri | undefined> {
  const given = specUriFromArg(arg);
  if (given) return given;
  // A button pressed on a run's snapshot of its spec: training it (or another spec picked instead) is not what was asked.
  const argUri = arg instanceof vscode.Uri ? arg : undefined;
  if (argUri?.scheme === 'file' && argUri.fsPath.endsWith('.vae.json')) {
    void vscode.window.showInformationMessage(
      `VAE Lens: ${argUri.fsPath} is a run's copy of its spec, not a spec to train; open the spec it names in run.json.`,
    );
    return undefined;
  }
  const active = activeSpecUri();
  if (active) return active;
  // The spec the user is looking at is not on disk: training the workspace's only spec (or offering others) in its place is not what was asked.
  const unsaved = vscode.window.activeTextEditor?.document;
  if (unsaved?.isUntitled && (unsaved.languageId === 'jsonc' || unsaved.languageId === 'json')) {
    void vscode.window.showInformationMessage(
      `VAE Lens: ${unsaved.uri.fsPath} is not saved to a file; save it as a *.vae.json file (File > Save As...) to train it.`,
    );
    return undefined;
  }
  const specs = await findSpecs();
  if (specs.length === 0) {
    const create = 'New VAE Model...';
    const choice = await vscode.window.showInformationMessage('VAE Lens: there is no *.vae.json spec in this workspace.', create);
    if (choice === create) await vscode.commands.executeCommand('vaeLens.newModel');
    return undefined;
  }
  if (specs.length === 1) return specs[0];
  const picked = await vscode.window.showQuickPick(
    specs.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(path.dirname(uri.fsPath)), uri })),
    { placeHolder, matchOnDescription: true },
  );
  return picked?.uri;
}

/** The spec's current text: from an open editor (unsaved edits included) or from disk. */
export async function specText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return decodeText(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

/** Folders that may hold a spec's runs: the setting, or the spec's own runs folder (default if it does not parse). */
export function runsDirsForSpec(specPath: string, text: string | undefined): string[] {
  const dirs: string[] = [];
  const configured = readSettings(vscode.Uri.file(specPath)).runsDirectory;
  if (configured) dirs.push(configured);
  let own = path.join(path.dirname(specPath), '.vae-lens', 'runs');
  if (text !== undefined) {
    try {
      const named = runsDirFor(parseSpecDocument(text, specPath).parsed.spec, specPath);
      // An untrusted spec's output.runsDir ("/", "../..") must not make the editor read run folders anywhere on disk.
      if (vscode.workspace.isTrusted || isInsideRoots(named, workspaceRoots())) own = named;
    } catch {
      // An invalid spec still has its default runs folder.
    }
  }
  if (!dirs.includes(own)) dirs.push(own);
  return dirs;
}

/** "New VAE Model...": pick a template, name the file, write the commented spec, open it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { nameFromFile, SPEC_TEMPLATES, specFileName, specFileNameProblem, withSpecName } from './templates';

export async function newModel(extensionUri: vscode.Uri): Promise<void> {
  const template = await vscode.window.showQuickPick(
    SPEC_TEMPLATES.map((t) => ({ label: t.label, detail: t.detail, template: t })),
    { placeHolder: 'Start the new VAE model from...', matchOnDetail: true },
  );
  if (!template) return;
  const templateUri = vscode.Uri.joinPath(extensionUri, 'examples', 'templates', template.template.file);
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(templateUri));
  } catch {
    void vscode.window.showErrorMessage(`VAE Lens: the template ${template.template.file} is missing from the extension.`);
    return;
  }

  const target = await askTarget(template.template.id);
  if (!target) return;
  await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(target.fsPath)));
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(withSpecName(text, nameFromFile(target.fsPath))));
  const doc = await vscode.workspace.openTextDocument(target);
  await vscode.window.showTextDocument(doc);
}

/** Inside a workspace: a name relative to it (next to the active spec when there is one). Else a save dialog. */
async function askTarget(suggestion: string): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') {
    const picked = await vscode.window.showSaveDialog({ filters: { 'VAE spec (*.vae.json)': ['json'] }, title: 'New VAE model', saveLabel: 'Create' });
    if (!picked) return undefined;
    // The extension recognises specs by their .vae.json suffix.
    const target = vscode.Uri.file(path.join(path.dirname(picked.fsPath), specFileName(path.basename(picked.fsPath))));
    // The dialog asked about replacing the name picked, not the one it became: an existing spec of that name is not replaced unasked.
    if (target.fsPath !== picked.fsPath && fs.existsSync(target.fsPath)) {
      void vscode.window.showErrorMessage(`VAE Lens: ${target.fsPath} already exists; run New VAE Model again and choose another name.`);
      return undefined;
    }
    return target;
  }
  const baseDir = active?.scheme === 'file' && vscode.workspace.getWorkspaceFolder(active) === folder ? path.dirname(active.fsPath) : folder.uri.fsPath;
  const prefix = path.relative(folder.uri.fsPath, baseDir).split(path.sep).join('/');
  const initial = prefix ? `${prefix}/${suggestion}` : suggestion;
  const name = await vscode.window.showInputBox({
    title: 'New VAE model',
    prompt: `File name, relative to ${folder.name} (".vae.json" is added)`,
    value: initial,
    valueSelection: [initial.length - suggestion.length, initial.length],
    validateInput: (v) => {
      const problem = specFileNameProblem(v);
      if (problem) return problem;
      return fs.existsSync(path.join(folder.uri.fsPath, specFileName(v))) ? `${specFileName(v)} already exists; choose another name.` : undefined;
    },
  });
  if (name === undefined) return undefined;
  return vscode.Uri.file(path.join(folder.uri.fsPath, specFileName(name)));
}

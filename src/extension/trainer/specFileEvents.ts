/**
 * Passes the workspace's file events to the trainer client, for each trainer's spec to be followed to
 * where it is now (renamed in the explorer or a terminal, written anew by a tool): Stop and Train on it
 * there find its trainer, and the status bar's lookups on progress events need no disk.
 */
import * as vscode from 'vscode';
import type { TrainerClient } from './trainerClient';

/** Run folders, clones and installs: their churn while a run trains is never a spec's move. */
const churn = (p: string) => /[\\/](node_modules|\.git|\.vae-lens)([\\/]|$)/.test(p);

export function followSpecFiles(client: TrainerClient): vscode.Disposable {
  const files = vscode.workspace.createFileSystemWatcher('**/*');
  const local = (uri: vscode.Uri) => uri.scheme === 'file' && !churn(uri.fsPath);
  const subs: vscode.Disposable[] = [
    files,
    files.onDidCreate((uri) => local(uri) && client.fileCreated(uri.fsPath)),
    files.onDidChange((uri) => local(uri) && client.fileChanged(uri.fsPath)),
    files.onDidDelete((uri) => local(uri) && client.fileDeleted()),
    vscode.workspace.onDidRenameFiles((e) => {
      for (const { oldUri, newUri } of e.files) if (oldUri.scheme === 'file' && newUri.scheme === 'file') client.specRenamed(oldUri.fsPath, newUri.fsPath);
    }),
  ];
  return {
    dispose: () => {
      for (const s of subs) s.dispose();
    },
  };
}

/** How a spec is named to the user, in progress, notifications, pickers and the status bar. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { shownPath } from '../../core/errors';

/**
 * The spec's path in its workspace folder (with the folder's name first when several are open), or its
 * full path outside any folder: two model.vae.json in different folders are told apart. A spec `name`
 * other than the file's own comes first, as the user wrote it.
 */
export function specLabel(uri: vscode.Uri, name?: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const inFolder = folder ? path.relative(folder.uri.fsPath, uri.fsPath) : undefined;
  const where =
    folder && inFolder && !inFolder.startsWith('..') && !path.isAbsolute(inFolder)
      ? [...((vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? [folder.name] : []), ...inFolder.split(path.sep)].join('/')
      : shownPath(uri.fsPath);
  return name !== undefined && name !== path.basename(uri.fsPath).replace(/\.vae\.json$/, '') ? `${name} (${where})` : where;
}

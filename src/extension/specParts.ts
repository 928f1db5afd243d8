/**
 * When the extension's costly parts start: the first time a spec is in sight. Until then an
 * activation by any JSONC file (settings.json, tsconfig.json) reads no run folder, watches no
 * file and shows nothing.
 */
import * as vscode from 'vscode';
import type { RunCommands } from './runs/runCommands';
import type { RunIndex } from './runs/runIndex';
import { isSpecDocument } from './specs/specFiles';
import type { StatusBar } from './status/statusBar';
import type { Training } from './training/trainCommands';

/** What reads run folders, watches files and shows a spec's state; made once, on demand. */
export interface SpecParts {
  index: RunIndex;
  runCommands: RunCommands;
  training: Training;
  statusBar: StatusBar;
}

/** Calls `start` once: now if a spec is open in an editor, else when one opens. */
export function whenSpecInSight(start: () => void): vscode.Disposable {
  if (vscode.workspace.textDocuments.some(isSpecDocument)) {
    start();
    return { dispose: () => undefined };
  }
  let started = false;
  const opened = vscode.workspace.onDidOpenTextDocument((doc) => {
    if (started || !isSpecDocument(doc)) return;
    started = true;
    opened.dispose();
    start();
  });
  return opened;
}

/**
 * What the user asked for (a panel button, a retrain on save, a panel opening for a new run) and then
 * failed is said in a notification with what failed and why, and logged: never a promise dropped with
 * `void`, which turns a read-only folder into silence.
 */
import * as vscode from 'vscode';

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Shows "VAE Lens: <what> failed: <why>" and logs the same line. */
export function showFailure(what: string, err: unknown, log?: (line: string) => void): void {
  const line = `${what} failed: ${reasonOf(err)}`;
  log?.(line);
  void vscode.window.showErrorMessage(`VAE Lens: ${line}`);
}

/** Lets `work` run on its own; a failure is shown (showFailure) rather than left an unhandled rejection. */
export function reportFailure(what: string, work: PromiseLike<unknown>, log?: (line: string) => void): void {
  void Promise.resolve(work).then(undefined, (err: unknown) => showFailure(what, err, log));
}

/**
 * Workspace trust. In Restricted Mode VAE Lens still validates specs and shows existing
 * runs, but it neither trains (a spec can point the trainer at any file and runs code
 * with the workspace's data) nor reads data files.
 */
import * as vscode from 'vscode';

/** True when trusted; otherwise explains why `action` is refused and offers to manage trust. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  void vscode.window
    .showWarningMessage(
      `VAE Lens: ${action} is not available in Restricted Mode. Training reads the data files a spec names and runs the trainer on them; trust this workspace to allow it.`,
      manage,
    )
    .then((choice) => {
      if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}

/** What a DiagnosticsPanel needs from the extension, for tests that drive one on the VS Code stub. */
import type { PanelDeps } from '../../src/extension/panel/diagnosticsPanel';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { Uri } from './vscode-stub';

/** A trainer client with no trainer: the panel follows runs from their files only. */
export const noTrainers = { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as unknown as TrainerClient;

export function panelDeps(client: TrainerClient = noTrainers): PanelDeps {
  return {
    extensionUri: Uri.file('/ext') as never,
    client,
    log: () => undefined,
    actions: { stop: () => undefined, retrain: () => undefined, exportCsv: () => undefined, exportPng: () => undefined },
  };
}

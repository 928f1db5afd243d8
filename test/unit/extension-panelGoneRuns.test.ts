import { createdPanels, shown, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticsPanel, type PanelDeps } from '../../src/extension/panel/diagnosticsPanel';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';

const client = { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as unknown as TrainerClient;
const deps: PanelDeps = {
  extensionUri: Uri.file('/ext') as never,
  client,
  log: () => undefined,
  actions: { stop: () => undefined, retrain: () => undefined, exportCsv: () => undefined, exportPng: () => undefined },
};

function runFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-gone-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString() }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 1, steps: 1, wallSeconds: 1 }));
  return dir;
}

// A runs view or quick pick listed the run a moment ago; it was deleted or moved in between (another window, a terminal).
for (const how of ['deleted', 'renamed'] as const) {
  test(`opening a run folder ${how} since it was listed says so where the user looks, naming the folder`, async () => {
    const kept = runFolder();
    const gone = runFolder();
    if (how === 'deleted') rmSync(gone, { recursive: true });
    else renameSync(gone, `${gone}-moved`);
    shown.length = 0;
    createdPanels.length = 0;
    const panel = await DiagnosticsPanel.createOrShow(deps, [kept, gone]);
    try {
      assert.deepEqual(panel.runDirs, [kept]);
      const warnings = shown.filter((s) => s.level === 'warning').map((s) => s.message);
      assert.equal(warnings.length, 1, JSON.stringify(shown));
      assert.ok(warnings[0]!.includes(gone) && !warnings[0]!.includes(kept), warnings[0]);
      assert.match(warnings[0]!, /no longer exists/);
    } finally {
      panel.dispose();
    }
  });
}

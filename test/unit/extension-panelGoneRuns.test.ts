import { createdPanels, FakeWebviewPanel, shown } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticsPanel } from '../../src/extension/panel/diagnosticsPanel';
import { panelDeps } from './panel-testkit';

const deps = panelDeps();

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

// A window reloaded after the runs the panel showed were deleted, emptied or edited from a terminal.
const afterReload: { what: string; apply: (dir: string) => void; says: (dir: string) => string }[] = [
  { what: 'its folder deleted', apply: (d) => rmSync(d, { recursive: true }), says: (d) => `${d} no longer exists` },
  {
    what: 'its folder emptied',
    apply: (d) => (rmSync(join(d, 'run.json')), rmSync(join(d, 'summary.json'))),
    says: (d) => `${join(d, 'run.json')} no longer exists`,
  },
  { what: 'its run.json deleted', apply: (d) => rmSync(join(d, 'run.json')), says: (d) => `${join(d, 'run.json')} no longer exists` },
  {
    what: 'its run.json edited into bad JSON',
    apply: (d) => writeFileSync(join(d, 'run.json'), '{"name": "r",\n"specPath"}'),
    says: (d) => `${join(d, 'run.json')}: run.json is not valid JSON (line 2`,
  },
];

for (const a of afterReload) {
  test(`a panel restored after a reload, its run with ${a.what}, says what happened to which file`, async () => {
    const kept = runFolder();
    const broken = runFolder();
    a.apply(broken);
    shown.length = 0;
    createdPanels.length = 0;
    const restored = new FakeWebviewPanel();
    await DiagnosticsPanel.revive(deps, restored as never, { runDirs: [kept, broken] });
    const panel = DiagnosticsPanel.active!;
    try {
      assert.ok(panel.runDirs.includes(kept));
      const warnings = shown.filter((s) => s.level === 'warning').map((s) => s.message);
      assert.equal(warnings.length, 1, JSON.stringify(shown));
      assert.ok(warnings[0]!.includes(a.says(broken)), warnings[0]);
      assert.doesNotMatch(warnings[0]!, /trainer is no longer running/);
      const run = panel.shownRun(broken);
      if (run) assert.doesNotMatch(run.message ?? '', /trainer is no longer running/, 'a run with no run.json is not one whose trainer stopped');
    } finally {
      panel.dispose();
    }
  });
}

/**
 * A run listed a moment ago (runs view, quick pick, the panel) whose folder, run.json or metrics.jsonl
 * was deleted, renamed or edited by hand since (a terminal, another window): each action on it says
 * what happened to which file, and where in it, instead of a wrong reason or nothing.
 */
import { answers, shown } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { retrainRun } from '../../src/extension/runs/retrainRun';
import { RunCommands, type RunCommandDeps } from '../../src/extension/runs/runCommands';
import { sampleRecord } from './record-testkit';

function runFolder(): string {
  const runsDir = join(mkdtempSync(join(tmpdir(), 'vae-lens-gone-actions-')), '.vae-lens', 'runs');
  const runDir = join(runsDir, 'a-20260101-000000');
  mkdirSync(runDir, { recursive: true });
  const spec = join(dirname(dirname(runsDir)), 'a.vae.json');
  writeFileSync(spec, '{}');
  writeFileSync(join(runDir, 'run.json'), JSON.stringify({ name: 'a', specPath: spec, startedAt: '2026-01-01T00:00:00Z' }, null, 2));
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 2, steps: 20, wallSeconds: 2 }));
  writeFileSync(join(runDir, 'metrics.jsonl'), [sampleRecord(1), sampleRecord(2)].map((r) => JSON.stringify(r)).join('\n') + '\n');
  return runDir;
}

/** What happened to the run since it was listed, and what a message about it must name. */
const breakages: { what: string; folderGone: boolean; apply: (runDir: string) => void; names: (runDir: string) => RegExp }[] = [
  { what: 'its folder deleted', folderGone: true, apply: (d) => rmSync(d, { recursive: true }), names: (d) => literal(`${d} no longer exists`) },
  { what: 'its folder renamed', folderGone: true, apply: (d) => renameSync(d, `${d}-old`), names: (d) => literal(`${d} no longer exists`) },
  {
    what: 'its runs folder renamed',
    folderGone: true,
    apply: (d) => renameSync(dirname(d), `${dirname(d)}-old`),
    names: (d) => literal(`${d} no longer exists`),
  },
  {
    what: 'its folder replaced by a file',
    folderGone: false,
    apply: (d) => (rmSync(d, { recursive: true }), writeFileSync(d, '')),
    names: (d) => literal(`${d} is no longer a run folder`),
  },
  {
    what: 'its run.json deleted',
    folderGone: false,
    apply: (d) => rmSync(join(d, 'run.json')),
    names: (d) => literal(`${join(d, 'run.json')} no longer exists`),
  },
  {
    what: 'its run.json made a folder',
    folderGone: false,
    apply: (d) => (rmSync(join(d, 'run.json')), mkdirSync(join(d, 'run.json'))),
    names: (d) => literal(`${join(d, 'run.json')}: run.json was not read: it is a folder`),
  },
  {
    what: 'its run.json edited with a missing comma',
    folderGone: false,
    apply: (d) => writeFileSync(join(d, 'run.json'), '{\n  "name": "a"\n  "specPath": "/x.vae.json",\n  "startedAt": "2026-01-01T00:00:00Z"\n}\n'),
    names: (d) => new RegExp(`${escape(join(d, 'run.json'))}: run\\.json is not valid JSON \\(line 3, column 3`),
  },
  {
    what: 'its run.json edited to lose specPath',
    folderGone: false,
    apply: (d) => writeFileSync(join(d, 'run.json'), JSON.stringify({ name: 'a', startedAt: '2026-01-01T00:00:00Z' })),
    names: (d) => literal(`${join(d, 'run.json')}: run.json was not used: it needs "name", "specPath" and "startedAt"`),
  },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const literal = (s: string) => new RegExp(escape(s));

for (const b of breakages) {
  test(`Retrain on a run with ${b.what} says so, naming the file, and trains nothing`, async () => {
    const runDir = runFolder();
    b.apply(runDir);
    shown.length = 0;
    const trained: string[] = [];
    await retrainRun(runDir, async (spec) => void trained.push(spec));
    assert.deepEqual(trained, []);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.equal(shown[0]!.level, 'error');
    assert.match(shown[0]!.message, b.names(runDir));
    assert.match(shown[0]!.message, /Train VAE/, 'says what to do');
  });
}

test('Retrain on a run still there trains the spec its run.json names, without asking', async () => {
  const runDir = runFolder();
  shown.length = 0;
  const trained: string[] = [];
  await retrainRun(runDir, async (spec) => void trained.push(spec));
  assert.deepEqual(shown, []);
  assert.deepEqual(trained, [join(dirname(dirname(dirname(runDir))), 'a.vae.json')]);
});

const invalidated: (string | undefined)[] = [];
const commands = () =>
  new RunCommands({
    log: () => undefined,
    client: { forRun: () => undefined },
    index: { invalidate: (d?: string) => invalidated.push(d), overview: () => Promise.reject(new Error('not to be read')) },
  } as unknown as RunCommandDeps);

for (const b of breakages.filter((x) => x.folderGone)) {
  test(`Delete Run on a run with ${b.what} says there is nothing to delete and forgets it`, async () => {
    const runDir = runFolder();
    b.apply(runDir);
    shown.length = 0;
    invalidated.length = 0;
    await commands().deleteRun({ runDir });
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.match(shown[0]!.message, b.names(runDir));
    assert.doesNotMatch(shown[0]!.message, /not a run folder/);
    assert.deepEqual(invalidated, [runDir]);
  });

  test(`Export Run on a run with ${b.what} says its folder is gone, not that it has no diagnostics`, async () => {
    const runDir = runFolder();
    b.apply(runDir);
    shown.length = 0;
    answers.pick = 0; // Metrics as CSV
    try {
      await commands().exportRun({ runDir });
    } finally {
      answers.pick = undefined;
    }
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.match(shown[0]!.message, b.names(runDir));
  });
}

const metricsBreakages: { what: string; apply: (metrics: string) => void; says: RegExp }[] = [
  { what: 'deleted', apply: (m) => rmSync(m), says: /metrics\.jsonl is not there/ },
  { what: 'made a folder', apply: (m) => (rmSync(m), mkdirSync(m)), says: /metrics\.jsonl: metrics\.jsonl was not read: it is a folder/ },
  { what: 'edited into lines that are not records', apply: (m) => writeFileSync(m, '{"epoch": 1,\n'), says: /metrics\.jsonl:1: / },
];

for (const b of metricsBreakages) {
  test(`Export Run on a run whose metrics.jsonl was ${b.what} names the file, not "no diagnostics yet"`, async () => {
    const runDir = runFolder();
    const metrics = join(runDir, 'metrics.jsonl');
    b.apply(metrics);
    shown.length = 0;
    await commands().exportCsv(runDir);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.ok(shown[0]!.message.includes(metrics), shown[0]!.message);
    assert.match(shown[0]!.message, b.says);
    assert.ok(existsSync(runDir), basename(runDir));
  });
}

test('exporting a run the panel still shows after its folder was deleted offers a folder that exists to save in', async () => {
  const { DiagnosticsPanel } = await import('../../src/extension/panel/diagnosticsPanel');
  const { Uri, dialogDefaults } = await import('./vscode-stub');
  const runDir = runFolder();
  const panel = await DiagnosticsPanel.createOrShow(
    {
      extensionUri: Uri.file('/ext') as never,
      client: { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as never,
      log: () => undefined,
      actions: { stop: () => undefined, retrain: () => undefined, exportCsv: () => undefined, exportPng: () => undefined },
    },
    [runDir],
  );
  try {
    rmSync(dirname(runDir), { recursive: true });
    dialogDefaults.length = 0;
    shown.length = 0;
    await commands().exportCsv(runDir);
    const offered = dialogDefaults[0]?.fsPath;
    assert.ok(offered !== undefined, 'no save dialog');
    assert.ok(existsSync(dirname(offered)), `offered ${offered}, in a folder that is gone`);
    assert.equal(basename(offered), `${basename(runDir)}-metrics.csv`);
  } finally {
    panel.dispose();
  }
});

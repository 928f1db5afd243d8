/**
 * A run another process is writing (its summary says "running", its records keep coming) whose run.json
 * is broken (edited by hand with a mistake, cut short by a full disk): the writer lives, and only its
 * run.json cannot be read. The panel follows the run as live, names the broken file and where once, and
 * shows its end when its summary says so; it never calls the run stopped for a typo.
 */
import { shown } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticsPanel } from '../../src/extension/panel/diagnosticsPanel';
import { panelDeps } from './panel-testkit';
import { sampleRecord } from './record-testkit';

const deps = panelDeps();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, ms = 15_000) => {
  for (const t0 = performance.now(); !cond(); await sleep(50)) if (performance.now() - t0 > ms) return;
};

const mistakes: { what: string; text: string; says: RegExp }[] = [
  { what: 'a missing comma', text: '{\n  "name": "r"\n  "specPath": "/x.vae.json",\n  "startedAt": "2026-01-01T00:00:00Z"\n}\n', says: /line 3, column 3/ },
  { what: 'a cut-short file', text: '{\n  "name": "r",\n  "specPath": "/x.va', says: /line 3, column \d+/ },
  { what: 'a trailing comma', text: '{"name": "r", "specPath": "/x.vae.json", "startedAt": "2026-01-01T00:00:00Z",}', says: /line 1, column \d+/ },
];

for (const m of mistakes) {
  test(`a live run whose run.json has ${m.what} opens as running, names the file, line and column once, and ends when its summary says so`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-lens-broken-live-'));
    writeFileSync(join(dir, 'run.json'), m.text);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 1, steps: 10, wallSeconds: 1 }));
    writeFileSync(join(dir, 'metrics.jsonl'), JSON.stringify(sampleRecord(1, { step: 10 })) + '\n');
    shown.length = 0;
    const panel = await DiagnosticsPanel.createOrShow(deps, [dir]);
    try {
      const run = panel.shownRun(dir);
      assert.ok(run, 'the run is not shown');
      assert.equal(run.status, 'running', `opened as ${run.status}: ${run.message ?? ''}`);
      assert.doesNotMatch(run.message ?? '', /no longer running|^interrupted/);
      // The writer goes on: its records are followed.
      appendFileSync(join(dir, 'metrics.jsonl'), JSON.stringify(sampleRecord(2, { step: 20 })) + '\n');
      await until(() => panel.shownRun(dir)!.records.length === 2);
      assert.equal(panel.shownRun(dir)!.records.length, 2, 'the new record was not followed');
      assert.equal(panel.shownRun(dir)!.status, 'running');
      const warnings = shown.filter((s) => s.level === 'warning').map((s) => s.message);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.ok(warnings[0]!.includes(join(dir, 'run.json')), warnings[0]);
      assert.match(warnings[0]!, m.says);
      writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 2, steps: 20, wallSeconds: 2 }));
      await until(() => panel.shownRun(dir)!.status === 'completed');
      assert.equal(panel.shownRun(dir)!.status, 'completed');
      assert.equal(shown.filter((s) => s.level === 'warning').length, 1, 'the broken run.json was said again');
    } finally {
      panel.dispose();
    }
  });
}

/**
 * A run another process writes, followed in the panel: the passes it appends store a verdict of their
 * own, and what the panel holds and posts for its latest pass is the verdict the shared judge gives its
 * passes as they now stand, with the note that the stored one differs, as opening the run would say.
 */
import { createdPanels, webviewPosts } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToPanel } from '../../src/core/panelProtocol';
import { JudgedVerdicts } from '../../src/core/run/judgedVerdicts';
import { judgeRecords, runSettingsOf } from '../../src/core/run/settings';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { DiagnosticsPanel } from '../../src/extension/panel/diagnosticsPanel';
import { panelDeps } from './panel-testkit';
import { sampleRecord } from './record-testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, ms = 15_000) => {
  for (const t0 = performance.now(); !cond(); await sleep(50)) if (performance.now() - t0 > ms) return;
};

// The ELBO rises a tenth of a nat a pass: the rule does not call it converged, whatever the records say.
const stored = { convergence: 'converged' as const, convergenceReason: 'Stored by another writer.' };
const pass = (epoch: number): MetricsRecord =>
  sampleRecord(epoch, { elbo: -3 + epoch * 0.1, gap: 0.2 / epoch, gapRel: 0.03 / epoch, rDec: 0.1 / epoch, rPrior: 0.1 / epoch, ...stored });

test('the passes another writer appends show the judged verdict and the stored-verdict note, in the panel and in what it posts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-followed-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), pid: process.pid }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 3, steps: 30, wallSeconds: 3 }));
  const records = [1, 2, 3].map(pass);
  writeFileSync(join(dir, 'metrics.jsonl'), records.map(toJsonLine).join(''));
  const verdicts = new JudgedVerdicts();
  const deps = {
    ...panelDeps(),
    judge: verdicts.judgeRead.bind(verdicts),
    judgeRun: verdicts.judge.bind(verdicts),
  };
  const panel = await DiagnosticsPanel.createOrShow(deps, [dir]);
  createdPanels.at(-1)!.receive({ type: 'ready' });
  try {
    const judged = (rs: MetricsRecord[]) => judgeRecords(rs, runSettingsOf(undefined, undefined, rs.at(-1)));
    const latest = () => panel.shownRun(dir)!.records.at(-1)!;
    assert.equal(panel.shownRun(dir)!.status, 'running');
    assert.deepEqual({ state: latest().convergence, reason: latest().convergenceReason }, judged(records), 'when the panel opens');

    webviewPosts.length = 0;
    const more = [4, 5, 6].map(pass);
    appendFileSync(join(dir, 'metrics.jsonl'), more.map(toJsonLine).join(''));
    await until(() => latest().epoch === 6);
    const now = judged([...records, ...more]);
    assert.notEqual(now.state, 'converged');
    assert.deepEqual({ state: latest().convergence, reason: latest().convergenceReason }, now, 'on the passes appended');
    const append = webviewPosts.find((m): m is Extract<ToPanel, { type: 'append' }> => (m as ToPanel).type === 'append');
    assert.ok(append, 'the appended passes were posted');
    assert.equal(append.records.at(-1)!.convergence, now.state);
    assert.equal(append.records.at(-1)!.convergenceReason, now.reason);
    assert.match(append.verdictNote ?? '', /metrics\.jsonl \(its last record's "convergence"\) says "converged"/);
    assert.equal(panel.shownRun(dir)!.verdictNote, append.verdictNote);
  } finally {
    panel.dispose();
  }
});

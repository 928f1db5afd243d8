// A run another process is still writing, followed in the panel: the passes it appends store a
// verdict of their own (another version's rule, a hand edit), and the panel's summary shows the one
// judged from the passes, as the status bar does, with the note that the stored one differs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { makeWorkspace } from './specFixtures';
import type { Workbench } from './workbench';
import type { MetricsRecord } from '../../src/core/runFormat';
import { verdictLabel } from '../../src/core/verdictText';
import type { Frame } from 'playwright-core';

const SPEC_NAME = 'live.vae.json';
const SPEC = `{ "name": "live",
  "data": { "synthetic": "circle", "n": 256, "noise": 0.05, "seed": 1 },
  "model": { "type": "VAE-1", "latentDim": 2 },
  "training": { "epochs": 40 },
  "diagnostics": { "tolerance": 0.05, "window": 3 } }
`;

/** A pass as another writer records it: the ELBO still rising, its gap closing. */
const pass = (epoch: number): MetricsRecord => ({
  epoch,
  step: epoch * 4,
  elbo: -3 + epoch * 0.1,
  elboStdErr: 0.01,
  hEnc: -3,
  hPrior: 1.4,
  hDec: -1.9,
  entropySum: -2.5,
  gap: 0.2 / epoch,
  gapRel: 0.03 / epoch,
  rDec: 0.1 / epoch,
  rPrior: 0.1 / epoch,
  sigma2: 0.1,
  sigma2Opt: 0.1,
  latentSecondMoment: [1, 1],
  klPerLatent: [1, 0.5],
  samplesPerSec: 1000,
  wallSeconds: epoch,
});

/** The summary table's Convergence cell: the verdict's label, then its reason. */
async function convergenceCell(frame: Frame): Promise<{ label: string; reason: string }> {
  const row = frame.locator('table.vl-summary tbody tr').filter({ has: frame.locator('th', { hasText: /^Convergence/ }) });
  const [label = '', ...reason] = (await row.locator('td').first().innerText()).split('\n');
  return { label: label.trim(), reason: reason.join(' ').trim() };
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (performance.now() - start > timeoutMs) assert.fail(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a run written by another process, followed in the panel', { timeout: 300_000 }, () => {
  let wb: Workbench | undefined;

  before(async () => {
    wb = await launchVaeLens({ workspace: makeWorkspace({ [SPEC_NAME]: SPEC }), label: 'features-live-verdict' });
  });

  after(() => wb?.close());

  it('shows the verdict judged from the passes on the passes it appends, not the one they store', () =>
    withFailureScreenshot(wb, 'live-verdict', async () => {
      const w = wb!;
      const runDir = join(w.workspaceDir, '.vae-lens', 'runs', 'live-20990101-000000');
      mkdirSync(runDir, { recursive: true });
      const specPath = join(w.workspaceDir, SPEC_NAME);
      // This test's own process stands for the writer: alive, and started before run.json was written.
      const meta = {
        formatVersion: 1,
        name: 'live',
        specPath,
        startedAt: new Date().toISOString(),
        backend: 'cpu',
        modelType: 'VAE-1',
        latentDim: 2,
        epochs: 40,
        dataset: { n: 256, dim: 2, source: 'synthetic:circle' },
        pid: process.pid,
      };
      writeFileSync(join(runDir, 'run.json'), JSON.stringify(meta));
      writeFileSync(join(runDir, 'spec.vae.json'), SPEC);
      writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 0, steps: 0, wallSeconds: 0 }));
      // Every pass stores "converged", as another version's rule or an edit by hand may leave it; the
      // ELBO rises by a tenth of a nat a pass, which the rule does not call converged.
      const stored = { convergence: 'converged' as const, convergenceReason: 'Stored by another writer.' };
      const lines = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify({ ...pass(from + i), ...stored }) + '\n').join('');
      writeFileSync(join(runDir, 'metrics.jsonl'), lines(1, 4));

      await w.openFile(SPEC_NAME);
      await w.waitForStatusBar(/^VAE\b/, 120_000);
      await w.runCommand('VAE Lens: Show Diagnostics');
      const frame = await w.findWebviewFrame('table.vl-summary', 60_000);
      await until(
        "the summary table's latest pass",
        () => frame.locator('table.vl-summary thead').innerText(),
        (t) => /\b4\b/.test(t),
      );
      const judged = (cell: { label: string; reason: string }) => cell.label !== verdictLabel('converged') && !cell.reason.includes(stored.convergenceReason);
      assert.ok(judged(await convergenceCell(frame)), JSON.stringify(await convergenceCell(frame)));

      // The writer goes on: the panel follows the passes it appends.
      appendFileSync(join(runDir, 'metrics.jsonl'), lines(5, 8));
      await until(
        "the summary table's latest pass",
        () => frame.locator('table.vl-summary thead').innerText(),
        (t) => /\b8\b/.test(t),
      );
      const cell = await convergenceCell(frame);
      assert.ok(judged(cell), `the panel shows the stored verdict, not the one judged from the passes: ${JSON.stringify(cell)}`);
      assert.notEqual(cell.label, '', 'a verdict is shown');
      // And says, as the panel opened on the run says, where the stored one differs.
      const notes = await until(
        'the stored verdict note',
        () => frame.locator('.vl-verdict-note').allInnerTexts(),
        (n) => n.length > 0,
      );
      assert.match(notes[0]!, /metrics\.jsonl \(its last record's "convergence"\) says "converged"/);
      writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ status: 'stopped', epochsDone: 8, steps: 32, wallSeconds: 8 }));
    }));
});

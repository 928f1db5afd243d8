/**
 * One verdict on every surface: a run whose stored verdict (its last record's, summary.json's) was
 * edited by hand shows the verdict judged again from its passes in the status bar, its tooltip, the
 * runs view and the panel, each saying where the stored one differs; and a run state is judged once.
 */
import { statusBarItems, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { readRunContents } from '../../src/core/run/read';
import { judgeRecords, runSettingsOf } from '../../src/core/run/settings';
import { verdictLabel } from '../../src/core/verdictText';
import { RunIndex } from '../../src/extension/runs/runIndex';
import { RunsViewProvider, type RunNode, type SpecNode } from '../../src/extension/runs/runsTreeView';
import { StatusBar } from '../../src/extension/status/statusBar';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { sampleRecord } from './record-testkit';

const noTrainers = {
  onEvent: () => ({ dispose: () => undefined }),
  onDidChangeTrainers: () => ({ dispose: () => undefined }),
  forSpec: () => undefined,
  forRun: () => undefined,
} as unknown as TrainerClient;

// A run still closing its gap: the ELBO rises with the epoch, so the rule does not call it converged.
const rec = (epoch: number): MetricsRecord =>
  sampleRecord(epoch, { elbo: -3 + epoch * 0.1, gap: 0.2 / epoch, gapRel: 0.03 / epoch, rDec: 0.1 / epoch, rPrior: 0.1 / epoch, klPerLatent: [1, 0] });

const SPEC = '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2 }, "diagnostics": { "tolerance": 0.05, "window": 2 } }';

/** A spec and one run of it whose last record and summary.json say "converged", whatever its passes say. */
function tamperedRun(): { spec: string; runDir: string; records: MetricsRecord[] } {
  const folder = mkdtempSync(join(tmpdir(), 'vae-lens-judged-'));
  const spec = join(folder, 'model.vae.json');
  writeFileSync(spec, SPEC);
  const runDir = join(folder, '.vae-lens', 'runs', 'model-20260101-000000');
  mkdirSync(runDir, { recursive: true });
  const records = Array.from({ length: 12 }, (_, i) => rec(i + 1));
  const stored = { convergence: 'converged' as const, convergenceReason: 'Edited by hand.' };
  records[records.length - 1] = { ...records[records.length - 1]!, ...stored };
  writeFileSync(
    join(runDir, 'run.json'),
    JSON.stringify({
      formatVersion: 1,
      name: 'model',
      specPath: spec,
      startedAt: '2026-01-01T00:00:00Z',
      backend: 'cpu',
      modelType: 'VAE-1',
      latentDim: 2,
      epochs: 12,
    }),
  );
  writeFileSync(join(runDir, 'spec.vae.json'), SPEC);
  writeFileSync(join(runDir, 'metrics.jsonl'), records.map(toJsonLine).join(''));
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 12, steps: 120, wallSeconds: 1, ...stored }));
  return { spec, runDir, records };
}

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (const start = performance.now(); !(await done()) && performance.now() - start < 5000;) await new Promise((r) => setTimeout(r, 20));
}

test('a run whose stored verdict was edited shows the verdict judged from its passes in the status bar, the runs view and the panel', async () => {
  const { spec, runDir, records } = tamperedRun();
  const judged = judgeRecords(records, runSettingsOf(undefined, SPEC, records.at(-1)));
  assert.notEqual(judged.state, 'converged', 'the passes give another verdict than the stored one');
  const label = verdictLabel(judged.state);
  const index = new RunIndex(noTrainers);
  const bar = new StatusBar(index, noTrainers);
  const item = statusBarItems.at(-1)!;
  const view = new RunsViewProvider(noTrainers, () => index);
  view.follow(index);
  try {
    bar.setTarget(Uri.file(spec) as never);
    await until(() => item.visible && item.text.includes(label));
    assert.equal(item.text.replace(/^\$\([^)]*\)\s*/, ''), `VAE ${label}`);
    // The tooltip is Markdown: read without its escapes.
    const tooltip = (item.tooltip as { value: string }).value.replace(/\\(.)/g, '$1');
    assert.match(tooltip, /Stored verdict differs: metrics\.jsonl \(its last record's "convergence"\) says "converged"/);
    assert.match(tooltip, /Stored verdict differs: summary\.json \("convergence"\) says "converged"/);

    const specNode: SpecNode = { kind: 'spec', uri: Uri.file(spec) as never };
    const specItem = await view.getTreeItem(specNode);
    assert.match(String(specItem.description), new RegExp(`^${label}`));
    const [runNode] = (await view.getChildren(specNode)) as RunNode[];
    const runItem = await view.getTreeItem(runNode!);
    assert.match(String(runItem.description), new RegExp(`^${label}`));
    assert.match((runItem.tooltip as { value: string }).value, /summary\.json \("convergence"\) says "converged"/);

    // The panel's read takes the verdict already judged: no pass is judged again.
    const judgedBefore = index.verdicts.passesJudged;
    const contents = await readRunContents(runDir, undefined, (dir, read, settings) => index.verdicts.judgeRead(dir, read, settings));
    assert.equal(contents.convergence, judged.state);
    assert.equal(index.verdicts.passesJudged, judgedBefore, 'the panel judged the run again');
    assert.equal(judgedBefore, records.length, 'the run was judged once for the status bar and the runs view');
  } finally {
    bar.dispose();
    view.dispose();
    index.dispose();
  }
});

/**
 * What the run index reads when a run it shows changes: a run whose writer leaves the verdict to the
 * reader (the Python companion) is judged from its passes, and its summary.json is rewritten at each
 * checkpoint; each new overview reads what metrics.jsonl appended since, not the whole file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import './vscode-stub';
import { parseMetricsJsonl } from '../../src/core/runFormat';
import { judgeRecords, runSettingsOf } from '../../src/core/run/settings';
import { RunIndex } from '../../src/extension/runs/runIndex';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { bytesReadDuring, companionRun } from './liveReads-testkit';

const noTrainers = { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as unknown as TrainerClient;

test("the overview of a companion's run read again at a checkpoint reads the appended passes, not its whole metrics.jsonl", async () => {
  const { dir, file, line } = companionRun(3000, { pid: process.pid });
  const index = new RunIndex(noTrainers);
  try {
    await index.overview(dir);
    for (let epoch = 3001; epoch <= 3003; epoch++) {
      appendFileSync(file, line(epoch));
      writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: epoch, steps: epoch, wallSeconds: epoch }));
      index.invalidate(dir);
      const size = statSync(file).size;
      let overview: Awaited<ReturnType<RunIndex['overview']>> | undefined;
      const read = await bytesReadDuring(async () => void (overview = await index.overview(dir)));
      assert.ok(read < size / 2, `the overview after pass ${epoch} read ${read} bytes of a ${size}-byte metrics.jsonl`);
      const { records } = parseMetricsJsonl(readFileSync(file, 'utf8'));
      const whole = judgeRecords(records, runSettingsOf(overview!.meta, overview!.specText, records.at(-1)));
      assert.deepEqual({ state: overview!.convergence, reason: overview!.convergenceReason }, { state: whole.state, reason: whole.reason });
    }
  } finally {
    index.dispose();
  }
});

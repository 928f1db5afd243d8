import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { placeholderRecord } from './protocol-samples';
import { ExternalRunFollower } from '../../src/extension/panel/runFollower';

const rec = (epoch: number): MetricsRecord => placeholderRecord(epoch);
const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a run written by another process is followed until its summary says it ended', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-ext-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), pid: process.pid }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 1, steps: 1, wallSeconds: 1 }));
  writeFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(0)) + toJsonLine(rec(1)));
  const seen: number[] = [];
  let finished: string | undefined;
  const follower = new ExternalRunFollower({ records: (_d, rs) => seen.push(...rs.map((r) => r.epoch)), finished: (_d, status) => (finished = status) }, 20);
  try {
    assert.deepEqual(
      (await follower.follow(dir)).map((r) => r.epoch),
      [0, 1],
    );
    appendFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(2)));
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [2]);
    assert.equal(finished, undefined);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 2, steps: 2, wallSeconds: 2 }));
    await until(() => finished !== undefined);
    assert.equal(finished, 'completed');
  } finally {
    follower.clear();
  }
});

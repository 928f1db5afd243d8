// A run whose writer cannot be looked up (its run.json names no pid, or another machine) and that has
// gone silent for far longer than its own passes take is shown as interrupted, with why; a slow writer
// that still writes on its own schedule is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { STALE_AFTER_INTERVALS, STALE_MIN_MS, STALE_NO_PASS_MS } from '../../src/core/run/liveness';
import { sampleRecord } from './record-testkit';

interface Case {
  /** Seconds between the writer's passes, as its records' wallSeconds say. */
  interval: number;
  passes: number;
  /** How long ago (ms) its files were last written; negative for a writer whose clock runs ahead. */
  silentMs: number;
  host?: string;
}

function runOf(c: Case): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-stale-')), 'run');
  mkdirSync(dir);
  const meta = { formatVersion: 1, name: 'jax', specPath: '/x/train.py', startedAt: '2026-03-01T12:00:00Z', ...(c.host ? { host: c.host, pid: 4242 } : {}) };
  const lines = Array.from({ length: c.passes }, (_, i) => JSON.stringify(sampleRecord(i + 1, { wallSeconds: c.interval * (i + 1) })) + '\n');
  const files = {
    'run.json': JSON.stringify(meta),
    'metrics.jsonl': lines.join(''),
    'summary.json': JSON.stringify({ status: 'running', epochsDone: 1, steps: 1, wallSeconds: 1 }),
  };
  const when = new Date(Date.now() - c.silentMs);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    utimesSync(join(dir, name), when, when);
  }
  return dir;
}

const thresholdMs = (c: Case) => (c.passes === 0 ? STALE_NO_PASS_MS : Math.max(STALE_MIN_MS, STALE_AFTER_INTERVALS * c.interval * 1000));

const cases: Case[] = [];
for (const host of [undefined, 'gpu-node-3'])
  for (const interval of [2, 45, 600, 3 * 3600, 26 * 3600])
    for (const passes of [0, 1, 2, 6])
      for (const k of [-0.5, 0.3, 0.9, 1.2, 4]) cases.push({ interval, passes, silentMs: k * thresholdMs({ interval, passes, silentMs: 0 }), host });

test('a run that names no process to check reads as interrupted once silent for many times its pass interval, and as running before', async () => {
  for (const c of cases) {
    const dir = runOf(c);
    const at = `interval ${c.interval} s, ${c.passes} passes, silent ${Math.round(c.silentMs / 1000)} s, host ${c.host}`;
    for (const read of [readRunOverview, readRunContents]) {
      const r = await read(dir, () => false);
      if (c.silentMs > thresholdMs(c)) {
        assert.equal(r.status, 'stopped', at);
        assert.match(r.message ?? '', /interrupted\?/, at);
        assert.match(r.message ?? '', /no record or summary written for/, at);
      } else {
        assert.equal(r.status, 'running', at);
        assert.doesNotMatch(r.message ?? '', /interrupted/, at);
      }
    }
  }
});

test('the pass interval is the longest between passes the records show, so a writer with one slow pass is not called dead', async () => {
  // Passes every minute, then one that took 5 hours (a validation sweep), then silence for 20 hours.
  const dir = runOf({ interval: 60, passes: 5, silentMs: 20 * 3600_000 });
  const lines = [60, 120, 180, 240, 240 + 5 * 3600].map((w, i) => JSON.stringify(sampleRecord(i + 1, { wallSeconds: w })) + '\n');
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join(''));
  const when = new Date(Date.now() - 20 * 3600_000);
  utimesSync(join(dir, 'metrics.jsonl'), when, when);
  assert.equal((await readRunOverview(dir, () => false)).status, 'running');
  // A record whose clock went back (a resumed writer) or that has no wallSeconds does not make an interval up.
  const odd = [60, null, 30, 90].map((w, i) => JSON.stringify(sampleRecord(i + 1, { wallSeconds: w })) + '\n');
  writeFileSync(join(dir, 'metrics.jsonl'), odd.join(''));
  utimesSync(join(dir, 'metrics.jsonl'), when, when);
  assert.equal((await readRunOverview(dir, () => false)).status, 'stopped');
});

// A run with a long metrics.jsonl (a script that logs often, a run of days: tens of megabytes) is read on
// the editor's thread by the runs view, the status bar and the panel, and a script's run (the Python
// companion leaves the verdict to the reader) is judged there too: neither may freeze the editor, and
// both must give what reading and judging in one go gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricsYielding } from '../../src/core/run/files';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { MetricsTail } from '../../src/core/run/tail';
import { parseMetricsJsonl, toJsonLine } from '../../src/core/runFormat';
import { judgeInSlices, judgeRecords, runSettingsOf } from '../../src/core/run/settings';
import { sampleRecord } from './record-testkit';

// ~1.2 MB: parsed in one go in ~0.2 s here, but judged in one go in ~4 s (the convergence rule costs
// about 1.5 ms a pass), all of it on the thread.
const RECORDS = 3_000;

/** A metrics.jsonl of `n` passes, in a run folder of its own. */
function metricsOf(n: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-big-metrics-')), 'run');
  mkdirSync(dir);
  const lines = Array.from({ length: n }, (_, i) => toJsonLine(sampleRecord(i + 1, { elbo: -3 + Math.log(i + 1) })));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join(''));
  return dir;
}

/** A run of the Python companion (no verdict in its records: the reader judges them), still being written. */
function bigRun(): string {
  const dir = metricsOf(RECORDS);
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      formatVersion: 1,
      name: 'long',
      specPath: join(dir, '..', 'a.vae.json'),
      startedAt: '2026-01-01T00:00:00Z',
      backend: 'torch',
      modelType: 'VAE-1',
      latentDim: 2,
      epochs: RECORDS,
      dataset: { n: 100, dim: 2, source: 'synthetic' },
    }),
  );
  return dir;
}

/**
 * The most processor time the process spent between two timer turns while `work` ran: how long the
 * thread was held. Processor time, not wall time: on a loaded machine the process also waits its turn.
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let last = cpuMs();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = cpuMs();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 1);
  try {
    // A timer turn first: the stall is the work's, not the test's setup.
    await new Promise((r) => setTimeout(r, 5));
    last = cpuMs();
    stallMs = 0;
    const value = await work();
    // One more timer turn: a stall that ends with the work is seen only by the next tick.
    await new Promise((r) => setTimeout(r, 2));
    return { value, stallMs };
  } finally {
    clearInterval(timer);
  }
}

const dir = bigRun();
const LIMIT_MS = 300;

test('the overview of a run with a long metrics.jsonl (the runs view, the status bar) does not freeze the thread', async () => {
  const { value, stallMs } = await longestStall(() => readRunOverview(dir, () => false));
  assert.equal(value.last?.epoch, RECORDS);
  assert.ok(stallMs < LIMIT_MS, `the thread was held ${stallMs.toFixed(0)} ms`);
});

test('the contents of a run with a long metrics.jsonl (the panel) are read without freezing the thread', async () => {
  const { value, stallMs } = await longestStall(() => readRunContents(dir, () => false));
  assert.equal(value.records.length, RECORDS);
  assert.ok(stallMs < LIMIT_MS, `the thread was held ${stallMs.toFixed(0)} ms`);
});

test('following a run with a long metrics.jsonl (its first read, ~14 MB) does not freeze the thread', async () => {
  const long = metricsOf(45_000);
  const { value, stallMs } = await longestStall(() => new MetricsTail(join(long, 'metrics.jsonl')).readNew());
  assert.equal(value.length, 45_000);
  assert.ok(stallMs < LIMIT_MS, `the thread was held ${stallMs.toFixed(0)} ms`);
});

test('the parse in steps gives what the parse in one go gives: bad lines, spread records, resumed runs, a cut last line', async () => {
  const good = (e: number) => toJsonLine(sampleRecord(e));
  const texts = [
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8'),
    '',
    '\ufeff' + good(1) + good(2),
    good(1) + 'not json\n' + good(2) + '[1, 2]\n' + good(3) + '{"epoch": 1',
    good(1) + '{\n  "epoch": 2\n}\n' + good(3),
    Array.from({ length: 1000 }, (_, i) => good((i % 300) + 1)).join(''), // resumed twice
    Array.from({ length: 700 }, (_, i) => (i % 7 === 0 ? '\n' : i % 11 === 0 ? '{"epoch": "x"}\n' : good(i + 1))).join(''),
  ];
  for (const text of texts) assert.deepEqual(await parseMetricsYielding(text), parseMetricsJsonl(text), text.slice(0, 80));
});

test('judging in steps gives the verdict of judging in one go, pass by pass through a run', async () => {
  const { records } = parseMetricsJsonl(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
  const settings = runSettingsOf(undefined, undefined, records.at(-1));
  const noisy = records.slice(0, 400).map((r, i) => ({ ...r, elbo: (r.elbo ?? 0) + 0.05 * Math.sin(i * 1.7), rDec: i % 97 === 0 ? Number.NaN : r.rDec }));
  for (const n of [0, 1, 2, 3, 10, 37, 120, 400]) {
    assert.deepEqual(await judgeInSlices(noisy.slice(0, n), settings), judgeRecords(noisy.slice(0, n), settings), `${n} passes`);
  }
  const broken = [...noisy.slice(0, 50), { ...noisy[50]!, elbo: Number.NaN }];
  assert.deepEqual(await judgeInSlices(broken, settings), judgeRecords(broken, settings));
});

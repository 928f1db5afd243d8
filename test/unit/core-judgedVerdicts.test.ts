/**
 * The editor's judged-verdict cache: a run state is judged once; a metrics.jsonl that grew is judged
 * only for its new passes, one rewritten or judged under other settings from its first pass; and the
 * verdict is always the one rule's on the passes as they are (judgeRecords).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { JudgedVerdicts } from '../../src/core/run/judgedVerdicts';
import { readRunContents } from '../../src/core/run/read';
import { judgeRecords, runSettingsOf } from '../../src/core/run/settings';
import { sampleRecord } from './record-testkit';

const rec = (epoch: number, elbo = -3 + epoch * 0.1): MetricsRecord =>
  sampleRecord(epoch, { elbo, gap: 0.2 / epoch, gapRel: 0.03 / epoch, rDec: 0.1 / epoch, rPrior: 0.1 / epoch, klPerLatent: [1, 0] });

const settings = { tolerance: 0.05, window: 2, theoremApplies: true };

function runWith(records: MetricsRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-verdicts-'));
  writeFileSync(join(dir, 'metrics.jsonl'), records.map(toJsonLine).join(''));
  return dir;
}

const passes = (n: number, from = 1) => Array.from({ length: n }, (_, i) => rec(from + i));
const verdictOf = (v: { state: string; reason: string } | undefined) => (v === undefined ? undefined : { state: v.state, reason: v.reason });

test('a run state is judged once, whoever asks (a surface, the panel), and asking again costs no judgement', async () => {
  const records = passes(20);
  const dir = runWith(records);
  const cache = new JudgedVerdicts();
  // The run's own settings (no run.json, no spec snapshot: the defaults), as the panel's read takes them.
  const settings = runSettingsOf(undefined, undefined, records.at(-1));
  assert.equal(await cache.current(dir, settings), undefined, 'nothing judged yet');
  assert.deepEqual(verdictOf(await cache.judge(dir, settings)), judgeRecords(records, settings));
  assert.equal(cache.passesJudged, 20);
  assert.deepEqual(verdictOf(await cache.current(dir, settings)), judgeRecords(records, settings));
  await cache.judge(dir, settings);
  const panel = await readRunContents(dir, undefined, (d, m, s) => cache.judgeRead(d, m, s));
  assert.equal(panel.convergence, judgeRecords(records, settings).state);
  assert.equal(cache.passesJudged, 20, 'judged again');
});

test('passes appended to metrics.jsonl are judged alone, and the verdict is that of all the passes', async () => {
  const records = passes(20);
  const dir = runWith(records);
  const cache = new JudgedVerdicts();
  await cache.judge(dir, settings);
  const more = [rec(21, -1.5), rec(22, -1.6), rec(23, -1.55)];
  appendFileSync(join(dir, 'metrics.jsonl'), more.map(toJsonLine).join(''));
  assert.equal(await cache.current(dir, settings), undefined, 'the file grew: the verdict judged before is not its verdict');
  assert.deepEqual(verdictOf(await cache.judge(dir, settings)), judgeRecords([...records, ...more], settings));
  assert.equal(cache.passesJudged, 23, 'only the three new passes were judged');
});

test('a metrics.jsonl rewritten (an edit by hand, a pass replaced by a resumed run) is judged again from its first pass', async () => {
  const cache = new JudgedVerdicts();
  // The same size: an edit of one digit.
  const records = passes(20);
  const dir = runWith(records);
  await cache.judge(dir, settings);
  const edited = records.map((r) => (r.epoch === 5 ? { ...r, elbo: -2.4 } : r));
  assert.equal(toJsonLine(edited[4]!).length, toJsonLine(records[4]!).length);
  writeFileSync(join(dir, 'metrics.jsonl'), edited.map(toJsonLine).join(''));
  assert.deepEqual(verdictOf(await cache.judge(dir, settings)), judgeRecords(edited, settings));
  assert.equal(cache.passesJudged, 40);
  // Grown by a record that replaces the last (a resume redoing epoch 20): not an append of passes.
  appendFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(20, 0)));
  const resumed = [...edited.slice(0, 19), rec(20, 0)];
  assert.deepEqual(verdictOf(await cache.judge(dir, settings)), judgeRecords(resumed, settings));
  assert.equal(cache.passesJudged, 60);
});

test('other settings (a window, a tolerance, the theorem) are another judgement; the first is kept for none of them', async () => {
  const records = passes(20);
  const dir = runWith(records);
  const cache = new JudgedVerdicts();
  await cache.judge(dir, settings);
  const wider = { ...settings, window: 5 };
  assert.equal(await cache.current(dir, wider), undefined);
  assert.deepEqual(verdictOf(await cache.judge(dir, wider)), judgeRecords(records, wider));
  assert.equal(cache.passesJudged, 40);
  assert.equal(await cache.current(dir, settings), undefined, 'judged under the other settings since');
});

test('a run without metrics.jsonl, or without a pass, has no judged verdict', async () => {
  const cache = new JudgedVerdicts();
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-verdicts-'));
  assert.equal(await cache.judge(dir, settings), undefined);
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  assert.equal(await cache.judge(dir, settings), undefined);
});

test('judgements asked at once of one run are one after another: every pass is judged once', async () => {
  const records = passes(50);
  const dir = runWith(records);
  const cache = new JudgedVerdicts();
  const all = await Promise.all([cache.judge(dir, settings), cache.judge(dir, settings), cache.judge(dir, settings)]);
  for (const v of all) assert.deepEqual(verdictOf(v), judgeRecords(records, settings));
  assert.equal(cache.passesJudged, 50);
});

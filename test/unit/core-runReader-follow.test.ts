import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { MetricsTail } from '../../src/core/run/tail';
import { placeholderRecord } from './protocol-samples';

const rec = (epoch: number, extra: Partial<MetricsRecord> = {}): MetricsRecord => ({ ...placeholderRecord(epoch), ...extra });
const lines = (from: number, to: number, extra: Partial<MetricsRecord> = {}) => {
  let s = '';
  for (let e = from; e <= to; e++) s += toJsonLine(rec(e, extra));
  return s;
};
const tmp = () => mkdtempSync(join(tmpdir(), 'vae-lens-follow-'));

/** Ways another writer starts metrics.jsonl over while a reader follows it. */
const REPLACERS: Record<string, (file: string, text: string) => void> = {
  'truncated and rewritten in place': (file, text) => writeFileSync(file, text),
  'replaced atomically (a new file renamed over it)': (file, text) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  },
};

// The new file is shorter than, as long as, and longer than what was read: only the first was noticed.
// Records short and long (a reason of kilobytes): the four read are less, and more, than a kilobyte.
for (const [how, replace] of Object.entries(REPLACERS)) {
  for (const [newPasses, reason] of [1, 3, 4, 6, 12].flatMap((n) => [[n, 'short'] as const, [n, 'long '.repeat(300)] as const])) {
    test(`MetricsTail: metrics.jsonl ${how} with ${newPasses} passes (${reason.length}-character reasons) after 4 were read starts over and says so`, async () => {
      const file = join(tmp(), 'metrics.jsonl');
      writeFileSync(file, lines(0, 3, { elbo: -100, convergenceReason: reason }));
      const tail = new MetricsTail(file);
      assert.equal((await tail.readNew()).length, 4);
      replace(file, lines(0, newPasses - 1, { elbo: -50, convergenceReason: reason }));
      const read = await tail.readChanges();
      assert.equal(read.restarted, true);
      assert.deepEqual(
        read.records.map((r) => [r.epoch, r.elbo]),
        Array.from({ length: newPasses }, (_, e) => [e, -50]),
      );
      appendFileSync(file, toJsonLine(rec(newPasses, { elbo: -50, convergenceReason: reason })));
      const next = await tail.readChanges();
      assert.equal(next.restarted, false);
      assert.deepEqual(
        next.records.map((r) => r.epoch),
        [newPasses],
      );
    });
  }
}

test('MetricsTail: a last line without its newline (another writer that ended the run) is read when the reading is final', async () => {
  const file = join(tmp(), 'metrics.jsonl');
  writeFileSync(file, toJsonLine(rec(0)) + toJsonLine(rec(1)).trimEnd());
  const tail = new MetricsTail(file);
  assert.deepEqual(
    (await tail.readNew()).map((r) => r.epoch),
    [0],
  );
  assert.deepEqual(
    (await tail.readChanges({ final: true })).records.map((r) => r.epoch),
    [1],
  );
  // A cut-short line is still not a record.
  appendFileSync(file, '\n{"epoch": 2, "elb');
  assert.deepEqual((await tail.readChanges({ final: true })).records, []);
});

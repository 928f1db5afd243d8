// A writer that gives every pass the same epoch and step (one that does not track them) has each
// record replace the one before, as a resumed run's rewrite would: the reader shows one pass, and
// says so, while a resume that rewrites a pass or two stays unremarked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsRecord } from '../../src/core/runFormat';
import { readRunContents, runFolderNotes } from '../../src/core/run/read';
import { lcg } from './follow-testkit';
import { sampleRecord } from './record-testkit';

async function notesOf(records: MetricsRecord[]): Promise<{ shown: number; notes: string[] }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-same-pass-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/t.py', startedAt: '2026-03-01T12:00:00Z' }));
  writeFileSync(join(dir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  const contents = await readRunContents(dir, () => false);
  return { shown: contents.records.length, notes: runFolderNotes(contents).filter((n) => /same epoch and step/.test(n)) };
}

test('records that never advance epoch or step are each replaced by the next, and the reader says so with the line and counts', async () => {
  const rng = lcg(5);
  for (let k = 0; k < 12; k++) {
    const n = 3 + Math.floor(rng() * 20);
    const epoch = Math.floor(rng() * 3);
    const step = Math.floor(rng() * 100);
    const lead = Math.floor(rng() * 2); // passes before the writer stopped advancing, at most one
    const records = [
      ...Array.from({ length: lead }, (_, i) => sampleRecord(epoch, { step: i })),
      ...Array.from({ length: n + 1 }, (_, i) => sampleRecord(epoch, { step: step + lead, elbo: -3 + i / 100 })),
    ];
    const { shown, notes } = await notesOf(records);
    const at = `${n + 1} records at epoch ${epoch}, step ${step + lead}, after ${lead}`;
    assert.equal(shown, lead + 1, at);
    assert.equal(notes.length, 1, `${at}: ${notes.join(' | ')}`);
    assert.match(
      notes[0]!,
      new RegExp(`metrics\\.jsonl: ${n} records, the first on line ${lead + 1}, are each followed by one at the same epoch and step`),
      at,
    );
    assert.match(notes[0]!, new RegExp(`; ${lead + 1} records? (is|are) shown\\. A writer gives each pass its own epoch or step`), at);
  }
});

test('a resume that rewrites its last passes, a repeated last record and advancing passes get no such note', async () => {
  const rng = lcg(9);
  for (let k = 0; k < 12; k++) {
    const n = 4 + Math.floor(rng() * 20);
    const back = 1 + Math.floor(rng() * Math.min(3, n - 1));
    const passes = Array.from({ length: n }, (_, i) => sampleRecord(i + 1));
    const cases: [string, MetricsRecord[]][] = [
      ['advancing', passes],
      // Killed after writing pass n, resumed from the checkpoint `back` passes before: those passes again.
      [`resumed ${back} back`, [...passes, ...passes.slice(n - back).map((r) => ({ ...r, elbo: -2.99 }))]],
      ['the last record twice', [...passes, passes[n - 1]!]],
      ['steps in one epoch', Array.from({ length: n }, (_, i) => sampleRecord(0, { step: i }))],
    ];
    for (const [what, records] of cases) assert.deepEqual((await notesOf(records)).notes, [], `${what}, ${n} passes`);
  }
});

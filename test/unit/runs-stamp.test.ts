import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFilesStamp } from '../../src/core/run/files';

const SUMMARIES = [
  JSON.stringify({ status: 'running', epochsDone: 3, steps: 30, wallSeconds: 3 }),
  JSON.stringify({ status: 'running', epochsDone: 4, steps: 40, wallSeconds: 4 }), // same size
  JSON.stringify({ status: 'completed', epochsDone: 4, steps: 40, wallSeconds: 4 }),
];

const WRITES: Record<string, (file: string, text: string) => void> = {
  'in place': (file, text) => writeFileSync(file, text),
  'atomically (renamed over)': (file, text) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  },
};

// A file system that keeps whole seconds (or two): the rewrite has the very time of the write the index saw.
for (const [how, write] of Object.entries(WRITES)) {
  for (const [from, to] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ] as const) {
    const sameSize = SUMMARIES[from]!.length === SUMMARIES[to]!.length;
    if (how === 'in place' && sameSize) continue; // nothing on disk tells these apart
    test(`a summary.json rewritten ${how} within the same second (${sameSize ? 'same' : 'another'} size, summary ${from} to ${to}) changes the run's stamp`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vae-lens-stamp-'));
      const file = join(dir, 'summary.json');
      const second = new Date(Math.floor(Date.now() / 2000) * 2000);
      writeFileSync(join(dir, 'run.json'), '{}');
      write(file, SUMMARIES[from]!);
      utimesSync(file, second, second);
      const before = await runFilesStamp(dir);
      write(file, SUMMARIES[to]!);
      utimesSync(file, second, second);
      assert.notEqual(await runFilesStamp(dir), before);
    });
  }
}

test('a run folder with nothing rewritten keeps its stamp', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-stamp-'));
  writeFileSync(join(dir, 'run.json'), '{}');
  assert.equal(await runFilesStamp(dir), await runFilesStamp(dir));
});

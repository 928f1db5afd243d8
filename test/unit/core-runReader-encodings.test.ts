// A metrics.jsonl saved in UTF-16 (PowerShell 5's `>` and Out-File write it with a byte-order mark,
// Python's "utf-16-le" without one) is read alike by the full read, the status bar's tail read and a
// follower that hears appends cut at any byte, including inside a character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { lastMetricsRecord } from '../../src/core/run/tail';
import { followInPieces, lcg } from './follow-testkit';
import { sampleRecord } from './record-testkit';

const utf16le = (text: string) => Buffer.from(text, 'utf16le');
const ENCODINGS: [string, (text: string) => Buffer][] = [
  ['UTF-8', (t) => Buffer.from(t, 'utf8')],
  ['UTF-8 with a byte-order mark', (t) => Buffer.from('\ufeff' + t, 'utf8')],
  ['UTF-16LE with a byte-order mark', (t) => utf16le('\ufeff' + t)],
  ['UTF-16BE with a byte-order mark', (t) => utf16le('\ufeff' + t).swap16()],
  ['UTF-16LE without one', utf16le],
  ['UTF-16BE without one', (t) => utf16le(t).swap16()],
];

// Characters of one, two, three and four UTF-8 bytes, the last a UTF-16 surrogate pair.
const reason = (epoch: number) => `pass ${epoch}: naïve σ² ≈ 𝔼[z] ✓`;
const record = (epoch: number) => JSON.stringify(sampleRecord(epoch, { convergence: 'improving', convergenceReason: reason(epoch) })) + '\n';
const epochs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function runDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-encodings-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/t.py', startedAt: '2026-03-01T12:00:00Z' }));
  return dir;
}

test('every reader of a metrics.jsonl reads its records, and their text, in UTF-8 and UTF-16 with or without a byte-order mark', async () => {
  for (const [encoding, encode] of ENCODINGS) {
    for (const n of [1, 3, 40]) {
      const at = `${encoding}, ${n} records`;
      const dir = runDir();
      const file = join(dir, 'metrics.jsonl');
      writeFileSync(file, encode(epochs(n).map(record).join('')));
      const whole = (await readRunContents(dir, () => false)).records;
      assert.deepEqual(
        whole.map((r) => r.convergenceReason),
        epochs(n).map(reason),
        `${at}: the full read`,
      );
      const overview = await readRunOverview(dir, () => false);
      assert.equal(overview.last?.epoch, n, `${at}: the status bar's tail read`);
      assert.equal(overview.last?.convergenceReason, reason(n), `${at}: the tail read's text`);
      // Windows that start at every offset, odd ones inside a UTF-16 character among them, and grow.
      for (const window of [1, 7, 64, 301, 1 << 14]) {
        const last = await lastMetricsRecord(file, window);
        assert.equal(last?.convergenceReason, reason(n), `${at}: a first window of ${window} bytes`);
      }
    }
  }
});

test('a follower of a UTF-16 metrics.jsonl hears each record once, whole, however the appends cut its bytes', async () => {
  for (const [encoding, encode] of ENCODINGS) {
    for (let seed = 1; seed <= 5; seed++) {
      const rng = lcg(seed * 13);
      const n = 2 + Math.floor(rng() * 8);
      // Pieces of 1 to 200 bytes: a byte-order mark, a code unit and a surrogate pair are all cut.
      const heard = (await followInPieces(encode(epochs(n).map(record).join('')), rng, 200)).map((r) => r.convergenceReason);
      assert.deepEqual(heard, epochs(n).map(reason), `${encoding}, seed ${seed}`);
    }
  }
});

// metrics.jsonl from writers with other line ends: CR LF (Windows), a lone CR (classic Mac OS, some
// serial loggers), and files that mix them (appended to from two machines) are read line by line,
// by the full read, the status bar's tail read and a follower alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricsJsonl } from '../../src/core/runFormat';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { followInPieces, lcg } from './follow-testkit';
import { sampleRecord } from './record-testkit';

const ENDS = ['\n', '\r\n', '\r'] as const;

/** `n` records, each line ended by one of `ends` (chosen per line), the last one ended too. */
function metricsText(n: number, ends: readonly string[], rng: () => number): string {
  let text = '';
  for (let i = 1; i <= n; i++) text += JSON.stringify(sampleRecord(i)) + ends[Math.floor(rng() * ends.length)]!;
  return text;
}

const kinds: [string, readonly string[]][] = [
  ['LF', ['\n']],
  ['CRLF', ['\r\n']],
  ['CR', ['\r']],
  ['mixed', ENDS],
];

test('metrics.jsonl with CR LF, lone CR or mixed line ends is read whole, with line numbers as an editor counts them', async () => {
  for (const [kind, ends] of kinds) {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = lcg(seed);
      const n = 1 + Math.floor(rng() * 12);
      const text = metricsText(n, ends, rng);
      const at = `${kind}, seed ${seed}, ${n} records`;
      const parsed = parseMetricsJsonl(text);
      assert.equal(parsed.records.length, n, at);
      assert.deepEqual(parsed.bad, [], at);
      assert.equal(parsed.truncatedTail, false, at);
      // A bad line is named by the number an editor shows for it.
      const lines = text.split(/\r\n|\r|\n/);
      const badAt = Math.floor(rng() * n);
      lines[badAt] = '{"epoch": oops}';
      const withBad = parseMetricsJsonl(lines.join(ends[0]!));
      assert.deepEqual(
        withBad.bad.map((b) => b.line),
        [badAt + 1],
        at,
      );

      const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-eol-')), 'run');
      mkdirSync(dir);
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/t.py', startedAt: '2026-03-01T12:00:00Z' }));
      writeFileSync(join(dir, 'metrics.jsonl'), text);
      assert.equal((await readRunContents(dir, () => false)).records.length, n, at);
      assert.equal((await readRunOverview(dir, () => false)).last?.epoch, n, `${at}: the tail read's last record`);
    }
  }
});

test('a follower of a metrics.jsonl with CR or CR LF line ends hears each record once, however the appends cut it', async () => {
  for (const [kind, ends] of kinds) {
    for (let seed = 1; seed <= 6; seed++) {
      const rng = lcg(seed * 7);
      const n = 2 + Math.floor(rng() * 10);
      const text = metricsText(n, ends, rng);
      // Appends cut anywhere: inside a record, and between a CR and its LF.
      const heard = (await followInPieces(text, rng, 300)).map((r) => r.epoch);
      assert.deepEqual(
        heard,
        Array.from({ length: n }, (_, i) => i + 1),
        `${kind}, seed ${seed}`,
      );
    }
  }
});

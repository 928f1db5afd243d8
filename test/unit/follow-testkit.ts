/** Following a metrics.jsonl as its writer appends to it, for the tests of every reader of one. */
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsRecord } from '../../src/core/runFormat';
import { MetricsTail } from '../../src/core/run/tail';

/** A small seeded generator (a linear congruential one), so a failing case can be made again from its seed. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

/**
 * The records a follower hears while `content` is appended to a new metrics.jsonl in pieces of 1 to
 * `maxPiece` bytes (cut anywhere: inside a record, a line end or a character), read after each
 * piece and once more when the writer has ended, in the order heard.
 */
export async function followInPieces(content: string | Buffer, rng: () => number, maxPiece: number): Promise<MetricsRecord[]> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const file = join(mkdtempSync(join(tmpdir(), 'vae-lens-follow-')), 'metrics.jsonl');
  writeFileSync(file, '');
  const tail = new MetricsTail(file);
  const heard: MetricsRecord[] = [];
  for (let at = 0; at < bytes.length;) {
    const next = Math.min(bytes.length, at + 1 + Math.floor(rng() * maxPiece));
    appendFileSync(file, bytes.subarray(at, next));
    at = next;
    heard.push(...(await tail.readNew()));
  }
  heard.push(...(await tail.readChanges({ final: true })).records);
  return heard;
}

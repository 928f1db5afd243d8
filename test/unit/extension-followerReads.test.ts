/**
 * What following a run another process writes costs the editor per look: the appended records, and a
 * look at the run's state (run.json, summary.json, the last record), never the whole metrics.jsonl read
 * and all its passes judged again, which a run whose writer leaves the verdict to the reader (the
 * Python companion) cost at every poll. The panel takes that verdict from the shared judge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine } from '../../src/core/runFormat';
import { ExternalRunFollower } from '../../src/extension/panel/runFollower';
import { sampleRecord } from './record-testkit';

/** Counts the bytes every file handle of this process reads, while `work` runs. */
async function bytesReadDuring(work: () => Promise<void>): Promise<number> {
  const probe = await fsp.open(__filename, 'r');
  const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
  await probe.close();
  const read = proto.read;
  let bytes = 0;
  proto.read = async function (this: unknown, ...args: unknown[]) {
    const r = await read.apply(this, args);
    bytes += r.bytesRead;
    return r;
  };
  try {
    await work();
  } finally {
    proto.read = read;
  }
  return bytes;
}

test('a look at a followed run whose writer leaves the verdict to the reader reads its appended pass, not its whole metrics.jsonl', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-follow-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), pid: process.pid }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 0, steps: 0, wallSeconds: 0 }));
  // As the Python companion writes them: no verdict in the records or the summary.
  const latents = Array.from({ length: 8 }, (_, h) => 1 + h / 100);
  const line = (epoch: number) => toJsonLine(sampleRecord(epoch, { elbo: -3 + Math.log(epoch), latentSecondMoment: latents, klPerLatent: latents }));
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, Array.from({ length: 3000 }, (_, i) => line(i + 1)).join(''));
  let seen = 0;
  // Polled by hand below: one look, measured alone.
  const follower = new ExternalRunFollower(
    { records: (_d, rs) => void (seen += rs.length), restarted: () => undefined, finished: () => undefined, problem: () => undefined },
    1e9,
  );
  try {
    await follower.follow(dir);
    appendFileSync(file, line(3001));
    const size = statSync(file).size;
    const read = await bytesReadDuring(() => (follower as unknown as { poll(): Promise<void> }).poll());
    assert.equal(seen, 1);
    assert.ok(read < size / 2, `one look read ${read} bytes of a ${size}-byte metrics.jsonl`);
  } finally {
    follower.clear();
  }
});

/**
 * What following a run another process writes costs the editor per look: the appended records, and a
 * look at the run's state (run.json, summary.json, the last record), never the whole metrics.jsonl read
 * and all its passes judged again, which a run whose writer leaves the verdict to the reader (the
 * Python companion) cost at every poll. The panel takes that verdict from the shared judge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, statSync } from 'node:fs';
import { ExternalRunFollower } from '../../src/extension/panel/runFollower';
import { bytesReadDuring, companionRun } from './liveReads-testkit';

/** A follower polled by hand (one look, measured alone), counting the records it hears. */
function handPolled(): { follower: ExternalRunFollower; poll: () => Promise<void>; seen: () => number } {
  let seen = 0;
  const follower = new ExternalRunFollower(
    { records: (_d, rs) => void (seen += rs.length), restarted: () => undefined, finished: () => undefined, problem: () => undefined },
    1e9,
  );
  return { follower, poll: () => (follower as unknown as { poll(): Promise<void> }).poll(), seen: () => seen };
}

test('a look at a followed run whose writer leaves the verdict to the reader reads its appended pass, not its whole metrics.jsonl', async () => {
  const { dir, file, line } = companionRun(3000, { pid: process.pid });
  const { follower, poll, seen } = handPolled();
  try {
    await follower.follow(dir);
    appendFileSync(file, line(3001));
    const size = statSync(file).size;
    const read = await bytesReadDuring(poll);
    assert.equal(seen(), 1);
    assert.ok(read < size / 2, `one look read ${read} bytes of a ${size}-byte metrics.jsonl`);
  } finally {
    follower.clear();
  }
});

// Its pace (the longest interval between passes) says when its silence means it ended: that is read from what was appended.
for (const [what, meta] of [
  ['written on another machine', { pid: 1, host: 'another-machine.example' }],
  ['whose run.json names no process', {}],
] as const) {
  test(`each look at a followed run ${what} reads what was appended, not its whole metrics.jsonl`, async () => {
    const { dir, file, line } = companionRun(3000, meta);
    const { follower, poll, seen } = handPolled();
    try {
      await follower.follow(dir);
      await poll();
      for (let epoch = 3001; epoch <= 3003; epoch++) {
        appendFileSync(file, line(epoch));
        const size = statSync(file).size;
        const read = await bytesReadDuring(poll);
        assert.ok(read < size / 2, `a look after pass ${epoch} read ${read} bytes of a ${size}-byte metrics.jsonl`);
      }
      assert.equal(seen(), 3);
    } finally {
      follower.clear();
    }
  });
}

test('a look at a followed run reads about its last records to find the last one, not a fixed window of hundreds of kilobytes', async () => {
  const { dir, file, line } = companionRun(3000, { pid: process.pid });
  const { follower, poll } = handPolled();
  try {
    await follower.follow(dir);
    await poll();
    const added = line(3001);
    appendFileSync(file, added);
    const read = await bytesReadDuring(poll);
    // The appended pass (read by the follower), run.json, summary.json, and a window for the last record.
    assert.ok(read < 32 * 1024, `a look after a ${added.length}-byte pass read ${read} bytes`);
  } finally {
    follower.clear();
  }
});

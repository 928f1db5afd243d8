import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { processStart, processStartMs } from '../../src/core/run/liveness';

const onLinux = process.platform === 'linux';

/** A run folder whose run.json names `pid` (and `pidStart`) and was last written `agoSeconds` ago; its summary still says running. */
function runOf(pid: number, agoSeconds: number, pidStart?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-pid-'));
  const written = new Date(Date.now() - agoSeconds * 1000);
  const meta = join(dir, 'run.json');
  writeFileSync(meta, JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: written.toISOString(), pid, pidStart, trainer: 'script' }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 1, steps: 1, wallSeconds: 1 }));
  utimesSync(meta, written, written);
  return dir;
}

test('the start of a process is known (on Linux), and it is before now', { skip: !onLinux }, () => {
  const started = processStartMs(process.pid);
  assert.ok(started !== undefined && started <= Date.now() && started > Date.now() - 3600_000, String(started));
  assert.equal(processStartMs(2 ** 22 + 12345), undefined);
});

// The writer of a Python run died; its pid now belongs to another program that started after run.json was written.
for (const ago of [60, 3600, 2 * 86400, 400 * 86400]) {
  test(`a run whose pid was taken by a process started after its run.json (written ${ago} s ago) reads as interrupted`, { skip: !onLinux }, async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      const dir = runOf(other.pid!, ago);
      for (const read of [await readRunOverview(dir), await readRunContents(dir)]) {
        assert.equal(read.status, 'stopped');
        assert.match(read.message ?? '', /interrupted/);
      }
    } finally {
      other.kill();
    }
  });
}

test('a run whose writer is alive and wrote run.json after it started still reads as running', async () => {
  const dir = runOf(process.pid, 0);
  assert.equal((await readRunOverview(dir)).status, 'running');
  // A writer that rewrote run.json long after it started (a resume in the same process) is still the writer.
  assert.equal((await readRunOverview(runOf(process.pid, -5))).status, 'running');
});

// A writer that names its start is judged by it alone: run.json's time may come from a clock stepped
// since (a virtual machine restored from a snapshot, a time sync), either way, by any amount.
test(
  "a run that names its writer's start reads as running while that process lives, and as interrupted once its pid is another's, whatever run.json's time",
  { skip: !onLinux },
  async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      const start = processStart(other.pid!);
      assert.ok(start !== undefined, 'the start of a live process reads');
      const cut = start.lastIndexOf(':');
      const ticks = Number(start.slice(cut + 1));
      const others = [
        `${start.slice(0, cut)}:${ticks + 1}`,
        `${start.slice(0, cut)}:${Math.max(0, ticks - 100)}`,
        `00000000-0000-0000-0000-000000000000:${ticks}`,
      ];
      for (const ago of [-86_400, -60, 0, 60, 3600, 400 * 86_400]) {
        for (const read of [await readRunOverview(runOf(other.pid!, ago, start)), await readRunContents(runOf(other.pid!, ago, start))])
          assert.equal(read.status, 'running', `its own start, run.json written ${ago} s ago`);
        for (const recorded of others)
          for (const read of [await readRunOverview(runOf(other.pid!, ago, recorded)), await readRunContents(runOf(other.pid!, ago, recorded))]) {
            assert.equal(read.status, 'stopped', `start ${JSON.stringify(recorded)}, run.json written ${ago} s ago`);
            assert.match(read.message ?? '', /interrupted/);
          }
      }
    } finally {
      other.kill();
    }
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { processStartMs } from '../../src/core/run/liveness';

const onLinux = process.platform === 'linux';

/** A run folder whose run.json names `pid` and was last written `agoSeconds` ago; its summary still says running. */
function runOf(pid: number, agoSeconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-pid-'));
  const written = new Date(Date.now() - agoSeconds * 1000);
  const meta = join(dir, 'run.json');
  writeFileSync(meta, JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: written.toISOString(), pid, trainer: 'script' }));
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

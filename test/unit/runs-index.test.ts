import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './vscode-stub';
import { RunIndex } from '../../src/extension/runs/runIndex';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';

const noTrainers = { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as unknown as TrainerClient;
const poll = (index: RunIndex) => (index as unknown as { pollListings(): Promise<void> }).pollListings();

/** A run another process writes: run.json names its pid, the summary says running. */
function runOf(pid: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-index-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), pid }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 1, steps: 1, wallSeconds: 1 }));
  return dir;
}

// Killed (kill -9, a closed terminal, an out-of-memory kill): no file of the run changes, the writer is gone.
for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`a run whose writer was ended by ${signal} reads as interrupted after the index's next look, though no file changed`, async () => {
    const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((r) => writer.once('spawn', r));
    const dir = runOf(writer.pid!);
    const index = new RunIndex(noTrainers);
    try {
      assert.equal((await index.overview(dir)).status, 'running');
      const gone = new Promise((r) => writer.once('exit', r));
      writer.kill(signal);
      await gone;
      await poll(index);
      const after = await index.overview(dir);
      assert.equal(after.status, 'stopped');
      assert.match(after.message ?? '', /interrupted/);
    } finally {
      writer.kill('SIGKILL');
      index.dispose();
    }
  });
}

test('a run whose writer lives is still running after the index looks again', async () => {
  const dir = runOf(process.pid);
  const index = new RunIndex(noTrainers);
  try {
    await index.overview(dir);
    await poll(index);
    assert.equal((await index.overview(dir)).status, 'running');
  } finally {
    index.dispose();
  }
});

/** What the index holds in memory, by run folder. */
const held = (index: RunIndex) => {
  const inside = index as unknown as { cache: Map<string, unknown>; stamps: Map<string, unknown> };
  return [...new Set([...inside.cache.keys(), ...inside.stamps.keys()])];
};

// A run deleted (by hand, by "Delete Run", by a clean-up script), however its overview came to be read.
const DELETIONS: [string, (dir: string) => void][] = [
  ['its folder removed after it was read', (dir) => rmSync(dir, { recursive: true })],
  ['its folder moved away', (dir) => renameSync(dir, `${dir}-moved`)],
  ['its run.json and summary.json removed', (dir) => (rmSync(join(dir, 'run.json')), rmSync(join(dir, 'summary.json')))],
];
for (const [name, remove] of DELETIONS) {
  for (const readAgain of [false, true]) {
    test(`a deleted run's overview is not kept in memory (${name}${readAgain ? ', and asked for once more' : ''})`, async () => {
      const dir = runOf(process.pid);
      const index = new RunIndex(noTrainers);
      try {
        await index.overview(dir);
        remove(dir);
        await poll(index);
        // A view still showing the run asks for it after the index let it go.
        if (readAgain) await index.overview(dir);
        await poll(index);
        assert.deepEqual(held(index), []);
      } finally {
        index.dispose();
      }
    });
  }
}

test('a run asked for before its files were written, then deleted, is not kept in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-index-'));
  const index = new RunIndex(noTrainers);
  try {
    await index.overview(dir);
    rmSync(dir, { recursive: true });
    await poll(index);
    assert.deepEqual(held(index), []);
  } finally {
    index.dispose();
  }
});

/**
 * Runs of a spec renamed beside them (orphaned: run.json names a spec that is gone) are given to it by
 * comparing its text with the other specs in its folder. The status bar, CodeLens and runs view ask for
 * a spec's runs at every refresh: those folder reads must not block the editor's thread, and must
 * not be made again until a spec changes.
 */
import { fileWatchers, setup, Uri } from './vscode-stub';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RunIndex } from '../../src/extension/runs/runIndex';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';

const noTrainers = { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as unknown as TrainerClient;
const specOf = (i: number) => JSON.stringify({ name: `m${i}`, data: { synthetic: 'ring' }, model: { latentDim: 2 }, training: { epochs: i + 1 } }, null, 2);

afterEach(() => {
  setup.folders = undefined;
  setup.files = [];
  fileWatchers.length = 0;
});

/**
 * Counts the calls of fs functions on the folder `ws` and the other specs in it while `fn` runs (not on
 * `spec`, whose text each look at its runs reads, as an editor of it would give it).
 */
async function countingReads(ws: string, spec: string, fn: () => Promise<void>): Promise<{ sync: number; async: number }> {
  const counts = { sync: 0, async: 0 };
  const ours = (p: unknown) => typeof p === 'string' && (p === ws || (dirname(p) === ws && p.endsWith('.vae.json') && p !== spec));
  const spy = <K extends string>(target: Record<K, unknown>, names: K[], kind: 'sync' | 'async') => {
    const was = names.map((n) => [n, target[n]] as const);
    for (const [n, f] of was)
      target[n] = (...args: unknown[]) => {
        if (ours(args[0])) counts[kind]++;
        return (f as (...a: unknown[]) => unknown)(...args);
      };
    return () => {
      for (const [n, f] of was) target[n] = f;
    };
  };
  // The module itself: the bundled code reads its functions from it at each call.
  const real = createRequire(__filename)('node:fs') as typeof fs;
  const restore = [
    spy(real as unknown as Record<string, unknown>, ['readdirSync', 'openSync', 'readFileSync'], 'sync'),
    spy(real.promises as unknown as Record<string, unknown>, ['readdir', 'open', 'readFile'], 'async'),
  ];
  try {
    await fn();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}

for (const specs of [3, 10])
  test(`runs of a renamed spec among ${specs} specs: its folder is read once, off the thread, until a spec changes`, async () => {
    const ws = fs.realpathSync(fs.mkdtempSync(join(tmpdir(), 'vae-lens-orphans-')));
    const renamed = join(ws, 'renamed.vae.json');
    fs.writeFileSync(renamed, specOf(0));
    for (let i = 1; i < specs; i++) fs.writeFileSync(join(ws, `other${i}.vae.json`), specOf(i));
    // Runs written when the spec was gone.vae.json, which trained the text renamed.vae.json has now.
    for (let r = 0; r < 20; r++) {
      const dir = join(ws, '.vae-lens', 'runs', `gone-${r}`);
      fs.mkdirSync(dir, { recursive: true });
      const startedAt = new Date(Date.UTC(2026, 0, 1, 0, r)).toISOString();
      fs.writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'gone', specPath: join(ws, 'gone.vae.json'), startedAt }));
      fs.writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 1, steps: 1, wallSeconds: 1 }));
      fs.writeFileSync(join(dir, 'spec.vae.json'), specOf(0));
    }
    setup.folders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
    const index = new RunIndex(noTrainers);
    try {
      const first = await countingReads(ws, renamed, async () => {
        // What three views (status bar, CodeLens, runs view) ask at each of several refreshes.
        for (let i = 0; i < 6; i++) assert.equal((await index.runsForSpec(renamed)).length, 20);
      });
      assert.equal(first.sync, 0, 'the spec folder was read on the thread');
      // The folder listed once, each other spec in it read once.
      assert.equal(first.async, specs, `read ${first.async} times`);

      // A spec saved: the texts are read again.
      fs.writeFileSync(join(ws, 'other1.vae.json'), specOf(0));
      for (const w of fileWatchers.filter((w) => w.glob === '**/*.vae.json')) w.fire('change', Uri.file(join(ws, 'other1.vae.json')));
      const again = await countingReads(ws, renamed, async () => {
        // Now two specs there trained that text: the runs are no one's.
        assert.equal((await index.runsForSpec(renamed)).length, 0);
      });
      assert.ok(again.async > 0 && again.sync === 0, JSON.stringify(again));
    } finally {
      index.dispose();
    }
  });

/**
 * The status bar item against a stand-in vscode module: it follows the spec last looked at, and says
 * nothing more of one deleted (by the explorer, a terminal, a checkout) while its runs stay on disk.
 */
import { fileWatchers, fireWorkspace, statusBarItems, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOverview } from '../../src/core/run/read';
import type { RunIndex } from '../../src/extension/runs/runIndex';
import { withJudgedVerdict } from '../../src/core/run/judgedVerdicts';

/** The index's shown verdict before any judgement: the stored one. */
const asStored = (o: RunOverview) => Promise.resolve(withJudgedVerdict(o, undefined));
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { StatusBar } from '../../src/extension/status/statusBar';

const noTrainers = {
  onEvent: () => ({ dispose: () => undefined }),
  onDidChangeTrainers: () => ({ dispose: () => undefined }),
  forSpec: () => undefined,
} as unknown as TrainerClient;

/** An index whose one run of the spec stays, as runs do when their spec goes; `changed` plays its onDidChange. */
function indexWithRun(specPath: string) {
  const listeners: (() => void)[] = [];
  const run: RunOverview = {
    runDir: join(specPath, '..', '.vae-lens', 'runs', 'r1'),
    status: 'completed',
    convergence: 'converged',
    startedMs: Date.now(),
  };
  const index = {
    onDidChange: (l: () => void) => (listeners.push(l), { dispose: () => undefined }),
    latestForSpec: () => Promise.resolve(run),
    shown: asStored,
  } as unknown as RunIndex;
  return { index, changed: () => listeners.forEach((l) => l()) };
}

/** Until `done` holds, or 5 s have passed (the item updates after file checks that a loaded machine can slow). */
async function until(done: () => boolean): Promise<void> {
  for (const start = performance.now(); !done() && performance.now() - start < 5000;) await new Promise((r) => setTimeout(r, 20));
}

const REMOVALS: [string, (spec: string, folder: string) => void][] = [
  ['the spec deleted', (spec) => rmSync(spec)],
  ['its folder deleted', (_spec, folder) => rmSync(folder, { recursive: true })],
  ['the spec moved away', (spec) => renameSync(spec, `${spec}.bak`)],
];

for (const [name, remove] of REMOVALS) {
  for (const heard of ['index', 'watcher'] as const) {
    test(`the status bar stops showing a spec's last state once it is gone (${name}, heard by the ${heard}), and shows it again when it is back`, async () => {
      const folder = join(mkdtempSync(join(tmpdir(), 'vae-lens-status-')), 'specs');
      mkdirSync(folder);
      const spec = join(folder, 'model.vae.json');
      writeFileSync(spec, '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2 } }');
      const { index, changed } = indexWithRun(spec);
      const bar = new StatusBar(index, noTrainers);
      const item = statusBarItems.at(-1)!;
      const watcher = fileWatchers.at(-1)!;
      try {
        bar.setTarget(Uri.file(spec) as never);
        await until(() => item.visible && /converged/i.test(item.text));
        assert.equal(item.visible, true);
        assert.match(item.text, /converged/i);
        remove(spec, folder);
        // The index hears a spec go (its spec watcher); a folder deleted is one event, for the folder.
        if (heard === 'index') changed();
        else watcher.fire('delete', Uri.file(name.includes('folder') ? folder : spec));
        await until(() => !item.visible);
        assert.equal(item.visible, false, `still shows "${item.text}" for a spec that is gone`);
        mkdirSync(folder, { recursive: true });
        writeFileSync(spec, '{}');
        changed();
        await until(() => item.visible);
        assert.equal(item.visible, true);
      } finally {
        bar.dispose();
      }
    });
  }
}

/** An index whose one run belongs to whichever spec path is asked for last: the item shows the spec it follows. */
function indexOfAnySpec() {
  const asked: string[] = [];
  const index = {
    onDidChange: () => ({ dispose: () => undefined }),
    shown: asStored,
    latestForSpec: (specPath: string) => {
      asked.push(specPath);
      return Promise.resolve({ runDir: join(specPath, '..', '.vae-lens', 'runs', 'r1'), status: 'completed', convergence: 'converged', startedMs: Date.now() });
    },
  } as unknown as RunIndex;
  return { index, asked };
}

// Renamed in the explorer, the spec itself or a folder above it, with other files renamed in the same
// operation: the item follows the new path at once, without waiting for an editor to be activated.
const RENAMES: [string, (folder: string, spec: string) => { from: string; to: string; follows: string }[]][] = [
  ['the spec renamed', (folder, spec) => [{ from: spec, to: join(folder, 'renamed.vae.json'), follows: join(folder, 'renamed.vae.json') }]],
  ['its folder renamed', (folder) => [{ from: folder, to: `${folder}-2`, follows: join(`${folder}-2`, 'model.vae.json') }]],
  [
    'the spec renamed with other files',
    (folder, spec) => [
      { from: join(folder, 'data.csv'), to: join(folder, 'data2.csv'), follows: '' },
      { from: spec, to: join(folder, 'b.vae.json'), follows: join(folder, 'b.vae.json') },
    ],
  ],
  [
    'the spec moved to a subfolder',
    (folder, spec) => [{ from: spec, to: join(folder, 'sub', 'model.vae.json'), follows: join(folder, 'sub', 'model.vae.json') }],
  ],
];

for (const [name, renames] of RENAMES)
  test(`the status bar follows a spec renamed in the explorer (${name}) without an editor being activated`, async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'vae-lens-status-')), 'specs');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    const spec = join(folder, 'model.vae.json');
    writeFileSync(spec, '{}');
    writeFileSync(join(folder, 'data.csv'), '1,2\n');
    const { index, asked } = indexOfAnySpec();
    const bar = new StatusBar(index, noTrainers);
    const item = statusBarItems.at(-1)!;
    try {
      bar.setTarget(Uri.file(spec) as never);
      await until(() => item.visible);
      assert.equal(item.visible, true);
      const moves = renames(folder, spec);
      for (const m of moves) renameSync(m.from, m.to);
      fireWorkspace('onDidRenameFiles', { files: moves.map((m) => ({ oldUri: Uri.file(m.from), newUri: Uri.file(m.to) })) });
      // The watcher hears the old path deleted too.
      fileWatchers.at(-1)!.fire('delete', Uri.file(moves.at(-1)!.from));
      const follows = moves.find((m) => m.follows)!.follows;
      await until(() => item.visible && asked.at(-1) === follows);
      assert.equal(item.visible, true, `hidden after ${name}`);
      assert.equal(asked.at(-1), follows);
    } finally {
      bar.dispose();
    }
  });

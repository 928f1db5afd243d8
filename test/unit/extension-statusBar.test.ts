/**
 * The status bar item against a stand-in vscode module: it follows the spec last looked at, and says
 * nothing more of one deleted (by the explorer, a terminal, a checkout) while its runs stay on disk.
 */
import { fileWatchers, statusBarItems, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOverview } from '../../src/core/run/read';
import type { RunIndex } from '../../src/extension/runs/runIndex';
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
  } as unknown as RunIndex;
  return { index, changed: () => listeners.forEach((l) => l()) };
}

const settle = () => new Promise((r) => setTimeout(r, 400));

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
        await settle();
        assert.equal(item.visible, true);
        assert.match(item.text, /converged/i);
        remove(spec, folder);
        // The index hears a spec go (its spec watcher); a folder deleted is one event, for the folder.
        if (heard === 'index') changed();
        else watcher.fire('delete', Uri.file(name.includes('folder') ? folder : spec));
        await settle();
        assert.equal(item.visible, false, `still shows "${item.text}" for a spec that is gone`);
        mkdirSync(folder, { recursive: true });
        writeFileSync(spec, '{}');
        changed();
        await settle();
        assert.equal(item.visible, true);
      } finally {
        bar.dispose();
      }
    });
  }
}

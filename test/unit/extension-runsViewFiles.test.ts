/**
 * The runs view follows spec files made, deleted or renamed outside the editor (a terminal, git
 * checkout, a folder moved in or deleted), from its first listing on, whether or not a spec has been
 * opened (the run index, which watches specs too, exists only once one is in sight).
 */
import { fileWatchers, setup, Uri, type FakeFileSystemWatcher } from './vscode-stub';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunIndex } from '../../src/extension/runs/runIndex';
import { RunsViewProvider } from '../../src/extension/runs/runsTreeView';
import { TrainerClient } from '../../src/extension/trainer/trainerClient';

afterEach(() => {
  setup.folders = undefined;
  setup.files = [];
});

const ws = mkdtempSync(join(tmpdir(), 'vae-lens-view-files-'));

/** A view of an empty workspace, listed once (the view expanded); the index is never asked for. */
async function emptyView(): Promise<{ view: RunsViewProvider; refreshes: () => number; watchers: FakeFileSystemWatcher[] }> {
  setup.folders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
  setup.files = [];
  const before = fileWatchers.length;
  const client = new TrainerClient({ trainerPath: '/nonexistent', log: () => undefined });
  const view = new RunsViewProvider(client, () => assert.fail('the run index was asked for with no spec listed') as RunIndex);
  assert.deepEqual(await view.getChildren(), []);
  let count = 0;
  view.refresh = () => void count++;
  return { view, refreshes: () => count, watchers: fileWatchers.slice(before) };
}

const fire = (watchers: FakeFileSystemWatcher[], kind: 'create' | 'delete', p: string) => {
  for (const w of watchers) w.fire(kind, Uri.file(p));
};

const SPEC_PATHS = ['model.vae.json', join('models', 'vae1.vae.json'), join('deep', 'er', 'x y.vae.json'), join('a.b', 'c.vae.json')];

for (const rel of SPEC_PATHS) {
  for (const kind of ['create', 'delete'] as const) {
    test(`an expanded, empty runs view refreshes when ${rel} is ${kind}d outside the editor`, async () => {
      const { view, refreshes, watchers } = await emptyView();
      try {
        fire(watchers, kind, join(ws, rel));
        assert.ok(refreshes() >= 1, `no refresh after ${kind} of ${rel} (${watchers.length} watchers)`);
      } finally {
        view.dispose();
      }
    });
  }
}

test('a folder of specs moved in or checked out is listed; a folder without one (a checkpoint) costs no listing', async () => {
  const { view, refreshes, watchers } = await emptyView();
  try {
    const checkpoint = join(ws, 'checkpoints', 'epoch-3');
    mkdirSync(checkpoint, { recursive: true });
    fire(watchers, 'create', checkpoint);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(refreshes(), 0, 'refreshed for a folder without a spec');
    const folder = join(ws, 'checked-out');
    mkdirSync(folder, { recursive: true });
    setup.files = [Uri.file(join(folder, 'vae.vae.json'))];
    fire(watchers, 'create', folder);
    for (let i = 0; i < 50 && refreshes() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(refreshes() >= 1, 'no refresh after a folder holding a spec was created');
  } finally {
    view.dispose();
  }
});

test('a folder holding a listed spec deleted outside the editor (rm -r) refreshes the view', async () => {
  setup.folders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
  const spec = Uri.file(join(ws, 'models', 'vae.vae.json'));
  setup.files = [spec];
  const index = { onDidChange: () => ({ dispose: () => undefined }), latestForSpec: async () => undefined };
  const client = new TrainerClient({ trainerPath: '/nonexistent', log: () => undefined });
  const listed = new RunsViewProvider(client, () => index as unknown as RunIndex);
  const before = fileWatchers.length;
  try {
    assert.equal((await listed.getChildren()).length, 1);
    let count = 0;
    listed.refresh = () => void count++;
    const mine = fileWatchers.slice(before);
    fire(mine, 'delete', join(ws, 'models'));
    assert.ok(count >= 1, 'no refresh after the folder of a listed spec was deleted');
    // Not for files that are neither specs nor hold one.
    count = 0;
    fire(mine, 'create', join(ws, 'notes.txt'));
    fire(mine, 'delete', join(ws, 'other', 'data.csv'));
    fire(mine, 'create', join(ws, '.vae-lens', 'runs', 'r1', 'spec.vae.json'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(count, 0, 'refreshed for files that are not specs');
  } finally {
    listed.dispose();
  }
});

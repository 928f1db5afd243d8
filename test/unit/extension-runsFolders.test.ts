/**
 * The runs folders the pickers list and the watchers watch (src/extension/runs/runsFolders.ts): the
 * union of what the runs view reads per spec (custom output.runsDir included) and each workspace
 * folder's runsDirectory setting, computed again after a change, with one watcher per folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import { FolderWatchers, RunsFolders, uniqueFolders, foldersOutside, runOfChangedFile, type RunsFolderSources } from '../../src/extension/runs/runsFolders';

function sources(over: Partial<Record<string, string[]>> = {}, configured: string[] = []) {
  const perSpec: Record<string, string[]> = {
    '/ws/a/a.vae.json': ['/ws/a/.vae-lens/runs'],
    '/ws/b/b.vae.json': ['/ws/b/custom-runs'],
    '/ws2/c.vae.json': ['/elsewhere/runs', '/ws2/.vae-lens/runs'],
    ...over,
  };
  let calls = 0;
  const s: RunsFolderSources & { calls: () => number; perSpec: typeof perSpec; configured: string[] } = {
    perSpec,
    configured,
    calls: () => calls,
    specs: () => {
      calls++;
      return Promise.resolve(Object.keys(perSpec));
    },
    runsDirsForSpec: (p) => Promise.resolve(perSpec[p] ?? []),
    configuredRunsDirs: () => s.configured,
  };
  return s;
}

test("the runs folders are every spec's (custom output.runsDir included) and every workspace folder's setting, each once", async () => {
  const src = sources({}, ['/ws2/shared-runs', '/ws/a/.vae-lens/runs']);
  const folders = new RunsFolders(src);
  assert.deepEqual(await folders.folders(), ['/ws2/shared-runs', '/ws/a/.vae-lens/runs', '/ws/b/custom-runs', '/elsewhere/runs', '/ws2/.vae-lens/runs']);
});

test('the set is computed once until invalidated, then again with what changed (a spec, a setting, a folder)', async () => {
  const src = sources();
  const folders = new RunsFolders(src);
  await folders.folders();
  await folders.folders();
  assert.equal(src.calls(), 1);
  src.perSpec['/ws/b/b.vae.json'] = ['/ws/b/moved-runs'];
  src.configured.push('/ws/setting-runs');
  assert.ok(!(await folders.folders()).includes('/ws/b/moved-runs'), 'cached until told');
  folders.invalidate();
  const now = await folders.folders();
  assert.equal(src.calls(), 2);
  assert.ok(now.includes('/ws/b/moved-runs') && now.includes('/ws/setting-runs') && !now.includes('/ws/b/custom-runs'));
});

test('a failed look-up is not kept', async () => {
  let fail = true;
  const folders = new RunsFolders({
    specs: () => (fail ? Promise.reject(new Error('search failed')) : Promise.resolve([])),
    runsDirsForSpec: () => Promise.resolve([]),
    configuredRunsDirs: () => ['/x'],
  });
  await assert.rejects(folders.folders());
  fail = false;
  assert.deepEqual(await folders.folders(), ['/x']);
});

test('uniqueFolders keeps the first spelling of a folder', () => {
  assert.deepEqual(
    uniqueFolders([
      ['/a/runs', '/b'],
      ['/a/x/../runs', '/c', '/b/'],
    ]),
    ['/a/runs', '/b', '/c'],
  );
});

test('a run file changed in the workspace is ours when its runs folder is a default one or one of the set', () => {
  const folders = ['/ws/custom-runs', '/elsewhere/runs'];
  assert.equal(runOfChangedFile('/ws/custom-runs/r1/summary.json', folders), '/ws/custom-runs/r1');
  assert.equal(runOfChangedFile('/ws/sub/.vae-lens/runs/r2/run.json', folders), '/ws/sub/.vae-lens/runs/r2');
  assert.equal(runOfChangedFile('/elsewhere/runs/r3/run.json', folders), '/elsewhere/runs/r3');
  assert.equal(runOfChangedFile('/ws/reports/summary.json', folders), undefined, 'another summary.json');
  assert.equal(runOfChangedFile('/ws/custom-runs/r1/images/run.json', folders), undefined);
});

test('only runs folders outside every workspace folder get a watcher of their own, existing or not', () => {
  const root = mkdtempSync(join(tmpdir(), 'vae-lens-folders-'));
  mkdirSync(join(root, 'ws', 'sub', '.vae-lens', 'runs'), { recursive: true });
  const ws = join(root, 'ws');
  const inside = [join(ws, 'sub', '.vae-lens', 'runs'), join(ws, 'custom-runs', 'not-yet')];
  const outside = [join(root, 'other', '.vae-lens', 'runs'), join(root, 'ws-runs')];
  assert.deepEqual(foldersOutside([...inside, ...outside], [ws]), outside);
});

test('one watcher per folder: made when a folder joins, kept while it stays, disposed when it leaves', () => {
  const live = new Map<string, number>();
  let made = 0;
  const watchers = new FolderWatchers((folder) => {
    made++;
    live.set(folder, (live.get(folder) ?? 0) + 1);
    return { dispose: () => live.set(folder, live.get(folder)! - 1) };
  });
  watchers.sync(['/a', '/b', '/a/']);
  assert.deepEqual(watchers.watched(), ['/a', '/b']);
  watchers.sync(['/b', '/c']);
  assert.deepEqual(watchers.watched().sort(), ['/b', '/c']);
  assert.equal(made, 3, '/b was kept, not made again');
  assert.deepEqual(Object.fromEntries(live), { '/a': 0, '/b': 1, '/c': 1 });
  watchers.dispose();
  assert.deepEqual(Object.fromEntries(live), { '/a': 0, '/b': 0, '/c': 0 });
  assert.deepEqual(watchers.watched(), []);
});

// The Open Run and Compare Runs pickers pass every run folder of the workspace: a look at each pair's real
// paths made 500 runs a freeze of seconds on the editor's thread.
for (const runs of [50, 300])
  test(`${runs} run folders, each also spelt another way, are made unique with one real-path look per spelling`, () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'vae-lens-unique-'));
    const dirs = Array.from({ length: runs }, (_, i) => join(runsDir, `m-${i}`));
    for (const d of dirs) mkdirSync(d);
    // Through a link to the runs folder: the same folders, which only their real paths tell.
    const link = `${runsDir}-link`;
    symlinkSync(runsDir, link);
    const other = dirs.map((d) => join(link, basename(d)));
    const real = createRequire(__filename)('node:fs') as typeof import('node:fs');
    const was = real.realpathSync;
    let looks = 0;
    real.realpathSync = ((...args: Parameters<typeof was>) => (looks++, was(...args))) as typeof was;
    let unique: string[];
    try {
      unique = uniqueFolders([dirs, other, dirs]);
    } finally {
      real.realpathSync = was;
    }
    assert.deepEqual(unique, dirs);
    assert.ok(looks <= 2 * dirs.length, `${looks} real-path looks for ${2 * dirs.length} spellings`);
  });

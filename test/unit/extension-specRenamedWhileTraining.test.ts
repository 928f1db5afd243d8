/**
 * A spec renamed or moved (in the explorer or from a terminal) while it trains is still the spec that
 * trains: Stop on it stops its trainer, and Train on it does not start a second trainer beside the first.
 */
import { fileWatchers, fireWorkspace, shown, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRequest } from '../../src/core/protocol';
import { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { Training, type TrainingDeps } from '../../src/extension/training/trainCommands';
import { TRAINER_UNTIL_STOPPED } from './trainer-testkit';

const until = async (cond: () => boolean, ms = 30_000) => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const moves: { what: string; to: (dir: string) => string }[] = [
  { what: 'renamed', to: (dir) => join(dir, 'b.vae.json') },
  { what: 'renamed by case only', to: (dir) => join(dir, 'A.vae.json') },
  { what: 'moved to another folder', to: (dir) => join(dir, 'models', 'a.vae.json') },
];

for (const m of moves) {
  test(`a spec ${m.what} while it trains is still training: Stop on it stops that trainer`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-lens-renamed-'));
    mkdirSync(join(dir, 'models'));
    const trainerPath = join(dir, 'trainer.js');
    writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
    const spec = join(dir, 'a.vae.json');
    writeFileSync(spec, '{}');
    const client = new TrainerClient({ trainerPath, log: () => undefined });
    const training = new Training({ client } as unknown as TrainingDeps);
    const t = client.start(startRequest({ specPath: spec }));
    try {
      await until(() => t.started !== undefined);
      const moved = m.to(dir);
      renameSync(spec, moved);
      assert.equal(client.forSpecOnDisk(moved), t, 'the moved spec is not known to be training');
      shown.length = 0;
      await training.stop(Uri.file(moved));
      assert.deepEqual(shown, []);
      assert.equal(t.state, 'exited');
    } finally {
      await client.stopAll(2000);
      training.dispose();
    }
  });
}

test('a new spec written where a training one was, or beside it, is not the one training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-renamed-'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
  const spec = join(dir, 'a.vae.json');
  writeFileSync(spec, '{}');
  const client = new TrainerClient({ trainerPath, log: () => undefined });
  const t = client.start(startRequest({ specPath: spec }));
  try {
    await until(() => t.started !== undefined);
    const other = join(dir, 'b.vae.json');
    writeFileSync(other, '{}');
    assert.equal(client.forSpec(other), undefined, 'another spec with the same text');
    rmSync(spec);
    assert.equal(client.forSpec(other), undefined, 'another spec, the training one deleted');
    writeFileSync(spec, '{}');
    // The path it was started for is still its own.
    assert.equal(client.forSpec(spec), t);
  } finally {
    await client.stopAll(2000);
  }
});

/**
 * The ways real editors and tools rename a spec, each as the file operations and the events the
 * editor's file watcher reports for them (in either order: a watcher may report the new file first).
 */
interface Rename {
  what: string;
  /** Done by one command, which a user may follow at once with Stop, before the watcher's events. */
  atOnce?: boolean;
  /** Does it, `report`ing after each operation the events the watcher reports for it; returns the spec's new path. */
  run: (dir: string, spec: string, report: (events: FileEvent[]) => void) => string;
}
type FileEvent = ['create' | 'change' | 'delete', string] | ['rename', string, string];

/** An editor's safe save: the text goes to a temporary file renamed over the spec (a new inode). */
function safeSave(file: string, text: string, report: (events: FileEvent[]) => void): void {
  const tmp = `${file}.tmp~`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  report([
    ['create', tmp],
    ['delete', tmp],
    ['change', file],
  ]);
}

/** `mv from to`, as the file system and the watcher see it. */
function mv(from: string, to: string, report: (events: FileEvent[]) => void): string {
  renameSync(from, to);
  report([
    ['create', to],
    ['delete', from],
  ]);
  return to;
}

const renames: Rename[] = [
  { what: 'moved with mv', atOnce: true, run: (dir, spec, report) => mv(spec, join(dir, 'b.vae.json'), report) },
  {
    what: 'moved with git mv',
    atOnce: true,
    run: (dir, spec, report) => {
      spawnSync('git', ['init', '-q'], { cwd: dir });
      spawnSync('git', ['add', 'a.vae.json'], { cwd: dir });
      const r = spawnSync('git', ['mv', 'a.vae.json', 'b.vae.json'], { cwd: dir });
      assert.equal(r.status, 0, String(r.stderr));
      report([
        ['create', join(dir, 'b.vae.json')],
        ['delete', spec],
      ]);
      return join(dir, 'b.vae.json');
    },
  },
  {
    what: 'renamed in the explorer',
    atOnce: true,
    run: (dir, spec, report) => {
      const to = join(dir, 'b.vae.json');
      renameSync(spec, to);
      report([
        ['rename', spec, to],
        ['delete', spec],
        ['create', to],
      ]);
      return to;
    },
  },
  {
    what: 'saved by an editor that writes a new file, then moved with mv',
    run: (dir, spec, report) => {
      safeSave(spec, '{ "edited": true }', report);
      return mv(spec, join(dir, 'b.vae.json'), report);
    },
  },
  {
    what: 'moved with mv, then saved edited by an editor that writes a new file',
    run: (dir, spec, report) => {
      const to = mv(spec, join(dir, 'b.vae.json'), report);
      safeSave(to, '{ "edited": true }', report);
      return to;
    },
  },
  {
    what: 'deleted and created anew with its text (a checkout of a rename)',
    run: (dir, spec, report) => {
      const text = readFileSync(spec);
      rmSync(spec);
      // Another file of the checkout takes the freed inode number (a file system may hand it out again at once).
      writeFileSync(join(dir, 'README.md'), '');
      const to = join(dir, 'models', 'b.vae.json');
      writeFileSync(to, text);
      report([
        ['delete', spec],
        ['create', join(dir, 'README.md')],
        ['create', to],
      ]);
      return to;
    },
  },
  {
    what: 'in a folder moved with mv',
    run: (dir, spec, report) => {
      mv(spec, join(dir, 'models', 'a.vae.json'), report);
      return join(mv(join(dir, 'models'), join(dir, 'renamed-models'), report), 'a.vae.json');
    },
  },
];

async function renamedWhileTraining(r: Rename, order: 'in order' | 'new file first' | 'none') {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-renamed-'));
  mkdirSync(join(dir, 'models'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
  const spec = join(dir, 'a.vae.json');
  writeFileSync(spec, '{ "name": "a" }');
  const client = new TrainerClient({ trainerPath, log: () => undefined });
  const watchersBefore = fileWatchers.length;
  const training = new Training({ client } as unknown as TrainingDeps);
  const watchers = fileWatchers.slice(watchersBefore);
  const t = client.start(startRequest({ specPath: spec }));
  const report = (events: FileEvent[]) => {
    if (order === 'none') return;
    // A watcher may report a rename's new file before the old one's going.
    for (const e of order === 'new file first' ? [...events].reverse() : events) {
      if (e[0] === 'rename') fireWorkspace('onDidRenameFiles', { files: [{ oldUri: Uri.file(e[1]), newUri: Uri.file(e[2]) }] });
      else for (const w of watchers) w.fire(e[0], Uri.file(e[1]));
    }
  };
  try {
    await until(() => t.started !== undefined);
    const to = r.run(dir, spec, report);
    // What the status bar and the CodeLens ask on each progress event, after the watcher's news.
    if (order !== 'none') assert.equal(client.forSpec(to), t, `${r.what}: the spec at its new path is not known to be training`);
    shown.length = 0;
    await training.stop(Uri.file(to));
    assert.deepEqual(shown, [], `${r.what}`);
    assert.equal(t.state, 'exited', `${r.what}: Stop on the renamed spec did not stop its trainer`);
  } finally {
    await client.stopAll(2000);
    training.dispose();
  }
}

for (const r of renames)
  for (const order of r.atOnce ? (['in order', 'new file first', 'none'] as const) : (['in order', 'new file first'] as const))
    test(`a spec ${r.what} while it trains is still the one training (file events ${order === 'none' ? 'not yet reported' : `reported ${order}`})`, () =>
      renamedWhileTraining(r, order));

test('asking which trainer a spec has does no file I/O, however often a progress event asks it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-renamed-'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
  const spec = join(dir, 'a.vae.json');
  writeFileSync(spec, '{}');
  const other = join(dir, 'b.vae.json');
  writeFileSync(other, '{}');
  const client = new TrainerClient({ trainerPath, log: () => undefined });
  const t = client.start(startRequest({ specPath: spec }));
  // The module object the code under test reads its functions from (an import binding cannot be replaced).
  const nodeFs = createRequire(__filename)('node:fs') as Record<string, unknown>;
  const calls = new Map<string, number>();
  const patched = ['statSync', 'lstatSync', 'realpathSync', 'readFileSync', 'openSync', 'existsSync', 'accessSync'] as const;
  const originals = patched.map((name) => [name, nodeFs[name]] as const);
  try {
    await until(() => t.started !== undefined);
    // The first look at a path may resolve its links once; none after that.
    client.forSpec(other);
    client.forSpec(spec);
    for (const [name, original] of originals)
      nodeFs[name] = (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return (original as (...a: unknown[]) => unknown)(...args);
      };
    for (let i = 0; i < 1000; i++) {
      assert.equal(client.forSpec(other), undefined);
      assert.equal(client.forSpec(spec), t);
    }
    assert.deepEqual(Object.fromEntries(calls), {}, 'file system calls for 2000 lookups');
  } finally {
    for (const [name, original] of originals) nodeFs[name] = original;
    await client.stopAll(2000);
  }
});

test("a new spec that gets a deleted training spec's inode number is not the one training", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-renamed-'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
  const spec = join(dir, 'a.vae.json');
  writeFileSync(spec, '{ "name": "a" }');
  const client = new TrainerClient({ trainerPath, log: () => undefined });
  const t = client.start(startRequest({ specPath: spec }));
  try {
    await until(() => t.started !== undefined);
    rmSync(spec);
    // The file system may hand the freed number to the next new file: a new spec, with its own text.
    const other = join(dir, 'c.vae.json');
    writeFileSync(other, '{ "name": "c" }');
    client.fileDeleted();
    client.fileCreated(other);
    assert.equal(client.forSpec(other), undefined);
    assert.equal(client.forSpecOnDisk(other), undefined);
  } finally {
    await client.stopAll(2000);
  }
});

/**
 * A spec renamed or moved (in the explorer or from a terminal) while it trains is still the spec that
 * trains: Stop on it stops its trainer, and Train on it does not start a second trainer beside the first.
 */
import { shown, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRequest } from '../../src/core/protocol';
import { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { Training, type TrainingDeps } from '../../src/extension/training/trainCommands';
import { TRAINER_UNTIL_STOPPED } from './trainer-testkit';

const until = async (cond: () => boolean, ms = 30_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
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
      assert.equal(client.forSpec(moved), t, 'the moved spec is not known to be training');
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

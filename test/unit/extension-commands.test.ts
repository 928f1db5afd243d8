/**
 * Extension code run against a stand-in vscode module: Stop Training with an explicit target stops
 * exactly that one (or says it is not training), an export that cannot be written says what failed
 * and why instead of failing silently, and the layer hover is registered for spec files on disk.
 */
import { shown, answers, registeredSelectors, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRequest } from '../../src/core/protocol';
import { TrainerClient } from '../../src/extension/trainer/trainerClient';
import { Training, type TrainingDeps } from '../../src/extension/training/trainCommands';
import { RunCommands, type RunCommandDeps } from '../../src/extension/runs/runCommands';
import { registerLayerHover } from '../../src/extension/specs/layerHover';
import { sampleRecord } from './record-testkit';
import { TRAINER_UNTIL_STOPPED } from './trainer-testkit';

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('Stop Training on a spec or run that is not training says so and stops nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-stop-'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
  const client = new TrainerClient({ trainerPath, log: () => undefined });
  const training = new Training({ client } as unknown as TrainingDeps);
  const specA = join(dir, 'a.vae.json');
  const specB = join(dir, 'b.vae.json');
  const b = client.start(startRequest({ specPath: specB }));
  try {
    // A loaded machine can take seconds to start a node process.
    await until(() => b.started !== undefined, 30_000);
    shown.length = 0;
    // A stale "■ Stop" CodeLens on A (finished) while only B trains.
    await training.stop(Uri.file(specA));
    assert.equal(b.state, 'running', 'stopping A stopped B');
    // No folder open: the spec is named by its whole path.
    assert.deepEqual(shown, [{ level: 'info', message: `VAE Lens: ${specA} is not training.` }]);
    // A run from the runs view that has ended.
    shown.length = 0;
    await training.stop({ runDir: join(dir, 'runs', 'a-20260101-000000') });
    assert.equal(b.state, 'running', 'stopping an ended run stopped B');
    assert.deepEqual(shown, [{ level: 'info', message: 'VAE Lens: a-20260101-000000 is not training.' }]);
    // The target itself is stopped.
    await training.stop(Uri.file(specB));
    assert.equal(b.state, 'exited');
  } finally {
    await client.stopAll(2000);
    training.dispose();
  }
});

test('Stop Training from the palette (no target) still stops the only trainer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-stop-'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, TRAINER_UNTIL_STOPPED);
  const client = new TrainerClient({ trainerPath, log: () => undefined });
  const training = new Training({ client } as unknown as TrainingDeps);
  const t = client.start(startRequest({ specPath: join(dir, 'only.vae.json') }));
  try {
    await until(() => t.started !== undefined, 30_000);
    await training.stop();
    assert.equal(t.state, 'exited');
  } finally {
    await client.stopAll(2000);
    training.dispose();
  }
});

function runWithRecords(): string {
  const runDir = mkdtempSync(join(tmpdir(), 'vae-lens-export-'));
  writeFileSync(join(runDir, 'metrics.jsonl'), [sampleRecord(0), sampleRecord(1)].map((r) => JSON.stringify(r)).join('\n') + '\n');
  return runDir;
}

function runCommands(): RunCommands {
  return new RunCommands({ log: () => undefined } as unknown as RunCommandDeps);
}

test('an export to CSV that cannot be written says which file and why', async () => {
  const runDir = runWithRecords();
  // A "folder" that is a file: the write fails as in a read-only or vanished folder.
  const notAFolder = join(runDir, 'not-a-folder');
  writeFileSync(notAFolder, '');
  answers.saveDialog = Uri.file(join(notAFolder, 'metrics.csv'));
  shown.length = 0;
  await assert.doesNotReject(runCommands().exportCsv(runDir));
  const error = shown.find((s) => s.level === 'error');
  assert.ok(error, `no error was shown: ${JSON.stringify(shown)}`);
  assert.match(error.message, /could not write .*not-a-folder\/metrics\.csv: .*ENOTDIR/);
});

test('charts exported as PNG that cannot be written say which file and why', async () => {
  const runDir = runWithRecords();
  const notAFolder = join(runDir, 'not-a-folder');
  writeFileSync(notAFolder, '');
  answers.openDialog = [Uri.file(notAFolder)];
  shown.length = 0;
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => rejections.push(e);
  process.on('unhandledRejection', onRejection);
  try {
    const commands = runCommands();
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    commands.exportPng(runDir, 'elbo', png);
    commands.exportPng(runDir, 'gap', png);
    await until(() => shown.some((s) => s.level === 'error') || rejections.length > 0, 5000).catch(() => undefined);
    assert.deepEqual(rejections, [], 'the failure was an unhandled rejection');
    const error = shown.find((s) => s.level === 'error');
    assert.ok(error, `no error was shown: ${JSON.stringify(shown)}`);
    assert.match(error.message, /could not save .*not-a-folder\/.*elbo\.png \(and 1 more chart\): .*ENOTDIR/);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

test('the layer hover is offered on spec files on disk only, as the CodeLens is', () => {
  registeredSelectors.length = 0;
  registerLayerHover().dispose();
  assert.deepEqual(registeredSelectors, [{ scheme: 'file', pattern: '**/*.vae.json' }]);
});

test("a run's spec snapshot is not a spec, in .vae-lens or in a custom runs folder; a spec.vae.json of the user's is", async () => {
  const { isSpecPath, resolveSpec } = await import('../../src/extension/specs/specFiles');
  const root = mkdtempSync(join(tmpdir(), 'vae-lens-snapshots-'));
  const custom = join(root, 'custom-runs', 'a-20260101-000000');
  const mine = join(root, 'models');
  for (const [dir, files] of [
    [custom, ['spec.vae.json', 'run.json']],
    [mine, ['spec.vae.json', 'a.vae.json']],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    for (const f of files) writeFileSync(join(dir, f), '{}');
  }
  assert.equal(isSpecPath(join(custom, 'spec.vae.json')), false, 'a snapshot beside its run.json');
  assert.equal(isSpecPath(join(root, '.vae-lens', 'runs', 'r', 'spec.vae.json')), false);
  assert.equal(isSpecPath(join(mine, 'spec.vae.json')), true, 'a spec of the user named spec.vae.json');
  assert.equal(isSpecPath(join(mine, 'a.vae.json')), true);
  // The ▶ button pressed on a snapshot: nothing is trained in its place, and the user is told why.
  const before = shown.length;
  assert.equal(await resolveSpec(Uri.file(join(custom, 'spec.vae.json')), 'pick'), undefined);
  assert.match(
    shown
      .slice(before)
      .map((m) => m.message)
      .join('\n'),
    /is a run's copy of its spec, not a spec to train/,
  );
});

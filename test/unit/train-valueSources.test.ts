// A value that a flag or a setting gave (the runs folder, the engine) is blamed on that flag or
// setting when it does not work, not on the spec field it stands in for; a value from the spec
// is placed at its field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRequest, type FromTrainer, type StartRequest } from '../../src/core/protocol';
import { chooseEngine } from '../../src/train/backend';
import { runSession } from '../../src/train/session';
import { expectUserErrorAsync } from './data-testkit';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-sources-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const aFile = path.join(dir, 'not-a-folder');
fs.writeFileSync(aFile, 'x');

function writeSpec(output: Record<string, unknown> | undefined): string {
  const spec = {
    name: 'sources',
    data: { synthetic: 'circle', n: 16, seed: 1 },
    model: { latentDim: 1, encoder: { hidden: [2] }, decoder: { hidden: [2] } },
    training: { epochs: 1, backend: 'cpu' },
    ...(output ? { output } : {}),
  };
  const specPath = path.join(dir, 'a.vae.json');
  fs.writeFileSync(specPath, JSON.stringify(spec, null, 2));
  return specPath;
}

async function firstError(req: StartRequest): Promise<Extract<FromTrainer, { type: 'error' }>> {
  const events: FromTrainer[] = [];
  assert.equal(await runSession(req, (e) => events.push(e), { stopRequested: false }), 'failed');
  const error = events.find((e) => e.type === 'error') as Extract<FromTrainer, { type: 'error' }> | undefined;
  assert.ok(error?.userError, JSON.stringify(events));
  return error;
}

test('a runs folder that is a file is blamed on what named it: the flag, the setting or the spec field', async () => {
  // Where a folder should be: the file itself, or a folder below it.
  for (const runsDir of [aFile, path.join(aFile, 'runs')]) {
    for (const [requestedBy, name] of [
      ['cli', '--out'],
      ['editor', 'vaeLens.runsDirectory'],
    ] as const) {
      const specPath = writeSpec({ runsDir: 'elsewhere' });
      const error = await firstError(startRequest({ specPath, runsDir, requestedBy }));
      assert.equal(error.location?.field, name, error.message);
      assert.notEqual(error.location?.file, specPath, error.message);
      assert.doesNotMatch(error.message, /output\.runsDir/);
      assert.match(error.message, new RegExp(`(is a file, not a folder|in the way of a folder).*with ${name.replace('.', '\\.')}`));
    }
    const specPath = writeSpec({ runsDir });
    const error = await firstError(startRequest({ specPath, requestedBy: 'cli' }));
    assert.equal(error.location?.field, 'output.runsDir', error.message);
    assert.equal(error.location?.file, specPath, error.message);
    assert.ok(error.location?.line !== undefined, 'placed at its line in the spec');
  }
  assert.match(
    (await firstError(startRequest({ specPath: writeSpec({ runsDir: aFile }), requestedBy: 'cli' }))).message,
    /the runs folder .* is a file, not a folder/,
  );
});

test('an engine that cannot start is blamed on what chose it', async () => {
  let installed = true;
  try {
    require.resolve('@tensorflow/tfjs-node');
  } catch {
    installed = false;
  }
  if (installed) return;
  for (const name of ['--backend', 'vaeLens.backend', 'training.backend']) {
    await expectUserErrorAsync(
      () => chooseEngine('tensorflow', [], { name, location: { field: name } }),
      new RegExp(`choose "wasm" or "auto" with ${name.replace('.', '\\.')}`),
      {
        field: name,
      },
    );
  }
});

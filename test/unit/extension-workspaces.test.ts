/**
 * The extension in setups the examples do not use: no folder open, several folders, an untitled
 * editor. Each test plays its setup on the stand-in vscode module and puts it back.
 */
import { setup, shown, Uri } from './vscode-stub';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readSettings } from '../../src/extension/settings';
import { resolveSpec } from '../../src/extension/specs/specFiles';

afterEach(() => {
  setup.folders = undefined;
  setup.settings = {};
  setup.activeDocument = undefined;
  setup.files = [];
  shown.length = 0;
});

const lone = join('/', 'lone', 'models');
// What a user writes in vaeLens.runsDirectory (user settings), and where it leads for a spec opened with no folder open.
const NO_FOLDER_CASES: [string, string][] = [
  ['runs', join(lone, 'runs')],
  ['./runs/vae', join(lone, 'runs', 'vae')],
  ['../shared-runs', join('/', 'lone', 'shared-runs')],
  ['${workspaceFolder}', lone],
  ['${workspaceFolder}/runs', join(lone, 'runs')],
  ['${workspaceFolderBasename}-runs', join(lone, 'models-runs')],
  ['/data/runs', join('/', 'data', 'runs')],
];
for (const [written, expected] of NO_FOLDER_CASES) {
  test(`with no folder open, runsDirectory "${written}" is taken against the spec's folder: ${expected}`, () => {
    setup.settings = { 'vaeLens.runsDirectory': written, 'vaeLens.tfjsNodePath': written };
    const settings = readSettings(Uri.file(join(lone, 'a.vae.json')) as never);
    // Not the extension host's working folder (whatever it was started in), nor a folder named "${workspaceFolder}".
    assert.equal(settings.runsDirectory, expected);
    assert.equal(settings.tfjsNodePath, expected);
  });
}

for (const languageId of ['jsonc', 'json']) {
  test(`Train VAE in an untitled ${languageId} editor does not train another spec of the workspace in its place`, async () => {
    const only = Uri.file(join('/', 'ws', 'only.vae.json'));
    setup.folders = [{ uri: Uri.file(join('/', 'ws')), name: 'ws', index: 0 }];
    setup.files = [only];
    setup.activeDocument = { uri: untitled('Untitled-1'), isUntitled: true, languageId, getText: () => '{ "name": "draft" }' };
    assert.equal(await resolveSpec(undefined, 'Which spec do you want to train?'), undefined);
    assert.match(shown.map((s) => s.message).join('\n'), /Untitled-1 is not saved.*\.vae\.json/);
  });
}

/** An untitled editor's Uri (scheme "untitled"), built as the stub's Uri.file builds a file's. */
function untitled(name: string): Uri {
  return Object.assign(Object.create(Uri.prototype) as Uri, { scheme: 'untitled', fsPath: name });
}

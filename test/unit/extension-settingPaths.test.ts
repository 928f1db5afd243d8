import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveSettingPath } from '../../src/extension/settingPaths';

const home = '/home/ada';
const folders = [
  { name: 'proj', path: '/ws/proj' },
  { name: 'other', path: '/ws/other' },
];

// What a user writes in vaeLens.runsDirectory (or tfjsNodePath), and where it must lead, for a spec in "other".
const CASES: [string, string][] = [
  ['runs', '/ws/other/runs'],
  ['runs/', '/ws/other/runs'],
  ['./runs/vae', '/ws/other/runs/vae'],
  ['../shared-runs', '/ws/shared-runs'],
  ['/data/runs', '/data/runs'],
  ['~', home],
  ['~/runs', join(home, 'runs')],
  ['~/vae lens/runs/', join(home, 'vae lens/runs')],
  ['${userHome}/runs', join(home, 'runs')],
  ['${workspaceFolder}', '/ws/other'],
  ['${workspaceFolder}/runs', '/ws/other/runs'],
  ['${workspaceFolder}/../runs', '/ws/runs'],
  ['${workspaceFolder:proj}/runs', '/ws/proj/runs'],
  ['${workspaceFolder:other}/a/${workspaceFolderBasename}', '/ws/other/a/other'],
  // Only a leading "~" alone or before a separator is a home folder; another user's is not guessed.
  ['~other/runs', '/ws/other/~other/runs'],
  ['runs~/x', '/ws/other/runs~/x'],
];

for (const [written, expected] of CASES) {
  test(`a path setting written "${written}" is the folder ${expected}`, () => {
    assert.equal(resolveSettingPath(written, { folders, scope: '/ws/other', home }), expected);
  });
}

test('without a workspace folder of its own, a relative path setting is taken against the first one', () => {
  assert.equal(resolveSettingPath('runs', { folders, scope: undefined, home }), '/ws/proj/runs');
  assert.equal(resolveSettingPath('${workspaceFolder}/runs', { folders, scope: undefined, home }), '/ws/proj/runs');
});

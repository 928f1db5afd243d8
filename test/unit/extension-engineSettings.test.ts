/**
 * The engine settings as a hand-edited settings.json can hold them (the settings editor keeps to
 * the manifest's schema; a text file does not): a value that is not the setting's is said, with
 * what is used instead, rather than silently trained past. Every value of the manifest is taken.
 */
import { setup } from './vscode-stub';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSettings } from '../../src/extension/settings';

afterEach(() => {
  setup.settings = {};
});

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { enum?: string[]; minimum?: number; maximum?: number }> } };
};
const properties = manifest.contributes.configuration.properties;

test('every engine the manifest offers is read as itself, with no problem', () => {
  for (const backend of properties['vaeLens.backend']!.enum!) {
    setup.settings = { 'vaeLens.backend': backend };
    const s = readSettings();
    assert.equal(s.backend, backend);
    assert.deepEqual(s.problems, []);
  }
});

test('an engine that is not one is said, and auto used', () => {
  for (const backend of ['WASM', 'Wasm', 'wsam', '', ' cpu', 'tfjs-node', 'native', 3, null, true]) {
    setup.settings = { 'vaeLens.backend': backend };
    const s = readSettings();
    assert.equal(s.backend, 'auto', String(backend));
    assert.equal(s.problems.length, 1, String(backend));
    assert.ok(s.problems[0]!.startsWith(`vaeLens.backend is ${JSON.stringify(backend)}, not one of auto, tensorflow, wasm, cpu`), s.problems[0]);
    assert.match(s.problems[0]!, /"auto" is used$/);
  }
});

test('thread counts: 0 is automatic, the manifest range is taken, anything else is said and automatic used', () => {
  const { minimum, maximum } = properties['vaeLens.threads']!;
  for (const threads of [minimum!, 1, 2, 7, maximum!]) {
    setup.settings = { 'vaeLens.threads': threads };
    const s = readSettings();
    assert.equal(s.threads, threads === 0 ? undefined : threads);
    assert.deepEqual(s.problems, []);
  }
  for (const threads of [-1, -0.5, 1.5, maximum! + 1, 100000, '4', '', null]) {
    setup.settings = { 'vaeLens.threads': threads };
    const s = readSettings();
    assert.equal(s.threads, undefined, String(threads));
    assert.equal(s.problems.length, 1, String(threads));
    assert.match(s.problems[0]!, new RegExp(`^vaeLens\\.threads is .*, not a whole number from 0 to ${maximum}: 0 \\(automatic\\) is used$`));
  }
});

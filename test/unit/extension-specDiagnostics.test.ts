/**
 * The editor's diagnostics for specs, run against a stand-in vscode module: what a trainer reported
 * about a spec is underlined where it is, and goes away once the text it was about is no longer there.
 */
import { diagnosticCollections, fireWorkspace, Uri, type Diagnostic } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorEvent } from '../../src/core/protocol';
import { SpecDiagnostics } from '../../src/extension/specs/specDiagnostics';

const dir = mkdtempSync(join(tmpdir(), 'vae-lens-diag-'));
const specUri = Uri.file(join(dir, 'model.vae.json'));
const dataUri = Uri.file(join(dir, 'points.csv'));
const SPEC = '{\n  // the "path" of the data, relative to this file\n  "data": { "path": "points.csv" },\n  "model": { "latentDim": 2 }\n}\n';

const doc = (uri: Uri, text: string) => ({ uri, getText: () => text, isClosed: false, version: 2 });
const error = (message: string, location: ErrorEvent['location']): ErrorEvent => ({ type: 'error', message, location, userError: true });

/** The training collection of the SpecDiagnostics made last. */
const trainingCollection = () => diagnosticCollections.filter((c) => c.name === 'vae-lens-training').at(-1)!;

function setUp() {
  const diagnostics = new SpecDiagnostics();
  const training = trainingCollection();
  diagnostics.reportTrainerError(specUri as never, SPEC, error('model.latentDim is too large for memory', { field: 'model.latentDim' }));
  diagnostics.reportTrainerError(specUri as never, SPEC, error('row 3: expected 2 values, got 3', { file: 'points.csv', line: 3, column: 5 }));
  return { diagnostics, training };
}

/** Edits a user makes to a spec while, or after, its run trains: each leaves the trainer's word about the old text behind. */
const EDITS: [string, (text: string) => string][] = [
  ['a line inserted above', (t) => `// my notes\n${t}`],
  ['the value changed', (t) => t.replace('"latentDim": 2', '"latentDim": 3')],
  ['the field deleted', (t) => t.replace(', "latentDim": 2', '').replace('{ "latentDim": 2 }', '{}')],
  ['re-indented with tabs', (t) => t.replace(/ {2}/g, '\t')],
  ['CRLF line ends', (t) => t.replace(/\n/g, '\r\n')],
  ['half typed', (t) => t.slice(0, t.length / 2)],
  ['emptied', () => ''],
];

for (const [name, edit] of EDITS) {
  test(`the trainer's problems in a spec are dropped when the spec is edited (${name}); those in the data file stay`, () => {
    const { diagnostics, training } = setUp();
    try {
      assert.equal(training.get(specUri)?.length, 1);
      fireWorkspace('onDidChangeTextDocument', { document: doc(specUri, edit(SPEC)), contentChanges: [{}] });
      assert.deepEqual(training.get(specUri) ?? [], [], 'a problem about text no longer there is still shown');
      assert.equal(training.get(dataUri)?.length, 1, "the data file's problem is still true");
    } finally {
      diagnostics.dispose();
    }
  });
}

test("the trainer's problems in a spec stay while the spec's text is what was trained, or another file changes", () => {
  const { diagnostics, training } = setUp();
  try {
    fireWorkspace('onDidChangeTextDocument', { document: doc(specUri, SPEC), contentChanges: [] });
    fireWorkspace('onDidChangeTextDocument', { document: doc(Uri.file(join(dir, 'other.vae.json')), '{}'), contentChanges: [{}] });
    assert.equal(training.get(specUri)?.length, 1);
  } finally {
    diagnostics.dispose();
  }
});

test('a data problem without a line is placed on data.path, not on a "path" in a comment above it', () => {
  const diagnostics = new SpecDiagnostics();
  const training = trainingCollection();
  try {
    diagnostics.reportTrainerError(specUri as never, SPEC, error('expected 784 values per image', { file: 'points.csv', row: 7 }));
    const [d] = training.get(specUri) as Diagnostic[];
    assert.deepEqual([d!.range.startLine, d!.range.startCharacter], [2, 20]);
    assert.match(d!.message, /^points\.csv: row 7: expected 784/);
  } finally {
    diagnostics.dispose();
  }
});

/**
 * The editor's diagnostics for specs, run against a stand-in vscode module: what a trainer reported
 * about a spec is underlined where it is, and goes away once the text it was about is no longer there.
 */
import { diagnosticCollections, fileWatchers, fireWorkspace, openDocuments, Uri, type Diagnostic } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) return;
    await new Promise((r) => setTimeout(r, 20));
  }
};

test("a data file made, deleted or brought in after the spec was checked: the spec's problems follow it, unedited", async () => {
  const folder = mkdtempSync(join(tmpdir(), 'vae-lens-diag-data-'));
  const uri = Uri.file(join(folder, 'later.vae.json'));
  const data = join(folder, 'later.csv');
  openDocuments.length = 0;
  openDocuments.push({ ...doc(uri, '{ "data": { "path": "later.csv" }, "model": { "latentDim": 2 } }'), isClosed: false } as never);
  const diagnostics = new SpecDiagnostics();
  const problems = () =>
    (
      diagnosticCollections
        .filter((c) => c.name === 'vae-lens')
        .at(-1)!
        .get(uri) ?? []
    ).map((d) => d.message);
  const watcher = fileWatchers.at(-1)!;
  try {
    assert.match(problems().join(), /not found/);
    // Downloaded in a terminal, or written by a script: the file system says so, the spec is not touched.
    writeFileSync(data, 'x,y\n1,2\n');
    watcher.fire('create', Uri.file(data));
    await until(() => problems().length === 0);
    assert.deepEqual(problems(), [], 'the spec still says its data file is not found');
    rmSync(data);
    watcher.fire('delete', Uri.file(data));
    await until(() => problems().length > 0);
    assert.match(problems().join(), /not found/);
    // A file outside the workspace is not watched: coming back to the window looks again.
    writeFileSync(data, 'x,y\n1,2\n');
    fireWorkspace('onDidChangeWindowState', { focused: true });
    await until(() => problems().length === 0);
    assert.deepEqual(problems(), []);
  } finally {
    diagnostics.dispose();
    openDocuments.length = 0;
  }
});

for (const [name, edit] of EDITS) {
  test(`a trainer's problem reported after the spec was edited (${name}) is not placed on the new text by the old text's offsets`, () => {
    const diagnostics = new SpecDiagnostics();
    const training = trainingCollection();
    const edited = edit(SPEC);
    openDocuments.length = 0;
    openDocuments.push(doc(specUri, edited) as never);
    try {
      diagnostics.reportTrainerError(specUri as never, SPEC, error('model.latentDim is too large', { offset: SPEC.indexOf('2 }'), length: 1 }));
      diagnostics.reportTrainerError(specUri as never, SPEC, error('model.latentDim is too large for memory', { field: 'model.latentDim' }));
      diagnostics.reportTrainerError(specUri as never, SPEC, error('row 3: expected 2 values, got 3', { file: 'points.csv', line: 3, column: 5 }));
      diagnostics.reportTrainerError(specUri as never, SPEC, error('expected 784 values per image', { file: 'points.csv', row: 7 }));
      const placed = (training.get(specUri) ?? []).map((d) => d.message);
      assert.deepEqual(
        placed.filter((m) => m.includes('latentDim')),
        [],
        'a problem about text no longer there is shown',
      );
      assert.equal(training.get(dataUri)?.length, 1, "the data file's problem is still true");
      // A data problem without a line is still true: it points at data.path of the text now there (or its first line).
      const onPath = (training.get(specUri) ?? []).filter((d) => d.message.includes('784'));
      const at = edited.indexOf('"points.csv"');
      const line = at < 0 ? 0 : edited.slice(0, at).split('\n').length - 1;
      const character = at < 0 ? 0 : at - (edited.lastIndexOf('\n', at - 1) + 1);
      assert.deepEqual([onPath[0]?.range.startLine, onPath[0]?.range.startCharacter], [line, character]);
    } finally {
      diagnostics.dispose();
      openDocuments.length = 0;
    }
  });
}

// Renamed in the explorer: the spec, its data file, the folder holding both. Left on the old names, the
// trainer's problems would point into files that are gone, and the next run of the spec would not clear them.
const RENAMES: [string, (d: string) => { from: string; to: string }[]][] = [
  ['the spec renamed', (d) => [{ from: join(d, 'model.vae.json'), to: join(d, 'renamed.vae.json') }]],
  ['the data file renamed', (d) => [{ from: join(d, 'points.csv'), to: join(d, 'points-2.csv') }]],
  [
    'both renamed at once',
    (d) => [
      { from: join(d, 'model.vae.json'), to: join(d, 'b.vae.json') },
      { from: join(d, 'points.csv'), to: join(d, 'p.csv') },
    ],
  ],
  ['their folder renamed', (d) => [{ from: d, to: `${d}-moved` }]],
];

for (const [name, renames] of RENAMES)
  test(`the trainer's problems move with their files when renamed in the explorer (${name}), and the spec's next run clears them`, () => {
    const { diagnostics, training } = setUp();
    try {
      const moves = renames(dir);
      fireWorkspace('onDidRenameFiles', { files: moves.map((m) => ({ oldUri: Uri.file(m.from), newUri: Uri.file(m.to) })) });
      const where = (uri: Uri) => {
        const m = moves.find((x) => uri.fsPath === x.from || uri.fsPath.startsWith(`${x.from}/`));
        return m ? Uri.file(m.to + uri.fsPath.slice(m.from.length)) : uri;
      };
      for (const uri of [specUri, dataUri]) {
        const to = where(uri);
        if (to.fsPath !== uri.fsPath) assert.deepEqual(training.get(uri) ?? [], [], `a problem is left on ${uri.fsPath}`);
        assert.equal(training.get(to)?.length, 1, `no problem moved to ${to.fsPath}`);
      }
      diagnostics.clearTrainerErrors(where(specUri) as never);
      assert.deepEqual([...training.entries.values()].flat(), [], 'the next run of the renamed spec clears them');
    } finally {
      diagnostics.dispose();
    }
  });

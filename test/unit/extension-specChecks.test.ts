import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSpecText, locateField, type SpecCheckOptions } from '../../src/extension/specs/specChecks';

const workspace = mkdtempSync(join(tmpdir(), 'vae-lens-ws-'));
const outside = mkdtempSync(join(tmpdir(), 'vae-lens-outside-'));
mkdirSync(join(workspace, 'data'));
writeFileSync(join(workspace, 'data', 'points.csv'), 'x,y\n1,2\n3,4\n');
writeFileSync(join(workspace, 'data', 'fake.npy'), 'x,y\n1,2\n');
writeFileSync(join(outside, 'far.csv'), '1,2\n');
const specPath = join(workspace, 'model.vae.json');
const trusted: SpecCheckOptions = { trusted: true, workspaceRoots: [workspace], allowOutsideWorkspace: false };

const spec = (dataPath: string) => `{\n  // data\n  "data": { "path": ${JSON.stringify(dataPath)} },\n  "model": { "latentDim": 2 }\n}\n`;
const underlined = (text: string, r: { start: { line: number; character: number }; end: { line: number; character: number } }) =>
  text.split('\n')[r.start.line]!.slice(r.start.character, r.end.character);

test('a valid spec with an existing CSV inside the workspace has no problems', () => {
  assert.deepEqual(checkSpecText(spec('data/points.csv'), specPath, trusted), []);
});

test('a missing data file is an error on the path value', () => {
  const text = spec('data/nope.csv');
  const [p, ...rest] = checkSpecText(text, specPath, trusted);
  assert.equal(rest.length, 0);
  assert.equal(p!.severity, 'error');
  assert.match(p!.message, /not found/);
  assert.equal(underlined(text, p!.range), '"data/nope.csv"');
});

test('data outside the workspace is an error naming the setting, unless the setting allows it', () => {
  const text = spec(join(outside, 'far.csv'));
  const problems = checkSpecText(text, specPath, trusted);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /outside the workspace.*vaeLens\.allowDataOutsideWorkspace/);
  assert.deepEqual(checkSpecText(text, specPath, { ...trusted, allowOutsideWorkspace: true }), []);
});

test('Restricted Mode does not look at the data file', () => {
  const problems = checkSpecText(spec('data/nope.csv'), specPath, { ...trusted, trusted: false });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.severity, 'information');
  assert.match(problems[0]!.message, /Restricted Mode/);
});

test('the header peek warns when a .npy file is not NPY', () => {
  const problems = checkSpecText(spec('data/fake.npy'), specPath, trusted);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.severity, 'warning');
  assert.match(problems[0]!.message, /NPY magic/);
});

test('schema errors come back one per problem, and theorem warnings as warnings', () => {
  const bad = '{ "data": { "synthetic": "circle" }, "model": { "latentDim": -1, "type": "VAE-7" } }';
  const problems = checkSpecText(bad, specPath, trusted);
  assert.equal(problems.length, 2);
  assert.ok(problems.every((p) => p.severity === 'error'));
  const vae0 = '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 1, "type": "VAE-0" } }';
  const warnings = checkSpecText(vae0, specPath, trusted);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.severity, 'warning');
  assert.equal(underlined(vae0, warnings[0]!.range), '"VAE-0"');
});

test('a field-only location (as the trainer reports) is found in the text', () => {
  const text = '{ "data": { "path": "x.csv" }, "model": { "latentDim": 2, "encoder": { "hidden": [8, 16] } } }';
  const at = (field: string) => {
    const loc = locateField(text, field);
    return loc && text.slice(loc.offset, loc.offset + loc.length);
  };
  assert.equal(at('data.path'), '"x.csv"');
  assert.equal(at('model.encoder.hidden[1]'), '16');
  assert.equal(at('training.epochs'), undefined);
});

test('a data file whose name does not tell its format is an error on the path value, not a failed check', () => {
  for (const name of ['points.dat', 'points.bin', 'points', 'points.data', 'points.npz', 'points.parquet']) {
    writeFileSync(join(workspace, 'data', name), '1,2\n3,4\n');
    const text = spec(`data/${name}`);
    const problems = checkSpecText(text, specPath, trusted);
    assert.equal(problems.length, 1, name);
    assert.equal(problems[0]!.severity, 'error', name);
    // An archive of arrays or a Parquet file is named as one, with what to write instead; other names ask for data.format.
    const expected = name.endsWith('.npz') ? /np\.savez.*np\.save\(/ : name.endsWith('.parquet') ? /Parquet.*read_parquet/ : /data\.format/;
    assert.match(problems[0]!.message, expected, name);
    assert.equal(underlined(text, problems[0]!.range), JSON.stringify(`data/${name}`), name);
    const stated = text.replace('"path"', '"format": "csv", "path"');
    assert.deepEqual(checkSpecText(stated, specPath, trusted), [], name);
  }
});

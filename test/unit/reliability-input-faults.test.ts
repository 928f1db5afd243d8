/**
 * Bad input through the real CLI and the editor's trainer process: broken data files, specs that
 * are not specs, models that cannot fit in memory, a resume whose data no longer fits the model,
 * data outside the workspace and symbolic links that escape it. Each must end with exit 2 (or a
 * user-error event), a message naming the file and the place, no stack trace, and no run folder
 * touched.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startRequest } from '../../src/core/protocol';
import { RUN_FILES } from '../../src/core/runFormat';
import { reportFigure } from './reliability-figures';
import { forkTrainer, noStack, runCli, startedDir, tempDir, tinySpec } from './reliability-processes';

const TIMEOUT_MS = 240_000;
const tmp = tempDir('vae-lens-input-faults-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const runsDir = path.join(tmp, 'runs');

function npy(descr: string, shape: number[], payload: Buffer): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), payload]);
}

function idx(typeCode: number, shape: number[], payload: Buffer): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head.writeUInt8(typeCode, 2);
  head.writeUInt8(shape.length, 3);
  shape.forEach((n, i) => head.writeUInt32BE(n, 4 + 4 * i));
  return Buffer.concat([head, payload]);
}

interface BadInput {
  name: string;
  /** The data file's name and bytes (written next to the spec), or none. */
  file?: [string, Buffer | string];
  /** Spec text; by default a tiny model on `file`. */
  spec?: string;
  /** What the message must say: the file (and place) and what would be right. */
  expect: RegExp;
}

const onFile = (file: string, extra = '') =>
  `{ "data": { "path": "${file}"${extra} }, "model": { "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } }, "training": { "epochs": 1, "backend": "wasm" } }`;
const f4 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
const goodNpy = npy('<f4', [50, 3], f4(Array.from({ length: 150 }, (_, i) => Math.sin(i))));

const CASES: BadInput[] = [
  { name: 'empty CSV', file: ['empty.csv', ''], expect: /empty\.csv:1: the file has no data rows/ },
  { name: 'CSV with only a header', file: ['header.csv', 'a,b\n'], expect: /header\.csv:1: the file holds a header line but no data rows/ },
  { name: 'NaN cell', file: ['nan.csv', '1,2\n3,nan\n5,6\n'], expect: /nan\.csv:2:3: row 2, field 2 is "nan"; VAE Lens needs finite numbers/ },
  { name: 'infinite cell', file: ['inf.csv', '1,2\n3,-inf\n'], expect: /inf\.csv:2:3: .*"-inf".*finite numbers/ },
  {
    name: 'ragged CSV row',
    file: ['ragged.csv', '1,2\n3,4,5\n6,7\n'],
    expect: /ragged\.csv:2:1: line 2 has 3 .*values but line 1 has 2; every row needs the same number of columns/,
  },
  { name: 'ragged JSON row', file: ['ragged.json', '[[1, 2],\n [3]]'], expect: /ragged\.json:2:2: row 2 has 1 value but row 1/ },
  { name: 'JSON null', file: ['null.json', '[[1, null]]'], expect: /null\.json:1:\d+: row 1, value 2 should be a number but is null/ },
  {
    name: 'NPY cut short in its data',
    file: ['cut.npy', goodNpy.subarray(0, goodNpy.length - 7)],
    expect: /cut\.npy: the file is truncated: shape \(50, 3\) of float32 needs 600 bytes .*only 593/,
  },
  {
    name: 'NPY cut short in its header',
    file: ['head.npy', goodNpy.subarray(0, 40)],
    expect: /head\.npy: the file is truncated: the header says it is \d+ bytes long/,
  },
  { name: 'text mislabelled as NPY', file: ['text.npy', '1,2\n3,4\n'], expect: /text\.npy: not an \.npy file: .*check data\.path and data\.format/ },
  {
    name: 'NPY of strings',
    file: ['str.npy', npy('<U1', [2], Buffer.from('a\0\0\0b\0\0\0'))],
    expect: /str\.npy: dtype "<U1" \(text\) is not supported: convert it to numbers first, np\.save\(path, a\.astype\(np\.float64\)\)/,
  },
  {
    name: 'NPY of 5 dimensions',
    file: ['5d.npy', npy('<f4', [2, 2, 2, 2, 1], f4(Array<number>(16).fill(1)))],
    expect: /5d\.npy: the array has shape \(2, 2, 2, 2, 1\), 5 axes; .*np\.save\(path, a\.reshape\(len\(a\), -1\)\)/,
  },
  {
    name: 'IDX label file',
    file: ['train-labels-idx1-ubyte', idx(0x08, [50], Buffer.alloc(50, 3))],
    expect: /train-labels-idx1-ubyte: this is an IDX label file .*point data\.path at the matching images file/,
  },
  {
    name: 'IDX cut short',
    file: ['cut-idx3-ubyte', idx(0x08, [50, 4, 4], Buffer.alloc(100))],
    expect: /cut-idx3-ubyte: the file is truncated: shape 50 x 4 x 4 of uint8 needs 800 bytes/,
  },
  {
    name: 'corrupt gzip',
    file: ['bad-idx3-ubyte.gz', gzipSync(idx(0x08, [4, 2, 2], Buffer.alloc(16))).subarray(0, 20)],
    expect: /bad-idx3-ubyte\.gz: .*(truncated|corrupt)/,
  },
  { name: 'unknown format', file: ['data.bin', 'xyz'], expect: /cannot tell the format of "data\.bin" from its name; set data\.format/ },
  {
    name: 'missing data file',
    spec: onFile('missing.csv'),
    expect: /data\.path: data file not found: "missing\.csv" resolves to .*relative to the spec's folder/,
  },
  {
    name: 'data path is a folder',
    file: ['folder.csv/inner.csv', '1,2\n'],
    spec: onFile('folder.csv'),
    expect: /data\.path must name a file, but .*folder\.csv is not a regular file/,
  },
  {
    name: 'model too large for memory',
    spec: '{ "data": { "synthetic": "circle", "n": 100 }, "model": { "latentDim": 2, "encoder": { "hidden": [65536, 65536] } }, "training": { "epochs": 1 } }',
    expect: /model: the model has .* parameters .* GiB, more than the 2 GiB the trainer allows\. Use narrower hidden layers/,
  },
  {
    name: 'spec that is not JSON',
    spec: '{ "data": { "synthetic": "circle" }\n  "model": {} }',
    expect: /\.vae\.json:2:3: invalid JSON: expected "," between entries/,
  },
  { name: 'spec nested 100000 deep', spec: '['.repeat(100_000), expect: /\.vae\.json:1:65: invalid spec: nested more than 64 levels deep/ },
  { name: 'spec of 2 MiB', spec: `{ "name": "${'x'.repeat(2 << 20)}" }`, expect: /\.vae\.json is 2\.0 MiB; a spec is a small JSON file/ },
];

/** A sparse file larger than the loader's limit: refused by its size, without reading it. */
function sparseFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  fs.ftruncateSync(fd, bytes);
  fs.closeSync(fd);
}

async function expectRefused(c: BadInput): Promise<void> {
  const dir = path.join(tmp, c.name.replace(/\W+/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  if (c.file) {
    const target = path.join(dir, c.file[0]);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, c.file[1]);
  }
  const spec = path.join(dir, 'model.vae.json');
  fs.writeFileSync(spec, c.spec ?? onFile(c.file![0]));
  const caseRuns = path.join(runsDir, path.basename(dir));
  const r = await runCli(['train', spec, '--out', caseRuns]);
  assert.equal(r.code, 2, `${c.name}: exit ${r.code}\n${r.out}\n${r.err}`);
  assert.match(r.err, c.expect, c.name);
  noStack(r.err);
  assert.doesNotMatch(r.out, /^epoch/m, `${c.name}: training started`);
  assert.ok(!fs.existsSync(caseRuns) || fs.readdirSync(caseRuns).length === 0, `${c.name}: a run folder was made`);
}

/** A few CLI processes at a time: each spends most of its second starting up. */
async function inBatches<T>(items: readonly T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

test('bad data and bad specs through the CLI: exit 2, file and place, what would be right, no stack, no run folder', { timeout: TIMEOUT_MS }, async () => {
  const big: BadInput = { name: 'data file larger than the limit', expect: /data\.path: data file .*big\.csv is 2\.50? GiB, more than the 2\.0?0? GiB limit/ };
  const bigDir = path.join(tmp, big.name.replace(/\W+/g, '-'));
  fs.mkdirSync(bigDir, { recursive: true });
  sparseFile(path.join(bigDir, 'big.csv'), 2.5 * 2 ** 30);
  big.spec = onFile('big.csv');
  const cases = [...CASES, big];
  const failures: string[] = [];
  await inBatches(cases, 3, async (c) => {
    try {
      await expectRefused(c);
    } catch (e) {
      failures.push(`${c.name}: ${(e as Error).message}`);
    }
  });
  reportFigure({
    kind: 'check',
    name: 'bad data and specs through the CLI (exit 2, located, no stack)',
    cases: cases.length,
    passed: cases.length - failures.length,
  });
  assert.deepEqual(failures, []);
});

test('a resume whose data no longer fits the model is refused before the run folder is touched', { timeout: TIMEOUT_MS }, async () => {
  const dir = path.join(tmp, 'changed-dim');
  fs.mkdirSync(dir);
  const data = path.join(dir, 'rows.csv');
  fs.writeFileSync(data, Array.from({ length: 40 }, (_, i) => `${Math.sin(i)},${Math.cos(i)}`).join('\n'));
  const spec = path.join(dir, 'model.vae.json');
  fs.writeFileSync(spec, onFile('rows.csv'));
  const first = await runCli(['train', spec, '--out', runsDir, '--json']);
  assert.equal(first.code, 0, first.err);
  const runDir = startedDir(first.events);
  const keep = [RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.metrics].map((f) => fs.readFileSync(path.join(runDir, f), 'utf8'));
  fs.writeFileSync(data, Array.from({ length: 40 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i}`).join('\n'));
  const r = await runCli(['train', spec, '--resume', runDir, '--epochs', '3']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /model\.vae\.json: data: cannot resume .* on data of dimension 2 .* but the data now has dimension 3 .*start a new run/);
  noStack(r.err);
  assert.deepEqual(
    [RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.metrics].map((f) => fs.readFileSync(path.join(runDir, f), 'utf8')),
    keep,
    'the finished run was rewritten',
  );
  reportFigure({ kind: 'check', name: 'resume onto data of another dimension (refused, run untouched)', cases: 1, passed: 1 });
});

/** 40 rows of 2 columns, the i-th a point on a curve. */
const curveRows = (n = 40) => Array.from({ length: n }, (_, i) => [Math.sin(i), Math.cos(i)]);
const csvOf = (rows: number[][]) => rows.map((r) => r.join(',')).join('\n');

/** Data files that still fit the model (dimension 2) but are not the ones the run was trained on. */
const DATA_CHANGES: { name: string; rows: (r: number[][]) => number[][]; now: RegExp }[] = [
  { name: 'one value edited', rows: (r) => r.map((row, i) => (i === 17 ? [row[0]! + 0.5, row[1]!] : row)), now: /now gives 40 rows of other values/ },
  { name: 'a row added', rows: (r) => [...r, [0.1, 0.2]], now: /now gives 41 rows/ },
  { name: 'a row removed', rows: (r) => r.slice(1), now: /now gives 39 rows/ },
  { name: 'the rows reordered', rows: (r) => [...r].reverse(), now: /now gives 40 rows of other values/ },
  { name: 'the columns swapped', rows: (r) => r.map(([a, b]) => [b!, a!]), now: /now gives 40 rows of other values/ },
  { name: 'the values doubled', rows: (r) => r.map((row) => row.map((v) => 2 * v)), now: /now gives 40 rows of other values/ },
];

test(
  'a resume onto data that changed since (a value, rows added, removed or reordered) is refused by the data field, the run untouched',
  { timeout: TIMEOUT_MS },
  async () => {
    const dir = path.join(tmp, 'changed-data');
    fs.mkdirSync(dir);
    const data = path.join(dir, 'rows.csv');
    fs.writeFileSync(data, csvOf(curveRows()));
    const spec = path.join(dir, 'model.vae.json');
    fs.writeFileSync(spec, onFile('rows.csv'));
    const first = await runCli(['train', spec, '--out', runsDir, '--json']);
    assert.equal(first.code, 0, first.err);
    const runDir = startedDir(first.events);
    const files = [RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.metrics, path.join(RUN_FILES.checkpoints, 'latest.json')];
    const keep = files.map((f) => fs.readFileSync(path.join(runDir, f), 'utf8'));
    for (const change of DATA_CHANGES) {
      fs.writeFileSync(data, csvOf(change.rows(curveRows())));
      const r = await runCli(['train', spec, '--resume', runDir, '--epochs', '2']);
      assert.equal(r.code, 2, `${change.name}: ${r.err}`);
      assert.match(r.err, /model\.vae\.json: data: cannot resume .*: its data changed since it was trained on 40 rows of dimension 2/, change.name);
      assert.match(r.err, change.now, change.name);
      noStack(r.err);
      assert.deepEqual(
        files.map((f) => fs.readFileSync(path.join(runDir, f), 'utf8')),
        keep,
        `${change.name}: the run was rewritten`,
      );
    }
    // The same data moved, with the spec that finds them: the run goes on, and says where its data are now read from.
    const moved = path.join(tmp, 'changed-data-moved');
    fs.mkdirSync(moved);
    fs.writeFileSync(path.join(moved, 'rows.csv'), csvOf(curveRows()));
    fs.writeFileSync(path.join(moved, 'model.vae.json'), onFile('rows.csv'));
    const r = await runCli(['train', path.join(moved, 'model.vae.json'), '--resume', runDir, '--epochs', '2']);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.err.includes(`the run's data are now read from ${path.join(moved, 'rows.csv')} (it was trained on ${data}, the same values)`), r.err);
    reportFigure({
      kind: 'check',
      name: 'resume onto changed data (refused, run untouched) or moved data (noted)',
      cases: DATA_CHANGES.length + 1,
      passed: DATA_CHANGES.length + 1,
    });
  },
);

test('the trainer reads no data outside the workspace folders, links that escape included, unless the setting allows it', { timeout: TIMEOUT_MS }, async () => {
  const ws = path.join(tmp, 'workspace');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(ws);
  fs.mkdirSync(outside);
  const rows = Array.from({ length: 64 }, (_, i) => `${Math.sin(i)},${Math.cos(i)}`).join('\n');
  fs.writeFileSync(path.join(outside, 'secret.csv'), rows);
  fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(ws, 'innocent.csv'));
  fs.mkdirSync(path.join(ws, 'sub'));
  fs.symlinkSync(outside, path.join(ws, 'sub', 'linked-dir'));
  const cases = [
    { name: 'a link to a file outside', dataPath: 'innocent.csv', via: /it is a link to .*secret\.csv/ },
    { name: 'a path through a linked folder', dataPath: 'sub/linked-dir/secret.csv', via: /it is a link to .*secret\.csv/ },
    { name: 'a relative path leaving the folder', dataPath: '../outside/secret.csv', via: /outside the workspace/ },
    { name: 'an absolute path elsewhere', dataPath: path.join(outside, 'secret.csv'), via: /outside the workspace/ },
  ];
  let passed = 0;
  for (const c of cases) {
    const spec = path.join(ws, `${c.name.replace(/\W+/g, '-')}.vae.json`);
    fs.writeFileSync(spec, tinySpec('x').replace(/"data": \{[^}]*\}/, `"data": { "path": ${JSON.stringify(c.dataPath)} }`));
    const t = forkTrainer(startRequest({ specPath: spec, runsDir, workspaceRoots: [ws] }));
    const err = await t.waitFor((e) => e.type === 'error', `${c.name}: the refusal`);
    assert.ok(err.type === 'error' && err.userError, c.name);
    assert.equal(err.location?.field, 'data.path', c.name);
    assert.equal(err.location?.file, spec, c.name);
    assert.match(
      err.message,
      /outside the workspace; move it into the workspace or allow data outside it with the setting vaeLens\.allowDataOutsideWorkspace/,
      c.name,
    );
    assert.match(err.message, c.via, c.name);
    assert.ok(!t.events.some((e) => e.type === 'started'), `${c.name}: training started`);
    await t.exited;
    passed++;
  }
  // With the setting on, the same link is followed and the run trains.
  const allowed = path.join(ws, 'allowed.vae.json');
  fs.writeFileSync(allowed, tinySpec('allowed', { epochs: 1 }).replace(/"data": \{[^}]*\}/, '"data": { "path": "innocent.csv" }'));
  const t = forkTrainer(startRequest({ specPath: allowed, runsDir, workspaceRoots: [ws], allowOutsideWorkspace: true }));
  const done = await t.waitFor((e) => e.type === 'done', 'the allowed run to finish');
  assert.ok(done.type === 'done' && done.status === 'completed', JSON.stringify(done));
  await t.exited;
  reportFigure({
    kind: 'check',
    name: 'data outside the workspace refused (links included); allowed by the setting',
    cases: cases.length + 1,
    passed: passed + 1,
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FileDataSpec, SyntheticDataSpec } from '../../src/core/spec';
import { detectFormat, loadData } from '../../src/data/load';
import { encode, expectUserErrorAsync, idxBytes, npyBytes, rows, tempDir } from './data-testkit';

const fileSpec = (path: string, extra: Partial<FileDataSpec> = {}): FileDataSpec => ({ kind: 'file', path, validation: 0, ...extra });

/** A workspace with a spec folder and one data file of each format. */
function workspace() {
  const root = tempDir();
  const specDir = join(root, 'specs');
  const dataDir = join(root, 'data');
  mkdirSync(specDir);
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'a.csv'), 'x,y\n1,2\n3,4\n5,6\n');
  writeFileSync(join(dataDir, 'a.tsv'), '1\t2\n3\t4\n');
  writeFileSync(join(dataDir, 'a.npy'), npyBytes('<f4', [3, 2], encode('f4', [1, 2, 3, 4, 5, 6])));
  writeFileSync(join(dataDir, 'a.json'), '[[1,2],[3,4],[5,6]]');
  const images = idxBytes(0x08, [4, 2, 2], encode('u1', [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  writeFileSync(join(dataDir, 'img-idx3-ubyte.gz'), gzipSync(images));
  writeFileSync(join(dataDir, 'img.idx'), images);
  writeFileSync(join(dataDir, 'rows.dat'), '[[1]]');
  return { root, specPath: join(specDir, 'm.vae.json'), dataDir };
}

test('loadData: each format through the spec, path relative to the spec folder', async () => {
  const w = workspace();
  for (const name of ['a.csv', 'a.npy', 'a.json']) {
    const { train, validation } = await loadData(fileSpec(`../data/${name}`), w.specPath);
    assert.deepEqual(
      rows(train),
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      name,
    );
    assert.equal(train.scaling.kind, 'none');
    assert.equal(validation, undefined);
    assert.equal(train.source, join(w.dataDir, name));
  }
  assert.equal((await loadData(fileSpec('../data/a.tsv'), w.specPath)).train.dim, 2);
  const img = (await loadData(fileSpec('../data/img-idx3-ubyte.gz'), w.specPath)).train;
  assert.deepEqual(img.imageShape, [2, 2]);
  assert.equal(img.scaling.kind, 'unit', 'uint8 defaults to unit');
  assert.deepEqual(Array.from(img.values.subarray(0, 4)), [0, 1, Math.fround(0.2), Math.fround(0.4)]);
  assert.equal((await loadData(fileSpec('../data/img.idx'), w.specPath)).train.n, 4);
  assert.equal((await loadData(fileSpec('../data/rows.dat', { format: 'json' }), w.specPath)).train.n, 1);
});

test('loadData: limit, scale and validation split together', async () => {
  const w = workspace();
  const { train, validation } = await loadData(fileSpec('../data/img-idx3-ubyte.gz', { limit: 3, scale: 'none', validation: 0.34 }), w.specPath);
  assert.equal(train.n + validation!.n, 3);
  assert.equal(validation!.n, 1);
  assert.equal(train.scaling.kind, 'none');
  const all = [...rows(train), ...rows(validation!)].map((r) => r.join(',')).sort();
  assert.deepEqual(all, ['0,255,51,102', '1,2,3,4', '5,6,7,8']);

  // Scaling is fitted on the training rows only and reused for validation.
  const std = await loadData(fileSpec('../data/a.csv', { scale: 'minmax', validation: 0.34 }), w.specPath);
  assert.equal(std.validation!.scaling, std.train.scaling);
  const trainValues = Array.from(std.train.values);
  assert.equal(Math.min(...trainValues), 0);
  assert.equal(Math.max(...trainValues), 1);
});

test('loadData: synthetic specs, with a seeded split', async () => {
  const spec: SyntheticDataSpec = { kind: 'synthetic', synthetic: 'circle', n: 100, noise: 0.01, seed: 3, validation: 0.1 };
  const a = await loadData(spec, '/nowhere/s.vae.json');
  assert.equal(a.train.n, 90);
  assert.equal(a.validation!.n, 10);
  assert.match(a.train.source, /^synthetic circle \(n=100/);
  const b = await loadData(spec, '/nowhere/s.vae.json');
  assert.deepEqual(b.validation!.values, a.validation!.values);
  const ppca = await loadData({ kind: 'synthetic', synthetic: 'ppca', n: 50, noise: 0.1, seed: 1, dim: 4, validation: 0, scale: 'standardize' }, 's');
  assert.equal(ppca.train.truth!.covariance.length, 16);
  await expectUserErrorAsync(() => loadData({ ...spec, synthetic: 'ppca' }, '/x/s.vae.json'), /data\.dim/, {
    file: '/x/s.vae.json',
    field: 'data.dim',
  });
  await expectUserErrorAsync(() => loadData({ ...spec, n: 1, validation: 0.5 }, '/x/s.vae.json'), /hold out the only row and leave none to train on/, {
    file: '/x/s.vae.json',
    field: 'data.validation',
  });
});

test('loadData: a missing file names the spec, the field and the resolved path', async () => {
  const w = workspace();
  const err = await expectUserErrorAsync(() => loadData(fileSpec('../data/nope.csv'), w.specPath), /not found/, {
    file: w.specPath,
    field: 'data.path',
  });
  assert.ok(err.message.includes(join(w.dataDir, 'nope.csv')), err.message);
  await expectUserErrorAsync(() => loadData(fileSpec('../data'), w.specPath), /not a regular file/, { field: 'data.path' });
  await expectUserErrorAsync(() => loadData(fileSpec('../data/rows.dat'), w.specPath), /set data\.format/, {
    file: w.specPath,
    field: 'data.path',
  });
});

test('loadData: errors inside the data file name the data file and the line', async () => {
  const w = workspace();
  writeFileSync(join(w.dataDir, 'bad.csv'), '1,2\n3,x\n');
  await expectUserErrorAsync(() => loadData(fileSpec('../data/bad.csv'), w.specPath), /field 2 is "x"/, {
    file: join(w.dataDir, 'bad.csv'),
    line: 2,
  });
  await expectUserErrorAsync(() => loadData(fileSpec('../data/a.csv', { format: 'npy' }), w.specPath), /not an \.npy file/, {
    file: join(w.dataDir, 'a.csv'),
  });
});

test('loadData: workspace roots are enforced on the real path (symlinks resolved)', async () => {
  const w = workspace();
  const outside = tempDir();
  writeFileSync(join(outside, 'secret.csv'), '1,2\n');
  symlinkSync(join(outside, 'secret.csv'), join(w.dataDir, 'link.csv'));
  const roots = { workspaceRoots: [w.root] };
  assert.equal((await loadData(fileSpec('../data/a.csv'), w.specPath, roots)).train.n, 3);
  const err = await expectUserErrorAsync(() => loadData(fileSpec('../data/link.csv'), w.specPath, roots), /outside the workspace/, {
    file: w.specPath,
    field: 'data.path',
  });
  assert.match(err.message, /it is a link to/);
  await expectUserErrorAsync(() => loadData(fileSpec(join(outside, 'secret.csv')), w.specPath, roots), /outside the workspace/);
  // A sibling folder whose name starts like the root is still outside.
  await expectUserErrorAsync(() => loadData(fileSpec('../data/a.csv'), w.specPath, { workspaceRoots: [join(w.root, 'dat')] }), /outside/);
  const allowed = await loadData(fileSpec('../data/link.csv'), w.specPath, { ...roots, allowOutsideWorkspace: true });
  assert.equal(allowed.train.n, 1);
  assert.equal((await loadData(fileSpec('../data/link.csv'), w.specPath)).train.n, 1, 'no roots given: no restriction');
});

test('loadData: files over maxBytes are refused before reading; gzip bombs too', async () => {
  const w = workspace();
  await expectUserErrorAsync(() => loadData(fileSpec('../data/a.csv'), w.specPath, { maxBytes: 10 }), /more than the 10 bytes limit/, {
    file: w.specPath,
    field: 'data.path',
  });
  writeFileSync(join(w.dataDir, 'bomb-idx3-ubyte.gz'), gzipSync(idxBytes(0x08, [1000, 100, 100], new Uint8Array(10_000_000))));
  await expectUserErrorAsync(() => loadData(fileSpec('../data/bomb-idx3-ubyte.gz'), w.specPath, { maxBytes: 1_000_000 }), /expands to more than/);
});

test('detectFormat: from the name, gzip-aware, overridable', () => {
  const guess = (p: string) => detectFormat(fileSpec(p), 's');
  assert.equal(guess('x.csv'), 'csv');
  assert.equal(guess('x.TSV'), 'csv');
  assert.equal(guess('x.txt'), 'csv');
  assert.equal(guess('digits.csv.gz'), 'csv');
  assert.equal(guess('x.npy'), 'npy');
  for (const name of ['x.jsonl', 'x.ndjson', 'x.jsonl.gz']) assert.equal(guess(name), 'json', name);
  assert.equal(guess('x.json'), 'json');
  assert.equal(guess('train-images-idx3-ubyte'), 'idx');
  assert.equal(guess('train-images-idx3-ubyte.gz'), 'idx');
  assert.equal(guess('x.idx'), 'idx');
  assert.equal(guess('x.gz'), 'idx');
  assert.equal(detectFormat(fileSpec('x.bin', { format: 'npy' }), 's'), 'npy');
});

test('loadData: a path written for Windows or for a shell says so when it is not found (generated paths)', async () => {
  const w = workspace();
  const shown = (p: string) =>
    JSON.stringify(p)
      .slice(1, -1)
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const parts of [
    ['..', 'data', 'a.csv'],
    ['..', 'data', 'nope.csv'],
    ['sub', 'd.csv'],
    ['..', 'data', 'a.npy'],
  ]) {
    const forward = parts.join('/');
    const found = parts.at(-1) !== 'nope.csv' && parts[0] === '..';
    for (const sep of ['\\', '\\\\']) {
      const written = parts.join(sep);
      const err = await expectUserErrorAsync(() => loadData(fileSpec(written), w.specPath), /not found/, { file: w.specPath, field: 'data.path' });
      assert.match(
        err.message,
        new RegExp(
          `contains "\\\\", which separates folders on Windows only: write it with forward slashes \\("${shown(forward.replace(/\/+/g, '/'))}"${found ? ', which exists' : ''}\\)`,
        ),
      );
    }
    // Mixed separators, as a path pasted from two places ends up.
    if (parts.length > 2) {
      const mixed = `${parts[0]}/${parts.slice(1).join('\\')}`;
      await expectUserErrorAsync(() => loadData(fileSpec(mixed), w.specPath), /separates folders on Windows only/, { field: 'data.path' });
    }
  }
  for (const written of ['~/data/a.csv', '~', '~\\data\\a.csv', '~other/a.csv']) {
    const err = await expectUserErrorAsync(() => loadData(fileSpec(written), w.specPath), /not found/, { field: 'data.path' });
    assert.match(err.message, /starts with "~", which only a shell expands to a home folder.*relative to the spec's folder/);
    assert.equal(/in full \(".*"\)/.test(err.message), written !== '~other/a.csv', err.message);
  }
  for (const written of ['C:\\data\\a.csv', 'd:/data/a.csv']) {
    const err = await expectUserErrorAsync(() => loadData(fileSpec(written), w.specPath), /not found/, { field: 'data.path' });
    assert.match(err.message, /is a Windows path \(drive [A-Za-z]:\)/);
  }
  // A plain missing path gets no such hint.
  const plain = await expectUserErrorAsync(() => loadData(fileSpec('../data/nope.csv'), w.specPath), /not found/);
  assert.doesNotMatch(plain.message, /Windows|shell/);
});

test('a text file of whole numbers up to 255 without data.scale gets a note to divide by 255; other data do not', async () => {
  const root = tempDir();
  const specPath = join(root, 'm.vae.json');
  const pixels = 'p0,p1,p2,p3\n0,17,255,4\n3,0,128,9\n';
  const cases: [string, string, Partial<FileDataSpec>, boolean][] = [
    ['pixels.csv', pixels, {}, true],
    ['pixels.json', '[[0, 17, 255, 4], [3, 0, 128, 9]]', {}, true],
    ['scaled.csv', pixels, { scale: 'unit' }, false],
    ['said-none.csv', pixels, { scale: 'none' }, false],
    ['binary.csv', 'a,b\n0,1\n1,0\n', {}, false],
    ['fractions.csv', 'a,b\n0.5,17\n3,200\n', {}, false],
    ['negative.csv', 'a,b\n-1,17\n3,200\n', {}, false],
    ['large.csv', 'a,b\n1,17\n3,256\n', {}, false],
    ['counts.csv', 'a,b\n0,3\n2,1\n', {}, false],
    ['small-counts.json', '[[0, 17], [3, 120]]', {}, false],
  ];
  for (const [name, text, extra, noted] of cases) {
    writeFileSync(join(root, name), text);
    const { notes } = await loadData(fileSpec(name, extra), specPath);
    const said = (notes ?? []).some((n) => /as 8-bit pixels are.*set data\.scale to "unit" to divide them by 255/.test(n));
    assert.equal(said, noted, `${name}: ${JSON.stringify(notes)}`);
  }
  const idx = idxBytes(0x08, [2, 2, 2], encode('u1', [0, 255, 51, 102, 1, 2, 3, 4]));
  writeFileSync(join(root, 'img.idx'), idx);
  assert.equal((await loadData(fileSpec('img.idx'), specPath)).notes, undefined, 'uint8 files are divided by 255 already');
});

test('loadData: archives of arrays (np.savez, torch.save) are named as such, with the np.save to write instead', async () => {
  const w = workspace();
  // Both are zip archives: a local file header first.
  const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(60)]);
  for (const [name, maker] of [
    ['arrays.npz', /np\.savez/],
    ['ARRAYS.NPZ', /np\.savez/],
    ['tensor.pt', /torch\.save/],
    ['model.pth', /torch\.save/],
  ] as const) {
    writeFileSync(join(w.dataDir, name), zip);
    const err = await expectUserErrorAsync(() => loadData(fileSpec(`../data/${name}`), w.specPath), maker, { file: w.specPath, field: 'data.path' });
    assert.match(err.message, /np\.save\(/, name);
    // Told to read it as NPY anyway, the loader says what the file is rather than only what it is not.
    const forced = await expectUserErrorAsync(() => loadData(fileSpec(`../data/${name}`, { format: 'npy' }), w.specPath), /zip archive/);
    assert.match(forced.message, /np\.save\(/, name);
  }
});

test('loadData: a file URI (file:///…, as browsers and notebooks copy paths) is named, with the path it stands for', async () => {
  const w = workspace();
  writeFileSync(join(w.dataDir, 'my data ü.csv'), 'x,y\n1,2\n');
  for (const [uri, path, exists] of [
    [`file://${join(w.dataDir, 'a.csv')}`, join(w.dataDir, 'a.csv'), true],
    [`file://${encodeURI(join(w.dataDir, 'my data ü.csv'))}`, join(w.dataDir, 'my data ü.csv'), true],
    [`FILE://localhost${join(w.dataDir, 'a.csv')}`, join(w.dataDir, 'a.csv'), true],
    [`file://${join(w.dataDir, 'nope.csv')}`, join(w.dataDir, 'nope.csv'), false],
  ] as const) {
    const err = await expectUserErrorAsync(() => loadData(fileSpec(uri), w.specPath), /not found/, { field: 'data.path' });
    assert.ok(err.message.includes(`is a file URI, not a path: write the path itself (${JSON.stringify(path)}${exists ? ', which exists' : ''})`), err.message);
  }
});

test('loadData: a path not found for white space around it, or for the case of its letters, says so (generated)', async () => {
  const w = workspace();
  for (const name of ['a.csv', 'a.npy', 'img-idx3-ubyte.gz']) {
    for (const written of [`../data/${name} `, ` ../data/${name}`, `../data/${name}\n`, `\t../data/${name}`]) {
      const err = await expectUserErrorAsync(() => loadData(fileSpec(written), w.specPath), /not found/, { field: 'data.path' });
      assert.ok(err.message.includes(`white space`) && err.message.includes(`("../data/${name}", which exists)`), err.message);
    }
    for (const written of [`../data/${name.toUpperCase()}`, `../data/${name[0]!.toUpperCase()}${name.slice(1)}`]) {
      const err = await expectUserErrorAsync(() => loadData(fileSpec(written), w.specPath), /not found/, { field: 'data.path' });
      assert.ok(err.message.includes(`names are case-sensitive here: the folder holds ${JSON.stringify(name)}`), err.message);
    }
  }
  const plain = await expectUserErrorAsync(() => loadData(fileSpec('../data/b.csv'), w.specPath), /not found/);
  assert.doesNotMatch(plain.message, /white space|case-sensitive/);
});

test('NPY and IDX files of whole numbers up to 255 in a type other than uint8 (pandas int64, astype float32) get the note to divide by 255', async () => {
  const root = tempDir();
  const specPath = join(root, 'm.vae.json');
  const pixels = [0, 17, 255, 4, 3, 0, 128, 9];
  for (const [descr, kind] of [
    ['<i8', 'i8'],
    ['<i4', 'i4'],
    ['<i2', 'i2'],
    ['<f4', 'f4'],
    ['<f8', 'f8'],
    ['>f8', 'f8'],
  ] as const) {
    const name = `pixels-${descr.replace(/[<>]/, '')}-${descr[0] === '>' ? 'be' : 'le'}.npy`;
    writeFileSync(join(root, name), npyBytes(descr, [2, 4], encode(kind, pixels, descr[0] === '>' ? 'be' : 'le')));
    const { notes } = await loadData(fileSpec(name), specPath);
    assert.ok(
      (notes ?? []).some((n) => /as 8-bit pixels are.*set data\.scale to "unit" to divide them by 255/.test(n)),
      `${name}: ${JSON.stringify(notes)}`,
    );
    const scaled = await loadData(fileSpec(name, { scale: 'unit' }), specPath);
    assert.equal(scaled.notes, undefined, name);
  }
  writeFileSync(join(root, 'img16.idx'), idxBytes(0x0b, [2, 2, 2], encode('i2', [0, 255, 51, 102, 1, 2, 3, 4], 'be')));
  assert.ok((await loadData(fileSpec('img16.idx'), specPath)).notes?.some((n) => /8-bit pixels/.test(n)));
  writeFileSync(join(root, 'unit.npy'), npyBytes('<f4', [2, 2], encode('f4', [0, 0.5, 1, 0.25])));
  assert.equal((await loadData(fileSpec('unit.npy'), specPath)).notes, undefined);
});

test('loadData: Parquet, HDF5, Feather, workbooks, pickles, MATLAB files, archives and bzip2/xz/zstd files are named, with what to write instead, by name or by content (generated)', async () => {
  const w = workspace();
  /** A zip's local file header with its first entry's name, as workbooks start. */
  const zipEntry = (name: string, after = '') => {
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(name.length, 26);
    return Buffer.concat([head, Buffer.from(name + after, 'latin1'), Buffer.alloc(40)]);
  };
  const formats: Array<{ what: RegExp; convert: RegExp; extensions: string[]; bytes: Buffer[] }> = [
    { what: /Parquet/, convert: /read_parquet/, extensions: ['.parquet', '.pq'], bytes: [Buffer.from('PAR1\x15\x04\x15\x00', 'latin1')] },
    { what: /HDF5/, convert: /h5py/, extensions: ['.h5', '.hdf5', '.HDF', '.he5'], bytes: [Buffer.from('\x89HDF\r\n\x1a\n\x00\x00\x00\x00', 'latin1')] },
    {
      what: /Feather/,
      convert: /read_feather/,
      extensions: ['.feather', '.arrow'],
      bytes: [Buffer.from('ARROW1\x00\x00\xff\xff', 'latin1'), Buffer.from('FEA1\x00\x00', 'latin1')],
    },
    {
      what: /workbook/,
      convert: /CSV/,
      extensions: ['.xlsx', '.xls', '.xlsm', '.ods'],
      bytes: [
        zipEntry('[Content_Types].xml'),
        zipEntry('xl/workbook.xml'),
        zipEntry('docProps/app.xml'),
        zipEntry('mimetype', 'application/vnd.oasis.opendocument.spreadsheet'),
        Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      ],
    },
    {
      what: /pickle/,
      convert: /np\.save\(/,
      extensions: ['.pkl', '.pickle', '.joblib'],
      bytes: [2, 3, 4, 5].map((p) => Buffer.from([0x80, p, 0x95, 0x1c, 0, 0])),
    },
    { what: /MATLAB/, convert: /loadmat/, extensions: ['.mat'], bytes: [Buffer.from('MATLAB 5.0 MAT-file, Platform: GLNXA64', 'latin1')] },
    {
      what: /zip archive/,
      convert: /unzip the one you want/,
      extensions: ['.zip'],
      bytes: [zipEntry('fashion-mnist_train.csv'), zipEntry('x.npy'), zipEntry('archive/data.pkl')],
    },
    {
      what: /archive of files/,
      convert: /extract/,
      extensions: ['.tar', '.tar.gz', '.tgz', '.7z', '.rar'],
      bytes: [
        Buffer.concat([Buffer.alloc(257), Buffer.from('ustar\x0000', 'latin1'), Buffer.alloc(100)]),
        Buffer.from('7z\xbc\xaf\x27\x1c\x00\x04', 'latin1'),
        Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1'),
      ],
    },
    {
      what: /compressed with bzip2, xz or zstd/,
      convert: /gzip/,
      extensions: ['.csv.bz2', '.npy.xz', '.lzma', '.csv.zst'],
      bytes: [Buffer.from('BZh91AY&SY', 'latin1'), Buffer.from('\xfd7zXZ\x00\x00\x04', 'latin1'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00])],
    },
  ];
  for (const { what, convert, extensions, bytes } of formats) {
    for (const ext of extensions) {
      const name = `table${ext}`;
      writeFileSync(join(w.dataDir, name), bytes[0]!);
      const err = await expectUserErrorAsync(() => loadData(fileSpec(`../data/${name}`), w.specPath), what, { file: w.specPath, field: 'data.path' });
      assert.match(err.message, convert, name);
    }
    // The same bytes under the name of a format VAE Lens reads, or with data.format set.
    for (const [k, content] of bytes.entries()) {
      for (const name of ['table.csv', 'table.txt', 'table.tsv', 'table.json', 'table.npy', 'train-images-idx3-ubyte', 'table.dat']) {
        const file = join(w.dataDir, `${k}-${name}`);
        writeFileSync(file, content);
        const format = name === 'table.dat' ? { format: 'csv' as const } : {};
        const err = await expectUserErrorAsync(() => loadData(fileSpec(`../data/${k}-${name}`, format), w.specPath), what, { file, offset: 0 });
        assert.match(err.message, convert, `${k}-${name}`);
      }
    }
  }
  // A zip that is no workbook (np.savez) is still told apart as before, and CSV, NPY, IDX and JSON still load.
  writeFileSync(join(w.dataDir, 'z.npy'), zipEntry('x.npy'));
  await expectUserErrorAsync(() => loadData(fileSpec('../data/z.npy'), w.specPath), /zip archive.*np\.save\(/);
  for (const name of ['a.csv', 'a.tsv', 'a.npy', 'a.json', 'img-idx3-ubyte.gz', 'img.idx'])
    assert.ok((await loadData(fileSpec(`../data/${name}`), w.specPath)).train.n > 0);
});

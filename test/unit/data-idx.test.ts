import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseIdx, readIdxFile } from '../../src/data/idx';
import { assertWellFormed, encode, expectUserError, idxBytes, rows, tempDir } from './data-testkit';
import { FASHION_MNIST_DIR, requireMachineFile } from './machineFiles';

const FASHION = FASHION_MNIST_DIR;

test('idx: ubyte images, plain and gzipped files', () => {
  const dir = tempDir();
  const pixels = Array.from({ length: 3 * 2 * 2 }, (_, i) => (i * 37) % 256);
  const bytes = idxBytes(0x08, [3, 2, 2], encode('u1', pixels));
  const plain = join(dir, 'x-idx3-ubyte');
  const gz = join(dir, 'x-idx3-ubyte.gz');
  writeFileSync(plain, bytes);
  writeFileSync(gz, gzipSync(bytes));
  for (const path of [plain, gz]) {
    const ds = readIdxFile(path);
    assertWellFormed(ds);
    assert.equal(ds.n, 3);
    assert.equal(ds.dim, 4);
    assert.deepEqual(ds.imageShape, [2, 2]);
    assert.equal(ds.sourceType, 'uint8');
    assert.deepEqual(Array.from(ds.values), pixels);
  }
});

test('idx: 2-D float and int files (big-endian) and maxRows', () => {
  const f = parseIdx(idxBytes(0x0d, [2, 2], encode('f4', [0.5, -1, 2, 3], 'be')), 'f.idx');
  assert.deepEqual(rows(f), [
    [0.5, -1],
    [2, 3],
  ]);
  assert.equal(f.imageShape, undefined);
  assert.equal(f.sourceType, 'float32');
  const d = parseIdx(idxBytes(0x0e, [1, 2], encode('f8', [0.1, 7], 'be')), 'd.idx');
  assert.deepEqual(Array.from(d.values), [Math.fround(0.1), 7]);
  const s = parseIdx(idxBytes(0x0b, [3, 1], encode('i2', [-2, 0, 300], 'be')), 's.idx', { maxRows: 2 });
  assert.deepEqual(Array.from(s.values), [-2, 0]);
});

test('idx: label files are refused as not data', () => {
  expectUserError(() => parseIdx(idxBytes(0x08, [4], encode('u1', [1, 2, 3, 4])), 'y.idx'), /label file.*not data.*images/, {
    file: 'y.idx',
    offset: 3,
  });
});

test('idx: truncated, mislabelled, bad magic, unknown type, corrupt gzip', () => {
  const good = idxBytes(0x08, [2, 2, 2], encode('u1', [1, 2, 3, 4, 5, 6, 7, 8]));
  expectUserError(() => parseIdx(good.subarray(0, good.length - 3), 'a'), /truncated.*needs 8 bytes.*only 5/, { offset: 4 });
  expectUserError(() => parseIdx(good.subarray(0, 10), 'a'), /truncated inside the IDX header/);
  expectUserError(
    () => parseIdx(idxBytes(0x08, [2, 2], encode('u1', [1, 2, 3, 4, 5])), 'a'),
    /does not match the data.*is 4 bytes, but the file holds 5 bytes after the header/,
  );
  const badMagic = Buffer.from(good);
  badMagic[0] = 7;
  expectUserError(() => parseIdx(badMagic, 'a'), /not an IDX file/, { offset: 0 });
  const badType = Buffer.from(good);
  badType[2] = 0x42;
  expectUserError(() => parseIdx(badType, 'a'), /unknown IDX element type 0x42/, { offset: 2 });
  const gz = gzipSync(good);
  expectUserError(() => parseIdx(gz.subarray(0, gz.length - 10), 'a.gz'), /cannot be decompressed.*truncated or corrupt/, { file: 'a.gz' });
  expectUserError(() => parseIdx(gzipSync(good.subarray(0, good.length - 1)), 'a.gz'), /truncated.*\(after decompression\)/, { file: 'a.gz' });
  expectUserError(() => parseIdx(gz, 'a.gz', { maxBytes: 10 }), /expands to more than 10 bytes/);
});

/** An independent reading of inflated Fashion-MNIST bytes: header fields and the integer pixel sum. */
function independentStats(raw: Uint8Array): { n: number; rows: number; cols: number; sum: number; zeros: number } {
  const be32 = (o: number) => raw[o]! * 2 ** 24 + raw[o + 1]! * 2 ** 16 + raw[o + 2]! * 2 ** 8 + raw[o + 3]!;
  assert.equal(be32(0), 0x00000803, 'magic of an idx3 ubyte file');
  let sum = 0;
  let zeros = 0;
  for (let i = 16; i < raw.length; i++) {
    sum += raw[i]!;
    if (raw[i] === 0) zeros++;
  }
  return { n: be32(4), rows: be32(8), cols: be32(12), sum, zeros };
}

function loaderStats(values: Float32Array): { sum: number; zeros: number; min: number; max: number } {
  let sum = 0;
  let zeros = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    sum += v;
    if (v === 0) zeros++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, zeros, min, max };
}

// Reference numbers computed once with NumPy 2.4 on the Debian files (uint8 pixel sum over all images).
const FASHION_REFERENCE = {
  train: { file: 'train-images-idx3-ubyte.gz', n: 60000, sum: 3431114169, zeros: 23616498 },
  t10k: { file: 't10k-images-idx3-ubyte.gz', n: 10000, sum: 573469082, zeros: 3919183 },
};

for (const [name, ref] of Object.entries(FASHION_REFERENCE)) {
  test(`idx: Fashion-MNIST ${name} from Debian`, () => {
    const path = join(FASHION, ref.file);
    requireMachineFile(path, 'dataset-fashion-mnist');
    // The large train file is inflated once here and parsed from memory (one gunzip, not two);
    // the smaller t10k file goes through the file reader itself.
    const inflated = name === 'train' ? gunzipSync(readFileSync(path)) : undefined;
    const ds = inflated ? parseIdx(inflated, path) : readIdxFile(path);
    assert.equal(ds.n, ref.n);
    assert.equal(ds.dim, 784);
    assert.deepEqual(ds.imageShape, [28, 28]);
    assert.equal(ds.sourceType, 'uint8');
    assert.equal(ds.values.length, ref.n * 784);
    const got = loaderStats(ds.values);
    assert.equal(got.min, 0);
    assert.equal(got.max, 255);
    assert.equal(got.sum, ref.sum);
    assert.equal(got.zeros, ref.zeros);
    const indep = independentStats(inflated ?? gunzipSync(readFileSync(path)));
    assert.deepEqual([indep.n, indep.rows, indep.cols], [ref.n, 28, 28]);
    assert.equal(indep.sum, got.sum);
    assert.equal(indep.zeros, got.zeros);
    // Mean pixel of the training set is the well-known 0.286 * 255.
    if (name === 'train') assert.ok(Math.abs(got.sum / ds.values.length - 72.94) < 0.01);
  });
}

test('idx: Fashion-MNIST label file is refused', () => {
  requireMachineFile(join(FASHION, 't10k-labels-idx1-ubyte.gz'), 'dataset-fashion-mnist');
  expectUserError(() => readIdxFile(join(FASHION, 't10k-labels-idx1-ubyte.gz')), /label file/);
});

/** An IDX file whose header dimensions were written little-endian, as a writer using struct.pack('<I') makes. */
function littleEndianDims(typeCode: number, shape: number[], payload: Uint8Array): Buffer {
  const dims = Buffer.alloc(4 * shape.length);
  shape.forEach((s, i) => dims.writeUInt32LE(s, 4 * i));
  return Buffer.concat([Buffer.from([0, 0, typeCode, shape.length]), dims, payload]);
}

test('idx: dimensions written little-endian are named so, with the shape they mean, plain and gzipped, file and buffer', () => {
  const dir = tempDir();
  for (const [typeCode, kind, shape] of [
    [0x08, 'u1', [2, 3, 4]],
    [0x08, 'u1', [5, 7]],
    [0x0d, 'f4', [3, 2, 2]],
    [0x0b, 'i2', [60000, 1]],
  ] as const) {
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const bytes = littleEndianDims(
      typeCode,
      [...shape],
      encode(
        kind,
        Array.from({ length: count }, (_, i) => i % 100),
        'be',
      ),
    );
    for (const [name, content] of [
      ['le-idx-ubyte', bytes],
      ['le-idx-ubyte.gz', gzipSync(bytes)],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, content);
      for (const read of [() => readIdxFile(path), () => parseIdx(readFileSync(path), path)]) {
        const err = expectUserError(read, /little-endian/);
        assert.ok(err.message.includes(shape.join(' x ')), err.message);
        assert.doesNotMatch(err.message, /data\.limit/);
      }
    }
  }
});

test('idx: floats stored little-endian (numpy tobytes on a PC) are refused, not read as tiny or huge numbers', () => {
  for (const [typeCode, kind] of [
    [0x0d, 'f4'],
    [0x0e, 'f8'],
  ] as const) {
    const values = Array.from({ length: 24 }, (_, i) => (i % 7) * 0.37 + (i % 3) * 12.5 - 3);
    expectUserError(() => parseIdx(idxBytes(typeCode, [4, 6], encode(kind, values, 'le')), 'x.idx'), /little-endian/);
    // The same values big-endian, as IDX has them, are read; zeros and a few small values are no sign.
    const ds = parseIdx(idxBytes(typeCode, [4, 6], encode(kind, values, 'be')), 'x.idx');
    assert.deepEqual(Array.from(ds.values), values.map(Math.fround));
    parseIdx(idxBytes(typeCode, [4, 6], encode(kind, [...new Array<number>(23).fill(0), 1e-40], 'be')), 'x.idx');
  }
});

test('idx: int16 and int32 stored little-endian (numpy tobytes on a PC) are refused, not read as multiples of 256 (generated)', () => {
  for (const [typeCode, kind] of [
    [0x0b, 'i2'],
    [0x0c, 'i4'],
  ] as const) {
    // Pixel-like counts, signed values, sparse rows: read the wrong way round each is a multiple of 256 or more.
    const sets = [
      Array.from({ length: 24 }, (_, i) => (i * 37) % 256),
      Array.from({ length: 24 }, (_, i) => ((i * 11) % 100) - 50),
      Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? i + 1 : 0)),
    ];
    for (const values of sets) {
      const what = `${kind} ${values.slice(0, 6).join(',')}`;
      const err = expectUserError(() => parseIdx(idxBytes(typeCode, [4, 6], encode(kind, values, 'le')), 'x.idx'), /little-endian/, { offset: 12 });
      assert.match(err.message, /astype\(">i[24]"\)/, what);
      // The same values big-endian, as IDX has them, are read.
      assert.deepEqual(Array.from(parseIdx(idxBytes(typeCode, [4, 6], encode(kind, values, 'be')), 'x.idx').values), values, what);
    }
    // Files of zeros or a few values are no sign, nor (int32) big-endian multiples of 256. (int16 multiples of 256
    // are the very bytes of small numbers written little-endian: no reader can tell them apart.)
    const unsure = [new Array<number>(24).fill(0), [...new Array<number>(22).fill(0), 1, 2], Array.from({ length: 24 }, (_, i) => i * 257)];
    if (kind === 'i4') unsure.push(Array.from({ length: 24 }, (_, i) => i * 256));
    for (const values of unsure) assert.deepEqual(Array.from(parseIdx(idxBytes(typeCode, [4, 6], encode(kind, values, 'be')), 'x.idx').values), values);
  }
});

test('idx: a type byte that does not fit the data, which another type would fill exactly, is named as such, plain and gzipped (generated)', () => {
  const codes = [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e];
  const size: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
  for (const stated of codes)
    for (const real of codes) {
      if (size[stated] === size[real]) continue;
      const payload = new Uint8Array(3 * 2 * 2 * size[real]!);
      for (const gz of [false, true]) {
        const plain = idxBytes(stated, [3, 2, 2], payload);
        const err = expectUserError(() => parseIdx(gz ? gzipSync(plain) : plain, 'x.idx'), /type/, gz ? {} : { offset: 2 });
        assert.match(err.message, new RegExp(`byte 3\\b.*0x${stated.toString(16).padStart(2, '0')}`, 'i'), `${stated} for ${real}`);
        assert.match(err.message, new RegExp(`${size[real]! * 12} bytes`), `${stated} for ${real}`);
        assert.doesNotMatch(err.message, /truncated|mislabelled header/, `${stated} for ${real}`);
      }
    }
});

test('idx: small float files of tiny values stored big-endian, as IDX has them, are read, not taken for little-endian (generated)', () => {
  let seed = 3;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const [typeCode, kind] of [
    [0x0d, 'f4'],
    [0x0e, 'f8'],
  ] as const)
    for (let trial = 0; trial < 400; trial++) {
      const count = 1 + (trial % 7);
      const values = Array.from({ length: count }, () => Math.fround((random() - 0.5) * 10 ** -(11 + Math.floor(random() * 25))));
      const ds = parseIdx(idxBytes(typeCode, [count, 1], encode(kind, values, 'be')), 'x.idx');
      assert.deepEqual(Array.from(ds.values), values, `${kind} ${values.join(', ')}`);
    }
});

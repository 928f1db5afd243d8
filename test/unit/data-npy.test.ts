import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, readNpyFile } from '../../src/data/npy';
import { assertWellFormed, encode, expectUserError, npyBytes, rows, tempDir } from './data-testkit';

const parse = (buf: Buffer) => parseNpy(buf, 'a.npy');

test('npy: <f4 2-D, written to a file and read back', () => {
  const dir = tempDir();
  const path = join(dir, 'a.npy');
  writeFileSync(path, npyBytes('<f4', [2, 3], encode('f4', [1.5, -2, 3, 4, 5e-3, 6])));
  const ds = readNpyFile(path);
  assertWellFormed(ds);
  assert.equal(ds.n, 2);
  assert.equal(ds.dim, 3);
  assert.deepEqual(rows(ds), [
    [1.5, -2, 3],
    [4, Math.fround(5e-3), 6],
  ]);
  assert.equal(ds.sourceType, 'float32');
  assert.equal(ds.source, path);
});

test('npy: <f8 is rounded to float32; |u1 images keep their shape; 1-D is N x 1', () => {
  const f8 = parse(npyBytes('<f8', [3], encode('f8', [0.1, 1e300 / 1e299, -7])));
  assert.equal(f8.dim, 1);
  assert.deepEqual(Array.from(f8.values), [Math.fround(0.1), Math.fround(10), -7]);
  assert.equal(f8.sourceType, 'float64');

  const pixels = Array.from({ length: 2 * 2 * 3 }, (_, i) => (i * 23) % 256);
  const u1 = parse(npyBytes('|u1', [2, 2, 3], encode('u1', pixels)));
  assert.equal(u1.n, 2);
  assert.equal(u1.dim, 6);
  assert.deepEqual(u1.imageShape, [2, 3]);
  assert.deepEqual(Array.from(u1.values), pixels);
  assert.equal(u1.sourceType, 'uint8');
});

test('npy: integer and big-endian dtypes', () => {
  assert.deepEqual(Array.from(parse(npyBytes('<i4', [2, 2], encode('i4', [-1, 2, -300000, 4]))).values), [-1, 2, -300000, 4]);
  assert.deepEqual(Array.from(parse(npyBytes('<i8', [2], encode('i8', [-5, 2 ** 40]))).values), [-5, 2 ** 40]);
  assert.deepEqual(Array.from(parse(npyBytes('|i1', [2], encode('i1', [-128, 127]))).values), [-128, 127]);
  assert.deepEqual(Array.from(parse(npyBytes('>f4', [2], encode('f4', [1.25, -3], 'be'))).values), [1.25, -3]);
  assert.equal(parse(npyBytes('<i4', [1], encode('i4', [7]))).sourceType, 'int');
});

test('npy: format versions 2 and 3 headers', () => {
  for (const version of [2, 3] as const) {
    const ds = parse(npyBytes('<f4', [1, 2], encode('f4', [8, 9]), { version }));
    assert.deepEqual(Array.from(ds.values), [8, 9], `version ${version}`);
  }
});

test('npy: a shared (zero-copy) read equals a copied read, and maxRows cuts rows', () => {
  const buf = npyBytes('<f4', [3, 2], encode('f4', [1, 2, 3, 4, 5, 6]));
  const shared = parseNpy(buf, 'a.npy', { shareBuffer: true });
  assert.deepEqual(Array.from(shared.values), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(parseNpy(buf, 'a.npy', { maxRows: 2 }).values), [1, 2, 3, 4]);
});

/** Every multi-index of `shape`, the last axis fastest (C order) or the first (Fortran order). */
function indices(shape: readonly number[], fortran: boolean): number[][] {
  const out: number[][] = [];
  const at = shape.map(() => 0);
  const total = shape.reduce((a, b) => a * b, 1);
  const axes = shape.map((_, a) => (fortran ? a : shape.length - 1 - a));
  for (let k = 0; k < total; k++) {
    out.push([...at]);
    for (const a of axes) {
      if (++at[a]! < shape[a]!) break;
      at[a] = 0;
    }
  }
  return out;
}

test('npy: Fortran order, (N, H, W, C) and channels-first (N, C, H, W) arrays, as data.layout says or as their shape tells, are read as rows of H, W, C values', () => {
  // np.save(a.T) writes Fortran order; Keras keeps images as (N, H, W, C), PyTorch as (N, C, H, W).
  const value = (ix: readonly number[]) => ix.reduce((a, v, k) => a + v * [37, 11, 5, 1][k]!, 0) % 251;
  const shapes = [[5], [3, 2], [4, 3, 2], [2, 5, 6, 3], [3, 3, 4, 6], [2, 1, 3, 5], [1, 4], [5, 1], [2, 2, 7, 5], [2, 3, 4, 4]];
  const dtypes = [
    ['<f4', 'f4', 'le'],
    ['>f8', 'f8', 'be'],
    ['|u1', 'u1', 'le'],
    ['>i2', 'i2', 'be'],
  ] as const;
  const dir = tempDir();
  for (const shape of shapes)
    for (const [descr, kind, endian] of dtypes)
      for (const fortran of [false, true])
        for (const [maxRows, layout] of [
          [undefined, undefined],
          [2, undefined],
          [undefined, 'channels-first'],
          [2, 'channels-last'],
        ] as const) {
          const what = `(${shape.join(', ')}) ${descr} ${fortran ? 'F' : 'C'} maxRows=${maxRows} layout=${layout}`;
          const channelsFirst = shape.length === 4 && (layout ? layout === 'channels-first' : shape[1]! <= 4 && shape[3]! > 4);
          const row = shape.slice(1);
          const ours = channelsFirst ? [row[1]!, row[2]!, row[0]!] : row;
          const n = Math.min(shape[0]!, maxRows ?? Infinity);
          const expected: number[] = [];
          for (let i = 0; i < n; i++) for (const ix of indices(ours, false)) expected.push(value([i, ...(channelsFirst ? [ix[2]!, ix[0]!, ix[1]!] : ix)]));
          const bytes = npyBytes(descr, shape, encode(kind, indices(shape, fortran).map(value), endian), { fortran });
          const path = join(dir, 'a.npy');
          writeFileSync(path, bytes);
          for (const ds of [parseNpy(bytes, 'a.npy', { maxRows, layout }), readNpyFile(path, { maxRows, layout })]) {
            assertWellFormed(ds);
            assert.equal(ds.n, n, what);
            assert.equal(
              ds.dim,
              Math.max(
                1,
                ours.reduce((a, b) => a * b, 1),
              ),
              what,
            );
            assert.deepEqual(Array.from(ds.values), expected, what);
            assert.deepEqual(ds.imageShape, shape.length >= 3 ? ours : undefined, what);
          }
        }
});

test('npy: five dimensions are refused with the shapes that are read', () => {
  expectUserError(() => parse(npyBytes('<f4', [1, 1, 1, 1, 2], encode('f4', [1, 2]))), /shape \(1, 1, 1, 1, 2\).*\(N, H, W, C\)/, { file: 'a.npy' });
});

test('npy: truncated data, extra data (mislabelled shape), bad magic, bad version', () => {
  const good = npyBytes('<f4', [2, 3], encode('f4', [1, 2, 3, 4, 5, 6]));
  const dataStart = good.length - 24;
  const truncated = expectUserError(() => parse(good.subarray(0, good.length - 5)), /truncated.*24 bytes.*only 19 bytes/, { file: 'a.npy' });
  assert.equal(truncated.location.offset, dataStart);
  const mislabelled = npyBytes('<f4', [2, 2], encode('f4', [1, 2, 3, 4, 5, 6]));
  expectUserError(() => parse(mislabelled), /does not match the data.*is 16 bytes, but the file holds 24 bytes after the header/, { offset: dataStart + 16 });
  expectUserError(() => parse(npyBytes('<f8', [2, 3], encode('f4', [1, 2, 3, 4, 5, 6]))), /truncated/);
  const badMagic = Buffer.from(good);
  badMagic[1] = 0x4f;
  expectUserError(() => parse(badMagic), /not an \.npy file/, { offset: 0 });
  const badVersion = Buffer.from(good);
  badVersion[6] = 9;
  expectUserError(() => parse(badVersion), /version 9\.0 is not supported/, { offset: 6 });
  expectUserError(() => parse(good.subarray(0, 30)), /truncated: the header says/, { offset: 8 });
});

test('npy: unsupported dtypes, shapes and headers', () => {
  expectUserError(() => parse(npyBytes('<f16', [2], new Uint8Array(32))), /dtype "<f16" \(long double.*\) is not supported: .*; VAE Lens reads <f2, <f4/);
  expectUserError(() => parse(npyBytes('<c16', [1], new Uint8Array(16))), /not supported/);
  expectUserError(
    () => parse(npyBytes('', [1], new Uint8Array(8), { headerText: "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }" })),
    /structured/,
  );
  expectUserError(() => parse(npyBytes('<f4', [1, 1, 1, 1, 1], encode('f4', [1]))), /shape \(1, 1, 1, 1, 1\).*1-D \(N,\), 2-D/);
  expectUserError(() => parse(npyBytes('<f4', [], encode('f4', [1]))), /shape \(\)/);
  expectUserError(() => parse(npyBytes('<f4', [0, 3], new Uint8Array(0))), /no rows/);
  expectUserError(
    () => parse(npyBytes('<f4', [2], encode('f4', [1, 2]), { headerText: "{'descr': '<f4', 'shape': (2,) 'x'}" })),
    /not a valid Python dict literal/,
  );
  expectUserError(() => parse(npyBytes('<f4', [2], encode('f4', [1, 2]), { headerText: "{'descr': '<f4', 'shape': (2,)}" })), /fortran_order/);
});

test('npy: NaN and values beyond float32 are located by row and column', () => {
  expectUserError(() => parse(npyBytes('<f4', [2, 2], encode('f4', [1, 2, 3, Number.NaN]))), /^row 2, column 2 of the array is NaN/, { row: 2 });
  expectUserError(() => parse(npyBytes('<f8', [3, 1], encode('f8', [1, 1e200, 3]))), /^row 2, column 1 of the array is an infinite value/, { row: 2 });
});

test('npy: files are streamed in chunks for every dtype (f8 larger than one chunk)', () => {
  const dir = tempDir();
  const n = 300_000;
  const values = Array.from({ length: n * 2 }, (_, i) => (i % 1000) / 8 - 60);
  const path = join(dir, 'big.npy');
  writeFileSync(path, npyBytes('<f8', [n, 2], encode('f8', values)));
  const ds = readNpyFile(path);
  assert.equal(ds.n, n);
  assert.equal(ds.values[0], values[0]);
  assert.equal(ds.values[n * 2 - 1], values[n * 2 - 1]);
  assert.ok(ds.values.every((v, i) => v === values[i]));
  assert.equal(readNpyFile(path, { maxRows: 5 }).values.length, 10);
  for (const [descr, kind] of [
    ['|u1', 'u1'],
    ['<i8', 'i8'],
    ['<f4', 'f4'],
  ] as const) {
    const p = join(dir, `${kind}.npy`);
    writeFileSync(p, npyBytes(descr, [3, 1, 2], encode(kind, [1, 2, 3, 4, 5, 6])));
    const small = readNpyFile(p);
    assert.deepEqual(Array.from(small.values), [1, 2, 3, 4, 5, 6], descr);
    assert.deepEqual(small.imageShape, [1, 2]);
  }
});

test('npy: streamed file reads report the same located errors as buffers', () => {
  const dir = tempDir();
  const good = npyBytes('<f8', [2, 2], encode('f8', [1, 2, 3, 4]));
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', good.subarray(0, good.length - 1), /truncated.*32 bytes.*only 31/],
    ['short-header', good.subarray(0, 40), /truncated: the header says/],
    ['tiny', good.subarray(0, 5), /not an \.npy file/],
    ['empty', Buffer.alloc(0), /the file is empty \(0 bytes\)/],
  ];
  for (const [name, bytes, message] of cases) {
    const p = join(dir, `${name}.npy`);
    writeFileSync(p, bytes);
    expectUserError(() => readNpyFile(p), message, { file: p });
  }
  const huge = Buffer.from(npyBytes('<f4', [1], encode('f4', [1]), { version: 2 }));
  huge.writeUInt32LE(0xfffffff0, 8);
  expectUserError(() => parse(huge), /claims to be 4294967280 bytes/, { offset: 8 });
});

/** A half float's value built from its bits as a float32 (sign, rebased exponent, fraction shifted up): independent of the loader's arithmetic. */
function halfAsFloat32(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return (sign ? -1 : 1) * fraction * 2 ** -24;
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (sign | ((exponent - 15 + 127) << 23) | (fraction << 13)) >>> 0);
  return view.getFloat32(0);
}

test('npy: float16 (every finite bit pattern) and bool arrays are read, little- and big-endian, C and Fortran order, from bytes and streamed (generated)', () => {
  const finite = Array.from({ length: 0x10000 }, (_, b) => b).filter((b) => ((b >> 10) & 0x1f) !== 0x1f);
  const dim = 8;
  const n = finite.length / dim;
  const expected = finite.map(halfAsFloat32);
  const dir = tempDir();
  for (const endian of ['<', '>'] as const) {
    for (const fortran of [false, true]) {
      // Element k of the file: row-major in C order, column-major in Fortran order.
      const order = Array.from({ length: finite.length }, (_, k) => (fortran ? (k % n) * dim + Math.floor(k / n) : k));
      const payload = Buffer.alloc(finite.length * 2);
      order.forEach((i, k) => (endian === '<' ? payload.writeUInt16LE(finite[i]!, 2 * k) : payload.writeUInt16BE(finite[i]!, 2 * k)));
      const file = npyBytes(`${endian}f2`, [n, dim], payload, { fortran });
      const path = join(dir, `h${endian === '<' ? 'le' : 'be'}${fortran ? 'F' : 'C'}.npy`);
      writeFileSync(path, file);
      for (const ds of [parse(file), readNpyFile(path)]) {
        assert.equal(ds.n, n);
        assert.equal(ds.dim, dim);
        const bad = expected.findIndex((v, i) => !Object.is(ds.values[i], v));
        assert.equal(
          bad,
          -1,
          `${endian} fortran=${fortran}: element ${bad} (bits 0x${finite[bad]?.toString(16)}) read as ${ds.values[bad]}, not ${expected[bad]}`,
        );
      }
    }
  }
  // Infinities and NaN, which float16 overflows to, are located as in other float files.
  const inf = Buffer.alloc(8);
  [0x3c00, 0x4000, 0x7c00, 0x4200].forEach((b, i) => inf.writeUInt16LE(b, 2 * i));
  expectUserError(() => parse(npyBytes('<f2', [2, 2], inf)), /^row 2, column 1 of the array is an infinite value/, { row: 2 });
  const nan = Buffer.alloc(4);
  nan.writeUInt16LE(0x7e00, 2);
  expectUserError(() => parse(npyBytes('<f2', [2], nan)), /^row 2, column 1 of the array is NaN/, { row: 2 });

  // bool: one byte each, read as 0 and 1, in every shape.
  for (const shape of [[6], [3, 2], [2, 3, 1], [1, 2, 3, 1]]) {
    const total = shape.reduce((a, b) => a * b, 1);
    const bytes = Array.from({ length: total }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
    const ds = parse(npyBytes('|b1', shape, Uint8Array.from(bytes)));
    assert.deepEqual(Array.from(ds.values), bytes, shape.join('x'));
    assert.equal(ds.sourceType, 'int', 'bool is not scaled as 8-bit pixels by default');
  }
});

test('npy: dtypes that hold no numbers say what they hold, and object arrays are refused without being unpickled', () => {
  const cases: Array<[string, RegExp]> = [
    ['|O', /Python objects, stored pickled, which VAE Lens never unpickles/],
    ['<U3', /text/],
    ['|S4', /text/],
    ['<c8', /complex/],
    ['<M8[D]', /dates/],
    ['<m8[s]', /time spans/],
  ];
  for (const [descr, holds] of cases) {
    // Bytes that would run code if unpickled: a pickle calling os.system.
    const pickle = Buffer.from('\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00exitq\x01\x85q\x02Rq\x03.', 'latin1');
    const err = expectUserError(() => parse(npyBytes(descr, [1], pickle)), /is not supported/, { file: 'a.npy', offset: 10 });
    assert.match(err.message, holds, descr);
    assert.match(err.message, new RegExp(`dtype ${JSON.stringify(descr).replace(/[[\]|]/g, '\\$&')}`), descr);
  }
});

test('npy: a file np.save wrote twice to (one open file, several arrays) is named so, read from bytes or streamed (generated)', () => {
  const dir = tempDir();
  const first = npyBytes('<f4', [2, 3], encode('f4', [1, 2, 3, 4, 5, 6]));
  const seconds = [
    npyBytes('<i8', [2], encode('i8', [0, 1])),
    npyBytes('<f4', [2, 3], encode('f4', [0, 0, 0, 0, 0, 0]), { version: 2 }),
    npyBytes('|u1', [1], encode('u1', [7])),
  ];
  for (const [k, second] of seconds.entries()) {
    const bytes = Buffer.concat([first, second]);
    const path = join(dir, `two${k}.npy`);
    writeFileSync(path, bytes);
    for (const read of [() => parse(bytes), () => readNpyFile(path)])
      expectUserError(read, /^the file holds more than one array: another starts after this one's 24 bytes \(np\.save called more than once/, {
        offset: first.length,
        length: 6,
      });
  }
  // Bytes after the data that are no array are a shape or dtype that does not fit, as before.
  expectUserError(() => parse(Buffer.concat([first, Buffer.alloc(8)])), /mislabelled shape or dtype/);
});

test('npy: a dtype written without its byte-order character (f4, i2, u1, b1), as NumPy reads it, is native order', () => {
  const cases: Array<[string, 'f4' | 'f8' | 'u1' | 'i1' | 'i2' | 'i4' | 'i8', number[]]> = [
    ['f4', 'f4', [1.5, -2]],
    ['f8', 'f8', [0.25, 3]],
    ['i2', 'i2', [-7, 300]],
    ['i4', 'i4', [-70000, 5]],
    ['i8', 'i8', [-3, 2 ** 40]],
    ['u1', 'u1', [0, 255]],
    ['i1', 'i1', [-128, 127]],
  ];
  for (const [descr, kind, values] of cases) assert.deepEqual(Array.from(parse(npyBytes(descr, [2], encode(kind, values))).values), values, descr);
  assert.deepEqual(Array.from(parse(npyBytes('b1', [2], Uint8Array.from([1, 0]))).values), [1, 0]);
});

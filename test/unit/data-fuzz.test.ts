/**
 * Property-based robustness of the loaders: random bytes, random text, and valid
 * files that were truncated, bit-flipped or spliced must each end in a Dataset or
 * a located UserError: never another exception, never a hang.
 * FUZZ_SEED and FUZZ_RUNS (a multiplier) widen the search from the command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { isUserError } from '../../src/core/errors';
import type { Dataset } from '../../src/data/dataset';
import { parseCsv, readCsvFile } from '../../src/data/csv';
import { parseIdx } from '../../src/data/idx';
import { parseJsonData } from '../../src/data/json';
import { parseNpy, readNpyFile } from '../../src/data/npy';
import { assertWellFormed, encode, idxBytes, npyBytes, tempDir } from './data-testkit';

const SEED = Number(process.env.FUZZ_SEED ?? 20260501);
const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));
const PER_INPUT_MS = 1000;
const TEST_TIMEOUT_MS = 120_000;

type Outcome = { kind: 'dataset'; ds: Dataset } | { kind: 'user-error'; message: string; line?: number; column?: number };

class Tally {
  inputs = 0;
  datasets = 0;
  userErrors = 0;
  crashes = 0;
  constructor(readonly name: string) {}
  /** Run one input; a non-UserError exception or a slow run is a crash, thrown so fast-check shrinks it. */
  run(load: () => Dataset): Outcome {
    this.inputs++;
    const started = performance.now();
    let outcome: Outcome;
    try {
      const ds = load();
      assertWellFormed(ds);
      this.datasets++;
      outcome = { kind: 'dataset', ds };
    } catch (e) {
      if (!isUserError(e)) {
        this.crashes++;
        throw new Error(`${this.name}: not a UserError: ${e instanceof Error ? e.stack : String(e)}`);
      }
      if (!e.location.file) {
        this.crashes++;
        throw new Error(`${this.name}: UserError without a file: ${e.message}`);
      }
      this.userErrors++;
      outcome = { kind: 'user-error', message: e.message, line: e.location.line, column: e.location.column };
    }
    const ms = performance.now() - started;
    if (ms > PER_INPUT_MS) {
      this.crashes++;
      throw new Error(`${this.name}: one input took ${ms.toFixed(0)} ms`);
    }
    return outcome;
  }
  report(): void {
    console.log(`fuzz: ${this.name} ${this.inputs} inputs, ${this.crashes} crashes (${this.datasets} datasets, ${this.userErrors} user errors, seed ${SEED})`);
  }
}

// ---- generators -------------------------------------------------------------

type Mutation = { op: 'flip' | 'set' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'),
  // Biased to the start of the file, where the headers are.
  at: fc.oneof(fc.nat(64), fc.nat(100_000)),
  byte: fc.nat(255),
});

function mutate(input: Uint8Array, mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.op === 'flip') bytes[at] = bytes[at]! ^ (1 << (m.byte % 8));
    else if (m.op === 'set') bytes[at] = m.byte;
    else if (m.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at)]);
    else if (m.op === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else bytes = bytes.subarray(0, at);
  }
  return bytes;
}

const numberArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 4, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.double() },
);

const matrixArb = fc
  .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }))
  .chain(([n, d]) => fc.array(fc.array(numberArb, { minLength: d, maxLength: d }), { minLength: n, maxLength: n }));

const randomBytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));

/** A valid file of some kind, then zero to four mutations. */
const mutated = (valid: fc.Arbitrary<Buffer>) => fc.tuple(valid, fc.array(mutationArb, { maxLength: 4 })).map(([bytes, ms]) => mutate(bytes, ms));

const csvTextArb = fc
  .record({
    m: matrixArb,
    delim: fc.constantFrom(',', ';', '\t', ' '),
    header: fc.boolean(),
    crlf: fc.boolean(),
  })
  .map(({ m, delim, header, crlf }) => {
    const lines = m.map((r) => r.map(String).join(delim));
    if (header) lines.unshift(m[0]!.map((_, i) => `col${i}`).join(delim));
    return Buffer.from(lines.join(crlf ? '\r\n' : '\n') + '\n');
  });

const csvCharsArb = fc.string({ unit: fc.constantFrom(...'0123456789.,;\t -+eE\n\r"#aNIfn\u00e9'.split('')), maxLength: 160 }).map((s) => Buffer.from(s));

const NPY_DESCRS = [
  ['<f4', 4],
  ['<f8', 8],
  ['|u1', 1],
  ['<i4', 4],
  ['<i8', 8],
  ['>f4', 4],
  ['|i1', 1],
] as const;

const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 });

const npyArb = fc
  .record({
    descr: fc.constantFrom(...NPY_DESCRS),
    shape: shapeArb,
    version: fc.constantFrom(1, 2, 3) as fc.Arbitrary<1 | 2 | 3>,
    fortran: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
    seedBytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  })
  .map(({ descr, shape, version, fortran, seedBytes }) => {
    const size = shape.reduce((a, b) => a * b, 1) * descr[1];
    const payload = new Uint8Array(size).map((_, i) => seedBytes[i % seedBytes.length]! ^ (i * 31));
    return npyBytes(descr[0], shape, payload, { version, fortran });
  });

const IDX_TYPES = [
  [0x08, 1],
  [0x09, 1],
  [0x0b, 2],
  [0x0c, 4],
  [0x0d, 4],
  [0x0e, 8],
] as const;

const idxArb = fc.record({ type: fc.constantFrom(...IDX_TYPES), shape: shapeArb, gzip: fc.boolean(), fill: fc.nat(255) }).map(({ type, shape, gzip, fill }) => {
  const size = shape.reduce((a, b) => a * b, 1) * type[1];
  const bytes = idxBytes(type[0], shape, new Uint8Array(size).fill(fill));
  return gzip ? gzipSync(bytes) : bytes;
});

const jsonArb = fc.oneof(
  matrixArb.map((m) => Buffer.from(JSON.stringify(m))),
  matrixArb.map((m) => Buffer.from(JSON.stringify(m.map((r) => r[0])))),
);

const jsonCharsArb = fc.string({ unit: fc.constantFrom(...'[],0123456789.-+eE \n"{}nulNa'.split('')), maxLength: 120 }).map((s) => Buffer.from(s));

// ---- properties -------------------------------------------------------------

function fuzz(name: string, runs: number, inputs: fc.Arbitrary<Buffer>, load: (b: Buffer) => Dataset): void {
  const tally = new Tally(name);
  try {
    fc.assert(
      fc.property(inputs, (b) => {
        tally.run(() => load(b));
      }),
      { numRuns: runs * RUNS, seed: SEED },
    );
  } finally {
    tally.report();
  }
  assert.equal(tally.crashes, 0);
  assert.ok(tally.datasets > 0 && tally.userErrors > 0, `${name}: both outcomes should occur`);
}

test('fuzz: csv', { timeout: TEST_TIMEOUT_MS }, () => {
  const arb = fc.oneof(randomBytes, csvCharsArb, csvTextArb, mutated(csvTextArb));
  fuzz('csv', 3000, arb, (b) => parseCsv(b, 'f.csv'));
  fuzz('csv-options', 1000, arb, (b) => parseCsv(b, 'f.csv', { header: b.length % 3 === 0 ? undefined : b.length % 3 === 1, maxRows: b.length % 4 }));
});

/** The streaming file reader must give exactly what the in-memory parser gives (values or error). */
function differential(
  name: string,
  inputs: fc.Arbitrary<Buffer>,
  fromBuffer: (b: Buffer, path: string) => Dataset,
  fromFile: (path: string, chunkBytes: number) => Dataset,
): void {
  const dir = tempDir();
  const tally = new Tally(name);
  let index = 0;
  try {
    fc.assert(
      fc.property(inputs, fc.integer({ min: 1, max: 64 }), (b, chunkBytes) => {
        const path = join(dir, `f${index++ % 8}`);
        writeFileSync(path, b);
        const expected = tally.run(() => fromBuffer(b, path));
        const got = tally.run(() => fromFile(path, chunkBytes));
        if (expected.kind === 'dataset' && got.kind === 'dataset') {
          assert.deepEqual(got.ds.values, expected.ds.values);
          assert.equal(got.ds.dim, expected.ds.dim);
          assert.deepEqual(got.ds.imageShape, expected.ds.imageShape);
        } else {
          assert.deepEqual(got, expected);
        }
      }),
      { numRuns: 500 * RUNS, seed: SEED },
    );
  } finally {
    tally.report();
  }
  assert.equal(tally.crashes, 0);
}

test('fuzz: csv file reader agrees with the buffer parser at any chunk size', { timeout: TEST_TIMEOUT_MS }, () => {
  differential(
    'csv-file-vs-buffer',
    fc.oneof(csvCharsArb, csvTextArb, mutated(csvTextArb)),
    (b, path) => parseCsv(b, path),
    (path, chunkBytes) => readCsvFile(path, { chunkBytes }),
  );
});

test('fuzz: npy streamed file reader agrees with the buffer parser', { timeout: TEST_TIMEOUT_MS }, () => {
  differential(
    'npy-file-vs-buffer',
    fc.oneof(npyArb, mutated(npyArb)),
    (b, path) => parseNpy(b, path),
    (path) => readNpyFile(path),
  );
});

test('fuzz: npy', { timeout: TEST_TIMEOUT_MS }, () => {
  fuzz('npy', 3000, fc.oneof(randomBytes, npyArb, mutated(npyArb), mutated(npyArb)), (b) => parseNpy(b, 'f.npy'));
});

test('fuzz: idx', { timeout: TEST_TIMEOUT_MS }, () => {
  fuzz('idx', 3000, fc.oneof(randomBytes, idxArb, mutated(idxArb), mutated(idxArb)), (b) => parseIdx(b, 'f.idx', { maxBytes: 1 << 20 }));
});

test('fuzz: json', { timeout: TEST_TIMEOUT_MS }, () => {
  fuzz('json', 3000, fc.oneof(randomBytes, jsonCharsArb, jsonArb, mutated(jsonArb)), (b) =>
    parseJsonData(b, 'f.json', { maxRows: b.length % 5 === 0 ? 2 : undefined }),
  );
});

// ---- exact round trips ------------------------------------------------------
// Crashes are not the only failure: a valid file must also give back exactly its numbers.

const finiteMatrixArb = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 })).chain(([n, d]) =>
  fc.array(fc.array(fc.oneof(fc.integer({ min: -100000, max: 100000 }), fc.double({ min: -1e30, max: 1e30, noNaN: true })), { minLength: d, maxLength: d }), {
    minLength: n,
    maxLength: n,
  }),
);

test('fuzz: valid files round-trip exactly', { timeout: TEST_TIMEOUT_MS }, () => {
  let checked = 0;
  fc.assert(
    fc.property(finiteMatrixArb, fc.constantFrom(',', ';', '\t', ' '), (m, delim) => {
      const flat = m.flat();
      const dim = m[0]!.length;
      const asText = (v: number) => Math.fround(Number(String(v)));
      const csv = parseCsv(Buffer.from(m.map((r) => r.map(String).join(delim)).join('\n')), 'r.csv');
      assert.deepEqual(Array.from(csv.values), flat.map(asText));
      assert.equal(csv.dim, dim);
      const json = parseJsonData(Buffer.from(JSON.stringify(m)), 'r.json');
      assert.deepEqual(
        Array.from(json.values),
        flat.map((v) => Math.fround(Number(JSON.stringify(v)))),
      );
      for (const [descr, kind, endian] of [
        ['<f4', 'f4', 'le'],
        ['>f4', 'f4', 'be'],
        ['<f8', 'f8', 'le'],
      ] as const) {
        const npy = parseNpy(npyBytes(descr, [m.length, dim], encode(kind, flat, endian)), 'r.npy');
        assert.deepEqual(Array.from(npy.values), flat.map(Math.fround), descr);
      }
      const idx = parseIdx(idxBytes(0x0e, [m.length, dim], encode('f8', flat, 'be')), 'r.idx');
      assert.deepEqual(Array.from(idx.values), flat.map(Math.fround));
      checked++;
    }),
    { numRuns: 1000 * RUNS, seed: SEED },
  );
  console.log(`fuzz: round-trip ${checked} matrices exact through csv, json, npy (3 dtypes), idx`);
});

/**
 * Helpers for the data-layer tests: temp folders, NPY and IDX files written
 * byte by byte (independently of the loaders), and UserError assertions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUserError, isUserError, type SourceLocation, type UserError } from '../../src/core/errors';
import type { Dataset } from '../../src/data/dataset';

const made: string[] = [];

/** A fresh temp folder, removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-data-'));
  if (made.length === 0) process.on('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  made.push(dir);
  return dir;
}

export type Endian = 'le' | 'be';

/** Encode numbers as bytes of the given element type, one DataView write each. */
export function encode(kind: 'f4' | 'f8' | 'u1' | 'i1' | 'i2' | 'i4' | 'i8', values: number[], endian: Endian = 'le'): Uint8Array {
  const size = { f4: 4, f8: 8, u1: 1, i1: 1, i2: 2, i4: 4, i8: 8 }[kind];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  const le = endian === 'le';
  values.forEach((v, i) => {
    const o = i * size;
    switch (kind) {
      case 'f4':
        view.setFloat32(o, v, le);
        break;
      case 'f8':
        view.setFloat64(o, v, le);
        break;
      case 'u1':
        view.setUint8(o, v);
        break;
      case 'i1':
        view.setInt8(o, v);
        break;
      case 'i2':
        view.setInt16(o, v, le);
        break;
      case 'i4':
        view.setInt32(o, v, le);
        break;
      case 'i8':
        view.setBigInt64(o, BigInt(v), le);
        break;
    }
  });
  return out;
}

export interface NpyWriteOptions {
  version?: 1 | 2 | 3;
  fortran?: boolean;
  /** Replace the whole header dict text. */
  headerText?: string;
}

/** An .npy file as NumPy writes it: magic, version, header length, padded dict, data. */
export function npyBytes(descr: string, shape: number[], payload: Uint8Array, opts: NpyWriteOptions = {}): Buffer {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = opts.headerText ?? `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const lengthBytes = version === 1 ? 2 : 4;
  const prefix = 8 + lengthBytes;
  let header = dict;
  while ((prefix + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const headerBuf = Buffer.from(header, version === 3 ? 'utf8' : 'latin1');
  const head = Buffer.alloc(prefix);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) head.writeUInt16LE(headerBuf.length, 8);
  else head.writeUInt32LE(headerBuf.length, 8);
  return Buffer.concat([head, headerBuf, payload]);
}

/** An IDX file: 0, 0, type code, ndims, big-endian uint32 dims, data. */
export function idxBytes(typeCode: number, shape: number[], payload: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head.set([0, 0, typeCode, shape.length]);
  shape.forEach((s, i) => head.writeUInt32BE(s, 4 + 4 * i));
  return Buffer.concat([head, payload]);
}

/** Run fn, expect a UserError whose message matches and whose location has these fields. */
export function expectUserError(fn: () => unknown, message: RegExp, location: Partial<SourceLocation> = {}): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected a UserError matching ${message}, but nothing was thrown`);
  assert.ok(isUserError(caught), `expected a UserError, got ${String(caught)}`);
  const err = caught as UserError;
  assert.match(err.message, message);
  for (const [k, v] of Object.entries(location)) {
    assert.equal(err.location[k as keyof SourceLocation], v, `location.${k} of "${err.message}"`);
  }
  return err;
}

export async function expectUserErrorAsync(fn: () => Promise<unknown>, message: RegExp, location: Partial<SourceLocation> = {}): Promise<UserError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return expectUserError(
    () => {
      if (caught !== undefined) throw caught;
    },
    message,
    location,
  );
}

/** The invariants every loaded Dataset must satisfy. */
export function assertWellFormed(ds: Dataset): void {
  assert.ok(Number.isInteger(ds.n) && ds.n >= 1, `n = ${ds.n}`);
  assert.ok(Number.isInteger(ds.dim) && ds.dim >= 1, `dim = ${ds.dim}`);
  assert.equal(ds.values.length, ds.n * ds.dim);
  const bad = ds.values.findIndex((v) => !Number.isFinite(v));
  assert.equal(bad, -1, `value ${bad} is ${ds.values[bad]}`);
  if (ds.imageShape)
    assert.equal(
      ds.imageShape.reduce((a, b) => a * b, 1),
      ds.dim,
    );
}

export function rows(ds: Dataset): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ds.n; i++) out.push(Array.from(ds.values.subarray(i * ds.dim, (i + 1) * ds.dim)));
  return out;
}

/** A control character, as a message must never print one raw. */
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
export const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The message of the UserError that `f` throws or rejects with, formatted as the user sees it. */
export async function userErrorMessage(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (!isUserError(e)) throw e;
    return formatUserError(e);
  }
  assert.fail('no UserError');
}

/**
 * A JSON array of rows (`[[1, 2], [3, 4]]`) or of numbers (`[1, 2, 3]`, N x 1)
 * into a Dataset. A small scanner for just this shape of JSON works on the bytes,
 * so it can point at the exact row and value that is wrong and never builds one
 * JS array per row.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors';
import type { Dataset } from './dataset';
import { checkAllocation } from '../core/allocation';
import { gunzipIfNeeded, utf16AsUtf8, type LoaderOptions } from './loaderCommon';
import { parseDecimal } from './numberText';

export function readJsonFile(path: string, opts?: LoaderOptions): Dataset {
  return parseJsonData(gunzipIfNeeded(readFileSync(path), path, opts?.maxBytes), path, opts);
}

const CH = {
  open: 0x5b, // [
  close: 0x5d, // ]
  comma: 0x2c,
  quote: 0x22,
  brace: 0x7b,
  newline: 0x0a,
};

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isNumberChar(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45);
}

/** Growable float32 storage: doubles as rows arrive, trimmed at the end. */
class FloatBuilder {
  private data = new Float32Array(1024);
  length = 0;
  constructor(private readonly file: string) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      // Two bytes of text ("1,") become four of float32: a file under the size limit can outgrow it.
      const next = this.data.length * 2;
      checkAllocation({
        what: `the JSON data as float32 (${next} values)`,
        elements: next,
        bytesPerElement: 4,
        at: { file: this.file },
        advice: 'set data.limit to read fewer rows, or use an NPY file',
      });
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  finish(): Float32Array {
    return this.length === this.data.length ? this.data : this.data.slice(0, this.length);
  }
}

export function parseJsonData(data: Buffer, file: string, opts?: LoaderOptions): Dataset {
  const bytes = utf16AsUtf8(data);
  const maxRows = opts?.maxRows ?? Infinity;
  let pos = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const fail = (message: string, at: number, row?: number): never => {
    throw new UserError(message, { file, ...lineColumn(bytes, at), offset: at, length: 1, row });
  };
  const skip = (): void => {
    while (isSpace(bytes[pos])) pos++;
  };
  const describe = (at: number): string => {
    const c = bytes[at];
    if (c === undefined) return 'the end of the file';
    if (c === CH.quote) return 'a string';
    if (c === CH.brace) return 'an object';
    const word = bytes.toString('utf8', at, Math.min(bytes.length, at + 12)).match(/^[A-Za-z]+/)?.[0];
    if (word === 'null') return 'null (a missing value: remove or impute it first)';
    if (word === 'NaN' || word === 'Infinity') return `${word} (not valid JSON, and VAE Lens needs finite numbers)`;
    if (word) return JSON.stringify(word);
    return JSON.stringify(String.fromCharCode(c));
  };
  const number = (row: number, what: string): number => {
    const start = pos;
    while (isNumberChar(bytes[pos])) pos++;
    const v = start === pos ? Number.NaN : Math.fround(parseDecimal(bytes, start, pos));
    if (v - v !== 0) {
      if (start === pos) fail(`${what} should be a number but is ${describe(start)}`, start, row);
      const text = bytes.toString('latin1', start, pos);
      fail(
        Number.isNaN(parseDecimal(bytes, start, pos))
          ? `${what} is ${JSON.stringify(text)}, not a valid number`
          : `${what} is ${text}, which is beyond the float32 range (about ±3.4e38)`,
        start,
        row,
      );
    }
    return v;
  };

  skip();
  if (bytes[pos] !== CH.open) {
    fail(`expected a JSON array of rows like [[0.1, 2], [3, 4]] or of numbers like [1, 2, 3], found ${describe(pos)}`, pos);
  }
  const arrayStart = pos;
  pos++;
  skip();
  const out = new FloatBuilder(file);
  let n = 0;
  let dim = -1;
  let nested = false;
  let firstRowAt = 0;
  while (bytes[pos] !== CH.close) {
    if (n > 0) {
      if (bytes[pos] !== CH.comma) fail(`expected ',' or ']' after row ${n}, found ${describe(pos)}`, pos, n);
      pos++;
      skip();
    }
    const row = n + 1;
    const rowAt = pos;
    if (n === 0) {
      nested = bytes[pos] === CH.open;
      firstRowAt = pos;
    }
    if (nested) {
      if (bytes[pos] !== CH.open) fail(`row ${row} should be an array of numbers like row 1, but is ${describe(pos)}`, pos, row);
      pos++;
      skip();
      let count = 0;
      while (bytes[pos] !== CH.close) {
        if (count > 0) {
          if (bytes[pos] !== CH.comma) fail(`row ${row}: expected ',' or ']' after value ${count}, found ${describe(pos)}`, pos, row);
          pos++;
          skip();
        }
        const v = number(row, `row ${row}, value ${count + 1}`);
        if (row <= maxRows) out.push(v);
        count++;
        skip();
      }
      pos++;
      if (count === 0) fail(`row ${row} is empty; every row needs at least one number`, rowAt, row);
      if (dim < 0) dim = count;
      else if (count !== dim) {
        const where = lineColumn(bytes, firstRowAt);
        fail(`row ${row} has ${count} values but row 1 (line ${where.line}) has ${dim}; every row needs the same length`, rowAt, row);
      }
    } else {
      if (bytes[pos] === CH.open) fail(`row ${row} is an array, but row 1 is a single number; use one form for all rows`, pos, row);
      const v = number(row, `element ${row}`);
      if (row <= maxRows) out.push(v);
      dim = 1;
    }
    n++;
    skip();
    if (pos >= bytes.length) fail(`the array that starts here is not closed: expected ',' or ']' after row ${n}`, arrayStart);
  }
  pos++;
  skip();
  if (pos < bytes.length) fail(`unexpected ${describe(pos)} after the end of the top-level array`, pos);
  if (n === 0) fail('the array is empty; it needs at least one row', arrayStart);
  const kept = Math.min(n, maxRows);
  return { values: out.finish(), n: kept, dim, sourceType: 'text', source: file };
}

function lineColumn(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, bytes.length);
  for (let i = 0; i < end; i++) {
    if (bytes[i] === CH.newline) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * A JSON array of rows (`[[1, 2], [3, 4]]`) or of numbers (`[1, 2, 3]`, N x 1)
 * into a Dataset. A small scanner for just this shape of JSON works on the bytes,
 * so it can point at the exact row and value that is wrong and never builds one
 * JS array per row.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors';
import { counted } from '../core/wording';
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

const OBJECT_HINT = '; VAE Lens reads rows as arrays of numbers: write the values alone, e.g. df.to_json("data.json", orient="values") in pandas';

/** Rows nested deeper than an image's height, width and channels are not a table. */
const MAX_ROW_DEPTH = 3;

/**
 * The rows are the elements of one top-level array, or (JSON Lines: a `.jsonl`/`.ndjson` name, or a
 * second array after the first) the arrays of the file, one to a line. A row is a number, an array
 * of numbers, or an image: arrays of H arrays of W numbers (or of W arrays of C), the shape of row 1.
 */
export function parseJsonData(data: Buffer, file: string, opts?: LoaderOptions): Dataset {
  const bytes = utf16AsUtf8(data);
  const maxRows = opts?.maxRows ?? Infinity;
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let pos = bom;
  const fail = (message: string, at: number, row?: number): never => {
    // pandas' to_json writes objects unless told orient="values": say how to write what is read.
    const hint = bytes[at] === CH.brace ? OBJECT_HINT : '';
    throw new UserError(message + hint, { file, ...lineColumn(bytes, at), offset: at, length: 1, row });
  };
  const skip = (): void => {
    while (isSpace(bytes[pos])) pos++;
  };
  const describe = (at: number): string => {
    const c = bytes[at];
    if (c === undefined) return 'the end of the file';
    if (c === CH.quote) return 'a string';
    if (c === CH.brace) return 'an object with named fields';
    if (c === CH.open) return 'an array';
    const word = bytes.toString('utf8', at, Math.min(bytes.length, at + 12)).match(/^[A-Za-z]+/)?.[0];
    if (word === 'null') return 'null (a missing value: remove or impute it first)';
    if (word === 'NaN' || word === 'Infinity') return `${word} (not valid JSON, and VAE Lens needs finite numbers)`;
    if (word) return JSON.stringify(word);
    return JSON.stringify(String.fromCharCode(c));
  };
  /** `what` names the value for a message: called only on failure (a string per value would cost more than the parse). */
  const number = (row: number, what: () => string): number => {
    const start = pos;
    while (isNumberChar(bytes[pos])) pos++;
    const v = start === pos ? Number.NaN : Math.fround(parseDecimal(bytes, start, pos));
    if (v - v !== 0) {
      if (start === pos) fail(`${what()} should be a number but is ${describe(start)}`, start, row);
      const text = bytes.toString('latin1', start, pos);
      fail(
        Number.isNaN(parseDecimal(bytes, start, pos))
          ? `${what()} is ${JSON.stringify(text)}, not a valid number`
          : `${what()} is ${text}, which is beyond the float32 range (about ±3.4e38)`,
        start,
        row,
      );
    }
    return v;
  };

  skip();
  if (pos >= bytes.length) fail(bytes.length === 0 ? 'the file is empty (0 bytes); check data.path' : 'the file holds only white space, no data', 0);
  if (bytes[pos] !== CH.open) {
    fail(`expected a JSON array of rows like [[0.1, 2], [3, 4]] or of numbers like [1, 2, 3], or JSON Lines (one array per line), found ${describe(pos)}`, pos);
  }
  const lines = /\.(jsonl|ndjson)(\.gz)?$/i.test(file) || secondArrayFollows(bytes, pos);
  const out = new FloatBuilder(file);
  /** Row 1's shape below the row ([] for numbers, [D] for vectors, [H, W] or [H, W, C] for images), found as row 1 is read. */
  const shape: Array<number | undefined> = [];
  let depth = 0;
  let firstRowLine = 0;
  const shapeText = () => {
    const s = shape as number[];
    if (depth === 0) return 'a single number';
    return depth === 1 ? `an array of ${counted(s[0]!, 'number')}` : `a ${s.join(' x ')} array of numbers`;
  };
  const where = (row: number, index: readonly number[]) =>
    index.length === 0 ? `row ${row}` : depth === 1 ? `row ${row}, value ${index[0]! + 1}` : `row ${row}, element [${index.join('][')}]`;

  /** One value of row `row` at `level` (index: its place in the row); row 1 sets the shape as it goes. */
  const readValue = (row: number, level: number, index: number[]): void => {
    if (level === depth) {
      if (bytes[pos] === CH.open) fail(`${where(row, index)} is an array, but row 1 is ${shapeText()}; use one form for all rows`, pos, row);
      // A top-level array of numbers names its elements so, as there are no rows to speak of.
      const v = number(row, () => (level === 0 && !lines ? `element ${row}` : where(row, index)));
      if (row <= maxRows) out.push(v);
      return;
    }
    if (bytes[pos] !== CH.open) {
      const what = level === 0 ? `an array like row 1 (${shapeText()})` : `an array, as in row 1 (${shapeText()})`;
      fail(`${where(row, index)} should be ${what}, but is ${describe(pos)}`, pos, row);
    }
    const open = pos;
    pos++;
    skip();
    let count = 0;
    while (bytes[pos] !== CH.close) {
      if (count > 0) {
        if (bytes[pos] !== CH.comma) fail(`${where(row, index)}: expected ',' or ']' after value ${count}, found ${describe(pos)}`, pos, row);
        const comma = pos;
        pos++;
        skip();
        if (bytes[pos] === CH.close) fail(`${where(row, index)} has a comma after its last value, which JSON does not allow: remove it`, comma, row);
      }
      // One path for the whole row, pushed and popped: messages read it only when they fail.
      index.push(count);
      readValue(row, level + 1, index);
      index.pop();
      count++;
      skip();
      if (pos >= bytes.length) fail(`${where(row, index)} is not closed: expected ',' or ']' after value ${count}`, open, row);
    }
    pos++;
    if (count === 0) fail(`${where(row, index)} is empty; every row needs at least one number`, open, row);
    const want = shape[level];
    if (want === undefined) shape[level] = count;
    else if (count !== want) {
      const what =
        level === 0
          ? `${where(row, index)} has ${counted(count, 'value')} but row 1 (line ${firstRowLine}) has ${want}`
          : `${where(row, index)} has ${counted(count, 'value')} but the arrays at this depth of row 1 (line ${firstRowLine}, ${shapeText()}) have ${want}`;
      fail(`${what}; every row needs the same shape`, open, row);
    }
  };

  const readRow = (row: number): void => {
    if (row === 1 && bytes[pos] === CH.brace) fail(`row 1 is ${describe(pos)}`, pos, 1);
    if (row === 1) {
      firstRowLine = lineColumn(bytes, pos).line;
      // Row 1's depth: the brackets it opens before its first number.
      for (let i = pos; i < bytes.length && (bytes[i] === CH.open || isSpace(bytes[i])); i++) {
        if (bytes[i] === CH.open && ++depth > MAX_ROW_DEPTH)
          fail(
            `row 1 is arrays nested more than ${MAX_ROW_DEPTH} deep; VAE Lens reads rows of numbers, or images as H x W or H x W x C arrays of numbers`,
            pos,
            1,
          );
      }
    }
    readValue(row, 0, []);
  };

  let n = 0;
  if (lines) {
    for (;;) {
      skip();
      if (pos >= bytes.length) break;
      if (bytes[pos] === CH.comma)
        fail(
          `a comma after row ${n}: in JSON Lines each line is one row with nothing between them; remove the commas, or wrap all the rows in [ and ] to make one JSON array`,
          pos,
          n,
        );
      if (n > 0 && !newlineBetween(bytes, pos)) fail(`row ${n + 1} starts on the line of row ${n}; JSON Lines put one row on each line`, pos, n + 1);
      readRow(n + 1);
      n++;
    }
  } else {
    const arrayStart = pos;
    pos++;
    skip();
    while (bytes[pos] !== CH.close) {
      if (n > 0) {
        if (bytes[pos] !== CH.comma) fail(`expected ',' or ']' after row ${n}, found ${describe(pos)}`, pos, n);
        const comma = pos;
        pos++;
        skip();
        if (bytes[pos] === CH.close) fail(`a comma after the last row (row ${n}), which JSON does not allow: remove it`, comma, n);
      }
      readRow(n + 1);
      n++;
      skip();
      if (pos >= bytes.length) fail(`the array that starts here is not closed: expected ',' or ']' after row ${n}`, arrayStart);
    }
    pos++;
    skip();
    if (bytes[pos] === CH.comma)
      fail(
        `a comma after the top-level array: the file holds several arrays one after the other; wrap them all in [ and ] to make one array of rows, or write one row per line without commas (JSON Lines)`,
        pos,
      );
    if (bytes[pos] === CH.open)
      fail('a second array follows the top-level array on the same line; wrap all rows in one array, or write one row per line (JSON Lines)', pos);
    if (pos < bytes.length) fail(`unexpected ${describe(pos)} after the end of the top-level array`, pos);
    if (n === 0) fail('the array is empty; it needs at least one row', arrayStart);
  }
  const rowShape = shape as number[];
  const dim = rowShape.reduce((a, b) => a * b, 1);
  const kept = Math.min(n, maxRows);
  const ds: Dataset = { values: out.finish(), n: kept, dim, sourceType: 'text', source: file };
  if (depth >= 2) ds.imageShape = [...rowShape];
  return ds;
}

/** Whether another top-level array follows the one that starts at `at` (then the file is JSON Lines). */
function secondArrayFollows(bytes: Uint8Array, at: number): boolean {
  // Nothing but white space after the first line (a one-line array, as json.dumps and pandas write
  // one): no second array, told without walking every bracket of a large file.
  const firstLineEnd = bytes.indexOf(CH.newline, at);
  if (firstLineEnd < 0) return false;
  let rest = firstLineEnd;
  while (rest < bytes.length && isSpace(bytes[rest])) rest++;
  if (rest === bytes.length) return false;
  let depth = 0;
  let i = at;
  for (; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === CH.quote) return false; // not numeric rows: left to the parser to say what it is
    if (c === CH.open) depth++;
    else if (c === CH.close && --depth === 0) break;
  }
  for (i++; i < bytes.length && isSpace(bytes[i]); i++);
  return bytes[i] === CH.open && newlineBetween(bytes, i);
}

/** Whether a line break comes between the value before `at` (spaces skipped) and `at`. */
function newlineBetween(bytes: Uint8Array, at: number): boolean {
  for (let i = at - 1; i >= 0 && isSpace(bytes[i]); i--) if (bytes[i] === CH.newline) return true;
  return false;
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

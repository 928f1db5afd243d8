/**
 * Delimited text (CSV, TSV, semicolon- or space-separated) into a Dataset.
 * Two passes over the lines: the first samples the top of the file (delimiter,
 * header) and counts rows so the matrix is allocated once at its final size; the
 * second parses straight into it.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors';
import type { Dataset } from './dataset';
import { fileStartsWithGzip, gunzipIfNeeded, rowsToRead, type LoaderOptions } from './loaderCommon';
import { forEachLine, type TextInput } from './lines';
import { cellText, describeBadCell, parseDecimal } from './numberText';

export interface CsvOptions extends LoaderOptions {
  /** Whether the first non-comment line is a header; guessed when undefined. */
  header?: boolean;
  /** Read size for files (default 1 MiB); small values exercise lines that straddle chunks. */
  chunkBytes?: number;
}

/** ',' ';' '\t', or ' ' meaning runs of spaces/tabs; undefined for a single column. */
type Delimiter = ',' | ';' | '\t' | ' ' | undefined;

const SAMPLE_LINES = 10;
/** Longer lines are refused: they are not a table, and would not fit in one JS string. */
const MAX_LINE_BYTES = 64 << 20;
const CH_HASH = 35;
const CH_QUOTE = 34;

export function parseCsv(data: Buffer, file: string, opts?: CsvOptions): Dataset {
  return readDelimited({ kind: 'buffer', data }, file, opts);
}

/** Reads in chunks; a gzipped file (e.g. digits.csv.gz) is decompressed in memory first. */
export function readCsvFile(path: string, opts?: CsvOptions): Dataset {
  if (fileStartsWithGzip(path)) {
    return readDelimited({ kind: 'buffer', data: gunzipIfNeeded(readFileSync(path), path, opts?.maxBytes) }, path, opts);
  }
  return readDelimited({ kind: 'file', path, chunkBytes: opts?.chunkBytes }, path, opts);
}

interface FirstPass {
  sample: Array<{ text: string; line: number }>;
  contentLines: number;
}

function isSkippable(bytes: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && (bytes[i] === 32 || bytes[i] === 9)) i++;
  return i === end || bytes[i] === CH_HASH;
}

function firstPass(input: TextInput, file: string, stopAfter: number): FirstPass {
  const sample: FirstPass['sample'] = [];
  let contentLines = 0;
  forEachLine(input, (bytes, start, end, line, offset) => {
    if (end - start > MAX_LINE_BYTES) {
      throw new UserError(`line ${line} is longer than ${MAX_LINE_BYTES >> 20} MiB; this does not look like a delimited text file (check data.format)`, {
        file,
        line,
        column: 1,
        offset,
      });
    }
    if (isSkippable(bytes, start, end)) return true;
    if (sample.length < SAMPLE_LINES) sample.push({ text: bytes.toString('utf8', start, end), line });
    contentLines++;
    return contentLines < stopAfter;
  });
  return { sample, contentLines };
}

/** Split one line outside double quotes (header names may quote a delimiter). */
function splitQuoted(text: string, delimiter: Delimiter): string[] {
  if (delimiter === undefined) return [text.trim()];
  if (delimiter === ' ') return text.trim().split(/[ \t]+/);
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) {
      cells.push(cell.trim());
      cell = '';
      continue;
    }
    cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

function guessDelimiter(sample: FirstPass['sample']): Delimiter {
  let best: Delimiter;
  let bestScore = 0;
  for (const d of [',', ';', '\t'] as const) {
    const counts = sample.map((s) => splitQuoted(s.text, d).length - 1);
    if (counts[0]! === 0) continue;
    // Prefer a delimiter that splits every sampled line the same way, then the most fields.
    const consistent = counts.every((c) => c === counts[0]);
    const score = (consistent ? 1_000_000 : 0) + counts[0]!;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  if (best !== undefined) return best;
  return sample.length > 0 && /\S[ \t]+\S/.test(sample[0]!.text) ? ' ' : undefined;
}

function looksLikeData(cells: string[]): boolean {
  return cells.every((c) => {
    const t = c.replace(/^"(.*)"$/, '$1').trim();
    return t === '' || /^[+-]?(nan|inf|infinity)$/i.test(t) || !Number.isNaN(Number(t));
  });
}

function delimiterName(d: Delimiter): string {
  switch (d) {
    case ',':
      return 'comma';
    case ';':
      return 'semicolon';
    case '\t':
      return 'tab';
    case ' ':
      return 'space';
    default:
      return 'single-column';
  }
}

function readDelimited(input: TextInput, file: string, opts: CsvOptions | undefined): Dataset {
  const maxRows = opts?.maxRows;
  // +1 for a possible header line; stop counting once the limit is reached.
  const stopAfter = maxRows !== undefined ? Math.floor(maxRows) + 1 : Infinity;
  const first = firstPass(input, file, stopAfter);
  if (first.sample.length === 0)
    throw new UserError('the file has no data rows (it is empty or holds only blank and # comment lines)', { file, line: 1 });

  const delimiter = guessDelimiter(first.sample);
  const top = first.sample[0]!;
  const topCells = splitQuoted(top.text, delimiter);
  const hasHeader = opts?.header ?? !looksLikeData(topCells);
  const dataLines = first.contentLines - (hasHeader ? 1 : 0);
  if (dataLines <= 0)
    throw new UserError('the file holds a header line but no data rows below it', { file, line: top.line });
  const n = rowsToRead(dataLines, opts);
  const dataStart = hasHeader ? first.sample[1] : top;
  const dim = dataStart ? splitQuoted(dataStart.text, delimiter).length : topCells.length;
  if (hasHeader && topCells.length !== dim) {
    throw new UserError(
      `the header has ${topCells.length} names but the first data row (line ${dataStart?.line ?? '?'}) has ${dim} values; give one name per column`,
      { file, line: top.line, column: 1 },
    );
  }

  const values = new Float32Array(n * dim);
  const headerHint = opts?.header === false ? ' (data.header is false: is the first line a header?)' : '';
  const delimByte = delimiter === undefined ? -1 : delimiter.charCodeAt(0);
  let row = 0;
  let sawHeader = !hasHeader;
  forEachLine(input, (bytes, start, end, line, offset) => {
    if (isSkippable(bytes, start, end)) return true;
    if (!sawHeader) {
      sawHeader = true;
      return true;
    }
    const base = row * dim;
    let field = 0;
    const put = (s: number, e: number): void => {
      if (field >= dim) {
        throw raggedError(bytes, start, end, line, offset, delimiter, dim, file, dataStart?.line, row + 1);
      }
      const v = Math.fround(parseDecimal(bytes, s, e));
      if (v - v !== 0) {
        const raw = parseDecimal(bytes, s, e);
        const why = Number.isNaN(raw)
          ? describeBadCell(cellText(bytes, s, e, 1000), delimiter) + (row === 0 ? headerHint : '')
          : `is ${cellText(bytes, s, e)}, which is beyond the float32 range (about ±3.4e38)`;
        throw new UserError(`row ${row + 1}, field ${field + 1} ${why}`, {
          file,
          line,
          column: s - start + 1,
          offset: offset + (s - start),
          length: Math.max(1, e - s),
          row: row + 1,
        });
      }
      values[base + field] = v;
      field++;
    };
    if (delimiter === ' ') {
      let i = start;
      while (i < end) {
        while (i < end && (bytes[i] === 32 || bytes[i] === 9)) i++;
        if (i >= end) break;
        const s = i;
        while (i < end && bytes[i] !== 32 && bytes[i] !== 9) i++;
        put(s, i);
      }
    } else if (delimByte < 0) {
      put(start, end);
    } else {
      let s = start;
      for (;;) {
        let e = bytes.indexOf(delimByte, s);
        if (e < 0 || e > end) e = end;
        put(s, e);
        if (e >= end) break;
        s = e + 1;
      }
    }
    if (field !== dim) throw raggedError(bytes, start, end, line, offset, delimiter, dim, file, dataStart?.line, row + 1);
    row++;
    return row < n;
  });
  if (row !== n) {
    // The file changed between the two passes.
    throw new UserError(`the file changed while it was being read (expected ${n} rows, read ${row}); try again`, { file });
  }
  return { values, n, dim, sourceType: 'text', source: file };
}

function raggedError(
  bytes: Buffer,
  start: number,
  end: number,
  line: number,
  offset: number,
  delimiter: Delimiter,
  dim: number,
  file: string,
  firstDataLine: number | undefined,
  row: number,
): UserError {
  const count = splitQuoted(bytes.toString('utf8', start, end), delimiter).length;
  const quoted = bytes.indexOf(CH_QUOTE, start) >= 0 && bytes.indexOf(CH_QUOTE, start) < end;
  return new UserError(
    `line ${line} has ${count} ${delimiterName(delimiter)}-separated values but line ${firstDataLine ?? '?'} has ${dim}; every row needs the same number of columns` +
      (quoted ? ' (quoted cells may not contain the delimiter in data rows)' : ''),
    { file, line, column: 1, offset, length: Math.max(1, end - start), row },
  );
}

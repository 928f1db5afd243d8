/**
 * Delimited text (CSV, TSV, semicolon- or space-separated) into a Dataset.
 * Two passes over the lines: the first samples the top of the file (delimiter,
 * header) and counts rows so the matrix is allocated once at its final size; the
 * second parses straight into it.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors';
import { counted } from '../core/wording';
import type { Dataset } from './dataset';
import { checkMatrixFits, fileStartsWithGzip, fileStartsWithUtf16, gunzipIfNeeded, rowsToRead, utf16AsUtf8, type LoaderOptions } from './loaderCommon';
import { forEachLine, type TextInput } from './lines';
import { cellText, describeBadCell, isMissingMarker, isNumberForPeople, parseDecimal, readsAsNumber } from './numberText';
import { extraHeaderLinesProblem, labelIndexProblem, namedIndexNotes, unnamedIndexColumns, unnamedIndexNote, type HeaderColumn } from './csvRowIndex';

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
  return readDelimited({ kind: 'buffer', data: utf16AsUtf8(data) }, file, opts);
}

/** Reads in chunks; a gzipped file (e.g. digits.csv.gz) is decompressed, and a UTF-16 one made UTF-8, in memory first. */
export function readCsvFile(path: string, opts?: CsvOptions): Dataset {
  if (fileStartsWithGzip(path) || fileStartsWithUtf16(path)) {
    return parseCsv(gunzipIfNeeded(readFileSync(path), path, opts?.maxBytes), path, opts);
  }
  return readDelimited({ kind: 'file', path, chunkBytes: opts?.chunkBytes }, path, opts);
}

interface FirstPass {
  /** The top lines; a header whose quoted name holds a line break is one entry, to its `lastLine`. */
  sample: Array<{ text: string; line: number; lastLine?: number }>;
  contentLines: number;
  /** Excel's `sep=;` first line: the delimiter it names, and its line (no header, no data). */
  separatorLine?: { delimiter: Delimiter; line: number };
}

/** Excel reads (and some exporters write) a first line `sep=;` naming the delimiter; quoted when saved by Excel again. */
const SEPARATOR_LINE = /^"?sep=(.)"?$/i;

function separatorDirective(text: string, line: number, file: string): FirstPass['separatorLine'] {
  // Spaces around it only: the tab of `sep=<tab>` is the delimiter itself.
  const directive = text.replace(/^ +| +$/g, '');
  const named = SEPARATOR_LINE.exec(directive)?.[1] ?? (/^"?sep=\\t"?$/i.test(directive) ? '\t' : undefined);
  if (named === undefined) return undefined;
  if (named === ',' || named === ';' || named === '\t' || named === ' ') return { delimiter: named, line };
  throw new UserError(
    `line ${line} (${JSON.stringify(directive)}) says the cells are separated by ${JSON.stringify(named)}; VAE Lens reads commas, semicolons, tabs or spaces between cells: save the file with one of those`,
    { file, line, column: 1 },
  );
}

/**
 * The error values a spreadsheet writes into a cell that failed (#N/A, #DIV/0!, …), then the end of
 * the cell. They start with "#" like a comment, but a row starting with one is data with a bad cell.
 */
const SPREADSHEET_ERROR = /^#(N\/A|VALUE!|DIV\/0!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!)(?:[ \t,;]|$)/i;
const LONGEST_SPREADSHEET_ERROR = '#DIV/0!,'.length;

function isSkippable(bytes: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && (bytes[i] === 32 || bytes[i] === 9)) i++;
  if (i === end) return true;
  return bytes[i] === CH_HASH && !SPREADSHEET_ERROR.test(bytes.toString('latin1', i, Math.min(end, i + LONGEST_SPREADSHEET_ERROR)));
}

/** Lines one quoted header name may run over; a quote open longer than that is a stray one. */
const MAX_QUOTED_LINES = 8;

/** Where a line leaves a double quote open (a quoted cell running on past its end), or -1. */
function openQuoteAt(text: string): number {
  let open = -1;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) open = open < 0 ? i : -1;
  return open;
}

/** The line and column (1-based) of the quote a header's text leaves open, the header starting on `line`. */
function openQuotePlace(header: { text: string; line: number }): { line: number; column: number; rest: string } {
  const at = openQuoteAt(header.text);
  const before = header.text.slice(0, at).split('\n');
  return { line: header.line + before.length - 1, column: before[before.length - 1]!.length + 1, rest: header.text.slice(at).split('\n', 1)[0]! };
}

function unclosedHeaderQuote(header: { text: string; line: number }, lastLine: number, file: string): UserError {
  const { line, column, rest } = openQuotePlace(header);
  const shown = rest.length > 20 ? `${rest.slice(0, 20)}…` : rest;
  return new UserError(
    `line ${line}, column ${column} opens a quote (${JSON.stringify(shown)}) that no line up to line ${lastLine} closes; ` +
      'a quoted header name may hold a line break, but this quote is never closed: close it, or remove it',
    { file, line, column },
  );
}

function firstPass(input: TextInput, file: string, stopAfter: number, header: boolean | undefined): FirstPass {
  const sample: FirstPass['sample'] = [];
  let contentLines = 0;
  let separatorLine: FirstPass['separatorLine'];
  // The first line while a quoted name in it runs over line breaks (only a header may hold one).
  let openHeader: { text: string; line: number } | undefined;
  let lastLine = 0;
  forEachLine(input, (bytes, start, end, line, offset) => {
    lastLine = line;
    if (end - start > MAX_LINE_BYTES) {
      throw new UserError(`line ${line} is longer than ${MAX_LINE_BYTES >> 20} MiB; this does not look like a delimited text file (check data.format)`, {
        file,
        line,
        column: 1,
        offset,
      });
    }
    if (openHeader) {
      const text = `${openHeader.text}\n${bytes.toString('utf8', start, end)}`;
      if (openQuoteAt(text) < 0) {
        sample.push({ text, line: openHeader.line, lastLine: line });
        openHeader = undefined;
        contentLines++;
        return contentLines < stopAfter;
      }
      openHeader = { ...openHeader, text };
      if (line - openQuotePlace(openHeader).line + 1 >= MAX_QUOTED_LINES) throw unclosedHeaderQuote(openHeader, line, file);
      return true;
    }
    if (isSkippable(bytes, start, end)) return true;
    if (contentLines === 0 && separatorLine === undefined) {
      separatorLine = separatorDirective(bytes.toString('utf8', start, end), line, file);
      if (separatorLine) return true;
    }
    const text = bytes.toString('utf8', start, end);
    if (contentLines === 0 && header !== false && openQuoteAt(text) >= 0) {
      openHeader = { text, line };
      return true;
    }
    if (sample.length < SAMPLE_LINES) sample.push({ text, line });
    contentLines++;
    return contentLines < stopAfter;
  });
  if (openHeader) throw unclosedHeaderQuote(openHeader, lastLine, file);
  return separatorLine ? { sample, contentLines, separatorLine } : { sample, contentLines };
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
    // Prefer a delimiter that splits every sampled line the same way, then one that splits the lines
    // below the first into numbers ("0,5;1,5" is two decimal-comma numbers, not "0", "5;1", "5"),
    // then the most fields.
    const consistent = counts.every((c) => c === counts[0]);
    const numeric = sample.length > 1 && sample.slice(1).every((s) => looksLikeData(splitQuoted(s.text, d), d));
    const score = (consistent ? 1_000_000 : 0) + (numeric ? 100_000 : 0) + counts[0]!;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  if (best === ',' && bestScore % 1_000_000 < 100_000 && spacedDecimalCommas(sample)) return ' ';
  if (best !== undefined) return best;
  // Told by the line below the first, which is data whether or not the first is a header: a header
  // may hold one name with a space ("my value"), or one name fewer than the rows (R's write.table).
  const probe = sample[1] ?? sample[0];
  return probe && /\S[ \t]+\S/.test(probe.text) ? ' ' : undefined;
}

/**
 * Rows of decimal-comma numbers between spaces ("0,5 1,25"): split at the commas they hold no
 * numbers, split at the spaces they are all numbers, as many on every line below the first.
 */
function spacedDecimalCommas(sample: FirstPass['sample']): boolean {
  const rows = sample.slice(1).map((s) => splitQuoted(s.text, ' '));
  return (
    rows.length > 0 &&
    rows.every((r) => r.length >= 2 && r.length === rows[0]!.length && looksLikeData(r, ' ')) &&
    rows.some((r) => r.some((c) => c.includes(',')))
  );
}

const unquote = (cell: string) => cell.replace(/^"(.*)"$/s, '$1').trim();

/** Whether the line's last cell is an empty one after a delimiter (",", ";" or tab; spaces after it allowed). */
function endsWithDelimiter(text: string, delimiter: Delimiter): boolean {
  if (delimiter === undefined || delimiter === ' ') return false;
  return text.replace(/ +$/, '').endsWith(delimiter);
}

function withoutTrailingDelimiter(text: string): string {
  return text.replace(/ +$/, '').slice(0, -1);
}

/** The end of the line bytes[start, end) without the delimiter that closes it, if it ends with one. */
function endBeforeTrailingDelimiter(bytes: Buffer, start: number, end: number, delimiter: Delimiter): number {
  let e = end;
  while (e > start && bytes[e - 1] === 32) e--;
  return delimiter !== undefined && e > start && bytes[e - 1] === delimiter.charCodeAt(0) ? e - 1 : end;
}

function looksLikeData(cells: string[], delimiter: Delimiter): boolean {
  return cells.every((c) => {
    const t = unquote(c);
    return (
      t === '' || /^[+-]?(nan|inf|infinity)$/i.test(t) || readsAsNumber(t) || (readsDecimalCommas(delimiter) && DECIMAL_COMMA.test(t)) || isNumberForPeople(t)
    );
  });
}

/**
 * A first line of numbers with a missing value among them ("1,NA,3") is data with a hole in it, not
 * a header: taken for one, the row would be dropped without a word while the same NA lower down is refused.
 */
function looksLikeDataRow(cells: string[], delimiter: Delimiter): boolean {
  const missing = (c: string) => isMissingMarker(unquote(c));
  const present = cells.filter((c) => !missing(c));
  return present.length > 0 && present.length < cells.length
    ? looksLikeData(present, delimiter) && present.some((c) => unquote(c) !== '')
    : looksLikeData(cells, delimiter);
}

/**
 * A number written with a decimal comma, as spreadsheets in most of Europe write it; they separate
 * cells with ";" (or tabs, or spaces) then, so between those the comma can only be a decimal mark or
 * a thousands separator, never a delimiter.
 */
const DECIMAL_COMMA = /^[+-]?\d*,\d+(?:[eEdD][+-]?\d+)?$/;

/** Whether cells between these delimiters may write decimals with a comma. */
const readsDecimalCommas = (d: Delimiter): boolean => d === ';' || d === '\t' || d === ' ';

/**
 * A comma cell that groups thousands as well as it marks decimals (1,234  -12,500). Tab- and
 * space-separated files are written in every locale: one of only such cells is not guessed at.
 */
const GROUPS_OR_DECIMALS = /^"?[+-]?[1-9]\d{0,2},\d{3}"?$/;
const CH_COMMA = 44;
const CH_DOT = 46;
const MAX_NUMBER_BYTES = 64;
const commaCell = new Uint8Array(MAX_NUMBER_BYTES);

/** The value of a cell written with a decimal comma ("0,5"), NaN for anything else. */
function parseDecimalComma(bytes: Buffer, s: number, e: number): number {
  if (e - s > MAX_NUMBER_BYTES || !hasByte(bytes, CH_COMMA, s, e)) return Number.NaN;
  const comma = bytes.indexOf(CH_COMMA, s);
  const cell = commaCell.subarray(0, e - s);
  cell.set(bytes.subarray(s, e));
  if (cell.indexOf(CH_DOT) >= 0) return Number.NaN;
  cell[comma - s] = CH_DOT;
  return cell.indexOf(CH_COMMA) < 0 ? parseDecimal(cell, 0, cell.length) : Number.NaN;
}

/**
 * pandas names unnamed columns 0, 1, 2, … and writes those names as the header: a numeric first
 * line that is not data. Three or more, so a short data row such as "0,1" stays data.
 */
function isColumnNumbers(cells: string[]): boolean {
  const names = unquote(cells[0]!) === '' ? cells.slice(1) : cells;
  return names.length >= 3 && names.every((c, i) => unquote(c) === String(i));
}

/**
 * R's write.table names the columns but not its row names, which come first on every row: a header
 * one name short over rows whose first cells are row names ("1", "2", … or words), not fractions.
 */
function hasRowNameColumn(dataRows: FirstPass['sample'], delimiter: Delimiter): boolean {
  return (
    dataRows.length > 0 &&
    dataRows.every((r) => {
      const name = unquote(splitQuoted(r.text, delimiter)[0]!);
      return name !== '' && (/^[+-]?\d+$/.test(name) || !looksLikeData([name], delimiter));
    })
  );
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

interface Layout {
  delimiter: Delimiter;
  /** Every line ends with the delimiter (some exporters write one after the last cell): that empty field is no column. */
  trailing: boolean;
  hasHeader: boolean;
  /** Leading columns that are a row index (see csvRowIndex.ts) or R's row names, skipped. */
  skipColumns: number;
  /** Rows to read (after the limit) and values per row. */
  n: number;
  dim: number;
  /** Line of the first data row, for messages about rows that differ from it. */
  firstDataLine: number;
  /** What was guessed about the file's layout, for the user. */
  notes: string[];
  /** The line of Excel's `sep=` directive, skipped. */
  separatorLine?: number;
  /** The header's last line (a quoted name may run over several), 0 without a header. */
  headerEndLine: number;
}

/**
 * The text without its quoted parts: a quoted header name may hold a line break of any kind (a CR
 * in a file of LF lines), which ends no line. A quote left open keeps what follows it.
 */
const outsideQuotes = (text: string): string => text.replace(/"[^"]*"/g, '""');

/** Delimiter, header, shape, from the first pass. */
function detectLayout(first: FirstPass, file: string, opts: CsvOptions | undefined): Layout {
  if (first.sample.length === 0) throw new UserError('the file has no data rows (it is empty or holds only blank and # comment lines)', { file, line: 1 });
  const firstLine = first.sample[0]!;
  // Lines ended by a lone carriage return (classic Mac OS) read as one long line.
  if (outsideQuotes(firstLine.text).includes('\r'))
    throw new UserError(
      "the file's lines end with a carriage return alone (classic Mac OS line ends); VAE Lens reads \\n or \\r\\n: convert them, e.g. tr '\\r' '\\n'",
      { file, line: firstLine.line },
    );
  const delimiter = first.separatorLine ? first.separatorLine.delimiter : guessDelimiter(first.sample);
  const trailing = first.sample.every((s) => endsWithDelimiter(s.text, delimiter));
  const sample = trailing ? first.sample.map((s) => ({ ...s, text: withoutTrailingDelimiter(s.text) })) : first.sample;
  const top = sample[0]!;
  const topCells = splitQuoted(top.text, delimiter);
  const sampleCells = sample.slice(1).map((s) => splitQuoted(s.text, delimiter).map(unquote));
  const readsAsData = (cell: string) => looksLikeData([cell], delimiter);
  const unnamedIndex = opts?.header !== false ? unnamedIndexColumns(topCells.map(unquote), sampleCells, readsAsData) : 0;
  const indexColumn = unnamedIndex > 0;
  const columnNumbers = !indexColumn && looksLikeData(topCells, delimiter) && isColumnNumbers(topCells);
  const hasHeader = opts?.header ?? (indexColumn || columnNumbers || !looksLikeDataRow(topCells, delimiter));
  const dataLines = first.contentLines - (hasHeader ? 1 : 0);
  const dataStart = hasHeader ? sample[1] : top;
  if (dataLines <= 0 || !dataStart) throw new UserError('the file holds a header line but no data rows below it', { file, line: top.line });
  const cells = splitQuoted(dataStart.text, delimiter).length;
  // Data rows that all end with the delimiter under a header that does not: the empty last field is not a missing name.
  const dataTrailing = cells === topCells.length + 1 && sample.slice(1).every((s) => endsWithDelimiter(s.text, delimiter));
  const rowNames = hasHeader && !indexColumn && !dataTrailing && cells === topCells.length + 1 && hasRowNameColumn(sample.slice(1), delimiter);
  const skipColumns = rowNames ? 1 : unnamedIndex;
  if (hasHeader && topCells.length !== cells && !rowNames) {
    const openQuote = openQuoteAt(dataStart.text);
    if (!dataTrailing && openQuote >= 0)
      throw new UserError(
        `the header has ${counted(topCells.length, 'name')} but the first data row (line ${dataStart.line}) has ${counted(cells, 'value')}, ` +
          `and its quote at column ${openQuote + 1} is not closed on the line: ${QUOTE_OVER_LINE_BREAK}`,
        { file, line: dataStart.line, column: openQuote + 1 },
      );
    throw new UserError(
      dataTrailing
        ? `every data row ends with a ${delimiterName(delimiter)} (line ${dataStart.line} has ${counted(topCells.length, 'value')} and an empty field after them) but the header does not: ` +
            `remove the ${delimiterName(delimiter)} at the end of the data rows, or add one to the header line too`
        : `the header has ${counted(topCells.length, 'name')} but the first data row (line ${dataStart.line}) has ${counted(cells, 'value')}; give one name per column`,
      {
        file,
        line: top.line,
        column: 1,
      },
    );
  }
  const dim = cells - skipColumns;
  const notes: string[] = [];
  if (hasHeader) {
    const names = headerColumns(topCells, unnamedIndex, rowNames);
    const extraHeader = extraHeaderLinesProblem(
      sampleCells,
      sample.slice(1).map((s) => s.line),
      top.line,
      readsAsData,
    );
    if (extraHeader) throw new UserError(extraHeader, { file, line: dataStart.line, column: 1 });
    const labelIndex = labelIndexProblem(names, sampleCells, readsAsData);
    if (labelIndex) throw new UserError(labelIndex, { file, line: top.line, column: 1 });
    notes.push(...labelColumnNotes(names), ...namedIndexNotes(names, sampleCells));
  }
  if (trailing) notes.push(`every line ends with a ${delimiterName(delimiter)}: the empty field after it is not read as a column`);
  if (rowNames)
    notes.push(
      `the header names one column fewer than the rows hold, and column 1 holds row names: read as R's write.table writes them, row names first without a name, and skipped; the data are the other ${counted(dim, 'column')}`,
    );
  else if (indexColumn) notes.push(unnamedIndexNote(unnamedIndex, topCells.map(unquote), sampleCells, readsAsData, dim));
  else if (columnNumbers && opts?.header === undefined)
    notes.push(`line ${top.line} (0, 1, 2, …) read as a header of column numbers, as pandas writes one; set data.header to false if it is a row of data`);
  else if (hasHeader && opts?.header === undefined) notes.push(...numericNameNotes(topCells, top.line, delimiter));
  const separatorLine = first.separatorLine ? { separatorLine: first.separatorLine.line } : {};
  const headerEndLine = hasHeader ? (top.lastLine ?? top.line) : 0;
  return {
    delimiter,
    trailing,
    hasHeader,
    skipColumns,
    n: rowsToRead(dataLines, opts),
    dim,
    firstDataLine: dataStart.line,
    notes,
    headerEndLine,
    ...separatorLine,
  };
}

/**
 * A guessed header with numbers among its names may be a row of data with one bad cell: it is not
 * read, so say so rather than lose the row unseen.
 */
function numericNameNotes(topCells: string[], line: number, delimiter: Delimiter): string[] {
  const numbers = topCells.filter((c) => unquote(c) !== '' && looksLikeData([c], delimiter));
  if (numbers.length === 0) return [];
  const shown = numbers.slice(0, 3).map((c) => unquote(c));
  return [
    `line ${line} is read as a header, though ${numbers.length === 1 ? 'its cell' : 'cells such as'} ${shown.join(', ')} ${numbers.length === 1 ? 'is a number' : 'are numbers'}; ` +
      'set data.header to false if it is a row of data',
  ];
}

/** Header names of a column of class labels, as Kaggle's Fashion-MNIST CSV starts with "label". */
const LABEL_NAMES = /^(labels?|class|target)$/i;

/** The header's names of data columns: a row index's empty names are none, and under R's row names each names the column after. */
function headerColumns(topCells: string[], unnamedIndex: number, rowNames: boolean): HeaderColumn[] {
  const named = topCells.map((cell, i) => ({ name: unquote(cell), column: i + (rowNames ? 1 : 0) }));
  return named.slice(unnamedIndex);
}

/** Every column is a feature: a column named as labels are is trained on too, which the user should know. */
function labelColumnNotes(names: HeaderColumn[]): string[] {
  return names.flatMap(({ name, column }) => {
    if (!LABEL_NAMES.test(name)) return [];
    return [
      `column ${column + 1} is named ${JSON.stringify(name)}: VAE Lens trains on every column, so it is read as a feature like the others; if it holds class labels, write the file without that column`,
    ];
  });
}

/** Calls visit(start, end) for each cell of the line bytes[start, end). */
function forEachCell(bytes: Buffer, start: number, end: number, delimiter: Delimiter, visit: (s: number, e: number) => void): void {
  if (delimiter === undefined) {
    visit(start, end);
  } else if (delimiter === ' ') {
    let i = start;
    while (i < end) {
      while (i < end && (bytes[i] === 32 || bytes[i] === 9)) i++;
      if (i >= end) break;
      const s = i;
      while (i < end && bytes[i] !== 32 && bytes[i] !== 9) i++;
      visit(s, i);
    }
  } else {
    const delimByte = delimiter.charCodeAt(0);
    let s = start;
    for (;;) {
      let e = bytes.indexOf(delimByte, s);
      if (e < 0 || e > end) e = end;
      visit(s, e);
      if (e >= end) break;
      s = e + 1;
    }
  }
}

interface CellAt {
  row: number;
  field: number;
  text: string;
  line: number;
  column: number;
  offset: number;
  length: number;
}

function cellAt(bytes: Buffer, s: number, e: number, lineStart: number, line: number, offset: number, row: number, field: number): CellAt {
  return { row, field, text: cellText(bytes, s, e), line, column: s - lineStart + 1, offset: offset + (s - lineStart), length: e - s };
}

/** Whether bytes[s, e) holds `byte`: a bounded scan (Buffer.indexOf would search on to the chunk's end). */
function hasByte(bytes: Buffer, byte: number, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (bytes[i] === byte) return true;
  return false;
}

/** The first cell of a tab- or space-separated file whose comma cells all may be thousands separators as well as decimal commas. */
function groupedCommas(cell: CellAt, delimiter: Delimiter, file: string): UserError {
  const text = cell.text.replace(/^"(.*)"$/, '$1');
  return new UserError(
    `row ${cell.row}, field ${cell.field} is ${JSON.stringify(text)}: in a file with ${delimiterName(delimiter)}s between cells, and no other cell to tell, its comma may be a thousands separator ` +
      `as well as a decimal comma, so it is not guessed at. Save the file with decimals written with a point (0.5) and no thousands separators, or with ";" between cells if the comma is the decimal mark (0,5)`,
    { file, line: cell.line, column: cell.column, offset: cell.offset, length: Math.max(1, cell.length), row: cell.row },
  );
}

/** The later of two cells that write the decimal mark differently, named with the earlier. */
function mixedDecimalMarks(comma: CellAt, point: CellAt, delimiter: Delimiter, file: string): UserError {
  const later = comma.row > point.row || (comma.row === point.row && comma.field > point.field) ? comma : point;
  return new UserError(
    `row ${point.row}, field ${point.field} is ${JSON.stringify(point.text)} with a decimal point, but row ${comma.row}, field ${comma.field} is ${JSON.stringify(comma.text)} with a decimal comma: ` +
      `a file with ${delimiterName(delimiter)}s between cells should write decimals one way` +
      ' (a point beside decimal commas may be a thousands separator, as in 1.234,5); save it again with one decimal mark',
    { file, line: later.line, column: later.column, offset: later.offset, length: Math.max(1, later.length), row: later.row },
  );
}

function readDelimited(input: TextInput, file: string, opts: CsvOptions | undefined): Dataset {
  const maxRows = opts?.maxRows;
  // +1 for a possible header line; stop counting once the limit is reached.
  const stopAfter = maxRows !== undefined ? Math.floor(maxRows) + 1 : Infinity;
  const layout = detectLayout(firstPass(input, file, stopAfter, opts?.header), file, opts);
  const { delimiter, n, dim } = layout;
  checkMatrixFits(n, dim, { file, line: layout.firstDataLine });
  const values = new Float32Array(n * dim);
  const headerHint = opts?.header === false ? ' (data.header is false: is the first line a header?)' : '';
  let row = 0;
  // A file writes decimals one way: a point beside decimal commas may be a thousands separator.
  // `decimal` is a comma cell that cannot group thousands (0,5), `grouped` one that may (1,234).
  const marks: { comma?: CellAt; point?: CellAt; decimal?: CellAt; grouped?: CellAt } = {};
  const commas = readsDecimalCommas(delimiter);
  forEachLine(input, (bytes, start, lineEnd, line, offset) => {
    if (line <= layout.headerEndLine || isSkippable(bytes, start, lineEnd) || line === layout.separatorLine) return true;
    const end = layout.trailing ? endBeforeTrailingDelimiter(bytes, start, lineEnd, delimiter) : lineEnd;
    const ragged = () => raggedError(bytes, start, end, { file, line, offset, row: row + 1 }, delimiter, dim, layout);
    const base = row * dim;
    let field = 0;
    let skip = layout.skipColumns;
    forEachCell(bytes, start, end, delimiter, (s, e) => {
      if (skip > 0) {
        skip--;
        return;
      }
      if (field >= dim) throw ragged();
      let raw = parseDecimal(bytes, s, e);
      if (commas) {
        if (Number.isNaN(raw)) {
          raw = parseDecimalComma(bytes, s, e);
          if (!Number.isNaN(raw) && !(marks.decimal && marks.grouped)) {
            const at = cellAt(bytes, s, e, start, line, offset, row + 1, field + 1 + layout.skipColumns);
            marks.comma ??= at;
            if (GROUPS_OR_DECIMALS.test(at.text)) marks.grouped ??= at;
            else marks.decimal ??= at;
          }
        } else if (!marks.point && hasByte(bytes, CH_DOT, s, e))
          marks.point = cellAt(bytes, s, e, start, line, offset, row + 1, field + 1 + layout.skipColumns);
        if (marks.comma && marks.point) throw mixedDecimalMarks(marks.comma, marks.point, delimiter, file);
      }
      const v = Math.fround(raw);
      if (v - v !== 0) {
        const quotedEnd = Number.isNaN(raw) ? endOfQuotedDelimiter(bytes, s, e, end) : undefined;
        const why =
          quotedEnd !== undefined
            ? quotedDelimiterProblem(bytes.toString('utf8', s, quotedEnd).trim(), delimiter)
            : Number.isNaN(raw) && opensUnclosedQuote(bytes, s, end)
              ? `is ${JSON.stringify(cellText(bytes, s, e))}, which opens a quote that line ${line} does not close: ${QUOTE_OVER_LINE_BREAK}`
              : Number.isNaN(raw)
                ? describeBadCell(cellText(bytes, s, e, 1000), delimiter) + (row === 0 ? headerHint : '')
                : `is ${cellText(bytes, s, e)}, which is beyond the float32 range (about ±3.4e38)`;
        throw new UserError(`row ${row + 1}, field ${field + 1 + layout.skipColumns} ${why}`, {
          file,
          line,
          column: s - start + 1,
          offset: offset + (s - start),
          length: Math.max(1, (quotedEnd ?? e) - s),
          row: row + 1,
        });
      }
      values[base + field] = v;
      field++;
    });
    if (field !== dim) throw ragged();
    row++;
    return row < n;
  });
  if (delimiter !== ';' && marks.grouped && !marks.decimal) throw groupedCommas(marks.grouped, delimiter, file);
  if (row !== n) {
    // The file changed between the two passes.
    throw new UserError(`the file changed while it was being read (expected ${counted(n, 'row')}, read ${row}); try again`, { file });
  }
  return { values, n, dim, sourceType: 'text', source: file, ...(layout.notes.length > 0 ? { notes: layout.notes } : {}) };
}

/**
 * Where a quoted cell ends when the delimiter split it: bytes[s, e) opens a quote it does not close
 * (`"1` of `"1,234",2`), and the line closes it later. Undefined for any other cell.
 */
function endOfQuotedDelimiter(bytes: Buffer, s: number, e: number, lineEnd: number): number | undefined {
  let open = s;
  while (open < e && (bytes[open] === 32 || bytes[open] === 9)) open++;
  if (open >= e || bytes[open] !== CH_QUOTE || hasByte(bytes, CH_QUOTE, open + 1, e)) return undefined;
  const close = bytes.indexOf(CH_QUOTE, e);
  return close >= 0 && close < lineEnd ? close + 1 : undefined;
}

/** What a data row with quotes and the wrong count may have done: run a quoted cell over a line break, or quote a delimiter. */
function unclosedOrDelimiterHint(text: string): string {
  const open = openQuoteAt(text);
  return open >= 0
    ? ` (its quote at column ${open + 1} is not closed on the line: ${QUOTE_OVER_LINE_BREAK})`
    : ' (quoted cells may not contain the delimiter in data rows)';
}

const QUOTE_OVER_LINE_BREAK =
  'a quoted cell runs on past the line break, which only a header name may; a data cell holds one number: remove the line break inside the quotes, or the stray quote';

/** Whether the cell starting at `s` opens a double quote that nothing up to the line's end closes. */
function opensUnclosedQuote(bytes: Buffer, s: number, lineEnd: number): boolean {
  let open = s;
  while (open < lineEnd && (bytes[open] === 32 || bytes[open] === 9)) open++;
  return open < lineEnd && bytes[open] === CH_QUOTE && !hasByte(bytes, CH_QUOTE, open + 1, lineEnd);
}

/** A quoted data cell with the delimiter inside: spreadsheets write thousands separators ("1,234") or decimal commas ("0,5") so. */
function quotedDelimiterProblem(quoted: string, delimiter: Delimiter): string {
  const text = quoted.replace(/^"(.*)"$/s, '$1');
  if (delimiter === ',' && !THOUSANDS_GROUPS.test(text) && DECIMAL_COMMA.test(text))
    return `is ${JSON.stringify(text)}, quoted with a decimal comma; write decimals with a point (0.5, not 0,5), or save the file with ";" between cells`;
  return (
    `is ${JSON.stringify(text)}, quoted with a ${delimiterName(delimiter)} inside, as spreadsheets write a thousands separator: ` +
    'VAE Lens reads one plain number per cell; save the cells as plain numbers, without thousands separators'
  );
}

/** Digits in groups of three after the first: 1,234 or 12,345,678.5 */
const THOUSANDS_GROUPS = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/;

function raggedError(
  bytes: Buffer,
  start: number,
  end: number,
  at: { file: string; line: number; offset: number; row: number },
  delimiter: Delimiter,
  dim: number,
  layout: Layout,
): UserError {
  const count = splitQuoted(bytes.toString('utf8', start, end), delimiter).length;
  const quote = bytes.indexOf(CH_QUOTE, start);
  const quoted = quote >= 0 && quote < end;
  return new UserError(
    `line ${at.line} has ${counted(count, `${delimiterName(delimiter)}-separated value`)} but line ${layout.firstDataLine} has ${dim + layout.skipColumns}` +
      `${layout.trailing ? ` (not counting the empty field after the ${delimiterName(delimiter)} that ends the lines)` : ''}; every row needs the same number of columns` +
      (quoted ? unclosedOrDelimiterHint(bytes.toString('utf8', start, end)) : ''),
    { ...at, column: 1, length: Math.max(1, end - start) },
  );
}

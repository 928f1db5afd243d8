/**
 * Row indexes that pandas and R write into a CSV before the data: told from the header's names and
 * the sampled rows' cells (unquoted), for csv.ts. pandas' `df.to_csv()` writes one column per level
 * of the index, under an empty name (`,,a,b` for a MultiIndex of two levels) or the level's name;
 * R's `write.csv` writes row names under an empty name.
 */
import { counted } from '../core/wording';
import { isMissingMarker } from './numberText';

/** A header name and the column (0-based) of the rows it names. */
export interface HeaderColumn {
  name: string;
  column: number;
}

/** Whether a cell, unquoted, reads as a number (or is empty), as the CSV loader reads its cells. */
export type ReadsAsData = (cell: string) => boolean;

const WHOLE_NUMBER = /^[+-]?\d+$/;

/**
 * A cell that names a row: a word or a date, no number and no missing-value marker (NA, null, …).
 * A cell starting with a digit is one only in a column of labels (isLabelColumn).
 */
const LABEL_START = /^(?:[\p{L}_]|\d{4}-\d\d-\d\d)/u;
const isLabel = (cell: string, readsAsData: ReadsAsData): boolean => LABEL_START.test(cell) && !readsAsData(cell) && !isMissingMarker(cell);

/**
 * What a number written wrong looks like, not a label: an exponent cut short ("1.5D", "2e+"), a
 * complex number ("1+2j"), another base ("0x1G"). Cells without a letter ("50%", "1,5,5") are none either.
 */
const NUMBER_GONE_WRONG = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d*)?(?:[+-](?:\d+\.?\d*)?)?[jJ]?|0[xXoObB]\w*)$/;
const LETTER = /\p{L}/u;

/** A label that starts with a digit ("1a", "3rd", "2024-01-05x"): a letter in it, and no number in it gone wrong. */
const isDigitLabel = (cell: string, readsAsData: ReadsAsData): boolean =>
  /^\d/.test(cell) && LETTER.test(cell) && !NUMBER_GONE_WRONG.test(cell) && !readsAsData(cell) && !isMissingMarker(cell);

/**
 * Whether every cell of a column is a row label. Labels starting with a digit count only here, with
 * no number in the column: among numbers, "1a" is a number mistyped, to be named on its cell.
 */
const isLabelColumn = (cells: readonly string[], readsAsData: ReadsAsData): boolean =>
  cells.every((cell) => isLabel(cell, readsAsData) || isDigitLabel(cell, readsAsData));

/** The cells of a column that are row labels. */
const labelsIn = (cells: readonly string[], readsAsData: ReadsAsData): string[] =>
  isLabelColumn(cells, readsAsData) ? [...cells] : cells.filter((cell) => isLabel(cell, readsAsData));

/** Named columns of text are told from a column of one mistyped number by more than one row. */
const MIN_TEXT_ROWS = 2;

const column = (rows: readonly string[][], c: number): string[] => rows.map((r) => r[c] ?? '');

/**
 * The name pandas gives a column with an empty name when it reads the file back ("Unnamed: 0"), with
 * ".1" after a second of the same name: an index saved, read back as a column, and saved again.
 */
const PANDAS_UNNAMED = /^unnamed: \d+(\.\d+)?$/i;

/** A leading header name a row index pandas wrote may have: empty, or "Unnamed: N" after an empty one. */
const isIndexName = (name: string): boolean => name === '' || PANDAS_UNNAMED.test(name);

/** Whether a column's cells can be a row index's: row labels or whole numbers. */
const isIndexColumn = (cells: readonly string[], readsAsData: ReadsAsData): boolean =>
  isLabelColumn(cells, readsAsData) || cells.every((cell) => WHOLE_NUMBER.test(cell) || isLabel(cell, readsAsData));

/**
 * How many leading columns are a row index, as pandas' `to_csv` and R's `write.csv` write one: a first
 * empty header name, then more empty names or "Unnamed: N" (each time pandas read the file back and
 * saved it with its index again), over row labels or whole numbers. 0 unless every later column has
 * a name, and at least one column is left for data.
 */
export function unnamedIndexColumns(names: readonly string[], rows: readonly string[][], readsAsData: ReadsAsData): number {
  if (names[0] !== '' || rows.length === 0) return 0;
  let count = 0;
  while (count < names.length - 1 && isIndexName(names[count]!) && isIndexColumn(column(rows, count), readsAsData)) count++;
  // An empty name left (over fractions, or after the data's names) is not a column pandas wrote an index in.
  return names.slice(count).some((n) => n === '') ? 0 : count;
}

/** The note for leading columns unnamedIndexColumns found, which are skipped; `names` are the header's. */
export function unnamedIndexNote(count: number, names: readonly string[], rows: readonly string[][], readsAsData: ReadsAsData, dataColumns: number): string {
  const cells = Array.from({ length: count }, (_, c) => column(rows, c));
  const labels = cells.flatMap((values) => labelsIn(values, readsAsData));
  const numbers = cells.some((values) => values.some((v) => WHOLE_NUMBER.test(v)));
  const example = labels.length > 0 ? ` (such as ${quotedName(labels[0]!)})` : '';
  const held = labels.length > 0 ? `row labels${example}${numbers ? ' and whole numbers' : ''}` : 'whole numbers';
  const rest = `; the data are the other ${counted(dataColumns, 'column')}`;
  if (names.slice(0, count).some((n) => n !== '')) {
    const index = names.slice(0, count).map((name, c) => ({ name, column: c }));
    return (
      `${columnList(index)} hold ${held}: read as a row index pandas' to_csv wrote again each time the file was read back and saved ` +
      `(pandas names an index it reads back as a column "Unnamed: 0"), and skipped${rest}; ` +
      `pd.read_csv(path, index_col=[${range(count).join(', ')}]).to_csv(path, index=False) writes the file without them`
    );
  }
  if (count === 1)
    return `column 1 has no name in the header and holds ${held}: read as a row index (as pandas' to_csv and R's write.csv write one) and skipped${rest}`;
  return (
    `${columnNumbers(range(count))} have no name in the header and hold ${held}: read as the ${count} levels of a row index ` +
    `(as pandas' to_csv writes a MultiIndex) and skipped${rest}; df.to_csv(path, index=False) writes the file without them`
  );
}

/**
 * Named leading columns of text over columns of numbers: a row index saved under its level names
 * (`grp,k,a,b` over `x,0,…`), or a column of names. VAE Lens reads numbers only: what to say, or
 * undefined when the first column read is not such text. Whole-number columns right after the text
 * are named as the index's further levels they likely are.
 */
export function labelIndexProblem(columns: readonly HeaderColumn[], rows: readonly string[][], readsAsData: ReadsAsData): string | undefined {
  if (rows.length < MIN_TEXT_ROWS) return undefined;
  const isText = (c: HeaderColumn) => isLabelColumn(column(rows, c.column), readsAsData);
  let texts = 0;
  while (texts < columns.length && isText(columns[texts]!)) texts++;
  if (texts === 0 || texts === columns.length) return undefined;
  let levels = texts;
  while (levels < columns.length - 1 && column(rows, columns[levels]!.column).every((v) => WHOLE_NUMBER.test(v))) levels++;
  const named = columns.slice(0, levels);
  const example = column(rows, columns[0]!.column)[0]!;
  const one = named.length === 1;
  const textPart = `${columnList(named.slice(0, texts))} ${texts === 1 ? 'holds' : 'hold'} text such as ${quotedName(example)}, not numbers`;
  const levelPart =
    levels > texts
      ? `, and ${columnList(named.slice(texts))} beside ${texts === 1 ? 'it' : 'them'} ${levels - texts === 1 ? 'holds' : 'hold'} whole numbers`
      : '';
  // The index is every column up to the last of these, a skipped unnamed level before them too.
  const last = named[named.length - 1]!.column;
  const indexCol = last === 0 ? '0' : `[${range(last + 1).join(', ')}]`;
  return (
    `${textPart}${levelPart}: ${one ? 'it looks like a row index, or a column of names,' : 'they look like the levels of a row index'} that pandas' df.to_csv() wrote before the data. ` +
    `VAE Lens reads numbers only: save the data without ${one ? 'that column' : 'those columns'}, e.g. df.to_csv(path, index=False) ` +
    `(pd.read_csv(path, index_col=${indexCol}) reads this file with ${one ? 'it' : 'them'} as the index)`
  );
}

/**
 * Header names pandas gives a row index it wrote as a column: "Unnamed: 0" when a file with an unnamed
 * index is read back and saved again, "index" (or "level_0", "level_1", … for the levels of a
 * MultiIndex) after reset_index().
 */
const PANDAS_INDEX_NAMES = /^(unnamed: \d+(\.\d+)?|index|level_\d+)$/i;

/** Rows sampled before a first column counting 0, 1, 2, … is taken for a row number, whatever its name. */
const MIN_COUNTED_ROWS = 3;

/**
 * Columns over whole numbers under a name pandas gives a row index, or a first column counting the
 * rows from 0 (a RangeIndex saved under a name): they are trained on like any other, which the user
 * should know. One note for all of them, or none.
 */
export function namedIndexNotes(columns: readonly HeaderColumn[], rows: readonly string[][]): string[] {
  const whole = (c: HeaderColumn) => rows.length > 0 && column(rows, c.column).every((v) => WHOLE_NUMBER.test(v));
  const byName = columns.filter((c) => PANDAS_INDEX_NAMES.test(c.name) && whole(c));
  const first = columns[0];
  const counting =
    first !== undefined && !byName.includes(first) && rows.length >= MIN_COUNTED_ROWS && column(rows, first.column).every((v, i) => v === String(i));
  const found = counting ? [first, ...byName] : byName;
  if (found.length === 0) return [];
  const one = found.length === 1;
  const names = found.map((c) => JSON.stringify(c.name));
  const why = !counting
    ? `${one ? 'holds' : 'hold'} whole numbers, as pandas names a row index it saved as a column`
    : one
      ? 'holds the row numbers 0, 1, 2, …, as a row index saved as a column does'
      : `hold whole numbers (column ${first.column + 1} counts the rows 0, 1, 2, …), as a row index saved as a column does`;
  return [
    `${one ? 'column' : 'columns'} ${listed(found.map((c) => String(c.column + 1)))} ${one ? 'is' : 'are'} named ${listed(names)} and ${why}: ` +
      `VAE Lens trains on every column, so ${one ? 'it is' : 'they are'} read as ${one ? 'a feature' : 'features'} like the others; ` +
      `if ${one ? 'it numbers' : 'they number'} the rows, save the file without ${one ? 'it' : 'them'} (df.drop(columns=[${names.join(', ')}]).to_csv(path, index=False))`,
  ];
}

/** "columns 1 and 2", of 0-based columns. */
function columnNumbers(columns: readonly number[]): string {
  return `${columns.length === 1 ? 'column' : 'columns'} ${listed(columns.map((c) => String(c + 1)))}`;
}

/** "column 1 (\"grp\")", "columns 1 and 2 (\"grp\", \"k\")". */
function columnList(named: readonly HeaderColumn[]): string {
  return `${columnNumbers(named.map((c) => c.column))} (${named.map((c) => (c.name === '' ? 'no name' : JSON.stringify(c.name))).join(', ')})`;
}

/** "1", "1 and 2", "1, 2 and 3". */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const quotedName = (text: string): string => JSON.stringify(text);

/** A row of names, not data: text cells (and empty ones), no number. */
const isNameRow = (cells: readonly string[], readsAsData: ReadsAsData): boolean =>
  cells.some((c) => isLabel(c, readsAsData)) && cells.every((c) => c === '' || isLabel(c, readsAsData));

/**
 * Lines of names right under the header, before rows of numbers: pandas' to_csv writes one header
 * line per level of MultiIndex columns (and one of the index's names under them). What to say, or
 * undefined. `rows` are the sampled lines below the header, `lines` their line numbers.
 */
export function extraHeaderLinesProblem(rows: readonly string[][], lines: readonly number[], headerLine: number, readsAsData: ReadsAsData): string | undefined {
  let names = 0;
  while (names < rows.length && isNameRow(rows[names]!, readsAsData)) names++;
  if (names === 0 || names === rows.length) return undefined;
  const last = lines[names - 1]!;
  const example = rows[0]!.find((c) => isLabel(c, readsAsData))!;
  return (
    `line${names === 1 ? '' : 's'} ${names === 1 ? last : `${lines[0]}${names === 2 ? ' and' : ' to'} ${last}`} below the header hold${names === 1 ? 's' : ''} names (such as ${quotedName(example)}), no numbers: ` +
    `lines ${headerLine}${last === headerLine + 1 ? ' and' : ' to'} ${last} are all header lines, as pandas' to_csv writes columns of several levels (a MultiIndex). VAE Lens reads one header line: ` +
    `join each column's levels into one name before saving, df.columns = ["_".join(map(str, c)) for c in df.columns]; df.to_csv(path, index=False)`
  );
}

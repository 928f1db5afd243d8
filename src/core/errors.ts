/**
 * Errors caused by the user's input (a spec, a data file, a command line).
 * They carry where the problem is so every front end (CLI, editor diagnostics,
 * panel) can point at it, and they are shown without a stack trace.
 */
import { number, object, optional, string, type Infer } from './guard';

export const sourceLocation = object({
  /** Path of the file the problem is in, as given by the user (or absolute). */
  file: optional(string),
  /** 1-based line and column. */
  line: optional(number),
  column: optional(number),
  /** Byte/character offset and length in the file, for editor ranges. */
  offset: optional(number),
  length: optional(number),
  /** Dotted path of the spec field, e.g. `model.encoder.hidden[1]`. */
  field: optional(string),
  /** 1-based data row (CSV line, array element...). */
  row: optional(number),
});
export type SourceLocation = Infer<typeof sourceLocation>;

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly location: SourceLocation = {},
    /** Further problems found in the same input, reported together. */
    readonly more: ReadonlyArray<{ message: string; location: SourceLocation }> = [],
  ) {
    super(message);
  }
}

/**
 * Where a value the user chose came from (a spec field, a command-line flag, an editor setting), so that
 * a problem with it names what to change: `name` as the user knows it, `location` to place it.
 */
export interface ValueSource {
  name: string;
  location: SourceLocation;
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError || (e instanceof Error && e.name === 'UserError');
}

/** Characters a message must not carry raw: a terminal would obey them, cut the line at them, or show nothing. */
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A name or path the user wrote, in double quotes, every control character escaped (JSON's escapes, and \uXXXX where JSON has none). */
export function quoted(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A path for a message: as it is, or quoted() when it holds a control character (a NUL, a newline, an escape). */
export function shownPath(p: string): string {
  return CONTROL.test(p) ? quoted(p) : p;
}

/**
 * A path as one word to paste into a shell command: as it is when plain, else in single quotes, or as
 * $'…' (bash, zsh) with control characters escaped, so the command shown runs on the path meant.
 */
export function shellWord(p: string): string {
  if (/^[\w@%+=:,./-]+$/.test(p)) return p;
  if (!CONTROL.test(p)) return `'${p.replace(/'/g, `'\\''`)}'`;
  const escaped = [...p].map((c) => {
    if (c === "'" || c === '\\') return `\\${c}`;
    if (!CONTROL.test(c)) return c;
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return `$'${escaped.join('')}'`;
}

/** `file:line:column: field: message` — the form compilers use, so terminals make it clickable. */
export function formatLocation(loc: SourceLocation): string {
  const parts: string[] = [];
  if (loc.file) {
    let p = shownPath(loc.file);
    if (loc.line !== undefined) {
      p += `:${loc.line}`;
      if (loc.column !== undefined) p += `:${loc.column}`;
    }
    parts.push(p);
  }
  if (loc.row !== undefined && loc.line === undefined) parts.push(`row ${loc.row}`);
  if (loc.field) parts.push(loc.field);
  return parts.join(': ');
}

export function formatUserError(e: UserError): string {
  const lines = [e, ...e.more].map((p) => {
    // Messages often name the file ("/runs/x/run.json is not ...") or start with the field
    // ("model.latentDim is -1 ..."), or both: do not say either twice.
    const { file, field, line, row } = p.location;
    const shown = file === undefined ? undefined : shownPath(file);
    const namesFile = shown !== undefined && line === undefined && p.message.includes(shown);
    const rest = namesFile && p.message.startsWith(`${shown}: `) ? p.message.slice(shown.length + 2) : p.message;
    const namesRow = row !== undefined && new RegExp(`\\brow ${row}\\b`).test(p.message);
    const loc = {
      ...p.location,
      file: namesFile ? undefined : file,
      field: field && rest.startsWith(field) ? undefined : field,
      row: namesRow ? undefined : row,
    };
    const where = formatLocation(loc);
    return where ? `${where}: ${p.message}` : p.message;
  });
  return lines.join('\n');
}

/** Offsets where each line of `text` begins (index i = start of line i, 0-based). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Offset → 0-based line and character, by binary search over `lineStarts(text)`; clamped to the text. */
export function positionIn(starts: readonly number[], text: string, offset: number): { line: number; character: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= end) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: end - starts[lo]! };
}

/** Offset → 1-based line and column. For many offsets in one text, build lineStarts once and use positionIn. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const p = positionIn(lineStarts(text), text, offset);
  return { line: p.line + 1, column: p.character + 1 };
}

/** Closest candidate by edit distance, for "did you mean". */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  // A truncated name ("laten" for "latentDim") is far in edit distance but obvious to a reader.
  const prefixed = candidates.filter((c) => w.length >= 3 && c.toLowerCase().startsWith(w));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * JSON syntax errors as a spec's author should read them. Specs are often written with the habits of
 * another language (NaN and single quotes from JavaScript or JSON5, True and None from Python, 0x10,
 * +1, .5): the parser sees an unknown symbol and then, on the brackets after it, values and names it
 * expected. Such a token is named here with what JSON wants instead, and the errors it caused are
 * left out. Pure.
 */
import { parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';

export interface SyntaxProblem {
  message: string;
  offset: number;
  length: number;
}

/** The quotes a word processor, a chat app or a web page puts for " and '. */
const TYPOGRAPHIC_QUOTE = /[“”„‟«»‘’‚‛‹›]/;
const TYPOGRAPHIC_ENDS = /^[“”„‟«»‘’‚‛‹›]+|[“”„‟«»‘’‚‛‹›]+$/g;

/** Spaces other than JSON's (space, tab, line feed, carriage return) that text copied from a page or a document carries. */
const PASTED_SPACES = /^[\u00a0\u1680\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff]+/;
const SPACE_NAMES: Record<string, string> = {
  '\u00a0': 'a no-break space',
  '\u200b': 'a zero-width space',
  '\u202f': 'a narrow no-break space',
  '\u2060': 'a word joiner',
  '\u3000': 'an ideographic space',
  '\ufeff': 'a zero-width no-break space',
};

function pastedSpaceMessage(space: string): string {
  const code = `U+${space.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${SPACE_NAMES[space] ?? 'a typographic space'} (${code}), as text copied from a web page or a document carries, is not a space JSON knows: replace it with a plain space`;
}

/** What JSON wants instead of a token it does not know; undefined for one not recognised. */
function foreignTokenMessage(token: string): string | undefined {
  const spaces = PASTED_SPACES.exec(token);
  if (spaces) return pastedSpaceMessage(token[0]!);
  if (TYPOGRAPHIC_QUOTE.test(token[0]!) || TYPOGRAPHIC_QUOTE.test(token[token.length - 1]!))
    return `${token}: typographic quotes (as a word processor or a chat app types them) are not JSON's; write ${JSON.stringify(token.replace(TYPOGRAPHIC_ENDS, ''))}`;
  if (/^-?(NaN|Infinity)$/.test(token)) return `${token} is not a JSON number: JSON has no NaN or Infinity; write a finite number`;
  const hex = /^-?0[xX]([0-9a-fA-F]+)$/.exec(token);
  if (hex) return `${token}: JSON numbers are decimal; write ${token.startsWith('-') ? '-' : ''}${parseInt(hex[1]!, 16)}`;
  if (/^\d+(_\d+)+$/.test(token)) return `${token}: JSON numbers have no digit separators; write ${token.replace(/_/g, '')}`;
  if (/^\+\d/.test(token)) return `${token}: JSON numbers have no "+" sign; write ${token.slice(1)}`;
  if (/^-?\.\d/.test(token)) return `${token}: a JSON number starts with a digit; write ${token.replace('.', '0.')}`;
  if (/^'.*'$/.test(token)) return `${token}: JSON takes double quotes, not single quotes; write ${JSON.stringify(token.slice(1, -1))}`;
  const python: Record<string, string> = { True: 'true', False: 'false', None: 'null' };
  if (python[token]) return `${token} is not a JSON value: JSON writes ${python[token]} (in lowercase)`;
  if (/^[A-Za-z_$][\w$-]*$/.test(token)) return `${token} is not a JSON value: a string takes double quotes; write ${JSON.stringify(token)}`;
  return undefined;
}

/**
 * The whole token an unknown-symbol error is part of: the parser splits "-Infinity" after the sign,
 * "0x10" after the 0, "1_000" after the 1, and a single-quoted string at its spaces.
 */
function tokenAt(text: string, offset: number, length: number): { start: number; end: number } {
  let start = offset;
  let end = offset + length;
  if (text[start - 1] === '0' && /^[xX]/.test(text.slice(start, end)) && !/[\d.]/.test(text[start - 2] ?? '')) start--;
  else if (text[start] === '_' && /\d/.test(text[start - 1] ?? '')) while (start > 0 && /\d/.test(text[start - 1]!)) start--;
  if (text.slice(start, end) === '-') end += /^(Infinity|NaN)?/.exec(text.slice(end))![0].length;
  else if (text[start - 1] === '-' && /^0[xX]/.test(text.slice(start, end))) start--;
  if (text[start] === "'" && (end - start < 2 || text[end - 1] !== "'")) {
    const close = text.indexOf("'", start + 1);
    const lineEnd = text.indexOf('\n', start);
    if (close >= 0 && (lineEnd < 0 || close < lineEnd)) end = close + 1;
  }
  // A typographically quoted string the parser split at its spaces: up to its closing quote on the line.
  if (TYPOGRAPHIC_QUOTE.test(text[start] ?? '') && (end - start < 2 || !TYPOGRAPHIC_QUOTE.test(text[end - 1]!))) {
    const rest = text.slice(start + 1, (text.indexOf('\n', start) + 1 || text.length + 1) - 1);
    const close = rest.search(TYPOGRAPHIC_QUOTE);
    if (close >= 0) end = start + 2 + close;
  }
  return { start, end };
}

/** A "#" first on its line (spaces before it) starts a YAML or Python comment: the rest of the line, as one problem. */
function hashComment(text: string, offset: number): SyntaxProblem | undefined {
  if (text[offset] !== '#') return undefined;
  const lineStart = Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
  if (!/^[ \t]*$/.test(text.slice(lineStart, offset))) return undefined;
  const end = /[\r\n]|$/.exec(text.slice(offset))!.index + offset;
  return { message: 'invalid JSON: "#" starts a comment in YAML or Python, not in JSON: write // instead', offset, length: end - offset };
}

/** The most foreign tokens named in one text; past that, the parser's own errors are shown. */
const MAX_FOREIGN = 20;

/**
 * The parse errors of `text` (`errors`, from parsing it with comments and trailing commas allowed), in
 * order: each foreign token as one located problem. The errors it caused are found by parsing again
 * with the token replaced by a valid one of the same length, so the other errors keep their places.
 */
export function readableSyntaxErrors(text: string, errors: readonly ParseError[], describe: (code: string) => string): SyntaxProblem[] {
  const foreign: SyntaxProblem[] = [];
  let repaired = text;
  let remaining = errors;
  for (;;) {
    const found = foreign.length < MAX_FOREIGN ? firstForeignToken(repaired, remaining) : undefined;
    if (!found) break;
    foreign.push(found);
    const n = found.length;
    // A pasted space or a comment stands where a space goes: a value in its place would be an error of its own.
    const token = repaired.slice(found.offset, found.offset + n);
    const blank = PASTED_SPACES.exec(token)?.[0] === token || token.startsWith('#');
    const stand = blank ? ' '.repeat(n) : n >= 2 ? `"${'x'.repeat(n - 2)}"` : '0';
    repaired = repaired.slice(0, found.offset) + stand + repaired.slice(found.offset + n);
    const again: ParseError[] = [];
    parseTree(repaired, again, { allowTrailingComma: true, disallowComments: false });
    remaining = again;
  }
  const rest = remaining.map((e) => ({ message: `invalid JSON: ${describe(printParseErrorCode(e.error))}`, offset: e.offset, length: e.length }));
  return [...foreign, ...rest].sort((a, b) => a.offset - b.offset);
}

function firstForeignToken(text: string, errors: readonly ParseError[]): SyntaxProblem | undefined {
  for (const e of errors) {
    if (printParseErrorCode(e.error) !== 'InvalidSymbol') continue;
    const comment = hashComment(text, e.offset);
    if (comment) return comment;
    const { start, end } = tokenAt(text, e.offset, e.length);
    const message = foreignTokenMessage(text.slice(start, end));
    if (message !== undefined) return { message: `invalid JSON: ${message}`, offset: start, length: end - start };
  }
  return undefined;
}

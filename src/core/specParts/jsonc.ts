/**
 * The JSONC layer of spec parsing: the text to a syntax tree (comments and trailing commas allowed, nesting
 * bounded), plain values out of the tree, and where a field is in the text (line, column, offset).
 */
import { createScanner, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { lineStarts, positionIn, UserError, type SourceLocation } from '../errors';
import { withoutBom } from '../text';
import { readableSyntaxErrors } from './syntaxErrors';

/** Editors that save a UTF-8 byte order mark hide it; locations are counted as they show the text. */

/** A located SourceLocation for a node (or an offset) of `text` in `file`. */
export type Locate = (node: Node | undefined, field: string, offset?: number, length?: number) => SourceLocation;

export function locator(text: string, file: string): Locate {
  const lineColumn = lineIndex(text);
  return (node, field, offset, length) => {
    const off = offset ?? node?.offset ?? 0;
    return { file, ...lineColumn(off), offset: off, length: length ?? node?.length ?? 1, field: field || undefined };
  };
}

/** The syntax tree of a spec's text (without its BOM); throws a UserError listing every syntax problem. */
export function parseJsoncTree(text: string, locate: Locate): Node {
  // jsonc-parser recurses once per level: thousands of "[" would overflow the stack.
  const tooDeep = offsetBeyondDepth(text, MAX_NESTING);
  if (tooDeep !== undefined)
    throw new UserError(`invalid spec: nested more than ${MAX_NESTING} levels deep; a spec needs at most 4`, locate(undefined, '', tooDeep, 1));
  if (onlyTrivia(text)) throw new UserError(EMPTY_SPEC, locate(undefined, '', 0, 0));
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length > 0 || !root) {
    const errs = readableSyntaxErrors(text, parseErrors, describeParseError).map((e) => ({
      message: e.message,
      location: locate(undefined, '', e.offset, e.length),
    }));
    if (errs.length === 0) errs.push({ message: EMPTY_SPEC, location: locate(undefined, '', 0, 0) });
    throw new UserError(errs[0]!.message, errs[0]!.location, errs.slice(1));
  }
  return root;
}

/**
 * Where strict JSON (no comments, no trailing commas) first goes wrong in `text`, as "line L, column C:
 * what", for a file that JSON.parse refused; undefined when no place can be named.
 */
export function jsonSyntaxProblem(text: string): string | undefined {
  if (text.trim() === '') return 'the file is empty';
  const tooDeep = offsetBeyondDepth(text, MAX_NESTING);
  const errors: ParseError[] = [];
  if (tooDeep === undefined) parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const [offset, what] =
    tooDeep !== undefined
      ? [tooDeep, `nested more than ${MAX_NESTING} levels deep`]
      : errors[0]
        ? [errors[0].offset, endsEarly(text, errors[0]) ? CUT_SHORT : describeParseError(printParseErrorCode(errors[0].error))]
        : [];
  if (offset === undefined) return undefined;
  const { line, column } = lineIndex(text)(offset);
  return `line ${line}, column ${column}: ${what}`;
}

const CUT_SHORT = 'the file ends before its JSON does: it was cut short (an interrupted copy or write)';

/** A first error that reaches the end of the text: what a file cut short anywhere gives. */
const endsEarly = (text: string, first: ParseError): boolean => first.offset + first.length >= text.trimEnd().length;

/** 1-based line and column for many offsets in one text (a file with thousands of problems stays O(n log n)). */
function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = lineStarts(text);
  return (offset) => {
    const p = positionIn(starts, text, offset);
    return { line: p.line + 1, column: p.character + 1 };
  };
}

const MAX_NESTING = 64;

const EMPTY_SPEC = 'the file is empty; a spec is a JSON object such as { "data": { "synthetic": "swiss_roll" }, "model": { "latentDim": 2 } }';

/** Whether the text holds nothing but whitespace and comments (a new file, or one with its body deleted). */
function onlyTrivia(text: string): boolean {
  const EOF = 17;
  const scanner = createScanner(text, true);
  return scanner.scan() === EOF;
}

/** Offset of the first "{" or "[" that opens level `max + 1`, found without recursion (strings and comments skipped). */
function offsetBeyondDepth(text: string, max: number): number | undefined {
  const OPEN_BRACE = 1;
  const CLOSE_BRACE = 2;
  const OPEN_BRACKET = 3;
  const CLOSE_BRACKET = 4;
  const EOF = 17;
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== EOF; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      if (++depth > max) return scanner.getTokenOffset();
    } else if (token === CLOSE_BRACE || token === CLOSE_BRACKET) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function describeParseError(code: string): string {
  const map: Record<string, string> = {
    InvalidSymbol: 'unexpected character',
    InvalidNumberFormat: 'malformed number',
    PropertyNameExpected: 'expected a property name in double quotes',
    ValueExpected: 'expected a value',
    ColonExpected: 'expected ":" after the property name',
    CommaExpected: 'expected "," between entries',
    CloseBraceExpected: 'expected "}"',
    CloseBracketExpected: 'expected "]"',
    EndOfFileExpected: 'unexpected text after the closing "}"',
    UnexpectedEndOfString: 'unterminated string',
    UnexpectedEndOfComment: 'unterminated comment',
    UnexpectedEndOfNumber: 'unterminated number',
    InvalidCommentToken: 'malformed comment',
    InvalidUnicode: 'a \\u escape needs four hexadecimal digits',
    InvalidEscapeCharacter: 'a backslash before a character JSON does not escape (use \\\\ for a backslash)',
    InvalidCharacter: 'a control character inside a string (write a line break as \\n, a tab as \\t)',
  };
  return map[code] ?? `malformed JSON (${code})`;
}

export function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      // No prototype: a key such as "__proto__" is then a plain own entry, never the object's prototype.
      const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const pair of node.children ?? []) {
        const [k, v] = pair.children ?? [];
        if (k && v) o[k.value as string] = nodeValue(v);
      }
      return o;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

export function findNode(root: Node, field: string): Node | undefined {
  let node: Node | undefined = root;
  for (const part of field.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (!node) return undefined;
    if (node.type === 'array') node = node.children?.[Number(part)];
    else node = node.children?.find((p) => p.children?.[0]?.value === part)?.children?.[1];
  }
  return node;
}

/**
 * Where a field of a spec is in its text (line, column, offset), for problems found after
 * parsing (a layer that does not fit the data): the location as given when it is not there.
 */
export function locateInSpec(text: string, location: SourceLocation): SourceLocation {
  if (location.field === undefined || location.line !== undefined) return location;
  const body = withoutBom(text);
  const root = parseTree(body, [], { allowTrailingComma: true, disallowComments: false });
  const node = root && findNode(root, location.field);
  if (!node) return location;
  return { ...location, ...lineIndex(body)(node.offset), offset: node.offset, length: node.length };
}

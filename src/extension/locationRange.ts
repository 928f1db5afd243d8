/**
 * Maps a UserError location (offset/length or 1-based line/column) to a 0-based editor
 * range. Pure, so it is unit-tested without VS Code; specDiagnostics turns it into a Range.
 */
import type { SourceLocation } from '../core/errors';

export interface Position0 {
  line: number;
  character: number;
}
export interface Range0 {
  start: Position0;
  end: Position0;
}

/** 0-based line starts of `text` (index i = offset where line i begins). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function positionAt(starts: readonly number[], text: string, offset: number): Position0 {
  const off = Math.max(0, Math.min(offset, text.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= off) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: off - starts[lo]! };
}

/**
 * The range a diagnostic should underline. Offsets win (they are exact); a bare
 * line/column underlines the word starting there; no location marks the first line.
 */
export function locationToRange(loc: SourceLocation, text: string, starts: readonly number[] = lineStarts(text)): Range0 {
  if (loc.offset !== undefined) {
    const start = positionAt(starts, text, loc.offset);
    const end = positionAt(starts, text, loc.offset + Math.max(loc.length ?? 1, 1));
    return { start, end: sameOrAfter(start, end) };
  }
  if (loc.line !== undefined) {
    const line = Math.max(0, Math.min(loc.line - 1, starts.length - 1));
    const lineStart = starts[line]!;
    const lineEnd = line + 1 < starts.length ? starts[line + 1]! - 1 : text.length;
    const character = Math.max(0, Math.min((loc.column ?? 1) - 1, lineEnd - lineStart));
    let endChar = character;
    while (lineStart + endChar < lineEnd && !/[\s,:{}[\]]/.test(text[lineStart + endChar]!)) endChar++;
    if (endChar === character) endChar = loc.column === undefined ? lineEnd - lineStart : Math.min(character + 1, lineEnd - lineStart);
    if (loc.column === undefined) return { start: { line, character: 0 }, end: { line, character: lineEnd - lineStart } };
    return { start: { line, character }, end: { line, character: endChar } };
  }
  const firstLineEnd = starts.length > 1 ? starts[1]! - 1 : text.length;
  return { start: { line: 0, character: 0 }, end: { line: 0, character: firstLineEnd } };
}

function sameOrAfter(start: Position0, end: Position0): Position0 {
  return end.line < start.line || (end.line === start.line && end.character < start.character) ? start : end;
}

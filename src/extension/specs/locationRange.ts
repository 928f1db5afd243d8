/**
 * Maps a UserError location (offset/length or 1-based line/column) to a 0-based editor
 * range. Pure, so it is unit-tested without VS Code; specDiagnostics turns it into a Range.
 */
import { lineStarts, positionIn, type SourceLocation } from '../../core/errors';

export interface Position0 {
  line: number;
  character: number;
}
export interface Range0 {
  start: Position0;
  end: Position0;
}

/** The offset → line index lives in core (the spec validator uses it too). */
export { lineStarts };

export function positionAt(starts: readonly number[], text: string, offset: number): Position0 {
  return positionIn(starts, text, offset);
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

/**
 * Has a spec changed since a run? Compared by meaning, not by bytes: comments,
 * whitespace and key order do not make a run stale; any value that differs does.
 * When either text does not parse, or is too big to be a spec, only identical text counts as unchanged.
 */
import { parse, type ParseError } from 'jsonc-parser';
import { MAX_SPEC_BYTES } from './spec';

export function specChangedSince(currentText: string, snapshotText: string): boolean {
  if (currentText === snapshotText) return false;
  // Not a spec (the trainer refuses it): not worth parsing on every edit.
  if (currentText.length > MAX_SPEC_BYTES || snapshotText.length > MAX_SPEC_BYTES) return true;
  const a = parseQuiet(currentText);
  const b = parseQuiet(snapshotText);
  if (a === undefined || b === undefined) return true;
  return canonical(a) !== canonical(b);
}

function parseQuiet(text: string): unknown {
  const errors: ParseError[] = [];
  const v: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  return errors.length > 0 ? undefined : v;
}

/** JSON with object keys sorted, so key order does not matter. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => k !== '$schema')
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

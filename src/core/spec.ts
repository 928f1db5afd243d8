/**
 * `*.vae.json` specs: parse (comments allowed), validate against SPEC_SCHEMA with file/line/column/field
 * for every problem, fill in defaults, and list the warnings where the entropy theorem cannot hold. Each
 * step has its own module in specParts/; this file runs them in order.
 */
import * as path from 'node:path';
import { UserError } from './errors';
import { shapeLayoutWarning } from './imageLayout';
import { runsDirSpellingWarning } from './pathHints';
import { SPEC_SCHEMA } from './specSchema';
import { DEFAULT_DIAGNOSTIC_SUBSET } from './defaults';
import { scriptSpecProblems, scriptSpecWithDefaults, type ParsedScriptSpec, type RawScriptSpec } from './scriptSpec';
import { findNode, locator, nodeValue, parseJsoncTree } from './specParts/jsonc';
import { withoutBom } from './text';
import { schemaProblems } from './specParts/schemaCheck';
import { semanticProblems, unusedDataFieldWarnings, unusedModelFieldWarnings } from './specParts/semanticChecks';
import { theoremWarnings, windowWarnings } from './specParts/theoremWarnings';
import type { ParsedSpec, SpecWarning } from './specParts/types';
import { withDefaults, type RawSpec } from './specParts/withDefaults';

export type * from './specParts/types';
export { DEFAULT_DIAGNOSTIC_SUBSET };

/** A spec file: a model for VAE Lens's trainer, or a training script to run (core/scriptSpec.ts). */
export type SpecDocument = { kind: 'model'; parsed: ParsedSpec } | { kind: 'script'; parsed: ParsedScriptSpec };

/**
 * Parse and validate a model spec. Throws a UserError listing every problem found
 * (the first as the error itself, the rest in `more`), and for a script spec.
 */
export function parseSpec(original: string, file = 'spec.vae.json'): ParsedSpec {
  const doc = parseSpecDocument(original, file);
  if (doc.kind === 'script')
    throw new UserError(
      `${path.basename(file)} runs a training script (trainer.command): it defines no model for VAE Lens's own trainer`,
      doc.parsed.trainerLocation,
    );
  return doc.parsed;
}

/** Specs are a few kilobytes; a bigger file is something else named *.vae.json, not worth parsing whole. */
export const MAX_SPEC_BYTES = 1 << 20;

/** Parse and validate either kind of spec; throws a UserError as parseSpec does. */
export function parseSpecDocument(original: string, file = 'spec.vae.json'): SpecDocument {
  // Before any parsing: the editor checks the text on opening it and after each edit.
  if (original.length > MAX_SPEC_BYTES / 4 && Buffer.byteLength(original, 'utf8') > MAX_SPEC_BYTES)
    throw new UserError('invalid spec: over 1 MiB; a spec is a small JSON file (at most 1 MiB). Is it the right file?', {
      file,
      line: 1,
      column: 1,
      offset: 0,
      length: 1,
    });
  const text = withoutBom(original);
  const locate = locator(text, file);
  const root = parseJsoncTree(text, locate);
  const outputWarnings = (runsDir: string | undefined): SpecWarning[] => {
    const message = runsDirSpellingWarning(runsDir);
    return message === undefined ? [] : [{ message, location: locate(findNode(root, 'output.runsDir'), 'output.runsDir') }];
  };
  const raw = nodeValue(root) as RawSpec;
  const problems = schemaProblems(root, raw, SPEC_SCHEMA);
  if (problems.length > 0) {
    const errs = problems.map((p) => ({ message: p.message, location: locate(p.node, p.field) }));
    throw new UserError(errs[0]!.message, errs[0]!.location, errs.slice(1));
  }

  if ((raw as Partial<RawScriptSpec>).trainer !== undefined) {
    const rawScript = raw as unknown as RawScriptSpec & Record<string, unknown>;
    const bad = scriptSpecProblems(rawScript).map((p) => ({ message: p.message, location: locate(findNode(root, p.field), p.field) }));
    if (bad.length > 0) throw new UserError(bad[0]!.message, bad[0]!.location, bad.slice(1));
    const trainerLocation = locate(findNode(root, 'trainer'), 'trainer');
    const spec = scriptSpecWithDefaults(rawScript, file);
    const warnings = [
      ...windowWarnings(spec.diagnostics.window).map((w) => ({ message: w.message, location: locate(findNode(root, w.field), w.field) })),
      ...outputWarnings(spec.output.runsDir),
    ];
    return { kind: 'script', parsed: { spec, warnings, text: original, trainerLocation } };
  }
  const spec = withDefaults(raw, file);
  const semantic = semanticProblems(spec, raw);
  if (semantic.length > 0) {
    const errs = semantic.map((p) => ({ message: p.message, location: locate(findNode(root, p.field), p.field) }));
    throw new UserError(errs[0]!.message, errs[0]!.location, errs.slice(1));
  }
  const warnings = [
    ...[...theoremWarnings(spec), ...unusedModelFieldWarnings(spec, raw), ...unusedDataFieldWarnings(spec)].map((w) => ({
      message: w.message,
      location: locate(findNode(root, w.field), w.field),
    })),
    ...outputWarnings(spec.output.runsDir),
    ...[shapeLayoutWarning(spec.data.shape, spec.data.layout)].flatMap((message) =>
      message === undefined ? [] : [{ message, location: locate(findNode(root, 'data.shape'), 'data.shape') }],
    ),
  ];
  return { kind: 'model', parsed: { spec, warnings, text: original } };
}

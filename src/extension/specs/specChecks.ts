/**
 * Everything the editor underlines in a *.vae.json: schema and JSON errors from parseSpec
 * (every entry of a UserError's `more` too), the theorem warnings, and the checks the
 * schema cannot make: does the data file exist, may it be read (workspace), does its
 * first bytes look like the format. Pure apart from small synchronous file reads; no vscode.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { findNodeAtLocation, parseTree, type JSONPath } from 'jsonc-parser';
import { isUserError, shownPath, type SourceLocation } from '../../core/errors';
import { parseSpecDocument, type FileDataSpec, type SpecDocument, type VaeSpec } from '../../core/spec';
import { detectFormat, resolveDataPath } from '../../data/load';
import { planSpec, type SpecCheckOptions } from './layerChecks';
import { lineStarts, locationToRange, type Range0 } from './locationRange';

export type { SpecCheckOptions };

export interface SpecProblem {
  severity: 'error' | 'warning' | 'information';
  message: string;
  range: Range0;
}

export function checkSpecText(text: string, specPath: string, opts: SpecCheckOptions): SpecProblem[] {
  return checkSpec(text, specPath, opts).problems;
}

/** The problems, and the parsed spec when it parses (Train VAE hands it on rather than parsing again). */
export function checkSpec(text: string, specPath: string, opts: SpecCheckOptions): { problems: SpecProblem[]; doc?: SpecDocument } {
  const starts = lineStarts(text);
  const at = (loc: SourceLocation) => locationToRange(loc, text, starts);
  let doc: SpecDocument;
  try {
    doc = parseSpecDocument(text, specPath);
  } catch (e) {
    if (!isUserError(e)) throw e;
    const problems = [{ message: e.message, location: e.location }, ...e.more].map((p) => ({
      severity: 'error' as const,
      message: p.message,
      range: at(p.location),
    }));
    return { problems };
  }
  const warnings: SpecProblem[] = doc.parsed.warnings.map((w) => ({ severity: 'warning', message: w.message, range: at(w.location) }));
  if (doc.kind === 'script') return { problems: [...warnings, ...scriptNotes(text, opts, at)], doc };
  const parsed = doc.parsed;
  const problems = warnings;
  const data = parsed.spec.data;
  if (data.kind === 'file') problems.push(...checkDataFile(data, text, specPath, opts, at));
  problems.push(...layerProblems(parsed.spec, text, specPath, opts, at));
  return { problems, doc };
}

/** A script spec: in Restricted Mode, say that the command will not run (as VS Code does for tasks). */
function scriptNotes(text: string, opts: SpecCheckOptions, at: (loc: SourceLocation) => Range0): SpecProblem[] {
  if (opts.trusted) return [];
  const node = findNodeAtLocation(parseTree(text, [], { allowTrailingComma: true })!, ['trainer', 'command']);
  const range = at(node ? { offset: node.offset, length: node.length } : {});
  return [{ severity: 'information', message: 'Restricted Mode: this training script is not run until you trust this workspace.', range }];
}

/** Networks that do not fit the data's shape, on the layer that breaks the chain. */
function layerProblems(spec: VaeSpec, text: string, specPath: string, opts: SpecCheckOptions, at: (loc: SourceLocation) => Range0): SpecProblem[] {
  const planned = planSpec(spec, specPath, opts);
  if (!planned) return [];
  return [
    ...planned.problems.map((p) => ({ severity: 'error' as const, message: p.message, range: at(locateField(text, p.field) ?? {}) })),
    ...(planned.plan?.warnings ?? []).map((p) => ({ severity: 'warning' as const, message: p.message, range: at(locateField(text, p.field) ?? {}) })),
  ];
}

function checkDataFile(data: FileDataSpec, text: string, specPath: string, opts: SpecCheckOptions, at: (loc: SourceLocation) => Range0): SpecProblem[] {
  const node = findNodeAtLocation(parseTree(text, [], { allowTrailingComma: true })!, ['data', 'path']);
  const range = at(node ? { offset: node.offset, length: node.length } : {});
  if (!opts.trusted) {
    return [{ severity: 'information', message: 'Restricted Mode: the data file is not checked or read until you trust this workspace.', range }];
  }
  let resolved: string;
  let format: string;
  try {
    resolved = resolveDataPath(data, specPath, {
      workspaceRoots: opts.workspaceRoots.length > 0 ? opts.workspaceRoots : undefined,
      allowOutsideWorkspace: opts.allowOutsideWorkspace,
    });
    format = detectFormat(data, specPath);
  } catch (e) {
    if (!isUserError(e)) throw e;
    return [{ severity: 'error', message: e.message, range }];
  }
  const mismatch = headerMismatch(resolved, format);
  return mismatch ? [{ severity: 'warning', message: mismatch, range }] : [];
}

/** A cheap look at the first bytes: catches a wrong extension or a file that is not data at all. */
export function headerMismatch(file: string, format: string): string | undefined {
  const head = readHead(file, 16);
  if (!head) return undefined;
  const gz = file.toLowerCase().endsWith('.gz');
  if (gz) return head[0] === 0x1f && head[1] === 0x8b ? undefined : `${shownPath(file)} ends in .gz but is not gzip-compressed`;
  if (format === 'npy' && !(head[0] === 0x93 && head.subarray(1, 6).toString('latin1') === 'NUMPY'))
    return `${shownPath(file)} does not start with the NPY magic bytes; is it really a .npy file? (data.format can override the guess)`;
  if (format === 'idx' && !(head[0] === 0 && head[1] === 0 && head[2]! >= 0x08 && head[2]! <= 0x0e))
    return `${shownPath(file)} does not start with an IDX header (two zero bytes and a type code); is it really IDX?`;
  if ((format === 'csv' || format === 'json') && head.includes(0))
    return `${shownPath(file)} contains binary data, but is read as ${format}; set data.format if the guess is wrong`;
  return undefined;
}

function readHead(file: string, n: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(n);
    const read = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, read);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Where a dotted spec field ("data.path", "model.encoder.hidden[1]") is in the text: for
 * locations that name only a field (the trainer's errors). Undefined when it is not there.
 */
export function locateField(text: string, field: string): { offset: number; length: number } | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true });
  if (!root) return undefined;
  const jsonPath: JSONPath = field
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const node = findNodeAtLocation(root, jsonPath);
  return node ? { offset: node.offset, length: node.length } : undefined;
}

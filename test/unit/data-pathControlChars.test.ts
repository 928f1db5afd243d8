/**
 * A data.path with a control character in it (a NUL from a generated spec, a tab or newline pasted in, an
 * escape sequence): every message that names the path shows the character escaped, never raw, so a
 * terminal neither cuts the message nor obeys it, and the user sees what is in the name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileDataSpec } from '../../src/core/spec';
import { formatLocation, formatUserError, UserError } from '../../src/core/errors';
import { detectFormat, loadData, resolveDataPath } from '../../src/data/load';
import { headerMismatch } from '../../src/extension/specs/specChecks';
import { readSpecDocumentFile } from '../../src/train/session';
import { evaluateRun } from '../../src/train/evaluate';
import { RAW_CONTROL, tempDir, userErrorMessage } from './data-testkit';

const CONTROLS = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\v', '\f', '\r', '\u001b', '\u007f', '\u0085', '\u009b', '\u2028', '\u2029'];
const fileSpec = (path: string, extra: Partial<FileDataSpec> = {}): FileDataSpec => ({ kind: 'file', path, validation: 0, ...extra });
const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');

const shows = (message: string, c: string) => {
  assert.doesNotMatch(message, RAW_CONTROL, `a raw U+${hex(c)} in: ${JSON.stringify(message)}`);
};

for (const c of CONTROLS) {
  test(`a data.path with U+${hex(c)} in it is shown escaped in every message that names it`, async () => {
    const root = tempDir();
    const specPath = join(root, 'model.vae.json');
    shows(await userErrorMessage(() => resolveDataPath(fileSpec(`missing${c}.csv`), specPath)), c);
    shows(formatLocation({ file: join(root, `a${c}b.csv`), line: 3, column: 2 }), c);
    shows(formatUserError(new UserError('expected 2 values', { file: join(root, `a${c}b.csv`), row: 4 })), c);
    if (c === '\u0000') return; // no file can have a NUL in its name
    // Files that exist under such a name: a folder, one outside the workspace, one of a format not read, a bad one.
    mkdirSync(join(root, `folder${c}.csv`));
    shows(await userErrorMessage(() => resolveDataPath(fileSpec(`folder${c}.csv`), specPath)), c);
    const outside = join(root, `out${c}.csv`);
    writeFileSync(outside, 'x,y\n1,2\n');
    shows(await userErrorMessage(() => resolveDataPath(fileSpec(`out${c}.csv`), specPath, { workspaceRoots: [join(root, 'ws')] })), c);
    shows(await userErrorMessage(() => resolveDataPath(fileSpec(`out${c}.csv`), specPath, { maxBytes: 2 })), c);
    shows(await userErrorMessage(() => detectFormat(fileSpec(`table${c}.parquet`), specPath)), c);
    const npy = join(root, `bad${c}.npy`);
    writeFileSync(npy, 'not an array at all');
    shows(headerMismatch(npy, 'npy') ?? '', c);
    shows(await userErrorMessage(() => loadData(fileSpec(`bad${c}.npy`), specPath)), c);
  });
}

// A command line cannot carry a NUL: the other control characters can (a name pasted with a newline, a tab).
for (const c of CONTROLS.filter((c) => c !== '\u0000')) {
  test(`a spec or run folder named on the command line with U+${hex(c)} in it is shown escaped`, async () => {
    const root = tempDir();
    shows(await userErrorMessage(() => readSpecDocumentFile(join(root, `missing${c}.vae.json`))), c);
    shows(await userErrorMessage(() => evaluateRun(join(root, `no run${c}`), {})), c);
    mkdirSync(join(root, `folder${c}.vae.json`));
    shows(await userErrorMessage(() => readSpecDocumentFile(join(root, `folder${c}.vae.json`))), c);
    const run = join(root, `run${c}`);
    mkdirSync(run);
    shows(await userErrorMessage(() => evaluateRun(run, {})), c);
    writeFileSync(join(run, 'run.json'), '{ not json');
    shows(await userErrorMessage(() => evaluateRun(run, {})), c);
    writeFileSync(join(run, 'run.json'), '{}');
    shows(await userErrorMessage(() => evaluateRun(run, {})), c);
  });
}

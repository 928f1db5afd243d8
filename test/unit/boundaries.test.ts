/**
 * The runtime boundaries are held by the compiler: a slip in each direction, compiled with the
 * project of the runtime it is in, is an error. Each probe is a one-file project that extends a
 * real tsconfig of src/, so a change there that loosens a boundary fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = process.cwd();
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** Compile `source` as if it were a file of `project`; returns tsc's output, or '' when clean. */
function compileAs(project: string, name: string, source: string, ambient: string[] = []): string {
  const dir = join(root, 'out', 'boundary-probes', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'probe.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: join(root, project, 'tsconfig.json'), files: ['probe.ts', ...ambient.map((f) => join(root, f))], include: [] }),
  );
  const r = spawnSync(process.execPath, [tsc, '-p', dir, '--noEmit', '--pretty', 'false'], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stdout + r.stderr;
}

const core = (dir: string) => join(root, 'src', 'core', dir).replace(/\\/g, '/');

test('panel code cannot use Node, nor a core module that does', () => {
  assert.match(compileAs('src/webview', 'webview-node', "import { readFileSync } from 'node:fs';\nreadFileSync('x');\n"), /Cannot find module 'node:fs'/);
  assert.match(compileAs('src/webview', 'webview-buffer', "export const b = Buffer.from('x');\n"), /Cannot find name 'Buffer'/);
  assert.match(compileAs('src/webview', 'webview-core-node', `import { parseSpec } from '${core('spec')}';\nvoid parseSpec;\n`), /node:path/);
  // The control: what the panel really uses compiles there.
  assert.equal(
    compileAs('src/webview', 'webview-ok', `import { isToPanel } from '${core('panelProtocol')}';\nexport const ok = isToPanel(document.title);\n`),
    '',
  );
});

// (vscode outside the extension is refused by the linter: `import 'vscode'` resolves through
// @types/vscode whatever a project's `types` say.)
test('the trainer and the CLI cannot use DOM globals', () => {
  assert.match(compileAs('src/train', 'train-dom', "document.title = 'x';\n"), /Cannot find name 'document'/);
  assert.match(compileAs('src/cli', 'cli-dom', 'export const w = window.innerWidth;\n'), /Cannot find name 'window'/);
  assert.equal(
    compileAs(
      'src/train',
      'train-ok',
      "import { readFileSync } from 'node:fs';\nexport const n = readFileSync.length + WebAssembly.validate(new Uint8Array(8)).toString().length;\n",
      ['src/train/webassembly.d.ts'],
    ),
    '',
  );
});

test('the extension host has vscode and Node but no DOM', () => {
  assert.match(compileAs('src/extension', 'extension-dom', 'export const h = document.body;\n'), /Cannot find name 'document'/);
  assert.equal(
    compileAs(
      'src/extension',
      'extension-ok',
      "import * as vscode from 'vscode';\nimport { join } from 'node:path';\nexport const x = [vscode.version, join('a')];\n",
    ),
    '',
  );
});

test('a message with a missing field does not compile', () => {
  const source = `import type { FromTrainer } from '${core('protocol')}';
export const m: FromTrainer = { type: 'progress', epoch: 1, epochFraction: 0, step: 1, samplesPerSec: 1, etaSeconds: 1 };
`;
  assert.match(compileAs('src/train', 'message-missing-field', source), /loss/);
});

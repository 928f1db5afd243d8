/**
 * Charts exported as PNG into a folder never replace a file there without asking: for every mix of
 * charts whose file is already there, declining keeps every file as it was, agreeing replaces them,
 * and a folder with none of them is written without a question. The message says where they went.
 */
import { shown, answers, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { RunCommands, type RunCommandDeps } from '../../src/extension/runs/runCommands';

const CHARTS = ['elbo', 'entropies', 'gap', 'latents'];
const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const NEW_BYTES = Buffer.from('iVBORw0KGgo=', 'base64');

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Plays the panel's messages; returns once the export said its last word (a confirmation, an error, or the question it was declined at). */
async function exportInto(runDir: string, folder: string, declines: boolean): Promise<void> {
  answers.openDialog = [Uri.file(folder)];
  shown.length = 0;
  const commands = new RunCommands({ log: () => undefined } as unknown as RunCommandDeps);
  for (const chart of CHARTS) commands.exportPng(runDir, chart, PNG);
  await until(() => shown.some((s) => s.level !== 'warning' || declines));
  // A declined export must write nothing, also later.
  if (declines) await new Promise((r) => setTimeout(r, 50));
}

test('exporting charts into a folder asks before replacing any file there, for every mix of existing files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vae-lens-png-overwrite-'));
  const runDir = join(root, 'run-20260101-000000');
  mkdirSync(runDir);
  const fileOf = (folder: string, chart: string) => join(folder, `${basename(runDir)}-${chart}.png`);
  try {
    for (let mask = 0; mask < 1 << CHARTS.length; mask++) {
      for (const answer of [undefined, 'Replace']) {
        const folder = mkdtempSync(join(root, 'out-'));
        const existing = CHARTS.filter((_, i) => (mask >> i) & 1);
        for (const chart of existing) writeFileSync(fileOf(folder, chart), `mine ${chart}`);
        answers.message = answer;
        await exportInto(runDir, folder, existing.length > 0 && answer === undefined);
        const asked = shown.filter((s) => s.level === 'warning');
        const replaced = existing.length === 0 || answer === 'Replace';
        const what = `existing ${JSON.stringify(existing)}, answer ${String(answer)}: ${JSON.stringify(shown)}`;
        if (existing.length === 0) assert.equal(asked.length, 0, `asked with nothing to replace (${what})`);
        else {
          assert.equal(asked.length, 1, `not asked before replacing (${what})`);
          assert.match(asked[0]!.message, new RegExp(`${existing.length === 1 ? `${basename(fileOf(folder, existing[0]!))}` : `${existing.length} `}`));
        }
        for (const chart of CHARTS) {
          const file = fileOf(folder, chart);
          if (replaced) assert.deepEqual(readFileSync(file), NEW_BYTES, `${chart} not written (${what})`);
          else if (existing.includes(chart)) assert.equal(readFileSync(file, 'utf8'), `mine ${chart}`, `${chart} replaced although declined (${what})`);
          else assert.equal(existsSync(file), false, `${chart} written although the export was declined (${what})`);
        }
        if (replaced) {
          const info = shown.find((s) => s.level === 'info');
          assert.ok(info, `no confirmation (${what})`);
          assert.ok(info.message.includes(folder), `the confirmation does not say where: ${info.message}`);
        }
      }
    }
  } finally {
    answers.message = undefined;
    answers.openDialog = undefined;
  }
});

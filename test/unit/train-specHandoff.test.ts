// Train VAE hands the trainer the spec text the editor checked (start request `specText`): the trainer
// parses that text, never the file again, so a save between the editor's check and the trainer's start
// cannot make it train (or refuse) a spec other than the one the editor accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRequest, type FromTrainer } from '../../src/core/protocol';
import { RUN_FILES } from '../../src/core/runFormat';
import { runSession } from '../../src/train/session';

const SCRIPT = String.raw`
const fs = require('fs'), path = require('path');
const dir = process.env.VAE_LENS_RUN_DIR;
const rec = { epoch: 1, step: 1, elbo: -1, elboStdErr: 0.01, hEnc: 1, hPrior: 2.8, hDec: -0.8, entropySum: -1, gap: 0, gapRel: 0, rDec: 0, rPrior: 0, sigma2: 0.1, sigma2Opt: 0.1, latentSecondMoment: [1], klPerLatent: [1], samplesPerSec: 100, wallSeconds: 1 };
fs.appendFileSync(path.join(dir, 'metrics.jsonl'), JSON.stringify(rec) + '\n');
`;

function folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-handoff-'));
  fs.writeFileSync(path.join(dir, 'write.js'), SCRIPT);
  return dir;
}

async function run(specPath: string, specText: string | undefined): Promise<{ status: string; events: FromTrainer[] }> {
  const events: FromTrainer[] = [];
  const status = await runSession(startRequest({ specPath, specText }), (e) => events.push(e), { stopRequested: false });
  return { status, events };
}

const errorOf = (events: FromTrainer[]) => events.find((e) => e.type === 'error') as Extract<FromTrainer, { type: 'error' }> | undefined;

test('the trainer runs the checked text, not the file saved since: the file is broken, the run starts and snapshots the text', async () => {
  const dir = folder();
  const specPath = path.join(dir, 'a.vae.json');
  fs.writeFileSync(specPath, '{ "this file": was saved after the check');
  const checked = JSON.stringify({ name: 'checked-text', trainer: { command: [process.execPath, 'write.js'] } }, null, 2);
  const { status, events } = await run(specPath, checked);
  assert.equal(errorOf(events), undefined, JSON.stringify(errorOf(events)));
  assert.equal(status, 'completed');
  const started = events.find((e) => e.type === 'started') as Extract<FromTrainer, { type: 'started' }>;
  assert.match(path.basename(started.runDir), /^checked-text/);
  assert.equal(fs.readFileSync(path.join(started.runDir, RUN_FILES.spec), 'utf8'), checked);
});

test('a checked text with a problem is refused with its own located error, though the file on disk is valid', async () => {
  const dir = folder();
  const specPath = path.join(dir, 'b.vae.json');
  fs.writeFileSync(specPath, JSON.stringify({ trainer: { command: [process.execPath, 'write.js'] } }));
  const { status, events } = await run(specPath, '{\n  "trainer": { "comand": ["python3"] }\n}');
  assert.equal(status, 'failed');
  const err = errorOf(events);
  assert.ok(err?.userError);
  assert.match(err.message, /unknown field "comand" in trainer \(did you mean "command"\?\)/);
  assert.equal(err.location?.file, specPath);
  assert.equal(err.location?.line, 2);
  assert.equal(fs.existsSync(path.join(dir, '.vae-lens')), false, 'no run folder for a refused spec');
});

test('without specText (the CLI) the trainer reads the file; an oversized checked text is refused like an oversized file', async () => {
  const dir = folder();
  const specPath = path.join(dir, 'c.vae.json');
  fs.writeFileSync(specPath, JSON.stringify({ name: 'from-file', trainer: { command: [process.execPath, 'write.js'] } }));
  const fromFile = await run(specPath, undefined);
  assert.equal(fromFile.status, 'completed');
  const started = fromFile.events.find((e) => e.type === 'started') as Extract<FromTrainer, { type: 'started' }>;
  assert.match(path.basename(started.runDir), /^from-file/);

  const huge = await run(specPath, `{"name": "x", "pad": "${'x'.repeat(1 << 20)}"}`);
  assert.equal(huge.status, 'failed');
  assert.match(errorOf(huge.events)?.message ?? '', /over 1 MiB; a spec is a small JSON file/);
});

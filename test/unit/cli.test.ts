/**
 * The vae-lens command as a user runs it (the built bin/vae-lens.js, in a child process):
 * exit codes, located messages without stack traces, the run folder it leaves, eval and resume.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseMetricsJsonl, type RunSummary } from '../../src/core/runFormat';
import { isFromTrainer, type FromTrainer } from '../../src/core/protocol';

const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'vae-lens.js');

function cli(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-cli-'));
const SMALL = `// a small model that trains in a second
{ "name": "tiny",
  "data": { "synthetic": "circle", "n": 256, "noise": 0.05, "seed": 2 },
  "model": { "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } },
  "training": { "epochs": 3, "batchSize": 64, "learningRate": 0.005 },
  "diagnostics": { "mcSamples": 4 } }`;
fs.writeFileSync(path.join(tmp, 'tiny.vae.json'), SMALL);

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${s}`);

test('a bad spec exits 2 with file:line:column and the field, and no stack trace', () => {
  const spec = path.join(tmp, 'bad.vae.json');
  fs.writeFileSync(spec, '{\n  "data": { "synthetic": "circle" },\n  "model": { "latentDim": -1 }\n}\n');
  const r = cli(['train', spec, '--out', tmp]);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:27: model.latentDim is -1; it must be at least 1`));
  noStack(r.err);
});

test('a missing data file names the spec field and the path it looked for', () => {
  const spec = path.join(tmp, 'nofile.vae.json');
  fs.writeFileSync(spec, '{ "data": { "path": "missing.csv" }, "model": { "latentDim": 2 } }');
  const r = cli(['train', spec, '--out', tmp]);
  assert.equal(r.code, 2);
  assert.match(r.err, /data\.path/);
  assert.match(r.err, /missing\.csv/);
  noStack(r.err);
});

test('unknown options and commands are refused with the usage', () => {
  const a = cli(['train', 'x.vae.json', '--epoch', '3']);
  assert.equal(a.code, 2);
  assert.match(a.err, /has no option --epoch/);
  const b = cli(['fit']);
  assert.equal(b.code, 2);
  assert.match(b.err, /unknown command "fit"/);
  assert.match(cli(['train', 'x', '--epochs', 'many']).err, /--epochs must be a whole number/);
});

test('train --json emits protocol events and leaves a complete run folder; eval and resume use it', () => {
  const r = cli(['train', path.join(tmp, 'tiny.vae.json'), '--out', path.join(tmp, 'runs'), '--json', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.err);
  const events = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  assert.ok(events.every(isFromTrainer), 'every line is a protocol event');
  const typed = events as FromTrainer[];
  const started = typed.find((e) => e.type === 'started');
  assert.ok(started && started.type === 'started');
  assert.equal(started.backend, 'wasm');
  assert.deepEqual(
    typed.filter((e) => e.type === 'diagnostics').map((e) => e.type === 'diagnostics' && e.record.epoch),
    [0, 1, 2, 3],
  );
  const done = typed[typed.length - 1]!;
  assert.equal(done.type, 'done');

  const runDir = started.runDir;
  const metrics = parseMetricsJsonl(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.equal(metrics.records.length, 4);
  assert.equal(metrics.bad.length, 0);
  for (const rec of metrics.records) assert.ok(Math.abs(rec.gap - (rec.rDec + rec.rPrior)) < 1e-4 * (1 + Math.abs(rec.elbo)));
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(summary.status, 'completed');
  assert.equal(summary.epochsDone, 3);
  assert.equal(fs.readFileSync(path.join(runDir, 'spec.vae.json'), 'utf8'), SMALL);
  assert.ok(fs.existsSync(path.join(runDir, 'checkpoints', 'latest.json')));

  const ev = cli(['eval', runDir, '--samples', '8']);
  assert.equal(ev.code, 0, ev.err);
  assert.match(ev.out, /ELBO \(sampled\)\s+-?\d+\.\d+\s+± \d/);
  assert.match(ev.out, /entropy sum\s+-?\d/);
  assert.match(ev.out, /R_prior/);
  assert.match(ev.out, /checkpoint of epoch 3/);

  const res = cli(['train', path.join(tmp, 'tiny.vae.json'), '--resume', runDir, '--epochs', '5', '--json']);
  assert.equal(res.code, 0, res.err);
  const after = parseMetricsJsonl(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(
    after.records.map((x) => x.epoch),
    [0, 1, 2, 3, 4, 5],
  );
  assert.ok(after.records[5]!.step > after.records[3]!.step);
  // The convergence rule keeps judging the whole run: epoch 4 sees the four passes made before the resume.
  assert.match(after.records[4]!.convergenceReason ?? '', /\(has 5\)/);
});

test('an unwritable run folder is refused before training starts', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, () => {
  const ro = path.join(tmp, 'ro');
  fs.mkdirSync(ro, { mode: 0o500 });
  const r = cli(['train', path.join(tmp, 'tiny.vae.json'), '--out', path.join(ro, 'runs')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot write the run folder/);
});

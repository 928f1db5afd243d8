// Specs that run the user's own training script (trainer.command): parsing with located errors,
// and the session that runs the command, follows its run folder and stops it. The "script" here
// is a small Node program writing the run format, so these tests need no Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUserError } from '../../src/core/errors';
import { isFromTrainer, startRequest, type FromTrainer } from '../../src/core/protocol';
import { isProcessAlive as alive } from '../../src/core/run/liveness';
import { readRunOverview } from '../../src/core/run/read';
import { parseSpec, parseSpecDocument } from '../../src/core/spec';
import { runSession } from '../../src/train/session';
import { checkSpecText } from '../../src/extension/specs/specChecks';

const FAKE_SCRIPT = String.raw`
const fs = require('fs'), path = require('path');
const dir = process.env.VAE_LENS_RUN_DIR;
const mode = process.argv[2];
const before = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
// A writer that puts a byte-order mark before its JSON (Python's utf-8-sig, Windows PowerShell).
const bom = mode === 'diverged-bom' ? '\ufeff' : '';
const own = { ...before, backend: 'fake', modelType: 'VAE-1', latentDim: 2, epochs: 4, pid: process.pid, trainer: 'fake', env: process.env.EXTRA };
// A writer that keeps only the three fields the format requires, or writes others of another kind.
const minimal = { name: before.name, specPath: before.specPath, startedAt: before.startedAt };
const wrongKinds = { ...own, epochs: '4', backend: 7, dataset: 'mnist', latentDim: 'two', pid: 'me' };
// A run that a restart (torchrun's) took on from epoch 2 of 12: its clock starts again at 0, two seconds an epoch.
const session = (fromEpoch) => ({ startedAt: before.startedAt, backend: 'fake', fromEpoch });
const restarted = { ...own, epochs: 12, sessions: [session(0), session(2)] };
fs.writeFileSync(path.join(dir, 'run.json'), bom + JSON.stringify(mode === 'minimal-meta' ? minimal : mode === 'wrong-kinds-meta' ? wrongKinds : mode === 'restarted' ? restarted : own));
const wall = (e) => (mode === 'restarted' ? 2 * (e - 2) : e);
const rec = (e) => ({ epoch: e, step: e, elbo: -1, elboStdErr: 0.01, hEnc: 1, hPrior: 2.8, hDec: -0.8, entropySum: -1, gap: 0, gapRel: 0, rDec: 0, rPrior: 0, sigma2: 0.1, sigma2Opt: 0.1, latentSecondMoment: [1, 1], klPerLatent: [1, 1], samplesPerSec: 100, wallSeconds: wall(e) });
console.log('hello from the script, env ' + process.env.EXTRA);
if (mode === 'silent') process.exit(0);
const write = (e) => fs.appendFileSync(path.join(dir, 'metrics.jsonl'), JSON.stringify(rec(e)) + '\n');
if (mode === 'hang' || mode === 'stubborn' || mode.startsWith('family-')) {
  write(1);
  if (mode.startsWith('family-')) {
    // A process the script started that outlives it and holds its output (a data-loader worker, a rank
    // under torchrun): it ignores SIGINT, as a worker that only its parent's end would stop.
    const worker = require('child_process').spawn(process.execPath, ['-e', "process.on('SIGINT', () => {}); setInterval(() => {}, 1000)"], { stdio: 'inherit' });
    fs.writeFileSync(path.join(dir, 'worker.pid'), String(worker.pid));
  }
  if (mode === 'stubborn' || mode === 'family-stubborn') process.on('SIGINT', () => console.log('ignoring SIGINT'));
  if (mode === 'family-exits') process.on('SIGINT', () => process.exit(0));
  setInterval(() => {}, 1000);
} else {
  // Images another writer made: channels-first RGB, or two channels, which cannot be drawn.
  const image = (shape) => ({ shape, originals: [new Array(shape.reduce((a, b) => a * b, 1)).fill(0.5)], reconstructions: [], samples: [] });
  if (mode === 'images') fs.writeFileSync(path.join(dir, 'images.json'), JSON.stringify(image([3, 2, 5])));
  if (mode === 'bad-images') fs.writeFileSync(path.join(dir, 'images.json'), JSON.stringify(image([5, 5, 2])));
  for (let e = mode === 'restarted' ? 3 : 1; e <= 4; e++) write(e);
  if (mode === 'leaves-worker') {
    const worker = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
    fs.writeFileSync(path.join(dir, 'worker.pid'), String(worker.pid));
    process.exit(0);
  }
  if (mode === 'crash') { console.error('Traceback: something broke'); process.exit(3); }
  if (mode === 'diverged-bom') fs.writeFileSync(path.join(dir, 'summary.json'), bom + JSON.stringify({ status: 'diverged', epochsDone: 4, steps: 4, wallSeconds: 1, message: 'the loss became NaN' }));
  // A writer that says only how the run ended.
  if (mode === 'diverged-status-only') fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ status: 'diverged', message: 'the loss became NaN' }));
  // Python's json.dump of a diverged run's summary: the last record's ELBO as the bare word NaN.
  if (mode === 'diverged-nan') fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ status: 'diverged', epochsDone: 4, steps: 4, wallSeconds: 1, message: 'the loss became NaN', last: rec(4) }).replace(/"elbo":-1/, '"elbo": NaN'));
}
`;

function scriptSpec(mode: string, extra: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-script-'));
  fs.writeFileSync(path.join(dir, 'fake.js'), FAKE_SCRIPT);
  const spec = { name: `fake-${mode}`, trainer: { command: [process.execPath, 'fake.js', mode], env: { EXTRA: 'x1' }, ...extra }, diagnostics: { window: 2 } };
  const file = path.join(dir, 'fake.vae.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

async function run(specPath: string, stopAfterMs?: number): Promise<{ status: string; events: FromTrainer[] }> {
  const events: FromTrainer[] = [];
  const control = { stopRequested: false };
  if (stopAfterMs !== undefined) setTimeout(() => (control.stopRequested = true), stopAfterMs);
  const status = await runSession(startRequest({ specPath }), (e) => events.push(e), control);
  return { status, events };
}

const done = (events: FromTrainer[]) => events.find((e) => e.type === 'done') as Extract<FromTrainer, { type: 'done' }>;

test('a script spec parses with defaults; a model spec still needs data and model', () => {
  const doc = parseSpecDocument('{ "trainer": { "command": ["python3", "train.py"], }, // comment\n "diagnostics": {"tolerance": 0.02} }', '/w/a.vae.json');
  assert.equal(doc.kind, 'script');
  assert.ok(doc.kind === 'script');
  assert.deepEqual(doc.parsed.spec.trainer.command, ['python3', 'train.py']);
  assert.equal(doc.parsed.spec.name, 'a');
  assert.equal(doc.parsed.spec.diagnostics.tolerance, 0.02);
  assert.equal(doc.parsed.spec.trainer.stopGraceSeconds, 10);
  assert.throws(() => parseSpec('{ "data": {"synthetic": "circle"} }'), /missing the required field "model"/);
  assert.throws(() => parseSpec('{ "trainer": { "command": ["x"] } }', '/w/a.vae.json'), /runs a training script/);
});

test('script spec errors are located: model beside trainer, empty command, env that is not text, misspelt field', () => {
  const cases: [string, RegExp, number][] = [
    ['{\n "trainer": {"command": ["x"]},\n "model": {"latentDim": 2}\n}', /model is not used when trainer.command runs a script/, 3],
    ['{\n "trainer": {"command": []}\n}', /trainer.command needs at least 1 entry\b/, 2],
    ['{\n "trainer": {"command": ["x"], "env": {"A": 1}}\n}', /trainer.env.A must be a string/, 2],
    ['{\n "trainer": {"comand": ["x"]}\n}', /did you mean "command"/, 2],
  ];
  for (const [text, message, line] of cases) {
    try {
      parseSpecDocument(text, '/w/a.vae.json');
      assert.fail(`accepted ${text}`);
    } catch (e) {
      assert.ok(isUserError(e), String(e));
      const all = [{ message: e.message, location: e.location }, ...e.more];
      const hit = all.find((p) => message.test(p.message));
      assert.ok(hit, `${all.map((p) => p.message).join(' | ')} does not match ${message}`);
      assert.equal(hit.location.line, line, hit.message);
    }
  }
});

test('the session runs the script, streams its output, relays its records and completes', async () => {
  const { status, events } = await run(scriptSpec('ok'));
  assert.equal(status, 'completed');
  const started = events.find((e) => e.type === 'started');
  assert.ok(started && started.type === 'started' && started.epochs === 4 && started.backend === 'fake', JSON.stringify(started));
  const records = events.flatMap((e) => (e.type === 'diagnostics' ? [e.record] : []));
  assert.deepEqual(
    records.map((r) => r.epoch),
    [1, 2, 3, 4],
  );
  // Judged live with the one rule (the window is at least 2: four passes decide), as the built-in trainer's records are.
  assert.ok(records.every((r) => r.convergence !== undefined && r.convergenceReason !== undefined));
  assert.equal(records[3]!.convergence, 'converged', records[3]!.convergenceReason);
  assert.ok(events.some((e) => e.type === 'log' && e.message === 'hello from the script, env x1'));
  const runDir = done(events).runDir;
  const overview = await readRunOverview(runDir);
  assert.equal(overview.status, 'completed');
  assert.equal(overview.convergence, 'converged', overview.convergenceReason);
  assert.equal(overview.summary?.convergence, 'converged', 'the final summary carries the verdict');
  assert.equal(overview.meta?.specPath.endsWith('fake.vae.json'), true);
  assert.ok(fs.existsSync(path.join(runDir, 'spec.vae.json')));
});

test("a restarted script run's time left is paced by the epochs of its own session, whose clock started again", async () => {
  const { status, events } = await run(scriptSpec('restarted'));
  assert.equal(status, 'completed');
  const progress = events.flatMap((e) => (e.type === 'progress' ? [e] : []));
  // At epoch 4, two epochs into the restart at 2 s each, 8 of 12 epochs are left: 16 s, not the 8 s that 4 s over 4 epochs gives.
  assert.equal(progress.at(-1)?.etaSeconds, 16, JSON.stringify(progress));
});

test("a script's images are relayed to the panel, and images that cannot be drawn are named in the log", async () => {
  const shown = await run(scriptSpec('images'));
  const images = shown.events.find((e) => e.type === 'images') as Extract<FromTrainer, { type: 'images' }> | undefined;
  assert.deepEqual(images?.shape, [3, 2, 5]);
  const refused = await run(scriptSpec('bad-images'));
  assert.equal(refused.events.filter((e) => e.type === 'images').length, 0);
  const warned = refused.events.filter((e) => e.type === 'log' && e.level === 'warn' && e.message.startsWith('images.json was not shown'));
  assert.equal(warned.length, 1, JSON.stringify(refused.events.filter((e) => e.type === 'log')));
  assert.match((warned[0] as Extract<FromTrainer, { type: 'log' }>).message, /shape \[5, 5, 2\] read as height x width x channels has 2 channels/);
});

test('a script that exits non-zero fails with its last output lines', async () => {
  const { status, events } = await run(scriptSpec('crash'));
  assert.equal(status, 'failed');
  const error = events.find((e) => e.type === 'error');
  assert.ok(
    error && error.type === 'error' && /exited with code 3/.test(error.message) && /Traceback: something broke/.test(error.message),
    JSON.stringify(error),
  );
  const overview = await readRunOverview(done(events).runDir);
  assert.equal(overview.status, 'failed');
  assert.match(overview.message ?? '', /something broke/);
});

test("a script's run.json and summary.json are read with a byte-order mark before them: its diverged run reads diverged", async () => {
  const { status, events } = await run(scriptSpec('diverged-bom'));
  assert.equal(status, 'diverged');
  const started = events.filter((e) => e.type === 'started').at(-1);
  assert.ok(started && started.type === 'started' && started.backend === 'fake' && started.epochs === 4, JSON.stringify(started));
  const overview = await readRunOverview(done(events).runDir);
  assert.equal(overview.status, 'diverged');
  assert.match(overview.message ?? '', /the loss became NaN/);
});

test("a script's summary.json with Python's bare NaN, or with its status alone, is read: its diverged run reads diverged, with its message", async () => {
  for (const mode of ['diverged-nan', 'diverged-status-only']) {
    const { status, events } = await run(scriptSpec(mode));
    assert.equal(status, 'diverged', mode);
    const overview = await readRunOverview(done(events).runDir);
    assert.equal(overview.status, 'diverged', mode);
    assert.match(overview.message ?? '', /the loss became NaN/, mode);
    assert.equal(overview.summary?.epochsDone, 4, mode);
  }
});

test("a script's run.json with only the required fields, or others of another kind, is read as the viewers read it: the run completes", async () => {
  for (const mode of ['minimal-meta', 'wrong-kinds-meta']) {
    const { status, events } = await run(scriptSpec(mode));
    assert.equal(status, 'completed', `${mode}: ${JSON.stringify(events.filter((e) => e.type === 'error'))}`);
    for (const e of events) assert.ok(isFromTrainer(e), `${mode}: ${JSON.stringify(e)}`);
    const started = events.filter((e) => e.type === 'started').at(-1);
    assert.ok(
      started?.type === 'started' && started.backend === 'script (node)' && started.dataset.source.endsWith(`fake.js ${mode}`),
      JSON.stringify(started),
    );
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'diagnostics' ? [e.record.epoch] : [])),
      [1, 2, 3, 4],
      mode,
    );
    assert.equal((await readRunOverview(done(events).runDir)).status, 'completed', mode);
  }
});

test('a script that writes no record fails and says so', async () => {
  const { status, events } = await run(scriptSpec('silent'));
  assert.equal(status, 'failed');
  assert.match(done(events).message ?? '', /without writing a diagnostics record/);
});

test('Stop sends SIGINT; the run reads stopped', async () => {
  const { status, events } = await run(scriptSpec('hang'), 1500);
  assert.equal(status, 'stopped');
  assert.equal((await readRunOverview(done(events).runDir)).status, 'stopped');
  assert.match(done(events).message ?? '', /SIGINT/);
});

test('a script that ignores SIGINT is killed after the grace period', async () => {
  const t0 = performance.now();
  const { status, events } = await run(scriptSpec('stubborn', { stopGraceSeconds: 0.5 }), 1500);
  assert.equal(status, 'stopped');
  assert.match(done(events).message ?? '', /SIGKILL/);
  assert.ok(events.some((e) => e.type === 'log' && e.message === 'ignoring SIGINT'));
  assert.ok(performance.now() - t0 < 8000);
});

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const t0 = performance.now(); performance.now() - t0 < ms; await new Promise((r) => setTimeout(r, 50))) if (!alive(pid)) return true;
  return false;
}

for (const [mode, how] of [
  ['family-stubborn', 'ignores SIGINT and is killed'],
  ['family-exits', 'exits on SIGINT'],
] as const)
  test(`Stop ends the processes a script started, holding its output, when the script ${how}`, async () => {
    const t0 = performance.now();
    const { status, events } = await run(scriptSpec(mode, { stopGraceSeconds: 0.5 }), 1500);
    assert.equal(status, 'stopped');
    assert.ok(performance.now() - t0 < 10000, `the session ended ${performance.now() - t0} ms after it started`);
    const worker = Number(fs.readFileSync(path.join(done(events).runDir, 'worker.pid'), 'utf8'));
    const gone = await waitGone(worker, 3000);
    if (!gone) process.kill(worker, 'SIGKILL');
    assert.ok(gone, `the script's worker (pid ${worker}) outlived the stopped run`);
  });

test('a script that ends leaving a process that holds its output open completes, without waiting for that process', async () => {
  const t0 = performance.now();
  const { status, events } = await run(scriptSpec('leaves-worker'));
  const worker = Number(fs.readFileSync(path.join(done(events).runDir, 'worker.pid'), 'utf8'));
  const alsoAlive = alive(worker);
  process.kill(worker, 'SIGKILL');
  assert.equal(status, 'completed');
  assert.ok(performance.now() - t0 < 8000, `the session ended ${performance.now() - t0} ms after it started`);
  assert.ok(alsoAlive, 'without Stop, what the script leaves running is its own');
});

test('a command that does not exist is a located user error', async () => {
  const file = scriptSpec('ok');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { trainer: { command: string[] } };
  spec.trainer.command = ['no-such-program-vae-lens'];
  fs.writeFileSync(file, JSON.stringify(spec));
  const { status, events } = await run(file);
  assert.equal(status, 'failed');
  const error = events.find((e) => e.type === 'error');
  assert.ok(
    error && error.type === 'error' && error.userError && error.location?.field === 'trainer.command' && /not found/.test(error.message),
    JSON.stringify(error),
  );
  // The run folder made for it says so too, rather than "running" for ever.
  const started = events.find((e) => e.type === 'started');
  assert.ok(started && started.type === 'started');
  const overview = await readRunOverview(started.runDir, () => true);
  assert.equal(overview.status, 'failed');
  assert.match(overview.message ?? '', /no-such-program-vae-lens was not found/);
});

test('mangled script specs give a parsed spec or a located user error, never a crash', () => {
  const dir = path.join(__dirname, '..', '..', '..', 'examples', 'pytorch-fashion-mnist');
  const texts = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.vae.json'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  assert.ok(texts.length >= 2);
  let seed = 7;
  const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (const text of texts) {
    for (let i = 0; i < 400; i++) {
      const at = next(text.length);
      const mangled =
        i % 3 === 0 ? text.slice(0, at) + text.slice(at + 1) : i % 3 === 1 ? text.slice(0, at) + '"{[,:0'[next(6)] + text.slice(at) : text.slice(0, at);
      try {
        parseSpecDocument(mangled, 'm.vae.json');
      } catch (e) {
        assert.ok(isUserError(e), `not a UserError for ${JSON.stringify(mangled)}: ${String(e)}`);
        for (const p of [{ message: e.message, location: e.location }, ...e.more])
          assert.ok(typeof p.location.line === 'number' && p.location.line >= 1, `no line for "${p.message}" in ${JSON.stringify(mangled)}`);
      }
    }
  }
});

test('the editor underlines nothing in a good script spec, and says in Restricted Mode that the script will not run', () => {
  const text = '{ "trainer": { "command": ["python3", "train.py"] } }';
  const opts = { workspaceRoots: ['/w'], allowOutsideWorkspace: false };
  assert.deepEqual(checkSpecText(text, '/w/a.vae.json', { ...opts, trusted: true }), []);
  const restricted = checkSpecText(text, '/w/a.vae.json', { ...opts, trusted: false });
  assert.equal(restricted.length, 1);
  assert.equal(restricted[0]!.severity, 'information');
  assert.match(restricted[0]!.message, /Restricted Mode: this training script is not run/);
  assert.equal(text.slice(restricted[0]!.range.start.character, restricted[0]!.range.end.character), '["python3", "train.py"]');
});

test('script spec: a trainer.cwd written for Windows or a shell says so', async () => {
  for (const [cwd, hint] of [
    ['sub\\dir', /forward slashes \("sub\/dir"\)/],
    ['~/work', /starts with "~", which only a shell expands/],
  ] as const) {
    const { status, events } = await run(scriptSpec('silent', { cwd }));
    assert.equal(status, 'failed');
    const error = events.find((e) => e.type === 'error') as Extract<FromTrainer, { type: 'error' }> | undefined;
    assert.ok(error?.userError, JSON.stringify(events));
    assert.equal(error.location?.field, 'trainer.cwd');
    assert.match(error.message, hint);
  }
});

test('the editor underlines an output.runsDir written for a shell in a script spec too', () => {
  const text = '{ "trainer": { "command": ["python3", "train.py"] }, "output": { "runsDir": "~/runs" } }';
  const problems = checkSpecText(text, '/w/a.vae.json', { workspaceRoots: ['/w'], allowOutsideWorkspace: false, trusted: true });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.severity, 'warning');
  assert.match(problems[0]!.message, /starts with "~"/);
  assert.equal(text.slice(problems[0]!.range.start.character, problems[0]!.range.end.character), '"~/runs"');
});

test('the example script specs leave the epoch count to `vae-lens train --epochs`, which their scripts read', () => {
  const examples = path.join(__dirname, '..', '..', '..', 'examples');
  const specs = fs
    .readdirSync(examples, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.vae.json'))
    .map((f) => path.join(examples, f));
  let checked = 0;
  for (const file of specs) {
    const doc = parseSpecDocument(fs.readFileSync(file, 'utf8'), file);
    if (doc.kind !== 'script') continue;
    const command = doc.parsed.spec.trainer.command;
    const script = command.find((arg) => arg.endsWith('.py'));
    assert.ok(script, `${file}: no script in ${JSON.stringify(command)}`);
    const source = fs.readFileSync(path.join(path.dirname(file), script), 'utf8');
    if (!source.includes('VAE_LENS_EPOCHS')) continue;
    // An --epochs in the command beats the variable's default in the script's argument parser.
    assert.ok(!command.some((arg) => arg === '--epochs' || arg.startsWith('--epochs=')), `${file}: ${JSON.stringify(command)} overrides --epochs`);
    checked++;
  }
  assert.ok(checked >= 2, `only ${checked} example script specs read VAE_LENS_EPOCHS`);
});

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
import { finiteRecord } from './record-testkit';

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

test('a numeric flag is held to the bounds of the spec field it stands in for', () => {
  // Each flag just past its field's maximum, and far past it: refused before any work, with the bound.
  const cases: [string[], RegExp][] = [
    [['train', 'x.vae.json', '--epochs', '100001'], /--epochs 100001 is more than 100000, the most a spec's training\.epochs may ask for/],
    [['train', 'x.vae.json', '--epochs', '1e308'], /--epochs 1e308 is more than 100000/],
    [['train', 'x.vae.json', '--threads', '257'], /--threads 257 is more than 256, the most a spec's training\.threads may ask for/],
    [['train', 'x.vae.json', '--threads', '5000'], /--threads 5000 is more than 256/],
    [['eval', 'run', '--samples', '1025'], /--samples 1025 is more than 1024, the most a spec's diagnostics\.mcSamples may ask for/],
    [['eval', 'run', '--samples', '1000000'], /--samples 1000000 is more than 1024/],
    [['train', 'x.vae.json', '--resume', ''], /--resume needs a value, not an empty one/],
  ];
  for (const [args, expect] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, expect);
    noStack(r.err);
  }
});

test('--help asked for is an answer (stdout, exit 0); no command at all is a mistake (exit 2)', () => {
  for (const args of [['--help'], ['-h'], ['train', '--help']]) {
    const r = cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.match(r.out, /^usage:\n {2}vae-lens train SPEC/);
  }
  const none = cli([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /usage:/);
});

test('a message that names its file or field is not prefixed with them again', () => {
  const dir = path.join(tmp, 'not-json-run');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), '{"name": "x", "specPath": "s", "startedAt": "t", "dataset": {}}');
  // A run of VAE Lens's own trainer (it has its model spec): eval reads its dataset.
  fs.writeFileSync(path.join(dir, 'spec.vae.json'), SMALL);
  const r = cli(['eval', dir]);
  assert.equal(r.code, 2);
  const file = path.join(dir, 'run.json');
  assert.equal(r.err.split(file).length - 1, 1, `the file is named more than once:\n${r.err}`);
  assert.equal(r.err.split('dataset.dim').length - 1, 1, `the field is named more than once:\n${r.err}`);
});

test('eval of a run.json whose dataset is missing or of another kind says what it holds instead', () => {
  const dir = path.join(tmp, 'odd-dataset-run');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'spec.vae.json'), SMALL);
  const file = path.join(dir, 'run.json');
  const base = { name: 'x', specPath: 's', startedAt: 't' };
  const datasets: [unknown, RegExp][] = [
    [undefined, /has no "dataset"/],
    ['abc', /dataset must be an object holding dim, not "abc"/],
    [[2], /dataset must be an object holding dim, not \[2\]/],
    [null, /dataset must be an object holding dim, not null/],
    [7, /dataset must be an object holding dim, not 7/],
    [{}, /dataset\.dim is missing/],
    [{ n: 3 }, /dataset\.dim is missing/],
    [{ dim: null }, /dataset\.dim must be a positive whole number, not null/],
    [{ dim: '2' }, /dataset\.dim must be a positive whole number, not "2"/],
    [{ dim: 0 }, /dataset\.dim must be a positive whole number, not 0/],
    [{ dim: 1.5 }, /dataset\.dim must be a positive whole number, not 1\.5/],
  ];
  for (const [dataset, expect] of datasets) {
    fs.writeFileSync(file, JSON.stringify({ ...base, dataset }));
    const r = cli(['eval', dir]);
    assert.equal(r.code, 2, `${JSON.stringify(dataset)}: ${r.err}`);
    noStack(r.err);
    assert.ok(r.err.includes(file), r.err);
    assert.match(r.err, expect, `${JSON.stringify(dataset)}`);
    assert.doesNotMatch(r.err, /undefined/, `${JSON.stringify(dataset)}`);
  }
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
  for (const rec of metrics.records.map(finiteRecord)) assert.ok(Math.abs(rec.gap - (rec.rDec + rec.rPrior)) < 1e-4 * (1 + Math.abs(rec.elbo)));
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
  // The evidence beside the gap, and the run's verdict with its reason.
  assert.match(ev.out, /active units\s+\d+ of \d+/);
  assert.match(ev.out, /I\(x; z\)\s+-?\d+\.\d+\s+nats, aggregate-posterior estimator on \d+ points/);
  assert.match(ev.out, /verdict over the run's passes: (still improving|too early to judge)\. \w/);

  const res = cli(['train', path.join(tmp, 'tiny.vae.json'), '--resume', runDir, '--epochs', '5', '--json']);
  assert.equal(res.code, 0, res.err);
  const after = parseMetricsJsonl(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(
    after.records.map((x) => x.epoch),
    [0, 1, 2, 3, 4, 5],
  );
  assert.ok(after.records[5]!.step > after.records[3]!.step);
  // The convergence rule keeps judging the whole run: epoch 4 sees the four passes made before the resume.
  assert.match(after.records[4]!.convergenceReason ?? '', /(over the last 5 passes|has 5\.)/);

  // A last pass whose ELBO went non-finite (null, as the format writes it) is not read as 0 nats by eval's verdict.
  const { convergence: _c, convergenceReason: _r, ...plain } = after.records[5]!;
  fs.appendFileSync(path.join(runDir, 'metrics.jsonl'), JSON.stringify({ ...plain, epoch: 6, step: plain.step + 1, elbo: null }) + '\n');
  const diverged = cli(['eval', runDir, '--samples', '2', '--json']);
  assert.equal(diverged.code, 0, diverged.err);
  const verdict = JSON.parse(diverged.out) as { convergence?: string; convergenceReason?: string };
  assert.equal(verdict.convergence, 'not-converged');
  assert.match(verdict.convergenceReason ?? '', /^The last pass \(epoch 6\) has no finite elbo/);

  // A checkpoint of a run stopped within an epoch says how far into it the weights are.
  const cpFile = path.join(runDir, 'checkpoints', 'latest.json');
  const cp = JSON.parse(fs.readFileSync(cpFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(cpFile, JSON.stringify({ ...cp, epoch: 4, batchesDone: 2, lossSum: 3 }));
  const within = cli(['eval', runDir, '--samples', '2']);
  assert.equal(within.code, 0, within.err);
  assert.match(within.out, /checkpoint of epoch 4 \+ 2 batches of epoch 5\n/);
  const withinJson = cli(['eval', runDir, '--samples', '2', '--json']);
  assert.deepEqual(pick(JSON.parse(withinJson.out) as Record<string, unknown>, 'epoch', 'batchesDone'), { epoch: 4, batchesDone: 2 });
});

const pick = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));

test('the text output names the run folder as a user in that folder would type it', () => {
  // Below the current folder: relative, as in the README; elsewhere: absolute, so it still resolves.
  const inside = cli(['train', 'tiny.vae.json', '--out', 'runs-shown', '--epochs', '1'], tmp);
  assert.equal(inside.code, 0, inside.err);
  const shown = /^run folder: (.+)$/m.exec(inside.out)?.[1];
  assert.ok(shown && !path.isAbsolute(shown) && shown.startsWith(path.join('runs-shown', 'tiny-')), inside.out);
  assert.ok(fs.existsSync(path.join(tmp, shown, 'summary.json')));
  const outside = cli(['train', path.join(tmp, 'tiny.vae.json'), '--out', path.join(tmp, 'runs-shown'), '--epochs', '1'], root);
  assert.equal(outside.code, 0, outside.err);
  const elsewhere = /^run folder: (.+)$/m.exec(outside.out)?.[1];
  assert.ok(elsewhere && path.isAbsolute(elsewhere) && fs.existsSync(path.join(elsewhere, 'summary.json')), outside.out);
});

test('an unwritable run folder is refused before training starts', () => {
  // Root can write anywhere, so as root (CI) the command runs as the unprivileged "nobody"
  // (uid 65534), in a folder that user can read but not write.
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-cli-ro-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'tiny.vae.json'), SMALL);
  const ro = path.join(dir, 'ro');
  fs.mkdirSync(ro, { mode: 0o555 });
  const user = asRoot ? { uid: 65534, gid: 65534 } : {};
  const run = spawnSync(process.execPath, [bin, 'train', path.join(dir, 'tiny.vae.json'), '--out', path.join(ro, 'runs')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    ...user,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /cannot write the run folder/);
  noStack(run.stderr);
});

test('messages for inputs made elsewhere say what is wrong in words, not in error codes', () => {
  const at = (name: string) => path.join(tmp, name);
  // A spec with a raw control character in a string, and one with a backslash JSON does not know.
  fs.writeFileSync(at('ctl.vae.json'), '{ "name": "a\u0001b", "data": { "synthetic": "circle" }, "model": { "latentDim": 2 } }');
  fs.writeFileSync(at('esc.vae.json'), '{ "name": "a\\qb", "data": { "synthetic": "circle" }, "model": { "latentDim": 2 } }');
  // Lines ended by a lone carriage return; data of huge magnitude with no scaling.
  fs.writeFileSync(at('cr.csv'), 'a,b\r1,2\r3,4\r5,6\r');
  fs.writeFileSync(at('cr.vae.json'), '{ "data": { "path": "cr.csv" }, "model": { "latentDim": 1 } }');
  fs.writeFileSync(at('huge.csv'), Array.from({ length: 64 }, (_, i) => `${1e30 * (1 + (i % 7))},${-1e30 * (1 + (i % 5))}`).join('\n') + '\n');
  fs.writeFileSync(
    at('huge.vae.json'),
    '{ "data": { "path": "huge.csv", "header": false }, "model": { "latentDim": 1 }, "training": { "epochs": 2, "batchSize": 16 } }',
  );
  // --out through a file where a folder should be.
  fs.writeFileSync(at('plain-file'), 'x');
  const cases: [string[], RegExp, number][] = [
    [['train', at('ctl.vae.json')], /ctl\.vae\.json:1:\d+: invalid JSON: a control character inside a string/, 2],
    [['train', at('esc.vae.json')], /esc\.vae\.json:1:\d+: invalid JSON: a backslash before a character JSON does not escape/, 2],
    [['train', at('cr.vae.json')], /cr\.csv:1: the file's lines end with a carriage return alone/, 2],
    [
      ['train', at('huge.vae.json'), '--out', at('runs')],
      /training diverged .* The data reach 7\.00e\+30 in absolute value: scale them to about unit size \(data\.scale "standardize"\)/,
      1,
    ],
    [
      ['train', path.join(tmp, 'tiny.vae.json'), '--out', at('plain-file')],
      /--out: the runs folder .*plain-file is a file, not a folder; choose a folder with --out/,
      2,
    ],
    [['eval', at('plain-file')], /plain-file is not a folder: eval takes a run folder/, 2],
  ];
  for (const [args, expect, code] of cases) {
    const r = cli(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, expect);
    assert.doesNotMatch(r.err, /\b(InvalidCharacter|InvalidEscapeCharacter|ENOTDIR)\b/);
    noStack(r.err);
  }
});

test("eval of a run another trainer wrote says that eval re-evaluates VAE Lens's own checkpoints, and points to report", () => {
  const made = (name: string, spec?: string) => {
    const dir = path.join(tmp, 'elsewhere', name);
    fs.mkdirSync(dir, { recursive: true });
    // Python's json.dump writes a NaN where the run had none to give.
    const meta = {
      formatVersion: 1,
      name,
      specPath: path.join(tmp, 'train.py'),
      startedAt: '2026-01-01T00:00:00Z',
      trainer: 'vae_lens (Python)',
      dataset: { n: 10, dim: 2, source: 's' },
    };
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...meta, lossScale: 0 }).replace('"lossScale":0', '"lossScale": NaN'));
    if (spec !== undefined) fs.writeFileSync(path.join(dir, 'spec.vae.json'), spec);
    return dir;
  };
  const cases = [made('python'), made('script', '{ "name": "s", "trainer": { "command": ["python", "train.py"] } }')];
  for (const dir of cases) {
    const r = cli(['eval', dir]);
    assert.equal(r.code, 2, r.err);
    assert.match(
      r.err,
      new RegExp(
        `${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was written by vae_lens \\(Python\\), not by VAE Lens's own trainer: eval re-evaluates the checkpoint`,
      ),
    );
    assert.match(r.err, /vae-lens report/);
    noStack(r.err);
  }
});

test("eval of a run another program wrote from the run format, with only the fields a reader needs, says so rather than naming run.json's dataset", () => {
  // The document asks readers for name, specPath and startedAt only; a JAX or R writer may leave out the dataset, or write its own.
  const datasets: unknown[] = [undefined, {}, { n: 10, source: 'mnist' }, { dim: '784' }, 'mnist', { dim: 0 }];
  datasets.forEach((dataset, i) => {
    for (const trainer of [undefined, 'my JAX loop']) {
      const dir = path.join(tmp, 'hand-written', `${i}-${trainer ?? 'anonymous'}`);
      fs.mkdirSync(dir, { recursive: true });
      const meta = { formatVersion: 1, name: 'jax', specPath: path.join(tmp, 'train.py'), startedAt: '2026-01-01T00:00:00Z', trainer, dataset };
      fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(meta));
      const r = cli(['eval', dir]);
      const what = `dataset ${JSON.stringify(dataset)}, trainer ${trainer}`;
      assert.equal(r.code, 2, `${what}: ${r.err}`);
      assert.doesNotMatch(r.err, /dataset/, what);
      assert.match(r.err, trainer ? /was written by my JAX loop, not by VAE Lens's own trainer/ : /A run another trainer wrote has none/, what);
      assert.match(r.err, /vae-lens report/, what);
      noStack(r.err);
    }
  });
});

test('-h and --help anywhere after a command are an answer, not a file name', () => {
  for (const command of ['train', 'eval', 'report'])
    for (const args of [
      [command, '-h'],
      [command, '--help'],
      [command, 'x.vae.json', '-h'],
      [command, '-h', 'x.vae.json'],
    ]) {
      const r = cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.match(r.out, /^usage:\n/, args.join(' '));
      assert.equal(r.err, '', args.join(' '));
    }
});

test('every refusal of train starts with "vae-lens:", as those of eval and report do', () => {
  const afile = path.join(tmp, 'a-file');
  fs.writeFileSync(afile, 'x');
  const bad = path.join(tmp, 'prefix-bad.vae.json');
  fs.writeFileSync(bad, '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 0 } }');
  const cases = [
    ['train', path.join(tmp, 'no-such.vae.json')],
    ['train', bad, '--out', tmp],
    ['train', path.join(tmp, 'tiny.vae.json'), '--out', afile],
    ['train', path.join(tmp, 'tiny.vae.json'), '--resume', afile],
    ['train', '--epochs', '0', 'x'],
    ['eval', afile],
    ['report', afile],
  ];
  for (const args of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    const last = r.err.trim().split('\n').pop()!;
    assert.match(last, /^vae-lens: /, `${args.join(' ')}: ${r.err}`);
  }
});

test('a resume with --epochs under a cosine schedule says where the learning rate goes; under a constant one it says nothing', () => {
  /** The cosine of the spec below over `epochs` epochs, at `epoch`, as the note rounds it. */
  const cosine = (epoch: number, epochs: number) =>
    Number((5e-5 + 0.5 * (0.005 - 5e-5) * (1 + Math.cos((Math.PI * (epoch - 1)) / (epochs - 1)))).toPrecision(3));
  for (const schedule of ['cosine', 'constant']) {
    const spec = path.join(tmp, `${schedule}.vae.json`);
    fs.writeFileSync(spec, SMALL.replace('"epochs": 3', `"epochs": 2, "schedule": "${schedule}"`).replace('"tiny"', `"${schedule}"`));
    const r = cli(['train', spec, '--out', path.join(tmp, `runs-${schedule}`), '--backend', 'wasm']);
    assert.equal(r.code, 0, r.err);
    const runDir = path.join(tmp, `runs-${schedule}`, fs.readdirSync(path.join(tmp, `runs-${schedule}`))[0]!);
    for (const epochs of [3, 4, 6]) {
      const copy = `${runDir}-to-${epochs}`;
      fs.cpSync(runDir, copy, { recursive: true });
      const res = cli(['train', spec, '--resume', copy, '--epochs', String(epochs), '--backend', 'wasm']);
      assert.equal(res.code, 0, res.err);
      const note = `warn: training.schedule "cosine" spans the epochs planned, now ${epochs} where the run was planned for 2: epoch 3 trains at the learning rate ${cosine(3, epochs)}, where the schedule it was trained on gave ${cosine(2, 2)} (its last epoch's)`;
      // Over 3 epochs the third is at the floor, where the 2 planned ended: the rate goes on as it was.
      if (schedule === 'cosine' && cosine(3, epochs) !== cosine(2, 2)) assert.ok(res.err.includes(note), `--epochs ${epochs}:\n${res.err}`);
      else assert.doesNotMatch(res.err, /training\.schedule/);
    }
  }
  // Resumed further from its fourth epoch, where both schedules are at their floor: nothing to say.
  const again = path.join(
    tmp,
    'runs-cosine',
    fs.readdirSync(path.join(tmp, 'runs-cosine')).find((d) => d.endsWith('-to-4'))!,
  );
  const res = cli(['train', path.join(tmp, 'cosine.vae.json'), '--resume', again, '--epochs', '5', '--backend', 'wasm']);
  assert.equal(res.code, 0, res.err);
  assert.doesNotMatch(res.err, /training\.schedule/);
});

test('eval folds the session list of a run resumed many times, as the panel does, and --json keeps every session', () => {
  const out = path.join(tmp, 'many-sessions');
  const first = cli(['train', path.join(tmp, 'tiny.vae.json'), '--out', out, '--backend', 'cpu', '--epochs', '12']);
  assert.equal(first.code, 0, first.err);
  const runDir = path.join(out, fs.readdirSync(out)[0]!);
  const metaFile = path.join(runDir, 'run.json');
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { sessions: { startedAt: string; fromEpoch: number }[] };
  // Twelve sessions of one epoch each, as a run stopped and resumed after every epoch writes them.
  const start = Date.parse(meta.sessions[0]!.startedAt);
  meta.sessions = Array.from({ length: 12 }, (_, i) => ({ ...meta.sessions[0]!, startedAt: new Date(start + i * 60_000).toISOString(), fromEpoch: i }));
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  const res = cli(['eval', runDir, '--samples', '2']);
  assert.equal(res.code, 0, res.err);
  const listed = res.out.slice(res.out.indexOf('trained in 12 sessions:'));
  assert.match(
    listed,
    /^trained in 12 sessions:\n {2}1\. [^\n]+\n {2}2\. [^\n]+\n {2}3\. [^\n]+\n {2}Sessions 4 to 9 \(6 more\): [^\n]*--json[^\n]*\n {2}10\. [^\n]+\n {2}11\. [^\n]+\n {2}12\. [^\n]+\n/,
    res.out,
  );
  const json = JSON.parse(cli(['eval', runDir, '--samples', '2', '--json']).out) as { sessions: unknown[] };
  assert.equal(json.sessions.length, 12);
});

test("a resumed run keeps every session in run.json: the first one's engine and start are not lost, and old run.json files still resume", () => {
  const out = path.join(tmp, 'sessions');
  const first = cli(['train', path.join(tmp, 'tiny.vae.json'), '--out', out, '--backend', 'cpu', '--epochs', '2']);
  assert.equal(first.code, 0, first.err);
  const runDir = path.join(out, fs.readdirSync(out)[0]!);
  type Meta = { startedAt: string; backend: string; runsDir?: string; sessions?: { startedAt: string; backend: string; fromEpoch?: number }[] };
  const readMeta = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as Meta;
  const before = readMeta(runDir);
  assert.equal(before.runsDir, out, 'run.json names the runs folder it was written in');
  assert.deepEqual(
    before.sessions?.map((s) => [s.startedAt, s.backend, s.fromEpoch]),
    [[before.startedAt, 'cpu', 0]],
  );

  // A run.json from before sessions were recorded: its own fields are the first session.
  const old = path.join(tmp, 'sessions-old');
  fs.cpSync(runDir, old, { recursive: true });
  const { sessions: _s, ...oldMeta } = before;
  fs.writeFileSync(path.join(old, 'run.json'), JSON.stringify(oldMeta));

  for (const dir of [runDir, old]) {
    const res = cli(['train', path.join(tmp, 'tiny.vae.json'), '--resume', dir, '--epochs', '3', '--backend', 'wasm']);
    assert.equal(res.code, 0, res.err);
    const after = readMeta(dir);
    assert.equal(after.backend, 'wasm');
    assert.deepEqual(
      after.sessions?.map((s) => [s.startedAt, s.backend, s.fromEpoch]),
      [
        [before.startedAt, 'cpu', 0],
        [after.startedAt, 'wasm', 2],
      ],
      dir,
    );
    const report = cli(['eval', dir, '--samples', '2']);
    assert.equal(report.code, 0, report.err);
    assert.doesNotMatch(report.err, /sessions/, 'the reader takes the sessions it wrote');
    // eval lists each session: its engine, the epochs it trained, its time per epoch.
    assert.match(
      report.out,
      /trained in 2 sessions:\n {2}1\. cpu: epochs 0 to 2, [\d.]+ m?s\/epoch \(started .+\)\n {2}2\. wasm(, \d+ threads?)?: epochs 2 to 3, [\d.]+ m?s\/epoch/,
      report.out,
    );
    const json = JSON.parse(cli(['eval', dir, '--samples', '2', '--json']).out) as { sessions: { backend: string; fromEpoch: number; toEpoch: number }[] };
    assert.deepEqual(
      json.sessions.map((s) => [s.backend, s.fromEpoch, s.toEpoch]),
      [
        ['cpu', 0, 2],
        ['wasm', 2, 3],
      ],
    );
  }
});

/**
 * eval, report and --resume on run folders that are not what VAE Lens wrote: damaged or hostile
 * run.json, FIFOs where files belong, bad metrics lines, a metrics file over the read limit,
 * damaged checkpoints, links planted where the run or the report writes, a second trainer on a
 * live run. Each must end in a bounded time with exit 0 or 2, a message naming the file (and the
 * line or field), no stack trace, and nothing written outside the run folder or lost in it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { RUN_FILES } from '../../src/core/runFormat';
import { reportFigure } from './reliability-figures';
import { BIN, completeLines, noStack, readMetrics, ROOT, runCli, startedDir, tempDir, tinySpec } from './reliability-processes';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const TIMEOUT_MS = 300_000;
/** A command that takes longer than this on a run folder of a few kilobytes hangs. */
const HANG_MS = 45_000;
const tmp = tempDir('vae-lens-run-folder-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let good = '';
const spec = path.join(tmp, 'good.vae.json');

before(async () => {
  fs.writeFileSync(spec, tinySpec('good', { epochs: 3, n: 256 }));
  const r = await runCli(['train', spec, '--out', path.join(tmp, 'runs'), '--json']);
  assert.equal(r.code, 0, r.err);
  good = startedDir(r.events);
});

let copies = 0;
function copyRun(): string {
  const dir = path.join(tmp, `copy-${copies++}`);
  fs.cpSync(good, dir, { recursive: true });
  return dir;
}

function cli(args: string[]): { code: number | null; out: string; err: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: HANG_MS });
  const ms = performance.now() - t0;
  assert.equal(r.signal, null, `vae-lens ${args.join(' ')} did not end within ${HANG_MS / 1000} s`);
  return { code: r.status, out: r.stdout, err: r.stderr, ms };
}

/** exit 0, or exit 2 with a message that names `file`; never a stack. */
function endsWell(r: { code: number | null; err: string }, file: string, what: string): void {
  noStack(r.err);
  assert.ok(r.code === 0 || r.code === 2, `${what}: exit ${r.code}\n${r.err}`);
  if (r.code === 2) assert.ok(r.err.includes(file), `${what}: the message does not name ${file}:\n${r.err}`);
}

function mkfifo(file: string): void {
  fs.rmSync(file, { force: true, recursive: true });
  spawnSync('mkfifo', [file]);
  assert.ok(fs.statSync(file).isFIFO());
}

test('a damaged or hostile run.json: eval and report exit 2 naming it, no stack', { timeout: TIMEOUT_MS }, () => {
  const values = fc.sample(
    fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({ name: fc.string(), specPath: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.object()), startedAt: fc.string() })
        .map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    ),
    { seed: SEED, numRuns: 10 },
  );
  let cases = 0;
  for (const [i, text] of values.entries()) {
    const dir = copyRun();
    const meta = path.join(dir, RUN_FILES.meta);
    fs.writeFileSync(meta, text);
    const command = i % 2 === 0 ? 'eval' : 'report';
    const r = cli([command, dir]);
    noStack(r.err);
    assert.equal(r.code, 2, `${command} accepted run.json ${JSON.stringify(text).slice(0, 200)}: ${r.err}${r.out}`);
    assert.ok(r.err.includes(meta), r.err);
    cases++;
  }
  reportFigure({ group: 'runFolder', kind: 'check', name: 'damaged or hostile run.json (eval, report: exit 2, named, no stack)', cases, passed: cases });
});

test('FIFOs where run files belong: eval, report and --resume end within the bound, never hang', { timeout: TIMEOUT_MS }, () => {
  const places = [RUN_FILES.meta, RUN_FILES.spec, RUN_FILES.metrics, RUN_FILES.summary, RUN_FILES.images, path.join(RUN_FILES.checkpoints, 'latest.json')];
  let cases = 0;
  let slowest = 0;
  for (const place of places) {
    for (const command of ['eval', 'report', 'resume'] as const) {
      const dir = copyRun();
      const file = path.join(dir, place);
      mkfifo(file);
      const r = command === 'resume' ? cli(['train', spec, '--resume', dir, '--epochs', '4']) : cli([command, dir]);
      slowest = Math.max(slowest, r.ms);
      endsWell(r, file, `${command} with a FIFO at ${place}`);
      if (command === 'report' && place === RUN_FILES.metrics) assert.match(r.err, /\/metrics\.jsonl was not read: it is a named pipe \(FIFO\)/);
      cases++;
    }
  }
  reportFigure({
    group: 'runFolder',
    kind: 'check',
    name: `FIFOs in a run folder (eval, report, resume: no hang; slowest ${(slowest / 1000).toFixed(1)} s)`,
    cases,
    passed: cases,
  });
});

test('bad metrics lines are reported by number; a metrics file over the read limit is said, not shown as empty', { timeout: TIMEOUT_MS }, () => {
  const inserts = fc.sample(fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }), { seed: SEED, numRuns: 3 });
  let cases = 0;
  for (const at of inserts) {
    const dir = copyRun();
    const file = path.join(dir, RUN_FILES.metrics);
    const lines = completeLines(fs.readFileSync(file, 'utf8'));
    const bad = new Set<number>();
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (at.includes(i)) {
        out.push('{"epoch": "not a record"');
        bad.add(out.length);
      }
      out.push(lines[i]!);
    }
    fs.writeFileSync(file, out.join('\n') + '\n');
    const r = cli(['report', dir, '--out', path.join(dir, 'r.html')]);
    assert.equal(r.code, 0, r.err);
    for (const n of bad) assert.ok(r.err.includes(`${file}:${n}: `), `line ${n} not reported:\n${r.err}`);
    cases++;
  }
  const dir = copyRun();
  const file = path.join(dir, RUN_FILES.metrics);
  fs.truncateSync(file, 513 * 2 ** 20); // sparse: nothing written
  const r = cli(['report', dir, '--out', path.join(dir, 'r.html')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /metrics\.jsonl was not read: it is 513\.0 MiB, more than the 512\.0 MiB read limit/);
  cases++;
  reportFigure({ group: 'runFolder', kind: 'check', name: 'bad metrics lines named by number, over-limit metrics said (report)', cases, passed: cases });
});

test('a checkpoint tensor cut short or reshaped: eval exits 2 naming the checkpoint and the variable', { timeout: TIMEOUT_MS }, () => {
  let cases = 0;
  for (const cut of fc.sample(fc.integer({ min: 1, max: 40 }), { seed: SEED, numRuns: 4 })) {
    const dir = copyRun();
    const file = path.join(dir, RUN_FILES.checkpoints, 'latest.json');
    const cp = JSON.parse(fs.readFileSync(file, 'utf8')) as { variables: Record<string, { shape: number[]; data: string }> };
    const names = Object.keys(cp.variables);
    const name = names[cut % names.length]!;
    const v = cp.variables[name]!;
    if (cut % 2 === 0)
      v.data = Buffer.from(v.data, 'base64')
        .subarray(0, Math.max(0, Buffer.byteLength(v.data, 'base64') - 4 * cut))
        .toString('base64');
    else v.shape = [...v.shape.slice(0, -1), (v.shape[v.shape.length - 1] ?? 1) + cut];
    fs.writeFileSync(file, JSON.stringify(cp));
    const r = cli(['eval', dir]);
    noStack(r.err);
    assert.equal(r.code, 2, r.err + r.out);
    assert.ok(r.err.includes(file) && r.err.includes(name), r.err);
    cases++;
  }
  reportFigure({ group: 'runFolder', kind: 'check', name: 'checkpoint tensors shorter than their shape (eval: exit 2, named)', cases, passed: cases });
});

test('a checkpoint whose sizes are damaged: eval exits 2 naming the checkpoint and the field, not --samples', { timeout: TIMEOUT_MS }, () => {
  let cases = 0;
  for (const field of ['dim', 'latentDim'])
    for (const value of [0, -2, -1e308, 1e308]) {
      const dir = copyRun();
      const file = path.join(dir, RUN_FILES.checkpoints, 'latest.json');
      const cp = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(file, JSON.stringify({ ...cp, [field]: value }));
      const r = cli(['eval', dir, '--samples', '4']);
      noStack(r.err);
      assert.equal(r.code, 2, r.err + r.out);
      assert.ok(r.err.includes(file) && r.err.includes(`"${field}"`) && !r.err.includes('--samples'), `${field} ${value}: ${r.err}`);
      cases++;
    }
  reportFigure({ group: 'runFolder', kind: 'check', name: 'checkpoint sizes that are not counts (eval: exit 2, named)', cases, passed: cases });
});

test('report --out into a missing folder, onto a folder, through a planted link; eval --samples 1e9', { timeout: TIMEOUT_MS }, () => {
  const dir = copyRun();
  const victim = path.join(tmp, 'victim.txt');
  fs.writeFileSync(victim, 'keep me');
  fs.symlinkSync(victim, path.join(dir, 'report.html'));
  const cases: [string[], RegExp][] = [
    [['report', dir, '--out', path.join(tmp, 'no-such-folder', 'r.html')], /--out: the folder .*no-such-folder does not exist/],
    [['report', dir, '--out', tmp], /--out: .* is a folder or another non-file/],
    [['report', dir], /the report: .*report\.html is a symbolic link; VAE Lens does not write through links/],
    [['eval', dir, '--samples', '1000000000'], /vae-lens: --samples 1000000000 is more than 1024, the most a spec's diagnostics\.mcSamples may ask for/],
  ];
  for (const [args, expect] of cases) {
    const r = cli(args);
    noStack(r.err);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, expect);
  }
  assert.equal(fs.readFileSync(victim, 'utf8'), 'keep me', 'nothing written through the link');
  reportFigure({
    group: 'links',
    kind: 'check',
    name: 'report --out targets refused (missing folder, folder, link) and eval --samples over memory',
    cases: cases.length,
    passed: cases.length,
  });
});

test('--resume through a linked metrics.jsonl is refused, and the link target is untouched', { timeout: TIMEOUT_MS }, () => {
  let cases = 0;
  for (const name of [RUN_FILES.metrics, RUN_FILES.summary, path.join(RUN_FILES.checkpoints, 'latest.json')]) {
    const dir = copyRun();
    const file = path.join(dir, name);
    const victim = path.join(tmp, `victim-${cases}.txt`);
    fs.copyFileSync(file, victim);
    const before = fs.readFileSync(victim);
    fs.rmSync(file);
    fs.symlinkSync(victim, file);
    const r = cli(['train', spec, '--resume', dir, '--epochs', '4']);
    noStack(r.err);
    assert.equal(r.code, 2, r.err + r.out);
    assert.match(r.err, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a symbolic link`));
    assert.deepEqual(fs.readFileSync(victim), before);
    cases++;
  }
  reportFigure({ group: 'links', kind: 'check', name: 'resume with run files replaced by links refused, targets untouched', cases, passed: cases });
});

test('a second trainer on a live run is refused; the first finishes with every record whole', { timeout: TIMEOUT_MS }, async () => {
  const longSpec = path.join(tmp, 'long.vae.json');
  const epochs = 200;
  fs.writeFileSync(longSpec, tinySpec('long', { epochs, n: 512 }));
  let runDir = '';
  let second: ReturnType<typeof cli> | undefined;
  const first = await runCli(['train', longSpec, '--out', path.join(tmp, 'runs-long'), '--json'], (ev) => {
    if (ev.type === 'started') runDir = ev.runDir;
    if (ev.type === 'diagnostics' && ev.record.epoch === 1 && second === undefined)
      second = cli(['train', longSpec, '--resume', runDir, '--epochs', String(epochs + 10)]);
  });
  assert.equal(first.code, 0, first.err);
  assert.ok(second, 'the second trainer never ran');
  noStack(second.err);
  assert.equal(second.code, 2, second.err + second.out);
  assert.match(second.err, /is being written by another trainer \(process \d+, see run\.lock\)/);
  const { parsed } = readMetrics(runDir);
  assert.deepEqual(parsed.bad, []);
  assert.deepEqual(
    parsed.records.map((r) => r.epoch),
    Array.from({ length: epochs + 1 }, (_, i) => i),
    'one record per pass, in order',
  );
  assert.equal(fs.existsSync(path.join(runDir, 'run.lock')), false, 'the lock is released at the end');
  // Once the writer is gone the run resumes.
  const resumed = cli(['train', longSpec, '--resume', runDir, '--epochs', String(epochs + 1)]);
  assert.equal(resumed.code, 0, resumed.err);
  reportFigure({
    group: 'twoWriters',
    kind: 'fault',
    name: 'second trainer (--resume) on a live run',
    injected: 1,
    survived: 1,
    recordsChecked: parsed.records.length,
    recordsLost: 0,
    seed: SEED,
  });
});

test(
  'report --png into a folder whose name has "#", "%" and a space renders the page (the URL is encoded)',
  { timeout: TIMEOUT_MS, skip: !fs.existsSync('/usr/bin/chromium') && 'no /usr/bin/chromium here' },
  () => {
    const run = copyRun();
    const pngSize = (folder: string, name: string): number => {
      fs.mkdirSync(folder);
      const r = cli(['report', run, '--out', path.join(folder, `${name}.html`), '--png']);
      noStack(r.err);
      assert.equal(r.code, 0, r.err);
      const png = path.join(folder, `${name}.png`);
      assert.ok(fs.existsSync(png), `no screenshot at ${png}`);
      return fs.statSync(png).size;
    };
    const plain = pngSize(path.join(tmp, 'plain'), 'r');
    const odd = pngSize(path.join(tmp, 'odd #1 100%'), 'r #2');
    // A URL cut at "#" shows Chromium's file-not-found page: a far smaller picture than the charts.
    assert.ok(Math.abs(odd - plain) / plain < 0.2, `the screenshot is not the report's (${odd} bytes vs ${plain})`);
    reportFigure({ group: 'confinement', kind: 'check', name: 'report --png with a hash sign, a percent sign and spaces in the path', cases: 1, passed: 1 });
  },
);

/** Every file of a run folder, path → bytes, to tell that a refused command wrote nothing. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), fs.readFileSync(path.join(e.parentPath, e.name)));
  return out;
}

type StoredCheckpoint = {
  epoch: number;
  variables: Record<string, { shape: number[]; data: string }>;
  optimizer: { name: string; shape: number[]; data: string }[];
};

test('a resume its checkpoint cannot serve is refused before anything is written: the run folder stays byte for byte', { timeout: TIMEOUT_MS }, () => {
  // Generated damage of every kind a checkpoint can carry, and runs with nothing to continue.
  const damages: [string, (cp: StoredCheckpoint, dir: string, k: number) => StoredCheckpoint | undefined, RegExp][] = [
    [
      'a character outside base64',
      (cp, _d, k) => edit(cp, k, (v) => ({ ...v, data: `${v.data.slice(0, k % 8)}!${v.data.slice((k % 8) + 1)}` })),
      /is not base64/,
    ],
    ['padding in the middle', (cp, _d, k) => edit(cp, k, (v) => ({ ...v, data: `${v.data.slice(0, 4)}=${v.data.slice(5)}` })), /is not base64/],
    [
      'fewer optimizer entries',
      (cp, _d, k) => ({ ...cp, optimizer: cp.optimizer.slice(0, 1 + (k % (cp.optimizer.length - 1))) }),
      /optimizer state does not fit/,
    ],
    ['optimizer entries reversed', (cp) => ({ ...cp, optimizer: [...cp.optimizer].reverse() }), /optimizer state does not fit/],
    [
      'a moment of another shape',
      (cp, _d, k) => ({ ...cp, optimizer: cp.optimizer.map((e, i) => (i === 1 + (k % (cp.optimizer.length - 1)) ? reshaped(e) : e)) }),
      /optimizer state does not fit/,
    ],
    ['a variable of another shape', (cp, _d, k) => edit(cp, k, reshaped), /the network changed since it was written/],
    ['no variables', (cp) => ({ ...cp, variables: {} }), /has no variable/],
    [
      'a NaN weight',
      (cp, _d, k) => edit(cp, k, (v) => ({ ...v, data: withNaN(v.data, k) })),
      /holds NaN at position \d+; these weights cannot be evaluated or trained on/,
    ],
    [
      'more batches into the next epoch than the data make',
      (cp, _d, k) => ({ ...cp, batchesDone: 1000 + k, lossSum: 1 }),
      /batches into epoch 4, but these data make \d+ batches an epoch/,
    ],
    ['a negative epoch', (cp, _d, k) => ({ ...cp, epoch: -1 - k }), /"epoch" must be a whole number, 0 or more/],
    ['an epoch beyond 2^53', (cp, _d, k) => ({ ...cp, epoch: 2 ** 60 + k * 2 ** 8 }), /"epoch" must be a whole number, 0 or more and below 2\^53/],
    ['a negative step', (cp, _d, k) => ({ ...cp, step: -1 - k }), /"step" must be a whole number, 0 or more/],
    [
      'no checkpoint after trained epochs',
      (_cp, dir) => (fs.rmSync(path.join(dir, RUN_FILES.checkpoints), { recursive: true }), undefined),
      /its weights are lost/,
    ],
  ];
  let cases = 0;
  for (const k of fc.sample(fc.integer({ min: 0, max: 1000 }), { seed: SEED, numRuns: 2 }))
    for (const [what, damage, expect] of damages) {
      const dir = copyRun();
      const file = path.join(dir, RUN_FILES.checkpoints, 'latest.json');
      const cp = damage(JSON.parse(fs.readFileSync(file, 'utf8')) as StoredCheckpoint, dir, k);
      if (cp) fs.writeFileSync(file, JSON.stringify(cp));
      // A writer killed mid-line left a torn last record: a refused resume must not cut it either.
      if (k % 2 === 0) fs.appendFileSync(path.join(dir, RUN_FILES.metrics), '{"epoch": 4, "elbo": -1.2');
      const before = snapshot(dir);
      const r = cli(['train', spec, '--resume', dir, '--epochs', '5']);
      noStack(r.err);
      assert.equal(r.code, 2, `${what}: ${r.err}`);
      assert.match(r.err, expect, what);
      assert.deepEqual(snapshot(dir), before, `${what}: the run folder changed`);
      cases++;
    }
  // Asked for no more epochs than the checkpoint holds: nothing to train, nothing rewritten.
  const dir = copyRun();
  const before = snapshot(dir);
  const r = cli(['train', spec, '--resume', dir, '--epochs', '3']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /its checkpoint is at epoch 3 and the run is asked for 3 epochs \(--epochs\), so there is nothing left to train/);
  assert.deepEqual(snapshot(dir), before);
  cases++;
  reportFigure({
    group: 'runFolder',
    kind: 'check',
    name: 'resumes a damaged checkpoint cannot serve (exit 2, named, folder unchanged)',
    cases,
    passed: cases,
  });

  function edit(cp: StoredCheckpoint, k: number, f: (v: { shape: number[]; data: string }) => { shape: number[]; data: string }): StoredCheckpoint {
    const names = Object.keys(cp.variables);
    const name = names[k % names.length]!;
    return { ...cp, variables: { ...cp.variables, [name]: f(cp.variables[name]!) } };
  }
  function withNaN(data: string, k: number): string {
    const f = new Float32Array(new Uint8Array(Buffer.from(data, 'base64')).buffer); // a copy: aligned
    f[k % f.length] = NaN;
    return Buffer.from(f.buffer).toString('base64');
  }
  /** The same numbers under another shape, so that only the shape check can tell. */
  function reshaped<T extends { shape: number[] }>(v: T): T {
    const s = v.shape;
    const other = s.length === 0 ? [1] : s.length === 1 ? [1, s[0]!] : s.join() === [...s].reverse().join() ? [s.reduce((a, b) => a * b, 1)] : [...s].reverse();
    return { ...v, shape: other };
  }
});

test('a checkpoint, run.json and metrics.jsonl as other tools write them (wrapped base64, a byte-order mark) are read', { timeout: TIMEOUT_MS }, () => {
  const dir = copyRun();
  const file = path.join(dir, RUN_FILES.checkpoints, 'latest.json');
  const cp = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredCheckpoint;
  // Python's base64.encodebytes: a line break every 76 characters.
  for (const v of Object.values(cp.variables)) v.data = v.data.replace(/.{76}/g, '$&\n');
  fs.writeFileSync(file, JSON.stringify(cp));
  for (const name of [RUN_FILES.meta, RUN_FILES.metrics, RUN_FILES.summary])
    fs.writeFileSync(path.join(dir, name), `\uFEFF${fs.readFileSync(path.join(dir, name), 'utf8')}`);
  const r = cli(['eval', dir, '--json']);
  assert.equal(r.code, 0, r.err);
  const report = cli(['report', dir]);
  assert.equal(report.code, 0, report.err);
  assert.doesNotMatch(report.err, /not valid JSON|skipped/, report.err);
  reportFigure({ group: 'runFolder', kind: 'check', name: 'wrapped base64 and byte-order marks read (eval, report)', cases: 2, passed: 2 });
});

test('report --out onto a file that is not a report (a run file, a script) is refused and the file kept', { timeout: TIMEOUT_MS }, () => {
  const dir = copyRun();
  const script = path.join(tmp, 'train.py');
  fs.writeFileSync(script, 'print("mine")\n');
  const targets = [...[RUN_FILES.metrics, RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.spec].map((f) => path.join(dir, f)), script];
  for (const target of targets) {
    const before = fs.readFileSync(target);
    const r = cli(['report', dir, '--out', target]);
    noStack(r.err);
    assert.equal(r.code, 2, `${target}: ${r.err}`);
    assert.match(r.err, /exists and is not an HTML page; a report replaces only an earlier report/);
    assert.deepEqual(fs.readFileSync(target), before);
  }
  // An earlier report is replaced, as before.
  assert.equal(cli(['report', dir]).code, 0);
  assert.equal(cli(['report', dir]).code, 0);
  reportFigure({
    group: 'runFolder',
    kind: 'check',
    name: 'report --out onto non-report files refused, files kept',
    cases: targets.length,
    passed: targets.length,
  });
});

test('report --png onto a file, a link or a folder that is not a PNG is refused before anything is written', { timeout: TIMEOUT_MS }, () => {
  const dir = copyRun();
  const notes = path.join(tmp, 'png-target-notes.txt');
  fs.writeFileSync(notes, 'mine');
  const cases: [string, (png: string) => void, RegExp][] = [
    ['a text file', (png) => fs.writeFileSync(png, 'my notes'), /exists and is not a PNG image; the figure replaces only an earlier one/],
    ['a link', (png) => fs.symlinkSync(notes, png), /is a symbolic link; VAE Lens does not write through links/],
    ['a folder', (png) => fs.mkdirSync(png), /is a folder or another non-file/],
  ];
  for (const [what, make, expect] of cases) {
    const out = path.join(tmp, `png-target-${cases.findIndex((c) => c[0] === what)}.html`);
    const png = out.replace(/\.html$/, '.png');
    make(png);
    const r = cli(['report', dir, '--out', out, '--png']);
    noStack(r.err);
    assert.equal(r.code, 2, `${what}: ${r.err}`);
    assert.match(r.err, expect, what);
    assert.equal(fs.existsSync(out), false, `${what}: no report written before the refusal`);
  }
  assert.equal(fs.readFileSync(notes, 'utf8'), 'mine');
});

test('--resume of what is not a run folder says what it is instead, and writes nothing', { timeout: TIMEOUT_MS }, () => {
  const empty = path.join(tmp, 'not-a-run');
  fs.mkdirSync(empty);
  fs.writeFileSync(path.join(empty, 'notes.txt'), 'a folder of something else');
  const noSnapshot = copyRun();
  fs.rmSync(path.join(noSnapshot, RUN_FILES.spec));
  // What the Python companion writes (no spec snapshot, no checkpoint), and a training script's run (its script spec as the snapshot).
  const python = path.join(tmp, 'python-run');
  fs.mkdirSync(python);
  const pythonMeta = { formatVersion: 1, name: 'mine', specPath: '/somewhere/train.py', startedAt: '2026-11-01T10:00:00Z', trainer: 'vae_lens (Python)' };
  fs.writeFileSync(path.join(python, RUN_FILES.meta), JSON.stringify(pythonMeta));
  fs.writeFileSync(path.join(python, RUN_FILES.summary), '{"status":"stopped","epochsDone":1,"steps":5,"wallSeconds":1}');
  const scripted = path.join(tmp, 'script-run');
  fs.cpSync(python, scripted, { recursive: true });
  fs.writeFileSync(path.join(scripted, RUN_FILES.meta), JSON.stringify({ ...pythonMeta, trainer: undefined }));
  fs.writeFileSync(path.join(scripted, RUN_FILES.spec), '{ "name": "mine", "trainer": { "command": ["python3", "train.py"] } }');
  const otherTrainer = (who: string) =>
    new RegExp(
      `cannot resume .*-run: ${who}, not VAE Lens's own trainer, whose checkpoints --resume continues; resume it as its own training script does, or start a new run`,
    );
  const cases: [string, string, RegExp][] = [
    ['a Python companion run', python, otherTrainer('its run\\.json says it was written by vae_lens \\(Python\\)')],
    ["a training script's run", scripted, otherTrainer('it ran a training script \\(trainer\\.command in its spec\\.vae\\.json\\)')],
    ['a folder that is not there', path.join(tmp, 'no-such-run'), /cannot resume .*no-such-run: there is no such folder/],
    ['a file (the spec)', spec, /cannot resume .*good\.vae\.json: it is a file; --resume takes a run folder/],
    ['a folder without run.json', empty, /cannot resume .*not-a-run: it is not a run folder \(it has no run\.json\)/],
    ['a run folder without its spec snapshot', noSnapshot, /cannot resume .*: its spec snapshot spec\.vae\.json is missing/],
  ];
  for (const [what, dir, expect] of cases) {
    const before = fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? snapshot(dir) : undefined;
    const r = cli(['train', spec, '--resume', dir, '--epochs', '5']);
    noStack(r.err);
    assert.equal(r.code, 2, `${what}: ${r.err}`);
    assert.match(r.err, expect, what);
    if (before) assert.deepEqual(snapshot(dir), before, `${what}: the folder is unchanged`);
  }
});

test(
  '--resume of a run a newer VAE Lens wrote (run.json formatVersion above ours) is refused and the folder kept byte for byte',
  { timeout: TIMEOUT_MS },
  () => {
    for (const version of [2, 7, 99]) {
      const dir = copyRun();
      const metaFile = path.join(dir, RUN_FILES.meta);
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(metaFile, JSON.stringify({ ...meta, formatVersion: version }));
      const before = snapshot(dir);
      const r = cli(['train', spec, '--resume', dir, '--epochs', '50']);
      noStack(r.err);
      assert.equal(r.code, 2, `formatVersion ${version}: ${r.err}`);
      assert.match(r.err, new RegExp(`cannot resume .*: it was written in run format ${version} by a newer version of VAE Lens; this one writes format 1`));
      assert.deepEqual(snapshot(dir), before, `formatVersion ${version}: the folder is unchanged`);
    }
  },
);

test('--resume of a run whose metrics.jsonl was re-saved as UTF-16 is refused before a UTF-8 record is appended to it', { timeout: TIMEOUT_MS }, () => {
  const variants: [string, (text: string) => Buffer][] = [
    ['UTF-16LE with its byte-order mark', (t) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])],
    ['UTF-16BE with its byte-order mark', (t) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()])],
    ['UTF-16LE without one', (t) => Buffer.from(t, 'utf16le')],
    ['UTF-16BE without one', (t) => Buffer.from(t, 'utf16le').swap16()],
  ];
  for (const [what, encode] of variants) {
    const dir = copyRun();
    const file = path.join(dir, RUN_FILES.metrics);
    fs.writeFileSync(file, encode(fs.readFileSync(file, 'utf8')));
    const before = snapshot(dir);
    const r = cli(['train', spec, '--resume', dir, '--epochs', '50']);
    noStack(r.err);
    assert.equal(r.code, 2, `${what}: ${r.err}`);
    assert.match(r.err, /cannot resume .*: its metrics\.jsonl is saved as UTF-16 .* Save it as UTF-8 and resume again/, what);
    assert.match(r.err, /metrics\.jsonl/, `${what}: the message names the file`);
    assert.deepEqual(snapshot(dir), before, `${what}: the folder is unchanged`);
  }
});

test('eval of a run a newer VAE Lens wrote warns that its format is newer, as report does', { timeout: TIMEOUT_MS }, () => {
  const dir = copyRun();
  const metaFile = path.join(dir, RUN_FILES.meta);
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(metaFile, JSON.stringify({ ...meta, formatVersion: 3 }));
  for (const json of [false, true]) {
    const r = cli(['eval', dir, '--points', '64', '--samples', '2', ...(json ? ['--json'] : [])]);
    noStack(r.err);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: .*run\.json: formatVersion 3 is newer than the 1 this version of VAE Lens reads/);
  }
});

test('a checkpoint or run.json cut short anywhere: eval exits 2 saying the file was cut short, and where', { timeout: TIMEOUT_MS }, () => {
  const fractions = fc.sample(fc.double({ min: 0, max: 1, noNaN: true }), { seed: SEED + 7, numRuns: 6 });
  for (const name of [path.join(RUN_FILES.checkpoints, 'latest.json'), RUN_FILES.meta])
    for (const f of fractions) {
      const dir = copyRun();
      const file = path.join(dir, name);
      const text = fs.readFileSync(file);
      const cut = 1 + Math.floor(f * (text.length - 2));
      fs.writeFileSync(file, text.subarray(0, cut));
      const r = cli(['eval', dir, '--points', '16', '--samples', '1']);
      noStack(r.err);
      assert.equal(r.code, 2, `${name} cut at ${cut}: ${r.err}`);
      assert.match(r.err, /cut short/, `${name} cut at ${cut}: ${r.err}`);
      assert.ok(r.err.includes(file), `${name} cut at ${cut}: the file is named: ${r.err}`);
    }
});

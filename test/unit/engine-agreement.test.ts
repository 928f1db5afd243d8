// The same spec and seed on each engine this machine has (wasm on any thread count, pure-JS cpu)
// gives the same records: to the bit across thread counts, and across engines to 1e-5 relative (a
// change in the sixth significant digit, well below what the CLI prints), and a run resumed on
// another engine or thread count continues as if it had not stopped. tfjs-node cannot load here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_BIN, tinyCircleSpec } from './cli-testkit';

const { dir, spec } = tinyCircleSpec('vae-lens-engines-', { epochs: 3 });
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const ACROSS_ENGINES = 1e-5;
const FIELDS = ['elbo', 'entropySum', 'hEnc', 'hDec', 'rDec', 'rPrior', 'sigma2', 'kl'] as const;
type Rec = Record<(typeof FIELDS)[number] | 'epoch', number>;

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Train into a fresh runs folder; its run folder. */
function train(out: string, ...flags: string[]): string {
  cli('train', spec, '--out', out, ...flags);
  const runs = fs.readdirSync(path.join(dir, out));
  assert.equal(runs.length, 1);
  return path.join(dir, out, runs[0]!);
}

const records = (run: string): Rec[] =>
  fs
    .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);
const meta = (run: string) => JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as { backend: string; threads?: number };

/** Everything a record holds but how fast it was made (and what `skip` matches), to the bit. */
function assertSame(a: Rec[], b: Rec[], what: string, skip = /perSec|seconds/i): void {
  assert.equal(a.length, b.length, what);
  a.forEach((r, i) => {
    const differ = Object.keys({ ...r, ...b[i] }).filter(
      (k) => !skip.test(k) && JSON.stringify((r as Record<string, unknown>)[k]) !== JSON.stringify((b[i] as Record<string, unknown>)[k]),
    );
    assert.deepEqual(differ, [], `${what}: epoch ${r.epoch}`);
  });
}

function assertClose(a: Rec[], b: Rec[], what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((r, i) => {
    for (const f of FIELDS) {
      const x = r[f];
      const y = b[i]![f];
      assert.ok(Math.abs(x - y) <= ACROSS_ENGINES * Math.max(1, Math.abs(x)), `${what}: epoch ${r.epoch} ${f} ${x} vs ${y}`);
    }
  });
}

test('wasm on 1 and 2 threads and cpu record the same run, and each engine is in run.json and eval', () => {
  const one = train('w1', '--backend', 'wasm', '--threads', '1');
  const two = train('w2', '--backend', 'wasm', '--threads', '2');
  const cpu = train('cpu', '--backend', 'cpu');
  assertSame(records(two), records(one), '2 threads against 1');
  assertClose(records(cpu), records(one), 'cpu against wasm');
  assert.deepEqual([meta(one).backend, meta(one).threads, meta(two).threads], ['wasm', 1, 2]);
  assert.equal(meta(cpu).backend, 'cpu');
  assert.equal(meta(cpu).threads, undefined);
  for (const [run, engine] of [
    [one, 'wasm'],
    [cpu, 'cpu'],
  ] as const)
    assert.equal((JSON.parse(cli('eval', run, '--json', '--backend', engine)) as { backend: string }).backend, engine);
});

test('a run resumed on another engine or thread count ends as the run trained straight through', () => {
  const straight = records(train('straight', '--backend', 'wasm', '--threads', '2'));
  for (const [first, then] of [
    [
      ['--backend', 'cpu'],
      ['--backend', 'wasm', '--threads', '2'],
    ],
    [
      ['--backend', 'wasm', '--threads', '2'],
      ['--backend', 'cpu'],
    ],
    [
      ['--backend', 'wasm', '--threads', '1'],
      ['--backend', 'wasm', '--threads', '2'],
    ],
  ]) {
    const out = `resume-${first.join('')}-${then.join('')}`;
    const run = train(out, ...first, '--epochs', '2');
    cli('train', spec, '--resume', run, '--epochs', '3', ...then);
    const what = `${first.join(' ')} then ${then.join(' ')}`;
    // The weight average starts over at a resume, by design (TrainingLoop.restore): its ELBO is not compared.
    if (first[1] === 'wasm' && then[1] === 'wasm') assertSame(records(run), straight, what, /perSec|seconds|averag/i);
    else assertClose(records(run), straight, what);
    assert.equal(meta(run).backend, then[1], what);
  }
});

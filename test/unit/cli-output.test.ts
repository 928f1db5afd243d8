/**
 * Where the CLI's output goes: a reader that stops early (`vae-lens train ... | head -1`, a pager
 * quit) must not end a run with a stack trace and leave its folder locked and "running".
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI_BIN, tinyCircleSpec } from './cli-testkit';

const { dir: tmp, spec: SPEC } = tinyCircleSpec('vae-lens-cli-output-', { epochs: 3 });

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${s}`);

/** Run the CLI and close its stdout as `head` does: after `linesRead` lines (0: before reading any). */
function runClosingStdout(args: string[], linesRead: number): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let seen = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    if (linesRead === 0) child.stdout.destroy();
    else
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        seen += d.split('\n').length - 1;
        if (seen >= linesRead) child.stdout.destroy();
      });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, err });
    });
  });
}

function onlyRun(runsDir: string): string {
  const runs = fs.readdirSync(runsDir);
  assert.equal(runs.length, 1, `one run folder: ${runs.join(', ')}`);
  return path.join(runsDir, runs[0]!);
}

for (const json of [false, true])
  test(`train${json ? ' --json' : ''} whose reader stops after a line stops the run cleanly: no stack, folder finished and unlocked`, async () => {
    const runs = path.join(tmp, `runs-head${json ? '-json' : ''}`);
    const r = await runClosingStdout(['train', SPEC, '--out', runs, '--epochs', '400', ...(json ? ['--json'] : [])], 1);
    noStack(r.err);
    assert.equal(r.code, 0, r.err);
    const run = onlyRun(runs);
    const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8')) as { status: string };
    assert.equal(summary.status, 'stopped', 'the run is recorded as stopped, not left "running"');
    assert.ok(!fs.existsSync(path.join(run, 'run.lock')), 'the lock is released');
    assert.ok(fs.existsSync(path.join(run, 'checkpoints', 'latest.json')), 'a checkpoint to resume from is written');
  });

test('eval and a refused command whose stdout is closed end without a stack trace', async () => {
  const runs = path.join(tmp, 'runs-eval');
  const made = await runClosingStdout(['train', SPEC, '--out', runs, '--epochs', '1'], Number.POSITIVE_INFINITY);
  assert.equal(made.code, 0, made.err);
  const run = onlyRun(runs);
  for (const args of [['eval', run], ['eval', run, '--json'], ['--help'], ['train', '--help']]) {
    const r = await runClosingStdout(args, 0);
    noStack(r.err);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  }
});

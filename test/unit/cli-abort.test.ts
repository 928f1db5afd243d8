/**
 * Ctrl-C twice (or a second stop signal) aborts `vae-lens train` at once, exit 130, but never leaves its
 * run folder locked or at "running": the summary says the run was stopped, the lock is gone, a resume
 * continues it, and the user is told where the folder is.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI_BIN, tinyCircleSpec } from './cli-testkit';
import { isFromTrainer, type FromTrainer } from '../../src/core/protocol';

const { dir: tmp, spec: spec } = tinyCircleSpec('vae-lens-abort-', { epochs: 500, backend: 'cpu' });

/** Runs `train --json`, sends `signals` once `when` sees its event, and returns the exit, the events and stderr. */
function trainAndAbort(args: string[], when: (ev: FromTrainer) => boolean, signals: NodeJS.Signals[]) {
  const child = spawn(process.execPath, [CLI_BIN, 'train', spec, ...args, '--json'], { cwd: tmp });
  const events: FromTrainer[] = [];
  let err = '';
  let buffered = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const ev: unknown = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      if (!isFromTrainer(ev)) continue;
      events.push(ev);
      if (!sent && when(ev)) {
        sent = true;
        signals.forEach((s, i) => setTimeout(() => child.kill(s), 20 * i));
      }
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; events: FromTrainer[]; err: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, events, err });
    }),
  );
}

const startedDir = (events: FromTrainer[]) => {
  const s = events.find((e) => e.type === 'started');
  assert.ok(s && s.type === 'started', 'a started event');
  return s.runDir;
};

for (const signals of [['SIGINT'], ['SIGINT', 'SIGINT'], ['SIGTERM', 'SIGINT'], ['SIGINT', 'SIGHUP']] as NodeJS.Signals[][])
  for (const moment of ['started', 'diagnostics'] as const)
    test(
      `${signals.join(' then ')} right after the ${moment} event ${signals.length > 1 ? 'aborts, exit 130' : 'stops, exit 0'}, leaving the run folder stopped, unlocked and resumable`,
      { timeout: 150_000 },
      async () => {
        // The stop the first signal asks for may end the run before the second arrives (a step is short): then it is a
        // plain stop, and a second signal that comes after the run has ended, as the process exits, ends it as that signal.
        let aborted = signals.length > 1;
        const out = fs.mkdtempSync(path.join(tmp, 'runs-'));
        const r = await trainAndAbort(
          ['--out', out],
          (ev) => ev.type === moment && (moment !== 'diagnostics' || (ev.type === 'diagnostics' && ev.record.epoch >= 1)),
          signals,
        );
        if (aborted && (r.code === 0 || (r.signal !== null && signals.includes(r.signal)))) aborted = false;
        if (!aborted && r.signal !== null) assert.ok(signals.length > 1, `ended by ${r.signal} after a single signal: ${r.err}`);
        else assert.equal(r.code, aborted ? 130 : 0, r.err);
        const runDir = startedDir(r.events);
        const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { status: string; message?: string };
        assert.equal(summary.status, 'stopped', JSON.stringify(summary));
        if (aborted) assert.match(summary.message ?? '', /aborted/);
        assert.deepEqual(
          fs.readdirSync(runDir).filter((f) => f.startsWith('run.lock')),
          [],
          'the lock is released',
        );
        if (aborted) {
          assert.match(r.err, /aborted/);
          assert.ok(r.err.includes(path.basename(runDir)), `the run folder is named: ${r.err}`);
        }
        // The folder resumes from where it was, a checkpoint of epoch 0 written before the first step included.
        const resumed = await trainAndAbort(['--resume', runDir, '--epochs', '2'], () => false, []);
        assert.equal(resumed.code, 0, JSON.stringify(resumed.events.filter((e) => e.type === 'error')));
      },
    );

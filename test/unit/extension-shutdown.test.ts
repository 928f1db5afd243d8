/**
 * Closing or reloading the window while the real trainer (dist/trainer.js) trains. Two ways the editor
 * goes away, and in both the run folder must end finished: summary.json "stopped" and a checkpoint,
 * never left "running" by a killed trainer.
 *  - The extension's deactivate, in VS Code's order: deactivate() is called and not awaited, the
 *    subscriptions (the client's dispose among them) are disposed at once, then deactivate is awaited.
 *  - The extension host dies outright: the IPC channel and the stdout/stderr pipes close together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRequest } from '../../src/core/protocol';
import { isProcessAlive as isAlive } from '../../src/core/run/liveness';
import { RUN_FILES } from '../../src/core/runFormat';
import { TrainerClient } from '../../src/extension/trainer/trainerClient';
import type { TrainerProcess } from '../../src/extension/trainer/trainerProcess';
import { readSummary, tempDir, tinySpec, TRAINER } from './reliability-processes';

const TIMEOUT_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(read: () => T | undefined, what: string, ms = 60_000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function assertStoppedWithCheckpoint(runDir: string): void {
  const summary = readSummary(runDir);
  assert.equal(summary.status, 'stopped', `summary.json: ${JSON.stringify({ ...summary, last: undefined })}`);
  assert.ok(summary.endedAt, 'summary.json has no end time');
  assert.ok(fs.existsSync(path.join(runDir, RUN_FILES.checkpoints, 'latest.json')), 'no checkpoint');
}

test("VS Code's deactivate order (deactivate, then the subscriptions at once) leaves the run stopped with a checkpoint", { timeout: TIMEOUT_MS }, async () => {
  const dir = tempDir('vae-lens-shutdown-');
  const specPath = path.join(dir, 'long.vae.json');
  fs.writeFileSync(specPath, tinySpec('long', { epochs: 5000 }));
  const client = new TrainerClient({ trainerPath: TRAINER, log: () => undefined });
  const trainer: TrainerProcess = client.start(startRequest({ specPath, runsDir: path.join(dir, 'runs'), requestedBy: 'editor' }));
  await until(() => ((trainer.lastRecord?.epoch ?? 0) >= 2 ? true : undefined), 'the second diagnostics pass');
  const runDir = trainer.runDir!;
  const deactivated = client.stopAll(4000);
  client.dispose();
  await deactivated;
  assertStoppedWithCheckpoint(runDir);
});

test('the extension host dying (IPC and pipes closed at once) leaves the run stopped with a checkpoint', { timeout: TIMEOUT_MS }, async () => {
  const dir = tempDir('vae-lens-host-dies-');
  const specPath = path.join(dir, 'long.vae.json');
  fs.writeFileSync(specPath, tinySpec('long', { epochs: 5000 }));
  const request = startRequest({ specPath, runsDir: path.join(dir, 'runs'), requestedBy: 'editor' });
  // A stand-in extension host: forks the trainer as TrainerProcess does, says where the run is, and is then killed.
  const host = `
    const { fork } = require('node:child_process');
    const t = fork(${JSON.stringify(TRAINER)}, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    t.stdout.resume(); t.stderr.resume();
    t.on('message', (m) => { if (m.type === 'diagnostics' && m.record.epoch >= 2) console.log(JSON.stringify({ pid: t.pid })); if (m.type === 'started') console.log(JSON.stringify({ runDir: m.runDir })); });
    t.send(${JSON.stringify(request)});
  `;
  const child = spawn(process.execPath, ['-e', host], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const said = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { runDir?: string; pid?: number });
  const pid = await until(() => said().find((m) => m.pid)?.pid, 'the second diagnostics pass');
  const runDir = said().find((m) => m.runDir)!.runDir!;
  child.kill('SIGKILL');
  await until(() => (isAlive(pid) ? undefined : true), `trainer ${pid} to exit`, 30_000);
  assertStoppedWithCheckpoint(runDir);
});

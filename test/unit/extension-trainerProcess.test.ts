import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, startRequest, type FromTrainer } from '../../src/core/protocol';
import { TrainerClient, AlreadyTrainingError } from '../../src/extension/trainer/trainerClient';

/**
 * A stand-in trainer speaking the protocol. FAKE_MODE picks its behaviour:
 * "normal" (trains until stopped), "stubborn" (ignores stop), "crash", "garbage",
 * "slow" (takes 300 ms to finish after a stop, then writes FAKE_SUMMARY as the real trainer writes summary.json),
 * "script" (ignores stop, as a trainer waiting on a user's script does, and on SIGTERM kills that script:
 * writes FAKE_SUMMARY and exits).
 */
const FAKE = String.raw`
const mode = process.env.FAKE_MODE;
if (mode === 'script') process.on('SIGTERM', () => { require('fs').writeFileSync(process.env.FAKE_SUMMARY, 'script killed'); process.exit(0); });
const finish = () => {
  if (process.env.FAKE_SUMMARY) require('fs').writeFileSync(process.env.FAKE_SUMMARY, 'stopped');
  process.send({ type: 'done', status: 'stopped', runDir: '/tmp/run-' + process.pid });
  setTimeout(() => process.exit(0), 10);
};
process.on('message', (m) => {
  if (m.type === 'start') {
    if (mode === 'crash') { console.error('boom'); process.exit(3); }
    if (mode === 'garbage') process.send({ type: 'progress', epoch: 'one' });
    process.send({ type: 'started', protocolVersion: ${PROTOCOL_VERSION}, runDir: '/tmp/run-' + process.pid, backend: 'cpu', dataset: { n: 10, dim: 2, source: 'fake' }, epochs: 5, stepsPerEpoch: 2 });
    process.send({ type: 'progress', epoch: 1, epochFraction: 0.5, step: 1, samplesPerSec: 100, etaSeconds: 3, loss: 1 });
    console.log('hello from stdout');
    setInterval(() => {}, 1000);
  }
  if (m.type === 'stop' && mode === 'slow') setTimeout(finish, 300);
  else if (m.type === 'stop' && mode !== 'stubborn' && mode !== 'script') finish();
});
`;

function setup(mode: string, stopGraceMs = 5000) {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-fake-'));
  const trainerPath = join(dir, 'trainer.js');
  writeFileSync(trainerPath, FAKE);
  const lines: string[] = [];
  const summaryPath = join(dir, 'summary');
  const client = new TrainerClient({ trainerPath, log: (l) => lines.push(l), stopGraceMs, env: { FAKE_MODE: mode, FAKE_SUMMARY: summaryPath } });
  const events: FromTrainer[] = [];
  client.onEvent((e) => events.push(e.event));
  return { client, lines, events, specPath: join(dir, 'a.vae.json'), summaryPath };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('start, progress, stop: exactly one done, logs captured, the trainer is released', async () => {
  const { client, lines, events, specPath } = setup('normal');
  const t = client.start(startRequest({ specPath }));
  assert.throws(() => client.start(startRequest({ specPath })), AlreadyTrainingError);
  await until(() => t.lastProgress !== undefined);
  assert.equal(t.state, 'running');
  assert.match(t.runDir ?? '', /^\/tmp\/run-\d+$/);
  assert.equal(client.forRun(t.runDir!), t);
  await client.stop(specPath);
  assert.equal(t.state, 'exited');
  assert.deepEqual(
    events.filter((e) => e.type === 'done').map((e) => e.type === 'done' && e.status),
    ['stopped'],
  );
  assert.ok(
    lines.some((l) => l.includes('hello from stdout')),
    lines.join('\n'),
  );
  assert.equal(client.forSpec(specPath), undefined);
  assert.equal(client.isTraining, false);
});

test('a trainer that ignores stop is killed after the grace period and reported as stopped', async () => {
  const { client, events, specPath } = setup('stubborn', 300);
  const t = client.start(startRequest({ specPath }));
  await until(() => t.started !== undefined);
  const t0 = performance.now();
  await t.stop();
  assert.ok(performance.now() - t0 >= 250, 'stopped before the grace period ended');
  const done = events.filter((e) => e.type === 'done');
  assert.equal(done.length, 1);
  assert.equal(done[0]!.type === 'done' && done[0]!.status, 'stopped');
});

test('a crashing trainer yields an error and a failed done, with its stderr in the log', async () => {
  const { client, lines, events, specPath } = setup('crash');
  const t = client.start(startRequest({ specPath }));
  await t.whenExited();
  const err = events.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error' && /code 3/.test(err.message), JSON.stringify(events));
  const done = events.filter((e) => e.type === 'done');
  assert.equal(done.length, 1);
  assert.equal(done[0]!.type === 'done' && done[0]!.status, 'failed');
  assert.ok(lines.some((l) => l.includes('stderr: boom')));
});

test('malformed messages are logged and never reach listeners', async () => {
  const { client, lines, events, specPath } = setup('garbage');
  const t = client.start(startRequest({ specPath }));
  await until(() => t.started !== undefined);
  assert.ok(lines.some((l) => l.includes('ignored a malformed message')));
  assert.ok(events.every((e) => e.type !== 'progress' || typeof e.epoch === 'number'));
  await client.stopAll(2000);
  assert.equal(t.state, 'exited');
});

test('the trainer runs at below-normal priority unless the setting says normal', async () => {
  const { getPriority, constants } = await import('node:os');
  for (const [priority, expected] of [
    ['below-normal', constants.priority.PRIORITY_BELOW_NORMAL],
    ['normal', getPriority()],
  ] as const) {
    const { client, events, specPath } = setup('normal');
    const trainer = client.start(startRequest({ specPath }), priority);
    await until(() => events.some((e) => e.type === 'started'));
    const started = events.find((e) => e.type === 'started');
    const pid = Number(started && 'runDir' in started ? started.runDir.split('-').at(-1) : NaN);
    assert.equal(getPriority(pid), expected, priority);
    await trainer.stop();
  }
});

test('window closing: deactivate stops the trainers and waits; disposing the subscriptions right after does not kill them', async () => {
  const { client, summaryPath, specPath } = setup('slow');
  const t = client.start(startRequest({ specPath }));
  await until(() => t.started !== undefined);
  // What VS Code does: call deactivate() without awaiting it, dispose context.subscriptions at once, then await deactivate.
  const deactivated = client.stopAll(4000);
  client.dispose();
  await deactivated;
  assert.equal(t.state, 'exited');
  assert.ok(existsSync(summaryPath), 'the trainer was killed before it wrote its summary');
  assert.equal(t.done?.status, 'stopped');
  assert.doesNotMatch(t.done?.message ?? '', /SIGKILL/);
});

test('disposing the client alone (the subscription backstop) asks trainers to stop and never kills them', async () => {
  const { client, summaryPath, specPath } = setup('slow');
  const t = client.start(startRequest({ specPath }));
  await until(() => t.started !== undefined);
  const exited = t.whenExited();
  client.dispose();
  await exited;
  assert.ok(existsSync(summaryPath), 'the trainer was killed before it wrote its summary');
});

test('deactivate kills what is left once its wait is over', async () => {
  const { client, specPath } = setup('stubborn', 60_000);
  const t = client.start(startRequest({ specPath }));
  await until(() => t.started !== undefined);
  const t0 = performance.now();
  const deactivated = client.stopAll(300);
  client.dispose();
  await deactivated;
  await t.whenExited();
  assert.ok(performance.now() - t0 < 5000, 'the stubborn trainer outlived the wait');
});

test("deactivate sends SIGTERM before SIGKILL: a trainer running a script kills its script's process group", async () => {
  const { client, specPath, summaryPath } = setup('script', 60_000);
  const t = client.start(startRequest({ specPath }));
  await until(() => t.started !== undefined);
  const deactivated = client.stopAll(300);
  client.dispose();
  await deactivated;
  await t.whenExited();
  assert.ok(existsSync(summaryPath), 'the trainer was killed without the SIGTERM on which it ends its script');
});

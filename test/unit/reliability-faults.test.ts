/**
 * Training faults injected into real processes (the built CLI and the editor's trainer process):
 * a diverging run, kill -9 at seeded random moments (then --resume), a torn metrics line,
 * SIGTERM, the editor's StopRequest, the editor going away (window reload), and a run folder
 * that cannot be written. Each must leave a run folder whose metrics parse, whose records
 * written before the fault are all still there, and whose checkpoint resumes.
 * RELIABILITY_SEED changes the kill moments; RELIABILITY_KILLS the number of kills.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Rng } from '../../src/core/random';
import { PROTOCOL_VERSION, startRequest } from '../../src/core/protocol';
import { RUN_FILES } from '../../src/core/runFormat';
import { readRunContents } from '../../src/core/run/read';
import { readCheckpoint } from '../../src/train/checkpoint';
import { reportFigure } from './reliability-figures';
import { completeLines, forkTrainer, noStack, readMetrics, readSummary, recordsLost, runCli, startedDir, tempDir, tinySpec } from './reliability-processes';

const SEED = Number(process.env.RELIABILITY_SEED ?? 20261125);
const KILLS = Math.max(1, Number(process.env.RELIABILITY_KILLS ?? 6));
const TIMEOUT_MS = 240_000;

const tmp = tempDir('vae-lens-faults-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeSpec(name: string, text: string): string {
  const file = path.join(tmp, `${name}.vae.json`);
  fs.writeFileSync(file, text);
  return file;
}

/** Every stored number of the checkpoint is finite: it is from before the NaN. */
function assertFiniteCheckpoint(runDir: string): { epoch: number; step: number } {
  const cp = readCheckpoint(path.join(runDir, RUN_FILES.checkpoints, 'latest.json'));
  for (const [name, t] of Object.entries(cp.variables)) {
    const b = Buffer.from(t.data, 'base64');
    const values = new Float32Array(new Uint8Array(b).buffer, 0, b.length / 4);
    assert.ok(values.every(Number.isFinite), `checkpoint variable ${name} holds a non-finite number`);
  }
  return { epoch: cp.epoch, step: cp.step };
}

test('a run that diverges in its first epoch stops with a clear message, keeps its metrics and a good checkpoint', { timeout: TIMEOUT_MS }, async () => {
  const spec = writeSpec('diverge-early', tinySpec('diverge-early', { learningRate: 10, initialVariance: 1e-8 }));
  const r = await runCli(['train', spec, '--out', path.join(tmp, 'runs'), '--json']);
  assert.equal(r.code, 1, r.err);
  const done = r.events.find((e) => e.type === 'done');
  assert.ok(done && done.type === 'done');
  assert.equal(done.status, 'diverged');
  assert.match(done.message ?? '', /training diverged at epoch 1, step \d+: the loss became (NaN|-?Infinity)\..*smaller training\.learningRate/);
  noStack(r.err);
  const runDir = startedDir(r.events);
  const { parsed } = readMetrics(runDir);
  assert.deepEqual(parsed.bad, []);
  assert.equal(parsed.truncatedTail, false);
  assert.deepEqual(
    parsed.records.map((x) => x.epoch),
    [0],
  );
  const summary = readSummary(runDir);
  assert.equal(summary.status, 'diverged');
  assert.ok(summary.lastCheckpoint && fs.existsSync(summary.lastCheckpoint), 'the summary names a checkpoint that exists');
  assert.deepEqual(assertFiniteCheckpoint(runDir), { epoch: 0, step: 0 });
  const ev = await runCli(['eval', runDir, '--samples', '2', '--json']);
  assert.equal(ev.code, 0, ev.err);
  reportFigure({ kind: 'fault', name: 'divergence in epoch 1', injected: 1, survived: 1, recordsLost: 0, recordsChecked: parsed.records.length });
});

test('a run that diverges after good epochs keeps every record and the checkpoint before the NaN, which resumes', { timeout: TIMEOUT_MS }, async () => {
  const spec = writeSpec('diverge-late', tinySpec('diverge-late', { epochs: 3 }));
  const first = await runCli(['train', spec, '--out', path.join(tmp, 'runs'), '--json']);
  assert.equal(first.code, 0, first.err);
  const runDir = startedDir(first.events);
  const before = readMetrics(runDir).text;
  // The same run, continued with a learning rate no model survives: the snapshot is what a resume trains.
  const snapshot = path.join(runDir, RUN_FILES.spec);
  const healthy = fs.readFileSync(snapshot, 'utf8');
  fs.writeFileSync(snapshot, healthy.replace('"learningRate": 0.005', '"learningRate": 10'));
  const r = await runCli(['train', spec, '--resume', runDir, '--epochs', '12', '--json']);
  assert.equal(r.code, 1, r.err);
  const done = r.events.find((e) => e.type === 'done');
  assert.ok(done && done.type === 'done' && done.status === 'diverged', JSON.stringify(done));
  const divergedAt = Number(/at epoch (\d+)/.exec(done.message ?? '')?.[1]);
  noStack(r.err);
  const after = readMetrics(runDir);
  assert.deepEqual(after.parsed.bad, []);
  assert.equal(recordsLost(before, after.text), 0);
  const cp = assertFiniteCheckpoint(runDir);
  assert.ok(cp.epoch >= 3 && cp.epoch < divergedAt, `checkpoint of epoch ${cp.epoch}, divergence in epoch ${divergedAt}`);
  // Back to a sane rate, the kept checkpoint trains on to the end.
  fs.writeFileSync(snapshot, healthy);
  const resumed = await runCli(['train', spec, '--resume', runDir, '--epochs', String(cp.epoch + 2), '--json']);
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(readSummary(runDir).status, 'completed');
  assert.equal(recordsLost(after.text, readMetrics(runDir).text), 0);
  reportFigure({ kind: 'fault', name: 'divergence after good epochs', injected: 1, survived: 1, recordsLost: 0, recordsChecked: completeLines(before).length });
});

test('kill -9 at seeded random moments: metrics parse to the last line, nothing written is lost, --resume finishes', { timeout: TIMEOUT_MS }, async () => {
  const rng = new Rng(SEED);
  const epochs = 24;
  const spec = writeSpec('killed', tinySpec('killed', { epochs }));
  let runDir: string | undefined;
  let lost = 0;
  let checked = 0;
  let survived = 0;
  let tornTails = 0;
  let tornChecked = 0;
  const history: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    // Kill after a random diagnostics pass, a random few milliseconds into the next epoch (or its checkpoint write).
    const before = runDir ? readMetrics(runDir).text : '';
    const alreadyAt = runDir ? (readMetrics(runDir).parsed.records.at(-1)?.epoch ?? 0) : 0;
    const killAfterEpoch = Math.min(epochs - 2, alreadyAt + 1 + Math.floor(rng.uniform() * 3));
    const delayMs = Math.floor(rng.uniform() * 60);
    const args = runDir ? ['train', spec, '--resume', runDir, '--json'] : ['train', spec, '--out', path.join(tmp, 'runs'), '--json'];
    let killedAt = -1;
    const r = await runCli(args, (ev, child) => {
      if (ev.type === 'diagnostics' && ev.record.epoch >= killAfterEpoch && killedAt < 0) {
        killedAt = ev.record.epoch;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    assert.equal(r.signal, 'SIGKILL', `the trainer was not killed (exit ${r.code}): ${r.err}`);
    runDir ??= startedDir(r.events);
    const killed = readMetrics(runDir);
    assert.deepEqual(killed.parsed.bad, [], `kill ${k}: damaged lines`);
    lost += recordsLost(before, killed.text);
    checked += completeLines(before).length;
    // What a viewer (the panel, the runs view) makes of the folder: every record, and an ended run.
    const contents = await readRunContents(runDir);
    assert.equal(contents.status, 'stopped', `kill ${k}: a dead trainer's run should show as ended`);
    assert.equal(contents.records.length, killed.parsed.records.length);
    JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.summary), 'utf8'));
    if (fs.existsSync(path.join(runDir, RUN_FILES.checkpoints, 'latest.json'))) assertFiniteCheckpoint(runDir);
    // A kill can also land inside a write; simulate that torn line on every other kill.
    if (k % 2 === 1) {
      fs.appendFileSync(path.join(runDir, RUN_FILES.metrics), '{"epoch": 99, "elbo": -1.2');
      assert.equal(readMetrics(runDir).parsed.truncatedTail, true);
      tornTails++;
      tornChecked += killed.parsed.records.length;
    }
    history.push(`kill ${k}: after the pass of epoch ${killedAt} + ${delayMs} ms, ${killed.parsed.records.length} records`);
    survived++;
  }
  const beforeFinal = readMetrics(runDir!).text;
  const final = await runCli(['train', spec, '--resume', runDir!, '--json']);
  assert.equal(final.code, 0, `${history.join('\n')}\n${final.err}`);
  const end = readMetrics(runDir!);
  assert.deepEqual(end.parsed.bad, [], 'a torn tail must not become a damaged line in the middle');
  assert.equal(end.parsed.truncatedTail, false);
  lost += recordsLost(beforeFinal, end.text);
  checked += completeLines(beforeFinal).length;
  const epochsSeen = new Set(end.parsed.records.map((x) => x.epoch));
  for (let e = 0; e <= epochs; e++) assert.ok(epochsSeen.has(e), `no record of epoch ${e}:\n${history.join('\n')}`);
  // Epochs redone after a resume replace the records of the attempt that was killed.
  assert.deepEqual(
    end.parsed.records.map((x) => x.epoch),
    Array.from({ length: epochs + 1 }, (_, e) => e),
  );
  assert.equal(readSummary(runDir!).status, 'completed');
  assert.equal(readSummary(runDir!).epochsDone, epochs);
  assert.equal(lost, 0);
  console.log(
    `faults: kill -9 ${survived} of ${KILLS} survived, ${tornTails} torn lines repaired, ${checked} records checked, ${lost} lost (seed ${SEED})\n${history.join('\n')}`,
  );
  reportFigure({ kind: 'fault', name: 'kill -9 mid-epoch, then --resume', injected: KILLS, survived, recordsLost: lost, recordsChecked: checked, seed: SEED });
  reportFigure({
    kind: 'fault',
    name: 'torn last metrics line, then --resume',
    injected: tornTails,
    survived: tornTails,
    recordsLost: lost,
    recordsChecked: tornChecked,
  });
});

// SIGHUP: the terminal closed or the ssh connection dropped, which must not leave a run without its summary.
for (const sig of ['SIGTERM', 'SIGHUP'] as const)
  test(`${sig} stops the CLI like Ctrl-C: stopped, summary written, checkpoint resumes`, { timeout: TIMEOUT_MS }, async () => {
    const spec = writeSpec(sig, tinySpec(sig, { epochs: 200 }));
    let before = '';
    let runDir = '';
    const r = await runCli(['train', spec, '--out', path.join(tmp, 'runs'), '--json'], (ev, child) => {
      if (ev.type === 'started') runDir = ev.runDir;
      if (ev.type === 'diagnostics' && ev.record.epoch === 2) {
        before = readMetrics(runDir).text;
        child.kill(sig);
      }
    });
    assert.equal(r.code, 0, r.err);
    noStack(r.err);
    const done = r.events.find((e) => e.type === 'done');
    assert.ok(done && done.type === 'done' && done.status === 'stopped', JSON.stringify(done));
    const summary = readSummary(runDir);
    assert.equal(summary.status, 'stopped');
    assert.ok(summary.endedAt);
    const cp = assertFiniteCheckpoint(runDir);
    assert.ok(cp.epoch >= 2, `checkpoint of epoch ${cp.epoch}`);
    const after = readMetrics(runDir).text;
    assert.equal(recordsLost(before, after), 0);
    const resumed = await runCli(['train', spec, '--resume', runDir, '--epochs', String(cp.epoch + 2), '--json']);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(readSummary(runDir).status, 'completed');
    reportFigure({ kind: 'fault', name: `${sig} to the CLI`, injected: 1, survived: 1, recordsLost: 0, recordsChecked: completeLines(before).length });
  });

test("the editor's StopRequest and the editor going away (window reload) both end the run cleanly", { timeout: TIMEOUT_MS }, async () => {
  const specPath = writeSpec('editor', tinySpec('editor', { epochs: 200 }));
  const runsDir = path.join(tmp, 'runs');
  const cases: { name: string; end: (t: ReturnType<typeof forkTrainer>) => void }[] = [
    { name: 'StopRequest from the editor', end: (t) => t.send({ type: 'stop' }) },
    { name: 'editor disconnects (window reload)', end: (t) => t.child.disconnect() },
  ];
  for (const c of cases) {
    const t = forkTrainer(startRequest({ specPath, runsDir }));
    // Garbage from a confused editor is refused, not obeyed.
    t.send({ type: 'start', protocolVersion: PROTOCOL_VERSION, specPath: 42 });
    await t.waitFor((e) => e.type === 'diagnostics' && e.record.epoch >= 2, 'the second diagnostics pass');
    const runDir = startedDir(t.events);
    const before = readMetrics(runDir).text;
    const live = await readRunContents(runDir);
    assert.equal(live.status, 'running', 'a panel opened now reattaches to a live run');
    c.end(t);
    const exit = await t.exited;
    assert.equal(exit.code, 0, `${c.name}: exit ${exit.code ?? exit.signal}`);
    assert.deepEqual(t.malformed, []);
    const summary = readSummary(runDir);
    assert.equal(summary.status, 'stopped', c.name);
    assert.equal((await readRunContents(runDir)).status, 'stopped');
    const after = readMetrics(runDir);
    assert.deepEqual(after.parsed.bad, []);
    assert.equal(recordsLost(before, after.text), 0);
    assertFiniteCheckpoint(runDir);
    if (c.name.startsWith('StopRequest')) {
      assert.ok(
        t.events.some((e) => e.type === 'log' && /ignored a malformed message/.test(e.message)),
        'the malformed start was refused',
      );
      assert.ok(t.events.some((e) => e.type === 'done' && e.status === 'stopped'));
    }
    const resumed = await runCli(['train', specPath, '--resume', runDir, '--epochs', String(summary.epochsDone + 1), '--json']);
    assert.equal(resumed.code, 0, resumed.err);
    reportFigure({ kind: 'fault', name: c.name, injected: 1, survived: 1, recordsLost: 0, recordsChecked: completeLines(before).length });
  }
});

test('a run folder that cannot be written is refused before any training, with exit 2', { timeout: TIMEOUT_MS }, async () => {
  const spec = writeSpec('unwritable', tinySpec('unwritable', { epochs: 2 }));
  const file = path.join(tmp, 'a-regular-file');
  fs.writeFileSync(file, 'not a folder');
  const r = await runCli(['train', spec, '--out', path.join(file, 'runs'), '--json']);
  assert.equal(r.code, 2, r.err);
  const err = r.events.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error' && err.userError, JSON.stringify(r.events));
  // Blamed on the flag that named the folder, not on the spec's output.runsDir.
  assert.match(err.message, /the runs folder .*a-regular-file\/runs cannot be made: .*a-regular-file is a file, not a folder; choose a folder with --out/);
  assert.equal(err.location?.field, '--out');
  assert.ok(!r.events.some((e) => e.type === 'started' || e.type === 'diagnostics' || e.type === 'progress'), 'training started anyway');
  const plain = await runCli(['train', spec, '--out', path.join(file, 'runs')]);
  assert.equal(plain.code, 2);
  assert.match(plain.err, /--out: the runs folder .* cannot be made/);
  noStack(plain.err);
  reportFigure({ kind: 'fault', name: 'unwritable run folder', injected: 1, survived: 1, recordsLost: 0, recordsChecked: 0 });
});

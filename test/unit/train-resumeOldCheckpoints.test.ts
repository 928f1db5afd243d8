/**
 * Checkpoints as earlier versions wrote them: without each optional field (the position within an
 * epoch, the running variance estimate, the weight average, the data fingerprint) and with every mix
 * of them. Each resumes; one without the data fingerprint says once, naming the checkpoint, that it
 * cannot check the data are the ones trained on, and one whose fingerprint differs is still refused.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { startRequest, type FromTrainer } from '../../src/core/protocol';
import { shownPath } from '../../src/core/errors';
import { runSession } from '../../src/train/session';
import { tempDir } from './data-testkit';

const OPTIONAL = ['within', 'varianceEstimate', 'average', 'data'] as const;
type Optional = (typeof OPTIONAL)[number];

const root = tempDir();
const specPath = path.join(root, 'tiny.vae.json');
fs.writeFileSync(
  specPath,
  JSON.stringify({
    data: { synthetic: 'circle', n: 64, seed: 3 },
    model: { type: 'VAE-1', latentDim: 1, encoder: { hidden: [4] }, decoder: { hidden: [4] }, varianceUpdate: 'optimal' },
    training: { epochs: 1, batchSize: 16, backend: 'cpu' },
    diagnostics: { mcSamples: 2 },
  }),
);

async function train(resume?: string, epochs?: number): Promise<{ status: string; events: FromTrainer[] }> {
  const events: FromTrainer[] = [];
  const status = await runSession(startRequest({ specPath, requestedBy: 'cli', runsDir: path.join(root, 'runs'), resume, epochs }), (e) => events.push(e), {
    stopRequested: false,
  });
  return { status, events };
}

const messages = (events: FromTrainer[], type: 'log' | 'error') => events.flatMap((e) => (e.type === type ? [e.message] : []));

/** Every subset of the optional fields, as a list of the ones kept. */
const subsets = (): Optional[][] => Array.from({ length: 1 << OPTIONAL.length }, (_, m) => OPTIONAL.filter((_, i) => m & (1 << i)));

test('a checkpoint with or without each optional field resumes; without the data fingerprint it says once, by the checkpoint, that the data cannot be checked', async () => {
  const first = await train();
  assert.equal(first.status, 'completed', messages(first.events, 'error').join('\n'));
  const started = first.events.find((e): e is Extract<FromTrainer, { type: 'started' }> => e.type === 'started')!;
  const cpFile = path.join(started.runDir, 'checkpoints', 'latest.json');
  const full = JSON.parse(fs.readFileSync(cpFile, 'utf8')) as Record<string, unknown>;
  assert.ok(full.varianceEstimate && full.average && full.data, 'the first run wrote every optional field');
  for (const kept of subsets()) {
    const dir = path.join(root, `old-${kept.join('-') || 'none'}`);
    fs.cpSync(started.runDir, dir, { recursive: true });
    const cp: Record<string, unknown> = { ...full };
    // A checkpoint taken within an epoch: its first batch trained.
    if (kept.includes('within')) Object.assign(cp, { batchesDone: 1, lossSum: 10 });
    for (const k of ['varianceEstimate', 'average', 'data'] as const) if (!kept.includes(k)) delete cp[k];
    const file = path.join(dir, 'checkpoints', 'latest.json');
    fs.writeFileSync(file, JSON.stringify(cp));
    const r = await train(dir, 2);
    assert.equal(r.status, 'completed', `${kept.join(', ')}: ${messages(r.events, 'error').join('\n')}`);
    const unchecked = messages(r.events, 'log').filter((m) => /cannot check/.test(m));
    if (kept.includes('data')) assert.deepEqual(unchecked, [], kept.join(', '));
    else {
      assert.equal(unchecked.length, 1, `[${kept.join(', ')}]: ${JSON.stringify(messages(r.events, 'log'))}`);
      assert.ok(unchecked[0]!.includes(shownPath(file)), unchecked[0]);
      assert.match(unchecked[0]!, /no fingerprint of its data/);
    }
    // The resume wrote a checkpoint of its own, with the data's fingerprint: a later resume checks them.
    const after = JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: unknown };
    assert.ok(after.data, `${kept.join(', ')}: the resumed run's checkpoint has no fingerprint`);
  }
});

test('a checkpoint whose data fingerprint differs is refused whatever other optional fields it lacks', async () => {
  const first = await train();
  const started = first.events.find((e): e is Extract<FromTrainer, { type: 'started' }> => e.type === 'started')!;
  const full = JSON.parse(fs.readFileSync(path.join(started.runDir, 'checkpoints', 'latest.json'), 'utf8')) as Record<string, unknown> & {
    data: { sha256: string };
  };
  for (const kept of subsets().filter((s) => s.includes('data'))) {
    const dir = path.join(root, `other-data-${kept.join('-')}`);
    fs.cpSync(started.runDir, dir, { recursive: true });
    const cp: Record<string, unknown> = { ...full, data: { ...full.data, sha256: '0'.repeat(64) } };
    if (kept.includes('within')) Object.assign(cp, { batchesDone: 1, lossSum: 10 });
    for (const k of ['varianceEstimate', 'average'] as const) if (!kept.includes(k)) delete cp[k];
    fs.writeFileSync(path.join(dir, 'checkpoints', 'latest.json'), JSON.stringify(cp));
    const r = await train(dir, 2);
    assert.equal(r.status, 'failed', kept.join(', '));
    assert.match(messages(r.events, 'error').join('\n'), /its data changed since it was trained on/, kept.join(', '));
  }
});

test('a checkpoint whose variance estimate does not fit the model (another length, not numbers) is refused by file and field', async () => {
  const first = await train();
  const started = first.events.find((e): e is Extract<FromTrainer, { type: 'started' }> => e.type === 'started')!;
  const full = JSON.parse(fs.readFileSync(path.join(started.runDir, 'checkpoints', 'latest.json'), 'utf8')) as { varianceEstimate: number[] };
  assert.equal(full.varianceEstimate.length, 2, 'its weight and one variance (VAE-1)');
  const bad: unknown[] = [[], [0.5], [0.5, 0.1, 0.2], [0.5, null], ['0.5', 0.1], [0.5, -1], [1.5, 0.1], 'x', { weight: 1 }];
  for (const [i, varianceEstimate] of bad.entries()) {
    const dir = path.join(root, `bad-variance-${i}`);
    fs.cpSync(started.runDir, dir, { recursive: true });
    const file = path.join(dir, 'checkpoints', 'latest.json');
    fs.writeFileSync(file, JSON.stringify({ ...full, varianceEstimate }));
    const before = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
    const r = await train(dir, 2);
    const what = JSON.stringify(varianceEstimate);
    assert.equal(r.status, 'failed', what);
    const error = messages(r.events, 'error').join('\n');
    assert.ok(error.includes(shownPath(file)) && /varianceEstimate/.test(error), `${what}: ${error}`);
    assert.doesNotMatch(error, /internal error/, what);
    assert.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), before, `${what}: run.json was rewritten`);
  }
});

test('a checkpoint of another version says which, and that a newer VAE Lens wrote it, not only that it is no checkpoint', async () => {
  const first = await train();
  const started = first.events.find((e): e is Extract<FromTrainer, { type: 'started' }> => e.type === 'started')!;
  const full = JSON.parse(fs.readFileSync(path.join(started.runDir, 'checkpoints', 'latest.json'), 'utf8')) as Record<string, unknown>;
  const cases: [unknown, RegExp][] = [
    [2, /checkpoint version 2, written by a newer version of VAE Lens; this one reads version 1/],
    [17, /checkpoint version 17, written by a newer version of VAE Lens/],
    [0, /its "version" is 0, where this version of VAE Lens reads 1/],
    ['1', /its "version" is "1", where this version of VAE Lens reads 1/],
    [undefined, /it has no "version"/],
  ];
  for (const [version, expect] of cases) {
    const dir = path.join(root, `version-${String(version)}`);
    fs.cpSync(started.runDir, dir, { recursive: true });
    const file = path.join(dir, 'checkpoints', 'latest.json');
    fs.writeFileSync(file, JSON.stringify({ ...full, version }));
    const r = await train(dir, 2);
    const error = messages(r.events, 'error').join('\n');
    assert.equal(r.status, 'failed', String(version));
    assert.ok(error.includes(shownPath(file)), error);
    assert.match(error, expect, error);
  }
});

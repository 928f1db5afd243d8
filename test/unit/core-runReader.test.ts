import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync, symlinkSync, utimesSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { addRecord, parseMetricsJsonl, toJsonLine, type MetricsRecord, type RunMeta, type RunSummary } from '../../src/core/runFormat';
import { Rng } from '../../src/core/random';
import { judgeRecords, RunJudge } from '../../src/core/run/settings';
import { effectiveStatus } from '../../src/core/run/liveness';
import { lastMetricsRecord, MetricsTail } from '../../src/core/run/tail';
import { listRunDirs } from '../../src/core/run/files';
import { readRunContents, readRunOverview } from '../../src/core/run/read';
import { runsOfSpec } from '../../src/core/run/paths';
import { sampleRecord } from './record-testkit';

// A run still closing its gap: the ELBO rises and the residuals shrink with the epoch.
const rec = (epoch: number, over: Partial<MetricsRecord> = {}): MetricsRecord =>
  sampleRecord(epoch, { elbo: -3 + epoch * 0.1, gap: 0.2 / epoch, gapRel: 0.03 / epoch, rDec: 0.1 / epoch, rPrior: 0.1 / epoch, klPerLatent: [1, 0], ...over });

function makeRun(root: string, name: string, meta: Partial<RunMeta>, summary?: RunSummary, records: MetricsRecord[] = []): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const full: RunMeta = {
    formatVersion: 1,
    name,
    specPath: join(root, 'a.vae.json'),
    startedAt: '2026-01-01T00:00:00Z',
    backend: 'cpu',
    modelType: 'VAE-1',
    latentDim: 2,
    epochs: 10,
    dataset: { n: 100, dim: 2, source: 'synthetic' },
    ...meta,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(full));
  writeFileSync(join(dir, 'spec.vae.json'), '{ "data": {"synthetic": "circle"}, "model": {"latentDim": 2}, "diagnostics": {"tolerance": 0.05, "window": 2} }');
  if (summary) writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  writeFileSync(join(dir, 'metrics.jsonl'), records.map(toJsonLine).join(''));
  return dir;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'vae-lens-runs-'));

test('a resumed run: records of redone epochs replace the ones written before the resume', () => {
  const text = [rec(0), rec(1), rec(2), rec(3), rec(2, { elbo: -9 }), rec(3, { elbo: -8 }), rec(4)].map(toJsonLine).join('');
  const { records, bad } = parseMetricsJsonl(text);
  assert.deepEqual(bad, []);
  assert.deepEqual(
    records.map((r) => r.epoch),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(records.map((r) => r.elbo).slice(2, 4), [-9, -8]);
});

test('MetricsTail returns only new complete records and holds back a half-written line', async () => {
  const dir = tmp();
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, toJsonLine(rec(1)));
  const tail = new MetricsTail(file);
  assert.deepEqual(
    (await tail.readNew()).map((r) => r.epoch),
    [1],
  );
  assert.deepEqual(await tail.readNew(), []);
  const line = toJsonLine(rec(2));
  appendFileSync(file, line.slice(0, 20));
  assert.deepEqual(await tail.readNew(), []);
  appendFileSync(file, line.slice(20) + toJsonLine(rec(3)));
  assert.deepEqual(
    (await tail.readNew()).map((r) => r.epoch),
    [2, 3],
  );
});

test('MetricsTail keeps text whole when a line is written in two parts split inside a character (the reason\'s "±", a run name in another script)', async () => {
  const reason = 'ELBO slope +0.002 ± 0.001 per epoch; run «Läufe 実験»';
  const line = Buffer.from(toJsonLine(rec(2, { convergence: 'converged', convergenceReason: reason })), 'utf8');
  const splits = [...line.keys()].filter((i) => i > 0 && (line[i]! & 0xc0) === 0x80); // every place inside a character
  assert.ok(splits.length >= 8);
  for (const at of splits) {
    const file = join(tmp(), 'metrics.jsonl');
    writeFileSync(file, toJsonLine(rec(1)));
    const tail = new MetricsTail(file);
    await tail.readNew();
    appendFileSync(file, line.subarray(0, at));
    assert.deepEqual(await tail.readNew(), [], `split at byte ${at}`);
    appendFileSync(file, line.subarray(at));
    assert.deepEqual(
      (await tail.readNew()).map((r) => r.convergenceReason),
      [reason],
      `split at byte ${at}`,
    );
  }
});

test('MetricsTail on a missing file yields nothing, then picks the file up once it appears', async () => {
  const dir = tmp();
  const tail = new MetricsTail(join(dir, 'metrics.jsonl'));
  assert.deepEqual(await tail.readNew(), []);
  writeFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(1)));
  assert.equal((await tail.readNew()).length, 1);
});

test('lastMetricsRecord skips a cut-short final line', async () => {
  const dir = tmp();
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, toJsonLine(rec(1)) + toJsonLine(rec(2)) + '{"epoch": 3, "elb');
  assert.equal((await lastMetricsRecord(file))?.epoch, 2);
  assert.equal(await lastMetricsRecord(join(dir, 'nope.jsonl')), undefined);
});

test('the last record of a model with thousands of latents (a record longer than the tail first read) is found, in the overview too', async () => {
  for (const latents of [10, 20_000, 60_000]) {
    const wide = (epoch: number) =>
      rec(epoch, { latentSecondMoment: Array.from({ length: latents }, (_, h) => 1 + h / 3), klPerLatent: Array.from({ length: latents }, (_, h) => h / 7) });
    const root = tmp();
    const dir = makeRun(root, 'wide', { latentDim: latents }, undefined, [wide(1), wide(2), wide(3)]);
    appendFileSync(join(dir, 'metrics.jsonl'), '{"epoch": 4, "elb');
    assert.equal((await lastMetricsRecord(join(dir, 'metrics.jsonl')))?.epoch, 3, `${latents} latents`);
    const overview = await readRunOverview(dir, () => false);
    assert.equal(overview.last?.epoch, 3, `${latents} latents`);
    assert.equal(overview.last?.klPerLatent.length, latents);
    assert.notEqual(overview.convergence, undefined, `${latents} latents`);
  }
});

test('a summary stuck at "running" with no live writer reads as an interrupted (stopped) run', () => {
  const meta = { pid: 123 } as RunMeta;
  const running: RunSummary = { status: 'running', epochsDone: 2, steps: 20, wallSeconds: 3 };
  assert.equal(effectiveStatus(meta, running, () => true).status, 'running');
  const dead = effectiveStatus(meta, running, () => false);
  assert.equal(dead.status, 'stopped');
  assert.match(dead.message ?? '', /interrupted/);
  assert.equal(effectiveStatus(meta, { ...running, status: 'completed' }, () => false).status, 'completed');
  // Written on this machine: its pid is looked up, as in runs of older versions, which name no host.
  assert.equal(effectiveStatus({ ...meta, host: hostname() }, running, () => false).status, 'stopped');
});

test("a run written on another machine (a cluster's shared file system) is taken at its summary's word", () => {
  const meta = { pid: 123, host: 'gpu-node-3' } as RunMeta;
  const running: RunSummary = { status: 'running', epochsDone: 2, steps: 20, wallSeconds: 3 };
  for (const localAnswer of [true, false]) {
    const seen = effectiveStatus(meta, running, () => localAnswer);
    assert.equal(seen.status, 'running', 'a pid of this machine says nothing of a process on another');
    assert.match(seen.message ?? '', /gpu-node-3/);
  }
  assert.equal(effectiveStatus(meta, { ...running, status: 'failed' }, () => true).status, 'failed');
});

test('overview and contents: last record, convergence judged from the snapshot settings when not stored', async () => {
  const root = tmp();
  // A flat ELBO, both residuals small, every latent in use.
  const flat = { elbo: -2.7, klPerLatent: [1, 1] };
  const records = [rec(1, flat), rec(2, flat), rec(3, { ...flat, gap: 0.001 }), rec(4, { ...flat, gap: 0.001 })];
  const dir = makeRun(root, 'r1', {}, undefined, records);
  const overview = await readRunOverview(dir, () => false);
  assert.equal(overview.last?.epoch, 4);
  // Records without a verdict are judged by the reader, in the cheap overview too (the status bar's read).
  assert.equal(overview.convergence, 'converged');
  const contents = await readRunContents(dir, () => false);
  assert.equal(contents.records.length, 4);
  assert.equal(contents.tolerance, 0.05);
  assert.equal(contents.window, 2);
  assert.equal(contents.convergence, 'converged', contents.convergenceReason);
});

test('runs are listed per spec, newest first, even when specs share a runs folder', async () => {
  const root = tmp();
  const runs = join(root, 'runs');
  makeRun(
    runs,
    'old',
    { specPath: join(root, 'a.vae.json'), startedAt: '2026-01-01T00:00:00Z' },
    { status: 'completed', epochsDone: 1, steps: 1, wallSeconds: 1 },
  );
  makeRun(runs, 'new', { specPath: join(root, 'a.vae.json'), startedAt: '2026-02-01T00:00:00Z' });
  makeRun(runs, 'other', { specPath: join(root, 'b.vae.json'), startedAt: '2026-03-01T00:00:00Z' });
  mkdirSync(join(runs, 'not-a-run'));
  const dirs = await listRunDirs(runs);
  assert.equal(dirs.length, 3);
  const overviews = await Promise.all(dirs.map((d) => readRunOverview(d, () => false)));
  assert.deepEqual(
    (await runsOfSpec(overviews, join(root, 'a.vae.json'))).map((r) => r.meta?.name),
    ['new', 'old'],
  );
  assert.deepEqual(await listRunDirs(join(root, 'missing')), []);
});

test('a run folder linked into the runs folder (a run kept on another disk) is listed; links to nothing or to a file are not', async () => {
  const root = tmp();
  const runs = join(root, 'runs');
  const specPath = join(root, 'a.vae.json');
  makeRun(runs, 'here', { specPath, startedAt: '2026-01-01T00:00:00Z' });
  const elsewhere = makeRun(join(root, 'other disk'), 'kept there', { specPath, startedAt: '2026-02-01T00:00:00Z' });
  symlinkSync(elsewhere, join(runs, 'kept there'), 'dir');
  symlinkSync(join(root, 'gone'), join(runs, 'dangling'), 'dir');
  symlinkSync(join(elsewhere, 'run.json'), join(runs, 'a file'));
  symlinkSync(join(runs, 'loop'), join(runs, 'loop'));
  const dirs = await listRunDirs(runs);
  assert.deepEqual(dirs.map((d) => basename(d)).sort(), ['here', 'kept there']);
  const overviews = await Promise.all(dirs.map((d) => readRunOverview(d, () => false)));
  assert.deepEqual(
    (await runsOfSpec(overviews, specPath)).map((r) => r.meta?.name),
    ['kept there', 'here'],
  );
});

test('overlapping MetricsTail reads never return a record twice', async () => {
  const dir = tmp();
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, toJsonLine(rec(1)) + toJsonLine(rec(2)));
  const tail = new MetricsTail(file);
  const [a, b] = await Promise.all([tail.readNew(), tail.readNew()]);
  assert.equal(a.length + b.length, 2);
});

test('the judge of a run being written gives the verdicts of a full replay, through settings that change and records that replace others', () => {
  const rng = new Rng(12);
  const judge = new RunJudge();
  const history: MetricsRecord[] = [];
  const base = { tolerance: 0.01, window: 3, theoremApplies: true };
  let replays = 0;
  for (let i = 1; i <= 400; i++) {
    // Mostly forward; now and then a resume that goes back a few epochs.
    const epoch = rng.uniform() < 0.03 && history.length > 5 ? history[history.length - 4]!.epoch : (history.at(-1)?.epoch ?? 0) + 1;
    const record = rec(epoch, {
      elbo: -3 + 2 * (1 - Math.exp(-epoch / 40)) + 0.01 * rng.normal(),
      rDec: 0.05 * rng.normal(),
      rPrior: 0.05 * rng.normal(),
      gap: 0,
      ...(rng.uniform() < 0.5 ? { meanFieldGap: 0.01 + 0.01 * rng.uniform(), decoderLinear: true } : {}),
    });
    const replaced = addRecord(history, record);
    // run.json rewritten now and then: another window, or the theorem's say.
    const settings = i % 97 === 0 ? { ...base, window: 4 } : i % 131 === 0 ? { ...base, theoremApplies: false } : base;
    if (replaced || i % 97 === 0 || i % 131 === 0) replays++;
    assert.deepEqual(judge.next(history, settings, replaced), judgeRecords(history, settings), `record ${i}`);
  }
  assert.ok(replays > 5, `the replays were exercised (${replays})`);
});

test('several passes an epoch are all kept; a resume (a pass not after the last one) replaces what it redoes', () => {
  const kept = (passes: [number, number][]) => {
    const records: MetricsRecord[] = [];
    const replaced = passes.map(([epoch, step]) => addRecord(records, rec(epoch, { step })));
    return { at: records.map((r) => `${r.epoch}@${r.step}`), replaced };
  };
  // A script that diagnoses three times an epoch under one epoch number.
  assert.deepEqual(
    kept([
      [1, 10],
      [1, 20],
      [1, 30],
      [2, 40],
      [2, 50],
    ]).at,
    ['1@10', '1@20', '1@30', '2@40', '2@50'],
  );
  // Resumed from the checkpoint of epoch 1 (step 20): epoch 2 is redone.
  const resumed = kept([
    [1, 10],
    [1, 20],
    [2, 30],
    [2, 40],
    [3, 50],
    [2, 30],
    [2, 40],
  ]);
  assert.deepEqual(resumed.at, ['1@10', '1@20', '2@30', '2@40']);
  assert.deepEqual(resumed.replaced, [false, false, false, false, false, true, false]);
  // A writer that records no steps: a repeated epoch is a redo, as before.
  assert.deepEqual(
    kept([
      [1, 0],
      [1, 0],
      [2, 0],
    ]).at,
    ['1@0', '2@0'],
  );
  // The same through the file reader.
  const text = [
    [1, 10],
    [1, 20],
    [2, 30],
    [1, 20],
  ]
    .map(([e, s]) => toJsonLine(rec(e!, { step: s! })))
    .join('');
  assert.deepEqual(
    parseMetricsJsonl(text).records.map((r) => `${r.epoch}@${r.step}`),
    ['1@10', '1@20'],
  );
});

// A writer whose clock runs ahead (another machine, a container with its own clock) stamps startedAt in the
// future: that run must not stay the spec's latest when runs start after it.
for (const skewMs of [60_000, 3_600_000, 86_400_000, 10 * 365 * 86_400_000]) {
  for (const ago of [5_000, 3_600_000]) {
    test(`a run stamped ${skewMs / 60_000} min ahead, written ${ago / 1000} s ago, is not newer than a run started after it`, async () => {
      const root = tmp();
      const runs = join(root, 'runs');
      const specPath = join(root, 'a.vae.json');
      const now = Date.now();
      const written = new Date(now - ago);
      const skewed = makeRun(runs, 'skewed', { specPath, startedAt: new Date(written.getTime() + skewMs).toISOString() });
      for (const f of ['run.json', 'spec.vae.json', 'metrics.jsonl']) utimesSync(join(skewed, f), written, written);
      makeRun(runs, 'before', { specPath, startedAt: new Date(now - ago - 60_000).toISOString() });
      makeRun(runs, 'after', { specPath, startedAt: new Date(now - ago / 2).toISOString() });
      const overviews = await Promise.all((await listRunDirs(runs)).map((d) => readRunOverview(d, () => false)));
      assert.deepEqual(
        (await runsOfSpec(overviews, specPath)).map((r) => r.meta?.name),
        ['after', 'skewed', 'before'],
      );
    });
  }
}

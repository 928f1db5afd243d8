/**
 * A resumed run's sessions as the panel, the report and `vae-lens eval` show them: each session's
 * engine, threads, machine, the epochs it trained and its time per epoch, and where the charts mark
 * the resumes. Generated histories: any number of sessions, each resumed at any epoch, on any engine.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isToPanel } from '../../src/core/panelProtocol';
import { panelRunToSend } from '../../src/core/panelPayload';
import { toPanelRun } from '../../src/core/panelRun';
import { readRunContents } from '../../src/core/run/read';
import type { MetricsRecord, SessionInfo } from '../../src/core/runFormat';
import { foldedSessionsText, foldSessionLines, resumedText, resumeEpochs, sessionLines, sessionSpans } from '../../src/core/sessionHistory';
import { elboChart, entropiesChart, gapChart, resumeMarks } from '../../src/webview/chartConfigs';
import { seriesFromRecords, type PassAxis } from '../../src/webview/series';
import { normalizeRun } from '../../src/webview/runs';
import { summaryRows } from '../../src/webview/summary';
import { tempDir } from './data-testkit';
import { PALETTE, panelRun, record } from './webview-testkit';

const ENGINES = ['cpu', 'wasm', 'tensorflow'];

/** A history of `starts.length` sessions, session i resumed at epoch starts[i] (starts[0] = 0), each `secs[i]` seconds an epoch. */
function history(starts: number[], end: number, secs: number[]): { sessions: SessionInfo[]; records: MetricsRecord[] } {
  const sessions = starts.map((from, i) => ({
    startedAt: `2026-12-0${1 + (i % 9)}T0${i % 10}:30:00.000Z`,
    backend: ENGINES[i % ENGINES.length]!,
    threads: i % ENGINES.length === 1 ? 1 + i : undefined,
    host: `host-${i % 2}`,
    pid: 100 + i,
    fromEpoch: from,
  }));
  const records: MetricsRecord[] = [];
  for (let e = 0; e <= end; e++) {
    // The session that trained epoch e, as the reader keeps the passes: the last one started before it.
    const i = e === 0 ? 0 : starts.filter((s) => s < e).length - 1;
    const base = i === 0 ? 0.5 : 0; // the first session's pass before training
    records.push(record(e, { step: e * 4, wallSeconds: base + (e - starts[i]!) * secs[i]! }));
  }
  return { sessions, records };
}

/** Generated: 2 to 5 sessions, resumed at increasing epochs of a run of up to 30. */
function* histories(): Generator<{ starts: number[]; end: number; secs: number[] }> {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 16807) % 2147483647), seed % n);
  for (let k = 0; k < 40; k++) {
    const count = 2 + rand(4);
    const starts = [0];
    for (let i = 1; i < count; i++) starts.push(starts[i - 1]! + 1 + rand(6));
    const end = starts[count - 1]! + 1 + rand(5);
    yield { starts, end, secs: starts.map(() => 0.01 * (1 + rand(300))) };
  }
}

test('each session is shown with its engine, the epochs it trained and its time per epoch (generated histories)', () => {
  for (const h of histories()) {
    const { sessions, records } = history(h.starts, h.end, h.secs);
    const spans = sessionSpans(sessions, records);
    const what = JSON.stringify(h);
    assert.equal(spans.length, sessions.length, what);
    spans.forEach((s, i) => {
      assert.equal(s.number, i + 1);
      assert.equal(s.backend, sessions[i]!.backend, what);
      assert.equal(s.fromEpoch, h.starts[i], what);
      assert.equal(s.toEpoch, i + 1 < h.starts.length ? h.starts[i + 1] : h.end, what);
      assert.ok(Math.abs(s.secondsPerEpoch! - h.secs[i]!) < 1e-9, `${what}: session ${i + 1} ${s.secondsPerEpoch} s/epoch, not ${h.secs[i]}`);
    });
    const lines = sessionLines(sessions, records);
    assert.equal(lines.length, sessions.length, what);
    lines.forEach((l, i) => {
      assert.ok(l.startsWith(`${i + 1}. ${sessions[i]!.backend}`), l);
      assert.ok(l.includes(`epochs ${spans[i]!.fromEpoch} to ${spans[i]!.toEpoch}`), l);
      assert.ok(l.includes(`on ${sessions[i]!.host}`), `${l}: the sessions ran on two machines, each is named`);
      if (sessions[i]!.threads) assert.ok(l.includes(`${sessions[i]!.threads} threads`), l);
      assert.match(l, /\d (ms|s)\/epoch/, l);
    });
    assert.deepEqual(resumeEpochs(sessions), h.starts.slice(1));
  }
});

test('a run of one session shows no session list; one machine is not named; a session with no passes kept or no start epoch says so', () => {
  const one = history([0], 5, [1]);
  assert.deepEqual(sessionLines(one.sessions, one.records), []);
  assert.deepEqual(sessionLines(undefined, one.records), []);
  const two = history([0, 3], 6, [2, 0.5]);
  const sameHost = two.sessions.map((s) => ({ ...s, host: 'box' }));
  assert.deepEqual(sessionLines(sameHost, two.records), [
    '1. cpu: epochs 0 to 3, 2.00 s/epoch (started 2026-12-01 00:30 UTC)',
    '2. wasm, 2 threads: epochs 3 to 6, 500 ms/epoch (started 2026-12-02 01:30 UTC)',
  ]);
  // Resumed, then stopped before its first pass: its epochs are not yet any.
  const stopped = [...sameHost, { startedAt: 'then', backend: 'cpu', fromEpoch: 6 }];
  assert.match(sessionLines(stopped, two.records)[2]!, /^3\. cpu: from epoch 6, no passes kept \(started then\)$/);
  // A run.json of a resumed run from before sessions were recorded kept its own session without a start epoch.
  const unknown = [{ startedAt: 'then', backend: 'wasm' }, sameHost[1]!];
  assert.match(sessionLines(unknown, two.records)[0]!, /^1\. wasm: epochs not recorded/);
});

test('the charts mark where a run was resumed, on every pass axis; compared runs each mark theirs in their colour', () => {
  const h = history([0, 4, 9], 12, [1, 1, 1]);
  const run = panelRun('a', h.records, { sessions: h.sessions });
  const xs: Record<PassAxis, number[]> = { epoch: [4, 9], step: [16, 36], pass: [5, 10] };
  for (const axis of ['epoch', 'step', 'pass'] as const) {
    const v = { run, series: seriesFromRecords(run.records, run.tolerance, axis), colour: PALETTE.blue };
    for (const chart of [elboChart, entropiesChart, gapChart])
      assert.deepEqual(
        chart([v], PALETTE, axis).marks,
        xs[axis].map((x) => ({ x, colour: PALETTE.muted, label: 'resumed' })),
        axis,
      );
  }
  const other = panelRun('b', history([0], 12, [1]).records);
  const views = [run, other].map((r, i) => ({ run: r, series: seriesFromRecords(r.records, r.tolerance, 'epoch'), colour: i ? PALETTE.red : PALETTE.green }));
  assert.deepEqual(
    resumeMarks(views, 'epoch', PALETTE).map((m) => [m.x, m.colour, m.label]),
    [
      [4, PALETTE.green, 'resumed · a'],
      [9, PALETTE.green, 'resumed · a'],
    ],
  );
  assert.deepEqual(elboChart([{ ...views[1]! }], PALETTE, 'epoch').marks, [], 'a run never resumed has no marks');
});

test('the summary names every engine a resumed run was trained on, in order', () => {
  const h = history([0, 2, 4, 6], 8, [1, 1, 1, 1]);
  const sessions = h.sessions.map((s, i) => ({ ...s, backend: ['cpu', 'cpu', 'wasm', 'cpu'][i]! }));
  const backend = (run: ReturnType<typeof panelRun>) => summaryRows([run]).find((r) => r.label === 'Backend')!.cells[0]!.text;
  assert.equal(backend(panelRun('a', h.records, { sessions, backend: 'cpu' })), 'cpu → wasm → cpu');
  assert.equal(backend(panelRun('a', h.records, { backend: 'wasm' })), 'wasm');
});

test('a run folder with sessions reaches the panel (and the report) with them, and a bad sessions field is left out with a note', async () => {
  const dir = path.join(tempDir(), 'run');
  fs.mkdirSync(dir);
  const h = history([0, 3], 5, [1, 1]);
  const meta = {
    formatVersion: 1,
    name: 'r',
    specPath: '/x/spec.vae.json',
    startedAt: h.sessions[1]!.startedAt,
    backend: 'wasm',
    modelType: 'VAE-1',
    latentDim: 3,
    epochs: 5,
    dataset: { n: 10, dim: 2, source: 's' },
    sessions: h.sessions,
  };
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(meta));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), h.records.map((r) => JSON.stringify(r) + '\n').join(''));
  const c = await readRunContents(dir);
  const run = toPanelRun(c, false);
  assert.deepEqual(run.sessions, JSON.parse(JSON.stringify(h.sessions)));
  const sent = panelRunToSend(run);
  assert.ok(isToPanel({ type: 'show', runs: [sent] }), 'the panel takes the message');
  assert.deepEqual(normalizeRun(sent).run.sessions, run.sessions, 'the webview keeps them');
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...meta, sessions: [{ startedAt: 3, backend: 'cpu' }] }));
  const bad = await readRunContents(dir);
  assert.equal(toPanelRun(bad, false).sessions, undefined);
  assert.ok(
    bad.problems.some((p) => /sessions/.test(p.message)),
    JSON.stringify(bad.problems),
  );
});

test("the runs list's tooltip, which dates a run by its last session, says how often it was resumed and when it first started", () => {
  const h = history([0, 2, 4], 6, [1, 1, 1]);
  assert.equal(resumedText(h.sessions), 'resumed 2 times (cpu → wasm → tensorflow); first started 2026-12-01 00:30 UTC');
  assert.equal(resumedText(h.sessions.slice(0, 2).map((s) => ({ ...s, backend: 'cpu' }))), 'resumed 1 time; first started 2026-12-01 00:30 UTC');
  assert.equal(resumedText(h.sessions.slice(0, 1)), undefined);
  assert.equal(resumedText(undefined), undefined);
});

/** Each session's last epoch and time per epoch, and each resume's mark, by their definitions: every pass looked at, for each. */
function byDefinition(sessions: SessionInfo[], records: MetricsRecord[]) {
  const spans = sessions.map((s, i) => {
    const from = s.fromEpoch!;
    const until = sessions[i + 1]?.fromEpoch ?? Infinity;
    const own = records.filter((r) => (i === 0 ? r.epoch >= from : r.epoch > from) && r.epoch <= until);
    const last = own.at(-1);
    if (!last) return { toEpoch: undefined, secondsPerEpoch: undefined };
    const base = own[0]!.epoch === from ? own[0]! : { epoch: from, wallSeconds: 0 };
    const seconds = (last.wallSeconds ?? NaN) - (base.wallSeconds ?? NaN);
    return { toEpoch: last.epoch, secondsPerEpoch: last.epoch > base.epoch && seconds >= 0 ? seconds / (last.epoch - base.epoch) : undefined };
  });
  const marks = resumeEpochs(sessions).filter((e) => records.some((r) => r.epoch <= e));
  return { spans, marks };
}

test('generated long resumed runs: the session list and the resume marks cost one look at the passes, not one per session', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (const [passes, count, perEpoch] of [
    [20000, 1000, 1],
    [3000, 40, 3],
    [50, 10, 1],
    [0, 3, 1],
  ] as const) {
    // Several passes an epoch where perEpoch > 1 (a script's), and starts anywhere, some at the same epoch.
    const records = Array.from({ length: passes }, (_, i) => record(Math.floor(i / perEpoch), { step: i, wallSeconds: i }));
    const epochs = Math.max(1, Math.ceil(passes / perEpoch));
    const starts = [0, ...Array.from({ length: count - 1 }, () => Math.floor(rand() * epochs)).sort((a, b) => a - b)];
    const sessions: SessionInfo[] = starts.map((fromEpoch, i) => ({
      startedAt: `2026-12-01T00:${String(i % 60).padStart(2, '0')}:00Z`,
      backend: 'cpu',
      fromEpoch,
    }));
    const view = { run: panelRun('long', records, { sessions }), series: seriesFromRecords([], 0.01, 'epoch'), colour: PALETTE.blue };
    const t0 = performance.now();
    const spans = sessionSpans(sessions, records);
    const marks = resumeMarks([view], 'epoch', PALETTE);
    const ms = performance.now() - t0;
    const what = `${passes} passes, ${count} sessions`;
    const want = byDefinition(sessions, records);
    assert.deepEqual(
      spans.map((s) => ({ toEpoch: s.toEpoch, secondsPerEpoch: s.secondsPerEpoch })),
      want.spans,
      what,
    );
    assert.deepEqual(
      marks.map((m) => m.x),
      want.marks,
      what,
    );
    // By definition, 20000 passes and 1000 sessions take about 40 million looks at a pass, at every redraw of a live run's header and charts.
    assert.ok(ms < 100, `${what}: ${ms.toFixed(0)} ms`);
  }
});

test('a run resumed hundreds of times shows its first and last sessions with the rest folded between; a short history reads whole', () => {
  for (let count = 2; count <= 8; count++) {
    const { sessions, records } = history(
      Array.from({ length: count }, (_, i) => i * 2),
      count * 2 + 1,
      Array.from({ length: count }, () => 0.5),
    );
    const lines = sessionLines(sessions, records);
    assert.deepEqual(foldSessionLines(lines), { first: lines, folded: [], last: [] }, `${count} sessions`);
  }
  const starts = Array.from({ length: 300 }, (_, i) => i * 3);
  const { sessions, records } = history(
    starts,
    905,
    starts.map(() => 0.25),
  );
  const lines = sessionLines(sessions, records);
  const fold = foldSessionLines(lines);
  assert.deepEqual(
    fold.first.map((l) => l.split('.')[0]),
    ['1', '2', '3'],
  );
  assert.deepEqual(
    fold.last.map((l) => l.split('.')[0]),
    ['298', '299', '300'],
  );
  assert.deepEqual([...fold.first, ...fold.folded, ...fold.last], lines, 'every session is still there, in order');
  assert.equal(foldedSessionsText(fold), 'Sessions 4 to 297 (294 more)');
  // Nine sessions: the smallest history folded, and never a fold of fewer than three.
  const nine = foldSessionLines(lines.slice(0, 9));
  assert.equal(nine.folded.length, 3);
  assert.equal(foldedSessionsText(nine), 'Sessions 4 to 6 (3 more)');
});

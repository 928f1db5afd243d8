// run.json and summary.json as other writers (or other versions) leave them: what this version can
// use is used, the rest is named with its file, and nothing downstream trips on what was left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { readRunContents, readRunOverview, runFolderNotes } from '../../src/core/run/read';
import { toPanelRun } from '../../src/core/panelRun';
import { isToPanel } from '../../src/core/panelProtocol';
import { codeLensResult, statusBarText, statusTooltipMarkdown, type RunStateInput } from '../../src/extension/status/runStateWording';
import { sampleRecord } from './record-testkit';

const rec = (epoch: number): MetricsRecord => sampleRecord(epoch);

const META = {
  formatVersion: 1,
  name: 'other',
  specPath: '/elsewhere/train.py',
  startedAt: '2026-01-01T00:00:00Z',
  backend: 'b',
  modelType: 'VAE-1',
  latentDim: 2,
  epochs: 10,
  dataset: { n: 10, dim: 2, source: 's' },
  window: 3,
};

function runFolder(summary: string | object | undefined, meta: string | object = META): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-summary-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
  if (summary !== undefined) writeFileSync(join(dir, 'summary.json'), typeof summary === 'string' ? summary : JSON.stringify(summary));
  writeFileSync(join(dir, 'metrics.jsonl'), Array.from({ length: 10 }, (_, i) => toJsonLine(rec(i + 1))).join(''));
  return dir;
}

const done = { status: 'completed', epochsDone: 10, steps: 100, wallSeconds: 1 };

/** Everything the editor and the report build from a run: none of it may throw. */
async function shown(dir: string) {
  const overview = await readRunOverview(dir, () => false);
  const contents = await readRunContents(dir, () => false);
  const state: RunStateInput = { hasRun: true, specChanged: false, status: overview.status, convergence: overview.convergence, last: overview.last };
  const texts = [statusBarText(state), statusTooltipMarkdown(state), codeLensResult(state) ?? ''];
  assert.ok(isToPanel({ type: 'show', runs: [toPanelRun(contents, false)] }), 'the panel accepts the run');
  return { overview, contents, texts, notes: runFolderNotes(contents).join('\n') };
}

test("a summary's last that is not a record gives way to metrics.jsonl's, and is named", async () => {
  for (const last of [{ epoch: 'x' }, { ...rec(10), klPerLatent: undefined }, 'epoch 10', [1, 2], { ...rec(10), elbo: '-3' }]) {
    const { overview, contents, texts, notes } = await shown(runFolder({ ...done, last }));
    assert.equal(overview.last?.epoch, 10, JSON.stringify(last));
    assert.deepEqual(overview.last, rec(10));
    assert.equal(overview.convergence, 'converged');
    assert.match(texts[1]!, /\| epoch \| 10 \|/);
    assert.equal(contents.status, 'completed');
    assert.match(
      notes,
      /summary\.json: last was not used \(last(\.\w+)?(: expected .*| is missing: every record needs it)\); the last record of metrics\.jsonl is shown/,
    );
  }
});

test('a convergence state this version does not know is not shown; the run is judged from its records', async () => {
  const { overview, contents, texts, notes } = await shown(runFolder({ ...done, convergence: 'plateau', convergenceReason: 'a newer rule' }));
  assert.equal(overview.convergence, 'converged');
  assert.doesNotMatch(overview.convergenceReason ?? '', /newer rule/);
  assert.equal(contents.convergence, 'converged');
  assert.match(texts[0]!, /converged/);
  assert.match(notes, /summary\.json: convergence "plateau" is not a state this version knows; the run is judged from its records/);
});

test('a status this version does not know reads as stopped, and says what the summary said', async () => {
  const { overview, texts, notes } = await shown(runFolder({ ...done, status: 'paused' }));
  assert.equal(overview.status, 'stopped');
  assert.match(overview.message ?? '', /the run's summary says "paused", a status this version of VAE Lens does not know/);
  assert.ok(texts.every((t) => !t.includes('undefined')));
  assert.match(notes, /summary\.json: status "paused" is not one this version knows/);
});

test('an unreadable run.json or summary.json is named, not silently passed over', async () => {
  const garbled = await shown(runFolder('{"status": "compl'));
  assert.match(garbled.notes, /summary\.json is not valid JSON/);
  const notSummary = await shown(runFolder({ state: 'completed' }));
  assert.match(notSummary.notes, /summary\.json: not used: it needs "status" as a string/);
  const badMeta = await readRunContents(runFolder(done, '{"name": "x",'), () => false);
  assert.match(runFolderNotes(badMeta).join('\n'), /run\.json is not valid JSON/);
  const notMeta = await readRunContents(runFolder(done, { name: 'x' }), () => false);
  assert.match(runFolderNotes(notMeta).join('\n'), /run\.json was not used: it needs "name", "specPath" and "startedAt" as strings/);
});

// Each run.json field beside the required three, of a kind this version cannot use.
const wrongKind: Record<string, unknown> = {
  formatVersion: '1',
  backend: 3,
  engineDetail: ['x'],
  modelType: { type: 'VAE-1' },
  latentDim: '2',
  epochs: '10',
  dataset: 'mnist',
  resumedFrom: 7,
  pid: 'self',
  trainer: false,
  likelihood: 1,
  theoremApplies: 'no',
  theoremNote: 0,
  tolerance: '0.01',
  window: [3],
  threads: 'all',
};

test('a run.json field of another kind is left out and named; the panel, the status bar and the runs view still show the run', async () => {
  for (const [field, value] of Object.entries(wrongKind)) {
    const dir = runFolder(done, { ...META, [field]: value });
    const { overview, contents, notes } = await shown(dir);
    assert.equal(overview.meta?.name, 'other', field);
    assert.ok(!(field in (overview.meta ?? {})), field);
    const state: RunStateInput = {
      hasRun: true,
      specChanged: false,
      status: overview.status,
      convergence: overview.convergence,
      last: overview.last,
      backend: overview.meta?.backend,
      modelType: overview.meta?.modelType,
      runDir: dir,
    };
    assert.doesNotThrow(() => statusTooltipMarkdown(state), field);
    assert.equal(contents.records.length, 10, field);
    assert.match(notes, new RegExp(`run\\.json: ${field}: expected .*; the field is not used`), field);
  }
  // A dataset lacking what the panel draws from is left out too.
  assert.match((await shown(runFolder(done, { ...META, dataset: { n: 10 } }))).notes, /run\.json: dataset\.dim is missing; dataset is not used/);
});

test('a newer formatVersion is read as far as it goes, and said', async () => {
  const { overview, notes } = await shown(runFolder(done, { ...META, formatVersion: 2 }));
  assert.equal(overview.convergence, 'converged');
  assert.match(notes, /run\.json: formatVersion 2 is newer than the 1 this version of VAE Lens reads; what it can read is shown/);
});

// Python's json.dump writes a non-finite float as a bare word; a diverged run's summary holds one in `last`.
const NON_FINITE_WORDS = ['NaN', 'Infinity', '-Infinity'];

test("a run.json or summary.json with Python's bare NaN or Infinity is read, its non-finite numbers as null: a diverged run reads diverged", async () => {
  for (const word of NON_FINITE_WORDS) {
    const diverged = { status: 'diverged', epochsDone: 10, steps: 100, wallSeconds: 1, message: 'the loss became NaN', last: rec(10) };
    const summary = JSON.stringify(diverged).replace(/"elbo":[^,]+/, `"elbo": ${word}`);
    const meta = JSON.stringify({ ...META, lossScale: 1 }).replace(/"lossScale":1/, `"lossScale": ${word}`);
    const { overview, contents, notes } = await shown(runFolder(summary, meta));
    assert.equal(overview.status, 'diverged', word);
    assert.equal(overview.message, 'the loss became NaN', word);
    assert.equal(overview.summary?.last?.elbo, null, word);
    assert.equal(contents.meta?.name, 'other', word);
    assert.doesNotMatch(notes, /not valid JSON/, word);
  }
});

test('a run.json or summary.json that is not JSON is named with the line and column where it stops being JSON', async () => {
  const badSummary = await shown(runFolder('{\n  "status": "completed",\n  "epochsDone": 10,\n}\n'));
  assert.match(badSummary.notes, /summary\.json is not valid JSON \(line 4, column 1: [^)]+\)/);
  const badMeta = await readRunContents(runFolder(done, '{"name": "x",\n "specPath": NaNa}'), () => false);
  assert.match(runFolderNotes(badMeta).join('\n'), /run\.json is not valid JSON \(line 2, column 14: [^)]+\)/);
});

test("a summary whose last pass is not metrics.jsonl's last (written less often than the records) does not give the verdict: the records do, and it is named", async () => {
  for (const stale of [rec(4), { ...rec(4), step: 39 }, rec(12)]) {
    const what = `summary's last at epoch ${stale.epoch}, step ${stale.step}`;
    const summary = { ...done, epochsDone: stale.epoch, last: stale, convergence: 'improving', convergenceReason: 'the summary says so' };
    const { overview, contents, texts, notes } = await shown(runFolder(summary));
    assert.equal(overview.last?.epoch, 10, what);
    assert.equal(overview.convergence, 'converged', what);
    assert.doesNotMatch(overview.convergenceReason ?? '', /the summary says so/, what);
    assert.equal(contents.convergence, 'converged', what);
    assert.equal(contents.status, 'completed', what);
    assert.match(texts[1]!, /\| epoch \| 10 \|/, what);
    assert.match(
      notes,
      new RegExp(
        `summary\\.json: its last pass \\(epoch ${stale.epoch}, step ${stale.step}\\) is not the last record of metrics\\.jsonl \\(epoch 10, step 100\\); the records are shown`,
      ),
      what,
    );
  }
  // The summary of the records' last pass is the run's own say, which the status bar shows; the
  // panel and report, reading every pass, show the verdict judged from them and name the summary's.
  const current = await shown(runFolder({ ...done, last: rec(10), convergence: 'improving', convergenceReason: 'the summary says so' }));
  assert.equal(current.overview.convergence, 'improving');
  assert.equal(current.contents.convergence, 'converged');
  assert.doesNotMatch(current.notes, /is not the last record/);
  assert.match(current.notes, /summary\.json \("convergence"\) says "still improving", but judged again from the 10 recorded passes the run is "converged"/);
});

test('a summary with its status but without the counts, or with counts of another kind, keeps its status; a count of another kind is named', async () => {
  for (const summary of [
    { status: 'diverged', message: 'the loss became NaN' },
    { status: 'diverged', message: 'the loss became NaN', epochsDone: null, steps: '100', wallSeconds: 'long' },
  ]) {
    const what = JSON.stringify(summary);
    const { overview, contents, texts, notes } = await shown(runFolder(summary));
    assert.equal(overview.status, 'diverged', what);
    assert.equal(overview.message, 'the loss became NaN', what);
    assert.equal(contents.status, 'diverged', what);
    assert.equal(overview.summary?.epochsDone, 10, `${what}: the records' last epoch`);
    assert.ok(
      texts.every((t) => !/undefined|NaN/.test(t)),
      `${what}: ${texts.join(' | ')}`,
    );
    assert.doesNotMatch(notes, /not used: it needs/, what);
    if ('steps' in summary) assert.match(notes, /summary\.json: steps: expected a finite number, not .*; the field is not used/, what);
  }
  assert.match((await shown(runFolder({ epochsDone: 3 }))).notes, /summary\.json: not used: it needs "status" as a string/);
});

test('each note names its file once: the path, not the path and then the name again', async () => {
  // One folder for each kind of note the two files give, as other writers leave them.
  const folders: [string, string][] = [
    ['summary not JSON', runFolder('{ "status": ')],
    ['summary without status', runFolder({ epochsDone: 3 })],
    ['summary status unknown', runFolder({ ...done, status: 'paused' })],
    ['summary count of another kind', runFolder({ ...done, steps: 'many' })],
    ['summary convergence unknown', runFolder({ ...done, convergence: 'plateau' })],
    ['summary last not a record', runFolder({ ...done, last: { epoch: 'x' } })],
    ['summary stored verdict differs', runFolder({ ...done, last: rec(10), convergence: 'improving', convergenceReason: 'r' })],
    ['run.json not JSON', runFolder(done, '{ "name": ')],
    ['run.json without its names', runFolder(done, { ...META, name: 3 })],
    ['run.json newer', runFolder(done, { ...META, formatVersion: 2 })],
    ['run.json field of another kind', runFolder(done, { ...META, latentDim: 'two' })],
    ['run.json startedAt not a time', runFolder(done, { ...META, startedAt: 'yesterday' })],
  ];
  for (const [what, dir] of folders) {
    const notes = runFolderNotes(await readRunContents(dir, () => false));
    assert.ok(notes.length > 0, `${what}: no note`);
    for (const note of notes) {
      const file = /^(.*?\.json)[: ]/.exec(note)?.[1];
      if (file === undefined || !file.startsWith(dir)) assert.fail(`${what}: the note does not start with its file's path: ${note}`);
      const name = file.slice(dir.length + 1);
      assert.ok(!note.slice(file.length).startsWith(`: ${name}`), `${what}: ${name} is named again after its path: ${note}`);
    }
  }
});

// metrics.jsonl lines as other writers make them: Python's bare NaN, optional fields this version
// cannot use, a pass whose place in the run is not a number. Each is read as far as it can be, and
// what was left out is said with the file, line and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunJson, parseMetricsJsonl, toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { readRunContents, readRunOverview, runFolderNotes } from '../../src/core/run/read';
import { judgeRecords, RunJudge } from '../../src/core/run/settings';
import { lastMetricsRecord, MetricsTail } from '../../src/core/run/tail';
import { judgeConvergence } from '../../src/core/convergence';
import { finiteRecord, sampleRecord } from './record-testkit';

// Fields of any kind, as other writers leave them.
const rec = (epoch: number, over: Record<string, unknown> = {}): MetricsRecord => ({ ...sampleRecord(epoch), ...over }) as MetricsRecord;

const history = (n: number, over: (epoch: number) => Record<string, unknown> = () => ({})) => Array.from({ length: n }, (_, i) => rec(i + 1, over(i + 1)));
const text = (records: readonly object[]) => records.map(toJsonLine).join('');

function runFolder(metrics: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-records-')), 'run');
  mkdirSync(dir);
  const meta = { formatVersion: 1, name: 'other', specPath: join(dir, 'train.py'), startedAt: '2026-01-01T00:00:00Z', backend: 'b', modelType: 'VAE-1' };
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...meta, latentDim: 2, epochs: 10, dataset: { n: 10, dim: 2, source: 's' }, window: 3 }));
  writeFileSync(join(dir, 'metrics.jsonl'), metrics);
  return dir;
}

test('a null epoch or step is a bad line, not a restart that drops the passes before it', () => {
  for (const field of ['epoch', 'step'] as const) {
    const parsed = parseMetricsJsonl(text(history(10, (e) => (e === 6 ? { [field]: null } : {}))));
    assert.deepEqual(
      parsed.records.map((r) => r.epoch),
      [1, 2, 3, 4, 5, 7, 8, 9, 10],
      field,
    );
    assert.deepEqual(parsed.bad, [{ line: 6, message: `${field}: expected a number, not null` }]);
  }
});

// Every optional field, given a value of a kind the reader cannot use: the record stays, the field goes.
const unusable: Record<string, unknown> = {
  convergence: 'plateau', // a state of a newer version
  convergenceReason: 42,
  gapStdErr: 'small',
  elboAtOptVariance: [1],
  collapsedLatents: 'none',
  latentMeanVariance: [1, 'x'],
  decoderLinear: 'yes',
  theoremApplies: 1,
  theoremNote: false,
  likelihood: { kind: 'gaussian' },
  learningRate: '1e-3',
  mcSamples: true,
};

test('an optional field this version cannot use is left out of its record, and the record kept', async () => {
  for (const [field, value] of Object.entries(unusable)) {
    const parsed = parseMetricsJsonl(text(history(10, (e) => (e >= 4 ? { [field]: value } : {}))));
    assert.equal(parsed.records.length, 10, field);
    assert.deepEqual(parsed.bad, [], field);
    assert.ok(
      parsed.records.every((r) => !(field in r)),
      field,
    );
    assert.equal(parsed.ignored.length, 1, field);
    assert.equal(parsed.ignored[0]!.line, 4, field);
    assert.equal(parsed.ignored[0]!.lines, 7, field);
    assert.match(parsed.ignored[0]!.message, new RegExp(`^${field}(\\[\\d+\\])?: expected`), field);
  }
  // Through the folder reader: the run is judged (a newer version's state is not trusted) and the note located.
  const dir = runFolder(text(history(10, () => ({ convergence: 'plateau' }))));
  const contents = await readRunContents(dir, () => false);
  assert.equal(contents.records.length, 10);
  assert.equal(contents.convergence, 'converged');
  const notes = runFolderNotes(contents);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /metrics\.jsonl:1: convergence: expected .* \(field ignored, the record kept; the same on 9 more lines\)$/);
  const overview = await readRunOverview(dir, () => false);
  assert.equal(overview.last?.epoch, 10);
  assert.equal(overview.convergence, 'converged');
  assert.equal((await lastMetricsRecord(join(dir, 'metrics.jsonl')))?.epoch, 10);
  const tail = new MetricsTail(join(dir, 'metrics.jsonl'));
  assert.equal((await tail.readNew()).length, 10);
});

test("Python's NaN, Infinity and -Infinity are read as null (a non-finite number), also beside strings that hold the words", () => {
  const line = '{"epoch": 3, "note": "NaN \\" Infinity", "elbo": NaN, "gap": -Infinity, "kl": Infinity, "xs": [NaN, 1.5]}';
  assert.deepEqual(parseRunJson(line), { epoch: 3, note: 'NaN " Infinity', elbo: null, gap: null, kl: null, xs: [null, 1.5] });
  assert.equal(parseRunJson('{"elbo": NaNx}'), undefined);
  assert.equal(parseRunJson('{"elbo": -3'), undefined);
  const records = history(10);
  const python = records.map((r, i) => JSON.stringify(r).replace(/"rDec":[^,]+/, i >= 8 ? '"rDec": NaN' : '$&') + '\n').join('');
  const parsed = parseMetricsJsonl(python);
  assert.deepEqual(parsed.bad, []);
  assert.equal(parsed.records.length, 10);
  assert.equal(parsed.records[9]!.rDec, null);
});

// Each field the rule needs a number in, null at the last pass or at one pass in the middle.
const verdictFields = ['elbo', 'hEnc', 'hPrior'] as const;
const settings = { tolerance: 0.01, window: 3, theoremApplies: true };

test('a last pass without a finite ELBO or entropies is not converged, whatever the passes before it say', async () => {
  for (const field of verdictFields) {
    const records = history(10, (e) => (e === 10 ? { [field]: null } : {}));
    const verdict = judgeRecords(records, settings);
    assert.equal(verdict.state, 'not-converged', field);
    assert.match(verdict.reason, new RegExp(`^The last pass \\(epoch 10\\) has no finite ${field} in metrics\\.jsonl`), field);
    // The same through the folder reader, from each writer's spelling of the number: the reason names no spelling the file does not hold.
    for (const spelling of ['NaN', 'Infinity', '-Infinity', 'null']) {
      const python = text(records.slice(0, 9)) + JSON.stringify(rec(10)).replace(new RegExp(`"${field}":[^,]+`), `"${field}":${spelling}`) + '\n';
      const read = await readRunContents(runFolder(python), () => false);
      assert.equal(read.convergence, 'not-converged', field);
      assert.match(read.convergenceReason ?? '', new RegExp(`has no finite ${field} in metrics\\.jsonl`), `${field} ${spelling}`);
      if (spelling !== 'null') assert.doesNotMatch(read.convergenceReason ?? '', /null/, `${field} ${spelling}: the reason says null`);
      assert.equal((await readRunOverview(runFolder(python), () => false)).convergence, 'not-converged', field);
    }
  }
});

test('a pass in the middle without a finite ELBO is left out of the verdict, not read as 0 nats', () => {
  for (const field of verdictFields) {
    for (const at of [2, 5, 9]) {
      // A falling ELBO; a null read as 0 would look like a jump up.
      const records = history(12, (e) => ({ elbo: -3 - 0.5 * e, ...(e === at ? { [field]: null } : {}) }));
      const without = records.filter((r) => r.epoch !== at);
      const verdict = judgeRecords(records, settings);
      const expected = judgeConvergence(
        without.map((r) => ({ ...finiteRecord(r), gapStdErr: 0 })),
        settings,
      );
      assert.equal(verdict.state, expected.state, `${field} at ${at}`);
      assert.equal(verdict.reason, `${expected.reason} 1 earlier pass without a finite ELBO or encoder and prior entropies is left out of the verdict.`);
      // A run being written is judged the same, pass by pass.
      const judge = new RunJudge();
      const live: MetricsRecord[] = [];
      let last: { state: string; reason: string } | undefined;
      for (const r of records) {
        live.push(r);
        last = judge.next(live, settings, false);
        assert.deepEqual(last, judgeRecords(live, settings), `${field} at ${at}, pass ${r.epoch}`);
      }
    }
  }
});

// How writers other than JSON's spell a non-finite number as text: Python's and numpy's str(), JavaScript's
// String(), and R's jsonlite, whose default writes NA (R's missing value), NaN, Inf and -Inf as strings.
const NON_FINITE_STRINGS = ['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '-inf', '+inf', 'INF', 'NA', 'Inf', '-Inf'];
const NUMBER_FIELDS = [
  'elbo',
  'elboStdErr',
  'hEnc',
  'hPrior',
  'hDec',
  'entropySum',
  'gap',
  'gapRel',
  'rDec',
  'rPrior',
  'sigma2',
  'sigma2Opt',
  'samplesPerSec',
  'wallSeconds',
  'gapStdErr',
  'trainLoss',
  'learningRate',
  'averagedElbo',
];
const NUMBER_LIST_FIELDS = ['latentSecondMoment', 'klPerLatent', 'latentMeanVariance', 'hEncPerLatent', 'priorVariance'];

test('a non-finite number written as a string ("NaN", "inf") is read as null, as the bare word is: the pass is kept, and a diverged last pass reads not converged', async () => {
  for (const spelling of NON_FINITE_STRINGS) {
    for (const field of NUMBER_FIELDS) {
      const parsed = parseMetricsJsonl(text(history(10, (e) => (e === 10 ? { [field]: spelling } : {}))));
      assert.deepEqual(parsed.bad, [], `${field}: ${spelling}`);
      assert.deepEqual(parsed.ignored, [], `${field}: ${spelling}`);
      assert.equal(parsed.records.length, 10, `${field}: ${spelling}`);
      assert.equal((parsed.records[9] as unknown as Record<string, unknown>)[field], null, `${field}: ${spelling}`);
    }
    for (const field of NUMBER_LIST_FIELDS) {
      const parsed = parseMetricsJsonl(text(history(3, () => ({ [field]: [0.5, spelling] }))));
      assert.deepEqual([parsed.bad, parsed.ignored], [[], []], `${field}: ${spelling}`);
      assert.deepEqual((parsed.records[2] as unknown as Record<string, unknown>)[field], [0.5, null], `${field}: ${spelling}`);
    }
    const diverged = text(history(10, (e) => (e === 10 ? { elbo: spelling } : {})));
    assert.equal((await readRunContents(runFolder(diverged), () => false)).convergence, 'not-converged', spelling);
    assert.equal((await readRunOverview(runFolder(diverged), () => false)).convergence, 'not-converged', spelling);
    assert.equal((await lastMetricsRecord(join(runFolder(diverged), 'metrics.jsonl')))?.elbo, null, spelling);
    // The pass's place in the run is never a non-finite number: still a bad line.
    assert.deepEqual(parseMetricsJsonl(text(history(3, (e) => (e === 2 ? { epoch: spelling } : {})))).bad, [
      { line: 2, message: `epoch: expected a number, not ${JSON.stringify(spelling)}` },
    ]);
  }
  // Text that only looks like a number is not taken for one; nor is a word in a field of text.
  assert.match(parseMetricsJsonl(text(history(2, (e) => (e === 2 ? { elbo: 'nanny' } : {})))).bad[0]?.message ?? '', /^elbo: expected a number/);
  assert.equal(parseMetricsJsonl(text(history(2, () => ({ theoremNote: 'NaN' })))).records[1]?.theoremNote, 'NaN');
});

// A Gaussian decoder's H_dec is a third of the scale |H_enc| + |H_prior| + |H_dec| every threshold is measured in:
// null on one pass (an overflow), it is no 0 but a pass the rule cannot read. Only a decoder without an entropy
// (outside the theorem, no decoder variance optimum: a Bernoulli's record) has its null H_dec read as 0.
const gaussianDecoders = [
  { name: 'the theorem applies', settings: { ...settings, theoremApplies: true }, over: {} },
  { name: 'VAE-0, outside the theorem with a Gaussian decoder', settings: { ...settings, theoremApplies: false }, over: {} },
  { name: "the record's say that the theorem applies", settings: { ...settings, theoremApplies: false }, over: { theoremApplies: true } },
];
// A falling ELBO on a scale of 64 nats, 4 without H_dec.
const decoderHistory = (over: Record<string, unknown>, nullAt: number) =>
  history(12, (e) => ({ elbo: -3 - 0.05 * e, hDec: -60, ...over, ...(e === nullAt ? { hDec: null } : {}) }));

test("a Gaussian decoder's last pass without a finite H_dec is not converged: its scale is not known", () => {
  for (const { name, settings: s, over } of gaussianDecoders) {
    const verdict = judgeRecords(decoderHistory(over, 12), s);
    assert.equal(verdict.state, 'not-converged', name);
    assert.match(verdict.reason, /^The last pass \(epoch 12\) has no finite hDec \(the Gaussian decoder's entropy, part of the scale/, name);
  }
});

test("a Gaussian decoder's pass without a finite H_dec is left out of the verdict, not read as 0 nats of scale", () => {
  for (const { name, settings: s, over } of gaussianDecoders)
    for (const at of [2, 5, 9, 11]) {
      const records = decoderHistory(over, at);
      const expected = judgeConvergence(
        records.filter((r) => r.epoch !== at).map((r) => ({ ...finiteRecord(r), gapStdErr: 0 })),
        s,
      );
      const verdict = judgeRecords(records, s);
      assert.equal(verdict.state, expected.state, `${name}, at ${at}`);
      assert.equal(
        verdict.reason,
        `${expected.reason} 1 earlier pass without a finite decoder entropy (hDec, part of the scale |H_enc| + |H_prior| + |H_dec| of every threshold) is left out of the verdict.`,
        `${name}, at ${at}`,
      );
      const judge = new RunJudge();
      for (let k = 1; k <= records.length; k++)
        assert.deepEqual(judge.next(records.slice(0, k), s, false), judgeRecords(records.slice(0, k), s), `${name}, at ${at}, pass ${k}`);
    }
});

test('a decoder without an entropy (outside the theorem, no variance optimum) has its null H_dec read as 0, every pass judged', () => {
  const s = { ...settings, theoremApplies: false };
  const nulls = { hDec: null, entropySum: null, gap: null, gapRel: null, rDec: null, sigma2: null, sigma2Opt: null };
  const records = history(12, () => ({ ...nulls, theoremApplies: false }));
  const verdict = judgeRecords(records, s);
  assert.doesNotMatch(verdict.reason, /left out|no finite/);
  assert.equal(verdict.state, 'stationary', verdict.reason);
});

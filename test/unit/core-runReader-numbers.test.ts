// Numbers other writers put in run files that JSON.parse reads as something else: 1e999 (Infinity),
// -0, integers past 2^53 (an epoch 1e20, a step 2^60, where doubles skip whole numbers), and run.json
// fields of another kind or out of their range. Each is refused or left out with the file, line
// and field named; none reaches a chart axis or a sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricsJsonl, REQUIRED_NUMBERS } from '../../src/core/runFormat';
import { readRunContents, runFolderNotes } from '../../src/core/run/read';
import { sampleRecord } from './record-testkit';

/** A record's line with `field` spelt as the raw JSON text `raw`. */
function lineWith(epoch: number, field: string, raw: string): string {
  return JSON.stringify({ ...sampleRecord(epoch), [field]: '@@' }).replace('"@@"', raw);
}

const good = (epoch: number) => JSON.stringify(sampleRecord(epoch));

test("a pass's epoch or step that is not finite, or past 2^53, is a bad line naming the field", () => {
  for (const field of ['epoch', 'step'])
    for (const raw of ['1e999', '-1e999', '1e20', String(2 ** 60), '9007199254740993', '1.5e308']) {
      const parsed = parseMetricsJsonl([good(1), lineWith(2, field, raw), good(3)].join('\n') + '\n');
      assert.deepEqual(
        parsed.records.map((r) => r.epoch),
        [1, 3],
        `${field} ${raw}`,
      );
      assert.equal(parsed.bad.length, 1, `${field} ${raw}`);
      assert.equal(parsed.bad[0]!.line, 2);
      assert.match(parsed.bad[0]!.message, new RegExp(`^${field}: `), `${field} ${raw}`);
    }
});

test('an epoch or step of -0 is read as 0', () => {
  for (const raw of ['-0', '-0.0', '-0e0']) {
    const parsed = parseMetricsJsonl([lineWith(0, 'epoch', raw), good(1)].join('\n') + '\n');
    assert.equal(parsed.records.length, 2, raw);
    assert.ok(Object.is(parsed.records[0]!.epoch, 0), raw);
  }
});

const NUMBER_FIELDS = ['elbo', 'elboStdErr', 'hEnc', 'hPrior', 'hDec', 'entropySum', 'gap', 'gapRel', 'rDec', 'rPrior', 'sigma2', 'sigma2Opt'];
const OPTIONAL_NUMBER_FIELDS = ['samplesPerSec', 'wallSeconds', 'gapStdErr', 'kl', 'logLik', 'trainLoss', 'points', 'mcSamples', 'miPoints', 'learningRate'];

test('a number that overflows a double (1e999) is read as null, a non-finite value, and named with its line', () => {
  for (const field of [...NUMBER_FIELDS, ...OPTIONAL_NUMBER_FIELDS])
    for (const raw of ['1e999', '-1E400']) {
      const parsed = parseMetricsJsonl([good(1), lineWith(2, field, raw)].join('\n') + '\n');
      assert.equal(parsed.records.length, 2, `${field} ${raw}`);
      assert.equal((parsed.records[1] as unknown as Record<string, unknown>)[field], null, `${field} ${raw}`);
      assert.ok(
        parsed.ignored.some((i) => i.line === 2 && i.message.startsWith(`${field}: `)),
        `${field} ${raw}: ${JSON.stringify(parsed.ignored)}`,
      );
    }
  // In a per-latent list too.
  const parsed = parseMetricsJsonl(lineWith(1, 'klPerLatent', '[1, 1e999]') + '\n');
  assert.deepEqual(parsed.records[0]?.klPerLatent, [1, null]);
  assert.ok(
    parsed.ignored.some((i) => i.message.startsWith('klPerLatent[1]: ')),
    JSON.stringify(parsed.ignored),
  );
});

/** run.json's fields that the reader uses, and values of another kind or out of range for each. */
const WRONG: Record<string, string[]> = {
  formatVersion: ['"1"', '0', '-1', '1.5', '1e999', 'true'],
  backend: ['3', 'null', '[]'],
  engineDetail: ['3', '{}'],
  modelType: ['3', 'false'],
  latentDim: ['"2"', '-2', '1.5', '1e999', '1e20'],
  epochs: ['"10"', '-1', '2.5', '1e999', '1e20'],
  dataset: [
    '"mnist"',
    '{"n": "5", "dim": 2, "source": "x"}',
    '{"n": 1e999, "dim": 2, "source": "x"}',
    '{"n": -1, "dim": 2, "source": "x"}',
    '{"n": 5, "dim": 2.5, "source": "x"}',
    '{"n": 5, "dim": 2}',
  ],
  resumedFrom: ['3'],
  pid: ['"123"', '-5', '0', '1.5', '1e999'],
  host: ['3', 'true'],
  trainer: ['3'],
  likelihood: ['3'],
  theoremApplies: ['"true"', '1'],
  theoremNote: ['3'],
  tolerance: ['"0.01"', '-1', '1e999'],
  window: ['"5"', '0', '1e999', '2.5'],
  threads: ['"4"', '0', '1e999', '1.5'],
  decoderVariance: ['3', 'true', '["scalar"]'],
  worldSize: ['"2"', '0', '-1', '1.5', '1e999'],
  diagnosticPoints: ['"512"', '-1', '0.5', '1e999'],
  elasticRunId: ['3', 'true'],
  elasticRestarts: ['"1"', '-1', '0.5', '1e999'],
};

test('every run.json field the reader uses, of another kind or out of range, is left out and named; the run is still read', async () => {
  for (const [field, values] of Object.entries(WRONG))
    for (const raw of values) {
      const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-meta-')), 'run');
      mkdirSync(dir);
      const meta = JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/t.py', startedAt: '2026-03-01T12:00:00Z', [field]: '@@' }).replace('"@@"', raw);
      writeFileSync(join(dir, 'run.json'), meta);
      writeFileSync(join(dir, 'metrics.jsonl'), good(1) + '\n');
      const c = await readRunContents(dir, () => false);
      const at = `${field}: ${raw}`;
      assert.ok(c.meta !== undefined, at);
      assert.equal((c.meta as unknown as Record<string, unknown>)[field], undefined, at);
      const notes = runFolderNotes(c);
      assert.ok(
        notes.some((n) => n.includes(join(dir, 'run.json')) && n.includes(field)),
        `${at}: ${notes.join(' | ')}`,
      );
      assert.equal(c.records.length, 1, at);
    }
});

/** A run folder whose run.json is `meta` (raw JSON text), with one record; its contents and notes. */
async function readMeta(meta: string): Promise<{ meta: Record<string, unknown> | undefined; notes: string[]; file: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-meta-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), meta);
  writeFileSync(join(dir, 'metrics.jsonl'), good(1) + '\n');
  const c = await readRunContents(dir, () => false);
  assert.equal(c.records.length, 1, meta);
  return { meta: c.meta as unknown as Record<string, unknown> | undefined, notes: runFolderNotes(c), file: join(dir, 'run.json') };
}

const META_BASE = { formatVersion: 1, name: 'r', specPath: '/x/t.py', startedAt: '2026-03-01T12:00:00Z' };
const DATASET = { n: 300, dim: 784, source: 'mnist', imageShape: [28, 28], validationN: 30 };
const SESSION = { startedAt: '2026-03-01T12:00:00Z', backend: 'torch', engineDetail: 'cuda', threads: 4, pid: 123, host: 'node1', fromEpoch: 0 };

/** Optional members of run.json's objects, of another kind or out of range (Python's None among them). */
const WRONG_MEMBERS: Record<'dataset' | 'sessions', Record<string, string[]>> = {
  dataset: { imageShape: ['[28, -28]', '[28, "28"]', '"28x28"', 'null'], validationN: ['null', '-1', '"30"', '1.5', '1e999'] },
  sessions: { engineDetail: ['3', 'null'], threads: ['0', '"4"'], pid: ['"123"', '-5', 'null'], host: ['5'], fromEpoch: ['-1', '"0"', '2.5'] },
};

test("a wrong optional member of run.json's dataset or of a session is left out alone, named with its value; the rest is kept", async () => {
  for (const [field, members] of Object.entries(WRONG_MEMBERS))
    for (const [member, values] of Object.entries(members))
      for (const raw of values) {
        const whole = field === 'dataset' ? DATASET : [SESSION, { ...SESSION, pid: 456 }];
        const text = JSON.stringify({ ...META_BASE, [field]: whole }).replace(new RegExp(`"${member}":(\\[[^\\]]*\\]|"[^"]*"|[^,}]+)`), `"${member}":${raw}`);
        const at = `${field}.${member} ${raw}`;
        const { meta, notes, file } = await readMeta(text);
        const kept =
          field === 'dataset' ? (meta?.dataset as Record<string, unknown> | undefined) : (meta?.sessions as Record<string, unknown>[] | undefined)?.[0];
        assert.ok(kept !== undefined, `${at}: the ${field} is kept: ${notes.join(' | ')}`);
        assert.equal(kept[member], undefined, `${at}: the member is left out`);
        const others = Object.keys(field === 'dataset' ? DATASET : SESSION).filter((k) => k !== member);
        for (const k of others) assert.notEqual(kept[k], undefined, `${at}: ${k} is kept`);
        if (field === 'sessions') assert.equal((meta?.sessions as unknown[]).length, 2, `${at}: every session is kept`);
        const path = field === 'dataset' ? `dataset.${member}` : `sessions[0].${member}`;
        const note = notes.find((n) => n.startsWith(`${file}: ${path}`));
        assert.ok(note, `${at}: ${notes.join(' | ')}`);
        // The value is named where the member itself is wrong; a wrong size of imageShape names its own place.
        if (!note.startsWith(`${file}: ${path}[`)) {
          const value = raw === '1e999' ? 'Infinity' : raw.replace(/ /g, '');
          assert.ok(note.includes(`not ${value}`), `${at}: ${note}`);
        }
      }
});

test("a wrong or missing member run.json's dataset needs leaves the dataset out, and each such member is named with its value", async () => {
  const cases: [string, Record<string, string>][] = [
    ['{"n": "300", "dim": 2.5, "source": 5}', { 'dataset.n': '"300"', 'dataset.dim': '2.5', 'dataset.source': '5' }],
    ['{"n": 300, "dim": 784}', { 'dataset.source': 'missing' }],
    ['{"n": null, "dim": 784, "source": "mnist", "validationN": null}', { 'dataset.n': 'null', 'dataset.validationN': 'null' }],
  ];
  for (const [dataset, named] of cases) {
    const { meta, notes, file } = await readMeta(JSON.stringify({ ...META_BASE, dataset: '@@' }).replace('"@@"', dataset));
    assert.equal(meta?.dataset, undefined, dataset);
    for (const [path, value] of Object.entries(named)) {
      const note = notes.find((n) => n.startsWith(`${file}: ${path}`));
      assert.ok(note, `${dataset}: ${path}: ${notes.join(' | ')}`);
      assert.ok(value === 'missing' ? note.includes(`${path} is missing`) : note.includes(`not ${value}`), `${dataset}: ${note}`);
    }
  }
});

test("summary.json counts that overflow (1e999) are not the run's: they are named and taken from the records", async () => {
  for (const field of ['epochsDone', 'steps', 'wallSeconds']) {
    const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-sum-')), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/t.py', startedAt: '2026-03-01T12:00:00Z' }));
    writeFileSync(join(dir, 'metrics.jsonl'), good(1) + '\n' + good(2) + '\n');
    const summary = JSON.stringify({ status: 'completed', epochsDone: 2, steps: 20, wallSeconds: 2, [field]: '@@' }).replace('"@@"', '1e999');
    writeFileSync(join(dir, 'summary.json'), summary);
    const c = await readRunContents(dir, () => false);
    assert.ok(Number.isFinite((c.summary as unknown as Record<string, number>)[field]), field);
    assert.ok(
      runFolderNotes(c).some((n) => n.includes('summary.json') && n.includes(field)),
      field,
    );
  }
});

/** Fields the format defines as never negative (a magnitude, a standard error, a variance, a time, a count). */
const NEVER_NEGATIVE = ['gapRel', 'elboStdErr', 'sigma2', 'sigma2Opt', 'samplesPerSec', 'wallSeconds', 'gapStdErr', 'learningRate', 'miPoints', 'points'];

test('a negative value where the format allows none is read as null and named with its line; signed fields keep their sign', () => {
  for (const field of NEVER_NEGATIVE)
    for (const raw of ['-0.004', '-1e-12', '-3']) {
      const parsed = parseMetricsJsonl([good(1), lineWith(2, field, raw)].join('\n') + '\n');
      const at = `${field} ${raw}`;
      assert.equal(parsed.records.length, 2, at);
      assert.equal((parsed.records[1] as unknown as Record<string, unknown>)[field], null, at);
      assert.ok(
        parsed.ignored.some((i) => i.line === 2 && i.message.startsWith(`${field}: ${Number(raw)} `) && i.message.includes('never negative')),
        `${at}: ${JSON.stringify(parsed.ignored)}`,
      );
    }
  // Zero is a value these fields can have; a per-latent variance list loses only its negative entries.
  const zero = parseMetricsJsonl(lineWith(1, 'gapRel', '0') + '\n');
  assert.equal(zero.records[0]?.gapRel, 0);
  assert.deepEqual(zero.ignored, []);
  const list = parseMetricsJsonl(lineWith(1, 'latentMeanVariance', '[0.5, -0.2]') + '\n');
  assert.deepEqual(list.records[0]?.latentMeanVariance, [0.5, null]);
  assert.ok(
    list.ignored.some((i) => i.message.startsWith('latentMeanVariance[1]: -0.2 ')),
    JSON.stringify(list.ignored),
  );
  // Fields that take either sign are left as written.
  for (const field of ['elbo', 'gap', 'hEnc', 'hPrior', 'hDec', 'entropySum', 'rDec', 'rPrior', 'elboSlope']) {
    const parsed = parseMetricsJsonl(lineWith(1, field, '-0.5') + '\n');
    assert.equal((parsed.records[0] as unknown as Record<string, unknown>)[field], -0.5, field);
    assert.deepEqual(parsed.ignored, [], field);
  }
});

/** Every field a record needs (docs/run-format.md), and the writers' mistakes about each. */
const PER_LATENT = ['latentSecondMoment', 'klPerLatent'];

test('a record missing a field it needs, or holding one of another kind, is a bad line that says which and what it holds', () => {
  for (const field of [...REQUIRED_NUMBERS, ...PER_LATENT]) {
    const missing = JSON.stringify({ ...sampleRecord(2), [field]: undefined });
    const wrong = PER_LATENT.includes(field) ? ['"0.5"', '{"z0": 0.5}', '0.5'] : ['"5"', 'true', '{"value": 5}', '[5]'];
    for (const [line, said] of [
      [missing, `${field} is missing`] as const,
      ...wrong.map((raw) => [lineWith(2, field, raw), `${field}: expected`, raw] as const),
    ]) {
      const parsed = parseMetricsJsonl([good(1), line, good(3)].join('\n') + '\n');
      const at = `${field}: ${line.slice(0, 80)}`;
      assert.deepEqual(
        parsed.records.map((r) => r.epoch),
        [1, 3],
        at,
      );
      const message = parsed.bad[0]?.message ?? '';
      assert.ok(message.startsWith(said), `${at}: ${message}`);
    }
    for (const raw of wrong) {
      const message = parseMetricsJsonl(lineWith(2, field, raw) + '\n').bad[0]?.message ?? '';
      assert.ok(message.endsWith(`, not ${raw.replace(/ /g, '')}`), `${field} ${raw}: ${message}`);
    }
  }
  // A field with no value at a pass is written null, which the message says; epoch and step are never null.
  assert.match(parseMetricsJsonl(JSON.stringify({ ...sampleRecord(2), samplesPerSec: undefined }) + '\n').bad[0]!.message, /write null/);
  for (const field of ['epoch', 'step', ...PER_LATENT])
    assert.doesNotMatch(parseMetricsJsonl(JSON.stringify({ ...sampleRecord(2), [field]: undefined }) + '\n').bad[0]!.message, /null/, field);
});

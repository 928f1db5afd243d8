// docs/run-format.md as a contract: run folders that another program (JAX, Keras, R) writes from the
// document alone, generated over what the document allows, are read whole, judged and charted; what it
// forbids is refused with the file, the line and the field named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRecord, CONVERGENCE_STATES, type MetricsRecord } from '../../src/core/runFormat';
import { readRunContents, readRunOverview, runFolderNotes } from '../../src/core/run/read';
import { toPanelRun } from '../../src/core/panelRun';
import { panelRunToSend } from '../../src/core/panelPayload';
import type { PanelRun } from '../../src/core/panelProtocol';
import { unpackReportRun } from '../../src/core/reportPayload';
import { runAxis, seriesFromRecords } from '../../src/webview/series';
import { followInPieces } from './follow-testkit';
import { sampleRecord } from './record-testkit';

type Rng = () => number;

/** A small seeded generator, so a failing case can be made again from its number. */
function rngOf(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

/** A number as a JSON text may spell it: exponents (either case, with or without a sign, Python's padded `1e-05`), -0, a whole float with or without `.0`. */
function spellNumber(x: number, rng: Rng): string {
  if (Object.is(x, -0)) return pick(rng, ['-0', '-0.0', '-0e0', '-0.0E+00']);
  const forms = [JSON.stringify(x), x.toExponential(), x.toExponential().toUpperCase(), x.toExponential().replace('e+', 'e')];
  if (Number.isInteger(x) && Math.abs(x) < 1e15) forms.push(`${x}.0`, `${x}.000`);
  const padded = /e-(\d)$/.exec(JSON.stringify(x));
  if (padded) forms.push(JSON.stringify(x).replace(/e-(\d)$/, 'e-0$1'));
  return pick(rng, forms);
}

/** JSON text with the numbers spelled by spellNumber, optionally pretty-printed with the given line ending. */
function spell(v: unknown, rng: Rng, indent?: { eol: string; depth: number }): string {
  const nl = (d: number) => (indent ? indent.eol + '  '.repeat(d) : '');
  const depth = indent?.depth ?? 0;
  const inner = indent ? { ...indent, depth: depth + 1 } : undefined;
  if (typeof v === 'number') return spellNumber(v, rng);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map((x) => nl(depth + 1) + spell(x, rng, inner)).join(',')}${nl(depth)}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{${entries.map(([k, x]) => `${nl(depth + 1)}${JSON.stringify(k)}:${indent ? ' ' : ''}${spell(x, rng, inner)}`).join(',')}${nl(depth)}}`;
  }
  return JSON.stringify(v);
}

const EXTREME = [1e300, -1e300, 1e-300, 5e-324, -0, 1.7976931348623157e308, 2.2250738585072014e-308];

/** A pass as the document describes it, for H latents, with a random choice of the optional fields and extra fields of the writer's own. */
function genRecord(rng: Rng, epoch: number, step: number, H: number): Record<string, unknown> {
  const v = (x: number) => (chance(rng, 0.05) ? pick(rng, EXTREME) : x);
  // Fields the document says are never negative (a standard error, a variance, a time) take extremes of their sign.
  const magnitude = (x: number) => Math.abs(v(x));
  const hEnc = -1 - rng() * H;
  const hPrior = 1.4189385332046727 * H;
  const hDec = -rng() * 10;
  const entropySum = hEnc - hPrior - hDec;
  const rDec = (rng() - 0.5) * 0.01;
  const rPrior = (rng() - 0.5) * 0.01;
  const gap = rDec + rPrior;
  const kl = Array.from({ length: H }, () => (chance(rng, 0.2) ? 0 : rng() * 2));
  const r: Record<string, unknown> = {
    epoch,
    step,
    elbo: entropySum + gap,
    elboStdErr: magnitude(rng() * 0.01),
    hEnc,
    hPrior,
    hDec,
    entropySum,
    gap,
    gapRel: Math.abs(gap) / (Math.abs(hEnc) + Math.abs(hPrior) + Math.abs(hDec)),
    rDec,
    rPrior,
    sigma2: magnitude(0.1 + rng()),
    sigma2Opt: magnitude(0.1 + rng()),
    latentSecondMoment: Array.from({ length: H }, () => v(rng() * 2)),
    klPerLatent: kl,
    samplesPerSec: magnitude(rng() * 1e4),
    wallSeconds: magnitude(epoch * 3 + rng()),
  };
  const optional: Record<string, () => unknown> = {
    gapStdErr: () => rng() * 0.01,
    elboStdErrData: () => rng() * 0.1,
    elboAtOptVariance: () => (chance(rng, 0.3) ? null : r.elbo),
    logLik: () => -1,
    kl: () => kl.reduce((a, b) => a + b, 0),
    collapsedLatents: () => kl.flatMap((k, h) => (k < 0.01 ? [h] : [])),
    trainLoss: () => rng() * 10,
    validationElbo: () => -rng() * 10,
    priorVariance: () => Array.from({ length: H }, () => 1),
    convergence: () => pick(rng, CONVERGENCE_STATES),
    convergenceReason: () => 'the writer said so',
    latentMeanVariance: () => Array.from({ length: H }, () => rng()),
    activeUnits: () => Math.floor(rng() * H),
    hEncPerLatent: () => Array.from({ length: H }, () => 1.4 - rng()),
    mutualInformation: () => rng() * 3,
    miPoints: () => 512,
    meanFieldGap: () => rng() * 0.1,
    meanFieldPoints: () => 128,
    decoderLinear: () => chance(rng, 0.5),
    averagedElbo: () => -rng() * 10,
    averagingSteps: () => 100,
    learningRate: () => 1e-3,
    elboSlope: () => rng() * 1e-3,
    elboSlopeStdErr: () => rng() * 1e-3,
    likelihood: () => 'gaussian',
    beta: () => 1,
    theoremApplies: () => true,
    theoremNote: () => 'a note',
    diagnosticsSeconds: () => rng(),
    points: () => 512,
    mcSamples: () => 8,
  };
  const all = chance(rng, 0.2);
  const none = !all && chance(rng, 0.25);
  for (const [k, make] of Object.entries(optional)) if (all || (!none && chance(rng, 0.4))) r[k] = make();
  if (chance(rng, 0.5)) r.jaxVersion = '0.4.30';
  if (chance(rng, 0.3)) r.writerExtras = { host: 'node-7', tags: ['a', 1, null] };
  return r;
}

/** The records a reader keeps, by the document's rule: a record not after the one before drops those not before it. */
function keptByTheDocument(records: Record<string, unknown>[]): Record<string, unknown>[] {
  const kept: Record<string, unknown>[] = [];
  for (const r of records) {
    const e = r.epoch as number;
    const s = r.step as number;
    while (kept.length > 0) {
      const p = kept[kept.length - 1]!;
      if ((p.epoch as number) > e || (p.epoch === e && !((p.step as number) < s))) kept.pop();
      else break;
    }
    kept.push(r);
  }
  return kept;
}

interface Generated {
  dir: string;
  H: number;
  kept: Record<string, unknown>[];
  images?: { shape: number[]; count: number };
  describe: string;
}

/** One run folder another program could write from the document. */
function genRun(seed: number): Generated {
  const rng = rngOf(seed);
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-contract-')), `run-${seed}`);
  mkdirSync(dir);
  const H = chance(rng, 0.3) ? pick(rng, [1, 2, 100]) : 1 + Math.floor(rng() * 100);
  const passes = pick(rng, [0, 1, 1, 2, 3, 5, 8, 12]);
  const records: Record<string, unknown>[] = [];
  let epoch = chance(rng, 0.5) ? 0 : 1;
  let step = 0;
  for (let i = 0; i < passes; i++) {
    records.push(genRecord(rng, epoch, step, H));
    // Several passes an epoch, or one; now and then a resume that goes back, or a pass written twice.
    if (chance(rng, 0.1) && records.length > 1) records.push({ ...records[records.length - 1]! });
    if (chance(rng, 0.7)) epoch += 1;
    step += 1 + Math.floor(rng() * 50);
    if (chance(rng, 0.08) && epoch > 1) {
      epoch -= 1 + Math.floor(rng() * Math.min(epoch - 1, 3));
      step = Math.max(0, step - 60);
    }
  }
  const eol = chance(rng, 0.3) ? '\r\n' : '\n';
  const bom = chance(rng, 0.2) ? '\ufeff' : '';
  let metrics = bom + records.map((r) => spell(r, rng) + eol).join('');
  if (chance(rng, 0.2)) metrics += eol; // a blank line at the end
  const partial = records.length > 0 && chance(rng, 0.2);
  if (partial) metrics += spell(genRecord(rng, epoch + 1, step + 1, H), rng).slice(0, 40); // a writer killed mid-line
  const writeMetrics = records.length > 0 || chance(rng, 0.5);
  if (writeMetrics) writeFileSync(join(dir, 'metrics.jsonl'), metrics);

  const meta: Record<string, unknown> = {
    formatVersion: 1,
    name: pick(rng, ['jax-vae', 'keras run', 'r_vae']),
    specPath: join(dir, '..', pick(rng, ['train.py', 'fit.R', 'model.ipynb'])),
    startedAt: pick(rng, ['2026-03-01T12:00:00Z', '2026-03-01T12:00:00.123456+02:00', '2026-03-01T12:00:00.000Z']),
    backend: pick(rng, ['jax cpu', 'tensorflow', 'torch (R)']),
    modelType: pick(rng, ['VAE-1', 'VAE-2', 'VAE-3', 'custom']),
    latentDim: H,
    epochs: 20,
    dataset: { n: 1000, dim: 784, source: 'mnist' },
  };
  let images: Generated['images'];
  if (chance(rng, 0.4)) {
    const shape = pick(rng, [
      [28, 28],
      [8, 8, 1],
      [8, 8, 3],
      [6, 5, 4],
      [32, 32, 3],
    ]);
    const count = pick(rng, [0, 1, 8, 64]);
    const values = shape.reduce((a, b) => a * b, 1);
    const set = () => Array.from({ length: count }, () => Array.from({ length: values }, () => (chance(rng, 0.01) ? null : rng())));
    const file: Record<string, unknown> = { shape, originals: set(), reconstructions: set(), samples: set() };
    if (shape.length === 3 && chance(rng, 0.5)) file.layout = 'hwc';
    if (chance(rng, 0.3)) file.writer = 'mine';
    writeFileSync(join(dir, 'images.json'), bom + spell(file, rng));
    (meta.dataset as Record<string, unknown>).imageShape = shape;
    images = { shape, count };
  }
  const optionalMeta: Record<string, unknown> = {
    engineDetail: 'xla',
    resumedFrom: 'checkpoint 3',
    pid: 999999999,
    host: 'elsewhere.example',
    threads: 4,
    trainer: 'my JAX loop',
    likelihood: 'gaussian',
    theoremApplies: true,
    theoremNote: 'n/a',
    tolerance: 0.02,
    window: 4,
    decoderVariance: 'scalar',
    worldSize: 1,
    diagnosticPoints: 512,
    customField: { anything: [1, 2] },
  };
  for (const [k, x] of Object.entries(optionalMeta)) if (chance(rng, 0.4)) meta[k] = x;
  const pretty = chance(rng, 0.5) ? { eol, depth: 0 } : undefined;
  writeFileSync(join(dir, 'run.json'), bom + spell(meta, rng, pretty) + (chance(rng, 0.5) ? eol : ''));
  if (chance(rng, 0.3)) {
    // run.json written after the records (a writer that learns H at the first pass), a second later.
    const later = new Date(Date.now() + 1000);
    utimesSync(join(dir, 'run.json'), later, later);
  }
  const kept = keptByTheDocument(records);
  if (chance(rng, 0.7)) {
    const last = kept[kept.length - 1];
    const summary: Record<string, unknown> = {
      status: pick(rng, ['completed', 'stopped', 'failed', 'diverged']),
      epochsDone: last?.epoch ?? 0,
      steps: last?.step ?? 0,
      wallSeconds: 12.5,
    };
    if (last !== undefined && chance(rng, 0.5)) summary.last = last;
    if (chance(rng, 0.3)) summary.endedAt = '2026-03-01T13:00:00Z';
    if (chance(rng, 0.2)) summary.message = 'stopped by the user';
    writeFileSync(join(dir, 'summary.json'), bom + spell(summary, rng, pretty));
  }
  const describe = `seed ${seed}: H ${H}, ${records.length} lines, eol ${JSON.stringify(eol)}, bom ${bom !== ''}, partial ${partial}, images ${JSON.stringify(images?.shape)}`;
  return { dir, H, kept, images, describe };
}

/** Numbers as the reader should hold them: what was written (a -0 is 0). */
function sameValue(got: unknown, want: unknown, where: string): void {
  if (typeof want === 'number') {
    assert.equal(typeof got, 'number', where);
    assert.ok(got === want, `${where}: ${String(got)} read for ${want}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), where);
    assert.equal(got.length, want.length, where);
    want.forEach((x, i) => sameValue(got[i], x, `${where}[${i}]`));
  } else if (want !== null && typeof want === 'object') {
    for (const [k, x] of Object.entries(want)) sameValue((got as Record<string, unknown>)[k], x, `${where}.${k}`);
  } else assert.equal(got, want, where);
}

test('run folders written from docs/run-format.md alone are read whole, judged and charted, with nothing to note', async () => {
  for (let seed = 1; seed <= 150; seed++) {
    const g = genRun(seed);
    const c = await readRunContents(g.dir, () => false);
    const at = g.describe;
    // A verdict the generated writer stored that the rule does not give on its passes is named, and nothing else.
    const stored = g.kept.at(-1)?.convergence;
    assert.equal(c.verdictNotes.length, stored !== undefined && stored !== c.convergence ? 1 : 0, `${at}: ${c.verdictNotes.join('; ')}`);
    assert.deepEqual(
      runFolderNotes(c).filter((n) => !c.verdictNotes.some((v) => n.endsWith(v))),
      [],
      `${at}: notes`,
    );
    assert.equal(c.records.length, g.kept.length, `${at}: records kept`);
    g.kept.forEach((want, i) => sameValue(c.records[i], want, `${at}: record ${i}`));
    const overview = await readRunOverview(g.dir, () => false);
    if (g.kept.length === 0) {
      assert.equal(c.last, undefined, `${at}: no pass, no last`);
    } else {
      assert.ok(c.convergence !== undefined && CONVERGENCE_STATES.includes(c.convergence), `${at}: a verdict`);
      assert.equal(overview.last?.epoch, c.last?.epoch, `${at}: the overview's last pass`);
      assert.equal(overview.last?.step, c.last?.step, `${at}: the overview's last pass`);
      // The overview reads the last record alone: it has the stored verdict, which the passes may not give.
      if (c.verdictNotes.length === 0) assert.equal(overview.convergence, c.convergence, `${at}: the overview's verdict`);
    }
    const panel = panelRunToSend(toPanelRun(c, false));
    assert.equal(panel.records.length, g.kept.length, `${at}: the panel's passes`);
    if (g.kept.length > 0) {
      assert.equal(panel.records.at(-1)!.latentSecondMoment.length, g.H, `${at}: the last pass's latents`);
      assert.ok(panel.records.at(-1)!.convergence !== undefined, `${at}: the panel's verdict`);
      // The document's axis: epochs where they rise from every pass to the next, else steps, else pass numbers.
      const rises = (k: 'epoch' | 'step') => g.kept.every((r, i) => i === 0 || (r[k] as number) > (g.kept[i - 1]![k] as number));
      const axis = rises('epoch') ? 'epoch' : rises('step') ? 'step' : 'pass';
      assert.equal(runAxis(panel.records), axis, `${at}: the chart's axis`);
      const series = seriesFromRecords(panel.records, panel.tolerance, axis);
      assert.equal(series.elbo.length, g.kept.length, `${at}: every pass charted`);
    }
    if (g.images) {
      assert.equal(c.imagesProblem, undefined, `${at}: images`);
      assert.equal(panel.images?.originals.length, g.images.count, `${at}: images`);
    } else assert.equal(panel.images, undefined, `${at}: no images`);
  }
});

/** A plain pass of H latents as one metrics.jsonl line. */
const goodLine = (epoch: number, H = 2) =>
  JSON.stringify(sampleRecord(epoch, { elbo: -3 + epoch * 0.1, latentSecondMoment: Array(H).fill(1), klPerLatent: Array(H).fill(1) }));

test('a run whose run.json names no writer process (pid is optional) is shown as its summary says, not as interrupted', async () => {
  for (const host of [undefined, hostname(), 'gpu-node-3']) {
    for (const status of ['running', 'completed', 'stopped', 'failed', 'diverged'] as const) {
      const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-nopid-')), 'run');
      mkdirSync(dir);
      const meta = { formatVersion: 1, name: 'jax', specPath: '/x/train.py', startedAt: '2026-03-01T12:00:00Z', ...(host ? { host } : {}) };
      writeFileSync(join(dir, 'run.json'), JSON.stringify(meta));
      writeFileSync(join(dir, 'metrics.jsonl'), goodLine(1) + '\n');
      writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status, epochsDone: 1, steps: 10, wallSeconds: 1 }));
      for (const read of [readRunOverview, readRunContents]) {
        const c = await read(dir, () => false);
        assert.equal(c.status, status, `host ${host}, summary ${status}`);
        if (status === 'running') assert.doesNotMatch(c.message ?? '', /interrupted|no longer running/, `host ${host}`);
      }
    }
  }
});

test('a run.json whose startedAt is not a time is named, and the run is dated by when run.json was written, not sorted as the oldest', async () => {
  const written = Date.parse('2026-02-01T10:00:00Z');
  for (const startedAt of ['1772366400', '20260301-120000', 'yesterday', '', '2026-13-45T99:00:00Z', 'NaN']) {
    const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-started-')), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/fit.R', startedAt, pid: 999999999 }));
    utimesSync(join(dir, 'run.json'), new Date(written), new Date(written));
    writeFileSync(join(dir, 'metrics.jsonl'), goodLine(1) + '\n');
    const c = await readRunContents(dir, () => false);
    const notes = runFolderNotes(c);
    assert.ok(
      notes.some((n) => n.includes(join(dir, 'run.json')) && n.includes('startedAt') && n.includes(JSON.stringify(startedAt))),
      `${JSON.stringify(startedAt)}: ${notes.join(' | ')}`,
    );
    assert.equal(c.startedMs, written, JSON.stringify(startedAt));
    assert.equal((await readRunOverview(dir, () => false)).startedMs, written, JSON.stringify(startedAt));
  }
});

const REQUIRED_FIELDS = Object.keys(sampleRecord(1));
const OPTIONAL_WRONG: Record<string, unknown> = {
  gapStdErr: 'small',
  convergence: 'plateau',
  decoderLinear: 'yes',
  activeUnits: [3],
  collapsedLatents: 'none',
  theoremApplies: 'false',
  likelihood: 3,
  priorVariance: { a: 1 },
};

/** A metrics.jsonl of `n` good lines with `bad` in place of line `at` (1-based). */
function runWithLine(n: number, at: number, bad: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-forbidden-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'r', specPath: '/x/a.py', startedAt: '2026-03-01T12:00:00Z' }));
  const lines = Array.from({ length: n }, (_, i) => (i + 1 === at ? bad : goodLine(i + 1)));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  return dir;
}

test('what the document forbids in a record is refused with the file, the line and the field named (generated)', async () => {
  const rng = rngOf(7);
  for (const field of REQUIRED_FIELDS) {
    const wrong: unknown[] = [undefined, 'one', true, {}, field === 'latentSecondMoment' || field === 'klPerLatent' ? 3 : [1]];
    if (field === 'epoch' || field === 'step') wrong.push(null, 'NaN');
    for (const value of wrong) {
      const n = 2 + Math.floor(rng() * 5);
      const at = 1 + Math.floor(rng() * (n - 1)); // not the last line, which may be a cut one
      const record: Record<string, unknown> = { ...sampleRecord(at), [field]: value };
      const c = await readRunContents(runWithLine(n, at, JSON.stringify(record)), () => false);
      const what = `${field} = ${JSON.stringify(value)} on line ${at}`;
      assert.equal(c.records.length, n - 1, what);
      assert.ok(
        runFolderNotes(c).some((note) => note.startsWith(`${join(c.runDir, 'metrics.jsonl')}:${at}: ${field}`)),
        `${what}: ${runFolderNotes(c).join(' | ')}`,
      );
    }
  }
  for (const [field, value] of Object.entries(OPTIONAL_WRONG)) {
    const c = await readRunContents(runWithLine(4, 2, JSON.stringify({ ...sampleRecord(2), [field]: value })), () => false);
    assert.equal(c.records.length, 4, field);
    assert.equal((c.records[1] as unknown as Record<string, unknown>)[field], undefined, field);
    assert.ok(
      runFolderNotes(c).some((note) => note.startsWith(`${join(c.runDir, 'metrics.jsonl')}:2: ${field}`)),
      `${field}: ${runFolderNotes(c).join(' | ')}`,
    );
  }
});

test('per-latent lists of another length than latentSecondMoment are named: klPerLatent refuses the line, an optional one is left out (generated)', async () => {
  const rng = rngOf(11);
  for (let i = 0; i < 40; i++) {
    const H = 1 + Math.floor(rng() * 100);
    const other = pick(
      rng,
      [0, H - 1, H + 1, 2 * H].filter((n) => n !== H && n >= 0),
    );
    const list = (n: number) => Array.from({ length: n }, () => rng());
    const base = sampleRecord(2, { latentSecondMoment: list(H), klPerLatent: list(H) });
    const field = pick(rng, ['klPerLatent', 'priorVariance', 'latentMeanVariance', 'hEncPerLatent']);
    const c = await readRunContents(runWithLine(3, 2, JSON.stringify({ ...base, [field]: list(other) })), () => false);
    const what = `${field} of ${other} for ${H} latents`;
    const note = runFolderNotes(c).find((n) => n.startsWith(`${join(c.runDir, 'metrics.jsonl')}:2: ${field}: ${other} value`));
    assert.ok(note, `${what}: ${runFolderNotes(c).join(' | ')}`);
    assert.match(note, new RegExp(`latentSecondMoment has ${H}`), what);
    if (field === 'klPerLatent') assert.equal(c.records.length, 2, what);
    else {
      assert.equal(c.records.length, 3, what);
      assert.equal((c.records[1] as unknown as Record<string, unknown>)[field], undefined, what);
    }
  }
});

test('`vae-lens report` charts generated run folders, alone and compared, with nothing on stderr', () => {
  const bin = join(__dirname, '..', '..', '..', 'bin', 'vae-lens.js');
  const runs = [3, 8, 21, 34, 55].map(genRun);
  for (const set of [...runs.map((g) => [g]), runs]) {
    const out = join(mkdtempSync(join(tmpdir(), 'vae-lens-contract-report-')), 'report.html');
    const r = spawnSync(process.execPath, [bin, 'report', ...set.map((g) => g.dir), '--out', out], { encoding: 'utf8', timeout: 120_000 });
    const at = set.map((g) => g.describe).join('; ');
    assert.equal(r.status, 0, `${at}: ${r.stderr}`);
    // Only the generated writers' verdicts that their passes do not give are said.
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => l !== '' && !/\(its last record's "convergence"\) says "[^"]+", but judged again/.test(l)),
      [],
      at,
    );
    const island = /<script type="application\/json" id="vae-lens-data">(.*?)<\/script>/s.exec(readFileSync(out, 'utf8'));
    assert.ok(island, at);
    // The page writes the passes before the latest as columns; read back as the page reads them.
    const shown = (JSON.parse(island[1]!) as { runs: unknown[] }).runs.map(unpackReportRun) as PanelRun[];
    assert.equal(shown.length, set.length, at);
    set.forEach((g, i) => {
      assert.equal(shown[i]!.records.length, g.kept.length, g.describe);
      if (g.kept.length > 0) assert.equal(shown[i]!.records.at(-1)!.klPerLatent.length, g.H, g.describe);
      assert.equal(shown[i]!.images?.originals.length, g.images?.count, g.describe);
    });
  }
});

test('a generated metrics.jsonl followed live, appended in pieces of any size, gives the passes of the whole read', async () => {
  for (let seed = 200; seed < 240; seed++) {
    const g = genRun(seed);
    const file = join(g.dir, 'metrics.jsonl');
    let whole: Buffer;
    try {
      whole = readFileSync(file);
    } catch {
      continue; // no metrics.jsonl yet
    }
    const records: MetricsRecord[] = [];
    for (const r of await followInPieces(whole, rngOf(seed), 600)) addRecord(records, r);
    const read = (await readRunContents(g.dir, () => false)).records;
    assert.deepEqual(
      records.map((r) => [r.epoch, r.step]),
      read.map((r) => [r.epoch, r.step]),
      g.describe,
    );
  }
});

test('a record pretty-printed over several lines (json.dumps with indent) is named once, with its lines and what the format asks (generated)', async () => {
  const rng = rngOf(5);
  for (let i = 0; i < 30; i++) {
    const eol = pick(rng, ['\n', '\r\n']);
    const H = 1 + Math.floor(rng() * 6);
    const n = 2 + Math.floor(rng() * 5);
    const pretty = Array.from({ length: n }, () => chance(rng, 0.6));
    let text = '';
    let line = 1;
    const spread: [number, number][] = [];
    pretty.forEach((p, k) => {
      const r = sampleRecord(k + 1, { latentSecondMoment: Array(H).fill(1), klPerLatent: Array(H).fill(0.5) });
      const body = p ? JSON.stringify(r, null, 1 + Math.floor(rng() * 4)) : JSON.stringify(r);
      const lines = body.split('\n');
      if (p) spread.push([line, line + lines.length - 1]);
      text += lines.join(eol) + eol;
      line += lines.length;
    });
    const dir = runWithLine(0, 0, '');
    writeFileSync(join(dir, 'metrics.jsonl'), text);
    const c = await readRunContents(dir, () => false);
    const what = `case ${i}: ${pretty.join(',')}`;
    assert.equal(c.records.length, pretty.filter((p) => !p).length, what);
    assert.deepEqual(
      c.badLines.map((b) => b.line),
      spread.map(([from]) => from),
      `${what}: ${c.badLines.map((b) => `${b.line}: ${b.message}`).join(' | ')}`,
    );
    c.badLines.forEach((b, k) => assert.match(b.message, new RegExp(`lines ${spread[k]![0]}-${spread[k]![1]}.*one line`), what));
  }
});

test('records written as one JSON array (json.dump(records, f), with or without indent) are named as an array, once', async () => {
  for (const indent of [undefined, 2]) {
    for (const newline of ['', '\n']) {
      const records = [1, 2, 3].map((e) => sampleRecord(e));
      const text = JSON.stringify(records, null, indent) + newline;
      const dir = runWithLine(0, 0, '');
      writeFileSync(join(dir, 'metrics.jsonl'), text);
      const c = await readRunContents(dir, () => false);
      const what = `indent ${indent}, newline ${JSON.stringify(newline)}`;
      assert.equal(c.records.length, 0, what);
      assert.equal(c.badLines.length, 1, `${what}: ${c.badLines.map((b) => `${b.line}: ${b.message}`).join(' | ')}`);
      assert.equal(c.badLines[0]!.line, 1, what);
      assert.match(c.badLines[0]!.message, /JSON array.*one line/, what);
    }
  }
});

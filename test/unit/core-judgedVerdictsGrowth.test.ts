/**
 * The judged-verdict cache on a metrics.jsonl that grows while it is followed: a growth reads the
 * appended bytes (and a small check of what was read before), never the whole file again; and
 * whatever happens to the file between two looks (passes appended with LF or CR LF, a last line
 * written in two goes, a truncation, an earlier line rewritten, the file replaced, a resumed run's
 * pass replacing others), the verdict is the one rule's on the passes a whole read gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricsJsonl, toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { JudgedVerdicts } from '../../src/core/run/judgedVerdicts';
import { readRunContents } from '../../src/core/run/read';
import { judgeRecords } from '../../src/core/run/settings';
import { longestPassInterval } from '../../src/core/run/liveness';
import { PassIntervals } from '../../src/core/run/passIntervals';
import { sampleRecord } from './record-testkit';

const settings = { tolerance: 0.05, window: 3, theoremApplies: true };

const rec = (epoch: number, elbo: number): MetricsRecord =>
  sampleRecord(epoch, { elbo, gap: 0.2 / epoch, gapRel: 0.03 / epoch, rDec: 0.1 / epoch, rPrior: 0.1 / epoch, klPerLatent: [1, 0] });

const verdictOf = (v: { state: string; reason: string } | undefined) => (v === undefined ? undefined : { state: v.state, reason: v.reason });

/** The verdict a whole read of the file gives (what the cache must agree with). */
function wholeVerdict(file: string) {
  const { records } = parseMetricsJsonl(readFileSync(file, 'utf8'));
  return records.length === 0 ? undefined : judgeRecords(records, settings);
}

function newRun(lines: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-growth-'));
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, lines);
  return { dir, file };
}

test('a growth of a long metrics.jsonl reads the appended pass and a small check, not the whole file', async () => {
  const { dir, file } = newRun(Array.from({ length: 400 }, (_, i) => toJsonLine(rec(i + 1, -3 + i * 0.001))).join(''));
  const cache = new JudgedVerdicts();
  await cache.judge(dir, settings);
  const size = statSync(file).size;
  assert.equal(cache.bytesRead, size, 'the first look reads the file whole');
  for (let epoch = 401; epoch <= 405; epoch++) {
    const line = toJsonLine(rec(epoch, -2.5));
    appendFileSync(file, line);
    const before = { bytes: cache.bytesRead, passes: cache.passesJudged };
    assert.deepEqual(verdictOf(await cache.judge(dir, settings)), wholeVerdict(file));
    const read = cache.bytesRead - before.bytes;
    assert.ok(read >= line.length && read < line.length + 8192, `a growth of ${line.length} bytes read ${read} of a ${size}-byte file`);
    assert.equal(cache.passesJudged - before.passes, 1, 'only the new pass is judged');
  }
});

test('a growth after the panel read the file whole (judgeRead) reads only what was appended', async () => {
  const { dir, file } = newRun(Array.from({ length: 200 }, (_, i) => toJsonLine(rec(i + 1, -3 + i * 0.001))).join(''));
  const cache = new JudgedVerdicts();
  await readRunContents(dir, undefined, (d, m) => cache.judgeRead(d, m, settings));
  const line = toJsonLine(rec(201, -2));
  appendFileSync(file, line);
  const before = cache.bytesRead;
  assert.deepEqual(verdictOf(await cache.judge(dir, settings)), wholeVerdict(file));
  assert.ok(cache.bytesRead - before < line.length + 8192, `read ${cache.bytesRead - before} bytes`);
  assert.equal(cache.passesJudged, 201);
});

/** A small generator of numbers from a seed, so that a failing case can be run again. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Step = 'append' | 'appendCrlf' | 'halfLine' | 'gluedLine' | 'truncate' | 'rewriteEarlier' | 'rewriteHead' | 'restart' | 'replace' | 'resume' | 'bom';

/** A line's record made unreadable in place, at the same length (its opening brace blanked). */
const spoilLine = (text: string, lineStart: number) => `${text.slice(0, lineStart)} ${text.slice(lineStart + 1)}`;

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`a metrics.jsonl changed in many ways between looks is judged as a whole read judges it (seed ${seed})`, async () => {
    const random = seeded(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let epoch = 0;
    // Records of a few kilobytes (a model of 200 latents): the check of the last bytes read covers about one.
    const latents = Array.from({ length: 200 }, (_, h) => 1 + h / 1000);
    const next = (crlf = false) => {
      epoch++;
      const r = { ...rec(epoch, -3 + 0.05 * Math.log(epoch) + 0.01 * random()), latentSecondMoment: latents, klPerLatent: latents };
      const line = toJsonLine(r);
      return crlf ? line.replace(/\n$/, '\r\n') : line;
    };
    const { dir, file } = newRun(Array.from({ length: 12 }, () => next()).join(''));
    const cache = new JudgedVerdicts();
    await cache.judge(dir, settings);
    // The writer's pace, kept the same way (a resume sets the clock back, which makes up no interval).
    const intervals = new PassIntervals();
    await intervals.longest(dir);
    /** The rest of a line written in two goes, still to write. */
    let pending = '';
    const steps: Step[] = [
      'append',
      'append',
      'appendCrlf',
      'halfLine',
      'gluedLine',
      'truncate',
      'rewriteEarlier',
      'rewriteHead',
      'restart',
      'replace',
      'resume',
      'bom',
    ];
    const done: string[] = [];
    for (let i = 0; i < 40; i++) {
      const step = pending !== '' ? 'finish' : pick(steps);
      done.push(step);
      const text = readFileSync(file, 'utf8');
      const sizeBefore = statSync(file).size;
      const readBefore = cache.bytesRead;
      const intervalsReadBefore = intervals.bytesRead;
      const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => m.index + 1).filter((at) => at < text.length)];
      switch (step) {
        case 'finish':
          appendFileSync(file, pending);
          pending = '';
          break;
        case 'append':
        case 'appendCrlf':
          appendFileSync(file, Array.from({ length: 1 + Math.floor(random() * 3) }, () => next(step === 'appendCrlf')).join(''));
          break;
        case 'halfLine': {
          // A writer caught mid-line: the record without its line end, or only part of it.
          const line = next();
          const cut = random() < 0.5 ? line.length - 1 : Math.floor(line.length / 2);
          appendFileSync(file, line.slice(0, cut));
          pending = line.slice(cut);
          break;
        }
        case 'gluedLine':
          // A whole record without its line end, and then another on the same line: neither is a record.
          appendFileSync(file, next().trimEnd());
          pending = next();
          break;
        case 'truncate': {
          // Back to a line end in the first half, then on from there (a writer starting over in place).
          const keep = lineStarts[Math.floor(lineStarts.length / 2)]!;
          truncateSync(file, Buffer.byteLength(text.slice(0, keep)));
          epoch = parseMetricsJsonl(text.slice(0, keep)).records.at(-1)?.epoch ?? 0;
          appendFileSync(file, next());
          break;
        }
        case 'rewriteEarlier':
          // A pass in the middle spoilt in place: the same length, the same inode, nothing appended.
          writeFileSync(file, spoilLine(text, lineStarts[Math.floor(lineStarts.length / 2)]!));
          break;
        case 'rewriteHead':
          // The first pass spoilt in place, and a pass appended.
          writeFileSync(file, spoilLine(text, text.startsWith('\ufeff') ? 1 : 0) + next());
          break;
        case 'restart': {
          // Written again in place from its third pass on, with other values and more passes.
          const keep = lineStarts[Math.min(3, lineStarts.length - 1)]!;
          const passes = parseMetricsJsonl(text).records.length;
          epoch = parseMetricsJsonl(text.slice(0, keep)).records.at(-1)?.epoch ?? 0;
          writeFileSync(file, text.slice(0, keep) + Array.from({ length: passes + 2 }, () => next()).join(''));
          break;
        }
        case 'replace': {
          // The same passes and one more, written beside and renamed over (a sync from another machine).
          const other = `${file}.new`;
          writeFileSync(other, text + next());
          renameSync(other, file);
          break;
        }
        case 'resume':
          // A resumed run writes again from an earlier pass: its records replace those after it.
          epoch = Math.max(0, epoch - 2 - Math.floor(random() * 3));
          appendFileSync(file, next());
          break;
        case 'bom':
          writeFileSync(file, text.startsWith('\ufeff') ? text.slice(1) : `\ufeff${text}`);
          break;
      }
      const judged = await cache.judge(dir, settings);
      const whole = parseMetricsJsonl(readFileSync(file, 'utf8')).records;
      const after = `after ${done.join(', ')}`;
      assert.deepEqual(verdictOf(judged), whole.length === 0 ? undefined : judgeRecords(whole, settings), after);
      assert.equal(judged?.passes ?? 0, whole.length, after);
      const read = cache.bytesRead - readBefore;
      if (step === 'append' || step === 'appendCrlf' || step === 'halfLine')
        assert.ok(read < statSync(file).size - sizeBefore + 6000, `${after}: an append read ${read} bytes`);
      if (step === 'replace') assert.ok(read >= statSync(file).size, `${after}: a file renamed over the one read is read whole`);
      assert.equal(await intervals.longest(dir), longestPassInterval(whole.map((r) => r.wallSeconds)), `${after}: the longest interval between passes`);
      const intervalsRead = intervals.bytesRead - intervalsReadBefore;
      if (step === 'append' || step === 'appendCrlf' || step === 'halfLine')
        assert.ok(intervalsRead < statSync(file).size - sizeBefore + 6000, `${after}: an append read ${intervalsRead} bytes for the pace`);
      if (step === 'replace') assert.ok(intervalsRead >= statSync(file).size, `${after}: a file renamed over is read whole for the pace`);
    }
  });
}

test('a metrics.jsonl in UTF-16 without a byte-order mark, growing, is judged on every pass it holds', async () => {
  const utf16 = (text: string, order: 'le' | 'be') => {
    const bytes = Buffer.from(text, 'utf16le');
    return order === 'le' ? bytes : bytes.swap16();
  };
  for (const order of ['le', 'be'] as const) {
    const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => toJsonLine(rec(from + i, -3 + (from + i) * 0.01))).join('');
    const { dir, file } = newRun('');
    writeFileSync(file, utf16(lines(1, 8), order));
    const cache = new JudgedVerdicts();
    assert.equal((await cache.judge(dir, settings))?.passes, 8, `UTF-16${order.toUpperCase()}: the first read`);
    for (let epoch = 9; epoch <= 12; epoch++) {
      appendFileSync(file, utf16(lines(epoch, epoch), order));
      const judged = await cache.judge(dir, settings);
      assert.equal(judged?.passes, epoch, `UTF-16${order.toUpperCase()}: after pass ${epoch} was appended`);
      assert.deepEqual(verdictOf(judged), verdictOf(judgeRecords(parseMetricsJsonl(lines(1, epoch)).records, settings)));
    }
    const intervals = new PassIntervals();
    assert.equal(
      await intervals.longest(dir),
      longestPassInterval(parseMetricsJsonl(lines(1, 12)).records.map((r) => r.wallSeconds)),
      `UTF-16${order.toUpperCase()}: the pace`,
    );
  }
});

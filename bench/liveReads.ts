/**
 * The child of scripts/measure-live-reads.mjs: on a run folder prepared as another machine's run that
 * leaves the verdict to the reader, grows metrics.jsonl by one pass before each look and counts the
 * bytes each look reads, the way it was read before (whole) and is read now (from where it ended).
 *   node out/bench-run/liveReads.js RUN_DIR LOOKS   (prints one JSON line)
 */
import { appendFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readRunOverview, readRunState } from '../src/core/run/read';
import { PassIntervals } from '../src/core/run/passIntervals';
import { JudgedVerdicts } from '../src/core/run/judgedVerdicts';
import { lastMetricsRecord } from '../src/core/run/tail';
import { bytesReadDuring } from './readCounter';

/** What the script reads back: the file at the end, and the mean bytes per look of each read. */
export interface LiveReads {
  size: number;
  passes: number;
  out: Record<string, { before: number; after: number }>;
}

/** The last record's window as it was before it started small. */
const OLD_TAIL_BYTES = 256 * 1024;

async function main(): Promise<void> {
  const [run, looksArg] = process.argv.slice(2);
  if (run === undefined) throw new Error('usage: liveReads.js RUN_DIR LOOKS');
  const looks = Number(looksArg ?? '5');
  const file = join(run, 'metrics.jsonl');
  const lines = (await fsp.readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  let last = JSON.parse(lines.at(-1)!) as { epoch: number; step: number; wallSeconds: number };
  const grow = () => {
    last = { ...last, epoch: last.epoch + 1, step: last.step + 1, wallSeconds: last.wallSeconds + 0.03 };
    appendFileSync(file, JSON.stringify(last) + '\n');
  };
  const never = () => false;
  const intervals = new PassIntervals();
  const verdicts = new JudgedVerdicts();
  const cases: Record<string, { before: () => Promise<unknown>; after: () => Promise<unknown> }> = {
    'pace of a writer that cannot be looked up (one follower look)': {
      before: () => readRunState(run, never),
      after: () => readRunState(run, never, intervals),
    },
    'overview of a run whose records store no verdict (one index refresh)': {
      before: () => readRunOverview(run, never),
      after: () => readRunOverview(run, never, (d, s) => verdicts.judge(d, s), intervals),
    },
    'last record of metrics.jsonl': {
      before: () => lastMetricsRecord(file, OLD_TAIL_BYTES),
      after: () => lastMetricsRecord(file),
    },
  };
  // The kept reads start from a first look, as a follower's or the index's first look makes them.
  await readRunOverview(run, never, (d, s) => verdicts.judge(d, s), intervals);
  const out: LiveReads['out'] = {};
  for (const [name, { before, after }] of Object.entries(cases)) {
    const sums = { before: 0, after: 0 };
    for (let i = 0; i < looks; i++) {
      grow();
      sums.before += await bytesReadDuring(before);
      sums.after += await bytesReadDuring(after);
    }
    out[name] = { before: sums.before / looks, after: sums.after / looks };
  }
  const result: LiveReads = { size: (await fsp.stat(file)).size, passes: last.epoch, out };
  console.log(JSON.stringify(result));
}

void main();

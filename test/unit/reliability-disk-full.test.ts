/**
 * A full disk on a real, small tmpfs. A write to a nearly full disk often ends short without an
 * error: the run files must notice, keep the last good version (a checkpoint, a summary, every
 * whole metrics line), report the full disk with the file's name and exit 2, and stay resumable
 * once there is room again. Generated: the free space left before each write, and the moment a
 * real training run meets the full disk. Skipped (with the reason) where mounting is refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { isUserError } from '../../src/core/errors';
import { RUN_FILES, type MetricsRecord } from '../../src/core/runFormat';
import { readCheckpoint } from '../../src/train/checkpoint';
import { RunWriter, writeJsonAtomic } from '../../src/train/runWriter';
import { reportFigure } from './reliability-figures';
import { completeLines, noStack, readMetrics, recordsLost, runCli, tempDir, tinySpec } from './reliability-processes';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const TIMEOUT_MS = 300_000;
const base = tempDir('vae-lens-disk-full-');
const mounted: string[] = [];

after(() => {
  for (const dir of mounted) unmount(dir);
  fs.rmSync(base, { recursive: true, force: true });
});

/** A tmpfs of `kib` KiB at a fresh folder, or the reason there is none. */
function mountTmpfs(name: string, kib: number): string | { skip: string } {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'pipe', timeout: 10_000 });
  } catch (e) {
    return {
      skip: `cannot mount a tmpfs here (${
        String((e as { stderr?: Buffer }).stderr ?? e)
          .trim()
          .split('\n')[0]
      })`,
    };
  }
  mounted.push(dir);
  return dir;
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe', timeout: 10_000 });
  } catch {
    // Already gone; nothing else of ours is mounted there.
  }
}

function resize(dir: string, kib: number): void {
  execFileSync('mount', ['-o', `remount,size=${kib}k`, dir], { stdio: 'pipe', timeout: 10_000 });
}

/** Fill the file system so that about `freeBytes` stay free (tmpfs counts whole pages). */
function fillLeaving(dir: string, freeBytes: number): void {
  const filler = path.join(dir, 'filler');
  fs.rmSync(filler, { force: true });
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 7);
  try {
    for (;;) if (fs.writeSync(fd, chunk) < chunk.length) break;
  } catch {
    // ENOSPC: full now
  } finally {
    fs.closeSync(fd);
  }
  const size = fs.statSync(filler).size;
  fs.truncateSync(filler, Math.max(0, size - freeBytes));
}

const mountOrSkip = (name: string, kib: number) => {
  const m = mountTmpfs(name, kib);
  return typeof m === 'string' ? { dir: m } : { skip: m.skip };
};

const unitDisk = mountOrSkip('unit', 96);
const runDisk = mountOrSkip('run', 256);

test('atomic JSON files and appended lines on a nearly full disk: the old file whole or the new one, never a part', { skip: unitDisk.skip }, () => {
  const dir = unitDisk.dir!;
  const runsDir = path.join(dir, 'runs');
  let cases = 0;
  let passed = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 * 1024 }), fc.integer({ min: 1, max: 48 * 1024 }), fc.boolean(), (free, payload, asMetrics) => {
      cases++;
      fs.rmSync(runsDir, { recursive: true, force: true });
      fs.rmSync(path.join(dir, 'filler'), { force: true });
      const writer = RunWriter.create(runsDir, 'disk', '{}');
      try {
        const summary = path.join(writer.dir, RUN_FILES.summary);
        writeJsonAtomic(summary, { status: 'running', epochsDone: 1 });
        const old = fs.readFileSync(summary, 'utf8');
        writer.appendMetrics({ epoch: 1, step: 1, elbo: -1 } as MetricsRecord);
        const metricsFile = path.join(writer.dir, RUN_FILES.metrics);
        const oldMetrics = fs.readFileSync(metricsFile, 'utf8');
        fillLeaving(dir, free);
        const big = 'x'.repeat(payload);
        let error: unknown;
        try {
          if (asMetrics) writer.appendMetrics({ epoch: 2, step: 2, elbo: -1, note: big } as unknown as MetricsRecord);
          else writeJsonAtomic(summary, { status: 'completed', epochsDone: 2, note: big });
        } catch (e) {
          error = e;
        }
        if (error !== undefined) {
          refused++;
          assert.ok(isUserError(error), `not a user error: ${String(error)}`);
          assert.match(error.message, /cannot write .*: the disk is full\. Everything the run wrote before is kept; .*--resume/);
          assert.equal(error.location.file, asMetrics ? metricsFile : summary);
          assert.equal(fs.readFileSync(summary, 'utf8'), old, 'the old summary is whole');
          assert.equal(fs.readFileSync(metricsFile, 'utf8'), oldMetrics, 'the metrics are as before: no torn line');
        } else if (asMetrics) {
          const lines = completeLines(fs.readFileSync(metricsFile, 'utf8'));
          assert.equal(lines.length, 2);
          assert.equal((JSON.parse(lines[1]!) as { note: string }).note.length, payload);
        } else assert.equal((JSON.parse(fs.readFileSync(summary, 'utf8')) as { note: string }).note.length, payload);
        assert.deepEqual(
          fs.readdirSync(writer.dir).filter((f) => f.includes('.tmp-')),
          [],
          'no temporary file left',
        );
        passed++;
      } finally {
        writer.close();
      }
    }),
    { seed: SEED, numRuns: 60 },
  );
  reportFigure({
    group: 'diskFull',
    kind: 'check',
    name: `disk full on a tmpfs: atomic files and appends keep the old version (${refused} writes refused)`,
    cases,
    passed,
  });
});

test(
  'training that meets a full disk keeps its last good checkpoint, exits 2 with the file named, and resumes once there is room',
  { skip: runDisk.skip, timeout: TIMEOUT_MS },
  async () => {
    const dir = runDisk.dir!;
    const spec = path.join(dir, 'disk.vae.json');
    fs.writeFileSync(spec, tinySpec('disk', { epochs: 40, n: 256 }));
    const runsDir = path.join(dir, 'runs');
    // The free space at the start decides when the run meets the full disk: in its first files,
    // in a checkpoint, or between metrics lines.
    const frees = fc.sample(fc.integer({ min: 4, max: 120 }), { seed: SEED, numRuns: 5 }).map((k) => k * 1024);
    let injected = 0;
    let survived = 0;
    let checked = 0;
    let lost = 0;
    for (const free of frees) {
      fs.rmSync(runsDir, { recursive: true, force: true });
      resize(dir, 256);
      fillLeaving(dir, free);
      const first = await runCli(['train', spec, '--out', runsDir, '--json']);
      noStack(first.err + first.out);
      const runDirs = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [];
      if (first.code === 0) continue; // this much room was enough
      injected++;
      assert.equal(first.code, 2, `exit code ${first.code}: ${first.err}${first.out.slice(-2000)}`);
      assert.match(first.out, /cannot write [^"]*: the disk is full/);
      if (runDirs.length === 0) {
        survived++; // refused before a run folder existed: nothing to lose
        continue;
      }
      const runDir = path.join(runsDir, runDirs[0]!);
      const before = readMetrics(runDir);
      assert.deepEqual(before.parsed.bad, [], 'no bad metrics line');
      const cp = path.join(runDir, RUN_FILES.checkpoints, 'latest.json');
      if (fs.existsSync(cp)) readCheckpoint(cp); // whole and readable, or this throws
      // Room again: the run continues from what it kept.
      fs.rmSync(path.join(dir, 'filler'), { force: true });
      resize(dir, 4096);
      const resumed = await runCli(['train', spec, '--resume', runDir, '--json']);
      noStack(resumed.err);
      assert.equal(resumed.code, 0, `resume failed: ${resumed.err}${resumed.out.slice(-2000)}`);
      const afterText = readMetrics(runDir).text;
      checked += completeLines(before.text).length;
      lost += recordsLost(before.text, afterText);
      assert.equal(recordsLost(before.text, afterText), 0);
      survived++;
    }
    assert.ok(injected > 0, 'no run met the full disk: the tmpfs is too large for this spec');
    reportFigure({
      group: 'diskFull',
      kind: 'fault',
      name: 'disk full mid-run on a tmpfs, then --resume with room',
      injected,
      survived,
      recordsChecked: checked,
      recordsLost: lost,
      seed: SEED,
    });
  },
);

/**
 * The run writer on a failing disk: a full disk is the user's to fix, so it is reported as a
 * UserError naming the file, not as an internal error with a stack; and atomic JSON writes
 * leave no temporary file behind when they fail.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../src/core/errors';
import { appendAllSync, describeWriteError } from '../../src/core/safeWrite';
import { RUN_FILES, type MetricsRecord, type RunMeta } from '../../src/core/runFormat';
import { RunWriter, writeJsonAtomic } from '../../src/train/runWriter';

const record = { epoch: 1, step: 10, elbo: -3 } as MetricsRecord;

test(
  'a metrics file replaced by a link (here to /dev/full) is refused, not written through',
  { skip: !fs.existsSync('/dev/full') && 'no /dev/full here' },
  () => {
    const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-writer-'));
    const writer = RunWriter.create(runs, 'linked', '{}');
    fs.symlinkSync('/dev/full', path.join(writer.dir, RUN_FILES.metrics));
    assert.throws(
      () => writer.appendMetrics(record),
      (e: unknown) => {
        assert.ok(isUserError(e), `not a user error: ${String(e)}`);
        assert.match(e.message, /cannot write .*metrics\.jsonl: it is a symbolic link/);
        assert.equal(e.location.file, path.join(writer.dir, RUN_FILES.metrics));
        return true;
      },
    );
    writer.close();
    fs.rmSync(runs, { recursive: true, force: true });
  },
);

test(
  'a full disk (/dev/full) while appending is a system error the writer reports as the disk being full',
  { skip: !fs.existsSync('/dev/full') && 'no /dev/full here' },
  () => {
    const fd = fs.openSync('/dev/full', 'a');
    try {
      assert.throws(
        () => appendAllSync(fd, 'a line\n', '/dev/full'),
        (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOSPC',
      );
      const described = describeWriteError(Object.assign(new Error('x'), { code: 'ENOSPC' }), 'metrics.jsonl', 'Kept.');
      assert.ok(isUserError(described));
      assert.equal(described.message, 'cannot write metrics.jsonl: the disk is full. Kept.');
    } finally {
      fs.closeSync(fd);
    }
  },
);

test('an atomic JSON write that cannot be done leaves the old file and no temporary', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-writer-'));
  const file = path.join(dir, 'summary.json');
  writeJsonAtomic(file, { status: 'running' });
  // A value JSON cannot hold makes the write fail part-way, after the temporary exists.
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => writeJsonAtomic(file, cyclic), /circular/);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { status: 'running' });
  assert.deepEqual(fs.readdirSync(dir), ['summary.json']);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A folder under `base` whose path leaves `room` bytes below Linux's 4096-byte limit on a path. */
function deepFolder(base: string, room: number): string {
  let dir = base;
  while (Buffer.byteLength(dir) + 1 + 200 < 4095 - room) dir = path.join(dir, 'd'.repeat(200));
  const last = 4095 - room - Buffer.byteLength(dir) - 1;
  if (last > 0) dir = path.join(dir, 'e'.repeat(last));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

test(
  'a runs folder whose path leaves no room for the run files is refused when the run is made, in words, with no folder left',
  { skip: process.platform !== 'linux' && 'the 4096-byte path limit is Linux' },
  () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-long-'));
    // Room for the run folder and its spec, not for checkpoints/latest.json's temporary, at several depths.
    for (const room of [30, 45, 55, 60]) {
      const runs = deepFolder(path.join(base, String(room)), room);
      assert.throws(
        () => RunWriter.create(runs, 'tiny', '{}'),
        (e: unknown) => {
          assert.ok(isUserError(e), `room ${room}: not a user error: ${String(e)}`);
          assert.match(e.message, /longer than the file system allows/);
          assert.doesNotMatch(e.message, /: ENAMETOOLONG/, 'said in words, not as the code alone');
          assert.match(e.message, /Choose a runs folder with a shorter path with output\.runsDir or --out\./, 'the remedy is a shorter path');
          assert.doesNotMatch(e.message, /writable/, 'the folder is writable: its path is too long');
          return true;
        },
      );
      assert.deepEqual(fs.readdirSync(runs), [], `room ${room}: no run folder left behind`);
    }
    fs.rmSync(base, { recursive: true, force: true });
  },
);

test("a write refused for a name too long is the user's to fix, said in words", () => {
  const e: NodeJS.ErrnoException = new Error('ENAMETOOLONG: name too long');
  e.code = 'ENAMETOOLONG';
  const d = describeWriteError(e, '/x/y');
  assert.ok(isUserError(d), String(d));
  assert.match(d.message, /cannot write \/x\/y: its path is longer than the file system allows/);
});

test('a resume removes the temporaries of writers no longer alive (kill -9 mid-write), and only theirs', { timeout: 30_000 }, () => {
  const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-leftovers-'));
  const first = RunWriter.create(runs, 'killed', '{}');
  first.writeMeta({ name: 'killed' } as RunMeta);
  first.close();
  const dir = first.dir;
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    const now = Date.now() / 1000;
    const checkpoints = path.join(dir, RUN_FILES.checkpoints);
    const places = [dir, checkpoints];
    const bases = [RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.images, RUN_FILES.spec, 'latest.json', 'report.html'];
    const gone: string[] = [];
    const kept: string[] = [];
    const put = (file: string, ageSeconds = 0) => {
      fs.writeFileSync(file, '{"half": ');
      if (ageSeconds) fs.utimesSync(file, now - ageSeconds, now - ageSeconds);
      return file;
    };
    for (const [i, base] of bases.entries()) {
      const at = places[i % places.length]!;
      // A writer that died (kill -9 between its write and its rename), in the random tags safeWrite uses, and the Python companion's form.
      for (const tag of ['-a1b2c3', '-0', '-zz', '']) gone.push(put(path.join(at, `${base}.tmp-${dead}${tag}`)));
      // A pid reused since: its process started after the file was last written.
      gone.push(put(path.join(at, `${base}.tmp-${live.pid}-q9w8e7`), 3600));
      // A writer still at work (a report being written now): its file stays.
      kept.push(put(path.join(at, `${base}.tmp-${live.pid}-x1y2z3`)));
      // Names that only look alike, and the user's own files.
      for (const name of [
        `${base}.tmp-${dead}-toolongtag`,
        `${base}.tmp-x${dead}-a1`,
        `${base}.tmp`,
        `${base}.bak`,
        `notes-${i}.txt`,
        `notes-${i}.txt.tmp-${dead}-a1b2c3`,
      ])
        kept.push(put(path.join(at, name)));
    }
    gone.push(put(path.join(dir, `run.lock.${dead}.new`)), put(path.join(dir, `run.lock.stale-${dead}`)));
    kept.push(put(path.join(dir, `run.lock.${live.pid}.new`)));
    // A resume refused once the folder is reopened (its checkpoint does not restore) leaves it as it was.
    RunWriter.reopen(dir).close();
    for (const f of [...gone, ...kept]) assert.equal(fs.existsSync(f), true, `removed by a refused resume: ${path.relative(dir, f)}`);
    const writer = RunWriter.reopen(dir);
    writer.writeMeta({ name: 'killed', pid: process.pid } as RunMeta);
    writer.close();
    for (const f of gone) assert.equal(fs.existsSync(f), false, `left behind: ${path.relative(dir, f)}`);
    for (const f of kept) assert.equal(fs.existsSync(f), true, `removed: ${path.relative(dir, f)}`);
    assert.ok(fs.existsSync(path.join(dir, RUN_FILES.meta)));
  } finally {
    live.kill();
    fs.rmSync(runs, { recursive: true, force: true });
  }
});

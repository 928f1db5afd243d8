/**
 * Two writers on one run folder: processes racing to create run folders of the same name and
 * second, or to lock the same folder, end with one folder per process and exactly one lock
 * holder; a lock left by a dead process (kill -9) or holding garbage is stale and taken over.
 * The racing processes are this file again, forked with VAE_LENS_LOCK_CHILD set.
 */
import assert from 'node:assert/strict';
import { fork, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { isUserError } from '../../src/core/errors';
import { processStart, type WriterRecord } from '../../src/core/run/liveness';
import { LOCK_FILE, RunLock } from '../../src/train/runLock';
import { RunWriter } from '../../src/train/runWriter';
import { reportFigure } from './reliability-figures';
import { tempDir } from './reliability-processes';

/** What this process writes in a lock it takes: its pid, machine and start. */
const ownLock = () => `${process.pid}\n${os.hostname()}\n${processStart(process.pid) ?? ''}\n`;

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const CHILD = process.env.VAE_LENS_LOCK_CHILD;

/** In a forked child: do one racing step at the moment given, report it, hold any lock a while. */
async function child(mode: string, target: string, at: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now() - 20)));
  while (Date.now() < at); // spin the last milliseconds: the processes start within microseconds of each other
  let result: { ok: boolean; dir?: string; message?: string };
  try {
    if (mode === 'create') result = { ok: true, dir: RunWriter.create(target, 'race', '{}', new Date(2026, 0, 1)).dir };
    else {
      RunLock.acquire(target);
      result = { ok: true, dir: target };
    }
  } catch (e) {
    result = { ok: false, message: isUserError(e) ? e.message : `internal: ${String(e)}` };
  }
  process.send!(result);
  await new Promise((r) => setTimeout(r, 1500)); // keep a won lock alive while the others try
}

function race(mode: 'create' | 'lock', target: string, n: number): Promise<{ ok: boolean; dir?: string; message?: string }[]> {
  const at = Date.now() + 1500; // all forked and waiting by then
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<{ ok: boolean; dir?: string; message?: string }>((resolve, reject) => {
          const c = fork(__filename, [], { env: { ...process.env, VAE_LENS_LOCK_CHILD: JSON.stringify([mode, target, at]) }, stdio: 'ignore' });
          c.once('message', (m) => resolve(m as { ok: boolean; dir?: string; message?: string }));
          c.once('exit', (code) => reject(new Error(`child exited (${code}) without a result`)));
        }),
    ),
  );
}

if (CHILD) {
  const [mode, target, at] = JSON.parse(CHILD) as [string, string, number];
  void child(mode, target, at);
} else {
  const tmp = tempDir('vae-lens-lock-');
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('processes creating run folders of one name in one second get one folder each', { timeout: 60_000 }, async () => {
    let cases = 0;
    for (let round = 0; round < 3; round++) {
      const runs = path.join(tmp, `runs-${round}`);
      const results = await race('create', runs, 4);
      assert.ok(
        results.every((r) => r.ok),
        JSON.stringify(results),
      );
      const dirs = results.map((r) => r.dir!);
      assert.equal(new Set(dirs).size, dirs.length, `shared folders: ${dirs.join(', ')}`);
      assert.equal(fs.readdirSync(runs).length, dirs.length);
      cases++;
    }
    reportFigure({ group: 'twoWriters', kind: 'check', name: 'racing run-folder creation (3 rounds of 4 processes): one folder each', cases, passed: cases });
  });

  test("processes racing for one run folder's lock: exactly one holds it, the others are told who", { timeout: 60_000 }, async () => {
    let cases = 0;
    for (let round = 0; round < 3; round++) {
      const dir = path.join(tmp, `lock-${round}`);
      fs.mkdirSync(dir);
      const results = await race('lock', dir, 4);
      assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
      for (const r of results.filter((x) => !x.ok))
        assert.match(r.message!, /is being written by another trainer \(process \d+, see run\.lock\)|another trainer is starting on this run folder/);
      cases++;
    }
    reportFigure({ group: 'twoWriters', kind: 'check', name: 'racing for one run lock (3 rounds of 4 processes): exactly one holder', cases, passed: cases });
  });

  test('a lock of a dead process, or holding garbage, is stale and taken over; a live holder is refused', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const contents = [String(deadPid), ...fc.sample(fc.string({ maxLength: 80 }), { seed: SEED, numRuns: 20 }), '-1', '0', '1e9', ' '.repeat(100)];
    let cases = 0;
    for (const [i, text] of contents.entries()) {
      const dir = path.join(tmp, `stale-${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, LOCK_FILE), text);
      // pid 1 is always alive; no generated text may be taken for it, or the lock is rightly refused.
      const alive = ({ pid }: WriterRecord) => pid === 1;
      if (Number(text.trim()) === 1) continue;
      const lock = RunLock.acquire(dir, alive);
      assert.equal(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), ownLock());
      lock.release();
      assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
      cases++;
    }
    const live = path.join(tmp, 'live');
    fs.mkdirSync(live);
    fs.writeFileSync(path.join(live, LOCK_FILE), '1\n');
    assert.throws(
      () => RunLock.acquire(live),
      (e: unknown) => isUserError(e) && /another trainer \(process 1, see run\.lock\)/.test(e.message),
    );
    assert.equal(fs.readFileSync(path.join(live, LOCK_FILE), 'utf8'), '1\n', 'a live lock is left alone');
    cases++;
    // A lock taken on another machine of a shared file system: its pid means nothing here, dead or not.
    for (const [i, pid] of [deadPid, 1, process.pid].entries()) {
      const remote = path.join(tmp, `remote-${i}`);
      fs.mkdirSync(remote);
      const text = `${pid}\nnode-17.cluster\n`;
      fs.writeFileSync(path.join(remote, LOCK_FILE), text);
      assert.throws(
        () => RunLock.acquire(remote, () => false),
        (e: unknown) =>
          isUserError(e) && /a trainer on node-17\.cluster \(process \d+, see run\.lock\), which cannot be checked from this machine/.test(e.message),
      );
      assert.equal(fs.readFileSync(path.join(remote, LOCK_FILE), 'utf8'), text, "another machine's lock is left alone");
      cases++;
    }
    reportFigure({
      group: 'twoWriters',
      kind: 'check',
      name: 'stale locks (dead pid, garbage) taken over; a live one, or one of another machine, refused',
      cases,
      passed: cases,
    });
  });
}

if (!CHILD)
  test(
    'a lock whose pid now belongs to a process started after the lock was written is stale: the pid was reused',
    { skip: process.platform !== 'linux' && 'process start times are read from /proc', timeout: 30_000 },
    () => {
      const base = tempDir('vae-lens-lock-reuse-');
      // A live process that is not the lock's writer: it started after each lock below was written.
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      try {
        const now = Date.now() / 1000;
        let cases = 0;
        for (const ageSeconds of [60, 600, 3600, 86_400 * 30]) {
          const dir = path.join(base, `reused-${ageSeconds}`);
          fs.mkdirSync(dir);
          const file = path.join(dir, LOCK_FILE);
          fs.writeFileSync(file, `${other.pid}\n${os.hostname()}\n`);
          fs.utimesSync(file, now - ageSeconds, now - ageSeconds);
          const lock = RunLock.acquire(dir);
          assert.equal(fs.readFileSync(file, 'utf8'), ownLock(), `lock written ${ageSeconds} s ago`);
          lock.release();
          cases++;
        }
        // Written after the process started: that process may well be its writer, so the lock holds.
        const held = path.join(base, 'held');
        fs.mkdirSync(held);
        fs.writeFileSync(path.join(held, LOCK_FILE), `${other.pid}\n${os.hostname()}\n`);
        assert.throws(
          () => RunLock.acquire(held),
          (e: unknown) => isUserError(e) && new RegExp(`another trainer \\(process ${other.pid}, see run\\.lock\\)`).test(e.message),
        );
        assert.ok(cases > 0);
      } finally {
        other.kill();
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  );

if (!CHILD)
  test(
    "a lock that names its holder's start is judged by that start alone: a wall clock stepped either way neither frees a live lock nor keeps a reused pid's",
    { skip: process.platform !== 'linux' && 'process starts are read from /proc', timeout: 30_000 },
    () => {
      const base = tempDir('vae-lens-lock-start-');
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      try {
        const start = processStart(other.pid!);
        assert.ok(start !== undefined && /^[0-9a-f-]+:\d+$/.test(start), `the start of process ${other.pid} reads ${start}`);
        const [boot, ticks] = [start.slice(0, start.lastIndexOf(':')), Number(start.slice(start.lastIndexOf(':') + 1))];
        const otherStarts = [
          `${boot}:${ticks + 1}`,
          `${boot}:${Math.max(0, ticks - 100)}`,
          `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}:${ticks}`,
          'not a start',
        ];
        const now = Date.now() / 1000;
        let cases = 0;
        // Lock file times from a day before the holder started (a clock stepped forward since) to a day after.
        for (const shiftSeconds of [-86_400, -3600, -60, 0, 60, 3600, 86_400]) {
          const lockOf = (name: string, recorded: string) => {
            const dir = path.join(base, `${name}-${shiftSeconds}`);
            fs.mkdirSync(dir);
            const file = path.join(dir, LOCK_FILE);
            fs.writeFileSync(file, `${other.pid}\n${os.hostname()}\n${recorded}\n`);
            fs.utimesSync(file, now + shiftSeconds, now + shiftSeconds);
            return { dir, file, text: fs.readFileSync(file, 'utf8') };
          };
          const held = lockOf('held', start);
          assert.throws(
            () => RunLock.acquire(held.dir),
            (e: unknown) => isUserError(e) && new RegExp(`another trainer \\(process ${other.pid}, see run\\.lock\\)`).test(e.message),
            `a live holder's lock, its file time shifted ${shiftSeconds} s`,
          );
          assert.equal(fs.readFileSync(held.file, 'utf8'), held.text);
          cases++;
          for (const [i, recorded] of otherStarts.entries()) {
            const reused = lockOf(`reused-${i}`, recorded);
            const lock = RunLock.acquire(reused.dir);
            assert.equal(fs.readFileSync(reused.file, 'utf8'), ownLock(), `a lock naming start ${recorded}, its file time shifted ${shiftSeconds} s`);
            lock.release();
            cases++;
          }
        }
        reportFigure({
          group: 'twoWriters',
          kind: 'check',
          name: "locks naming their holder's start, file times shifted by -1 day to +1 day: live held, reused pid taken over",
          cases,
          passed: cases,
        });
      } finally {
        other.kill();
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  );

if (!CHILD)
  test('a folder or a named pipe where run.lock belongs is refused by name, and left where it is', () => {
    const base = tempDir('vae-lens-lock-odd-');
    try {
      const kinds: [string, (file: string) => void][] = [
        ['an empty folder', (f) => fs.mkdirSync(f)],
        ['a folder with files', (f) => (fs.mkdirSync(f), fs.writeFileSync(path.join(f, 'x'), 'kept'))],
        ['a folder of folders', (f) => fs.mkdirSync(path.join(f, 'a', 'b'), { recursive: true })],
      ];
      if (spawnSync('mkfifo', ['--version']).status === 0) kinds.push(['a named pipe', (f) => spawnSync('mkfifo', [f])]);
      for (const [i, [kind, make]] of kinds.entries()) {
        const dir = path.join(base, `odd-${i}`);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'run.json'), '{}');
        const file = path.join(dir, LOCK_FILE);
        make(file);
        const before = fs.lstatSync(file);
        for (const acquire of [() => RunLock.acquire(dir), () => RunWriter.reopen(dir)]) {
          assert.throws(acquire, (e: unknown) => {
            assert.ok(isUserError(e), `${kind}: not a user error: ${String(e)}`);
            assert.match(e.message, /run\.lock is a folder or another non-file, not a lock VAE Lens wrote/, kind);
            return true;
          });
          assert.equal(fs.lstatSync(file).ino, before.ino, `${kind}: moved`);
          assert.deepEqual(fs.readdirSync(dir).sort(), ['run.json', LOCK_FILE].sort(), `${kind}: left ${fs.readdirSync(dir).join(', ')}`);
        }
      }
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

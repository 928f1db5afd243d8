/**
 * One writer per run folder. `run.lock` is created exclusively and holds the writer's process id,
 * machine and start (processStart); a second trainer (a resume of a run still training, two windows on
 * one folder) is refused while that process lives. A lock whose process is gone (kill -9, a crash), or
 * whose pid now names another process (another start; in a lock of an older version, one started after
 * the lock was written), is stale and taken over, so an
 * interrupted run stays resumable. A lock taken on another machine (a shared file
 * system) cannot be checked from here and is never taken over: its message says how to free it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shownPath, UserError } from '../core/errors';
import { isOtherHost, isWriterAlive, processStart, thisHost, type WriterRecord } from '../core/run/liveness';

export const LOCK_FILE = 'run.lock';
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

export class RunLock {
  private constructor(readonly file: string) {}

  /**
   * Take the run folder's lock, or throw a UserError naming the process that holds it. `alive` is
   * asked about the holder: its pid, its start and when the lock was written.
   */
  static acquire(runDir: string, alive: (holder: WriterRecord) => boolean = isWriterAlive): RunLock {
    const file = path.join(runDir, LOCK_FILE);
    // Two rounds: the second after clearing a stale lock; a third contender loses to whoever won.
    for (let round = 0; round < 2; round++) {
      if (tryCreate(file)) return new RunLock(file);
      refuseNonFile(file);
      const holder = readHolder(file);
      if (isOtherHost(holder?.host))
        throw new UserError(
          `${shownPath(runDir)} is being written by a trainer on ${shownPath(holder.host)} (process ${holder.pid}, see ${LOCK_FILE}), which cannot be checked from this machine. Stop that run first, or wait for it to end, then resume it (if no trainer runs it any more, delete ${LOCK_FILE}).`,
          { file: path.join(runDir, LOCK_FILE) },
        );
      if (holder !== undefined && holder.pid !== process.pid && alive(holder))
        throw new UserError(
          `${shownPath(runDir)} is being written by another trainer (process ${holder.pid}, see ${LOCK_FILE}). Stop that run first, or wait for it to end, then resume it (if no trainer runs it, the process id was reused: delete ${LOCK_FILE}).`,
          { file: path.join(runDir, LOCK_FILE) },
        );
      clearStale(file, holder?.pid, alive);
    }
    throw new UserError(`cannot take the lock ${shownPath(file)}: another trainer is starting on this run folder at the same moment. Try again.`, { file });
  }

  release(): void {
    // Only our own lock: a stale-lock takeover by another process must not be undone.
    const holder = readHolder(this.file);
    if (holder?.pid === process.pid && !isOtherHost(holder.host)) fs.rmSync(this.file, { force: true });
  }
}

/** The process id in the name of a file the lock leaves aside while it is taken (`run.lock.PID.new`, `run.lock.stale-PID`), else undefined. */
export function lockTemporaryWriter(name: string): number | undefined {
  const m = /^run\.lock\.(?:([0-9]+)\.new|stale-([0-9]+))$/.exec(name);
  return m ? Number(m[1] ?? m[2]) : undefined;
}

/**
 * Create the lock with its content in one step: the pid is written to a file of our own, which is
 * then hard-linked as run.lock (a link, like O_EXCL, fails when the name exists). An exclusively
 * created empty file would be visible before its pid is written, and a racing trainer would read
 * it as a stale lock and take it over while its creator also believed it held it.
 */
function tryCreate(file: string): boolean {
  const own = `${file}.${process.pid}.new`;
  const fd = fs.openSync(own, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | NOFOLLOW, 0o644);
  try {
    fs.writeSync(fd, `${process.pid}\n${thisHost()}\n${processStart(process.pid) ?? ''}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(own, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(own, { force: true });
  }
}

/**
 * A folder or a named pipe of that name is not a lock of ours (a lock is a file, or a link left by
 * a copy): it is the user's, so it is neither read as a stale lock nor moved aside.
 */
function refuseNonFile(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return; // gone meanwhile: the next round takes it
  }
  if (!st.isFile() && !st.isSymbolicLink())
    throw new UserError(
      `${shownPath(file)} is a folder or another non-file, not a lock VAE Lens wrote (a file holding one trainer's process id). Move it out of the run folder, then resume.`,
      { file },
    );
}

/**
 * The pid in a lock file, the machine it runs on and its start (absent in locks of older versions: this
 * machine, and a start judged by the lock's time); undefined when it is unreadable or not a pid (then it
 * is stale too).
 */
function readHolder(file: string): (WriterRecord & { pid: number; host?: string }) | undefined {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > 512) return undefined;
    const [pidLine = '', host = '', pidStart = ''] = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim());
    const pid = Number(pidLine);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return { pid, writtenMs: st.mtimeMs, ...(host ? { host } : {}), ...(pidStart ? { pidStart } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Move the stale lock aside under a name of our own (rename is atomic: of two processes clearing
 * it, one gets it), then check that what we moved is the stale lock and not a fresh one a faster
 * process created meanwhile; a fresh one is put back.
 */
function clearStale(file: string, stalePid: number | undefined, alive: (holder: WriterRecord) => boolean): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // gone already: someone else cleared it
  }
  const moved = readHolder(aside);
  if (moved !== undefined && moved.pid !== stalePid && (isOtherHost(moved.host) || alive(moved))) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process holds the lock now; the one we moved still lost its file. Rare, and its
      // writer keeps its open files: at worst two writers, as before locks existed.
    }
  }
  fs.rmSync(aside, { force: true });
}

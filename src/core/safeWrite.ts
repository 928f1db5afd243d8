/**
 * Writing files so that a failure never costs what is already there: every byte checked written
 * (a full disk shows up as a short write, not always as an error), atomic replacement only of a
 * complete, fsync'ed and size-checked file, appends that are rolled back when cut short, and no
 * write through a symbolic link planted where a file of ours belongs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shownPath, UserError } from './errors';

/** Not following a link at the last path component; 0 where the platform has no such flag (Windows). */
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Our code for "exists but is not a regular file" (no errno says exactly that). */
const NOT_REGULAR = 'ENOTREGULAR';

/** An error like the system's own for a write that stopped short (no space left for the rest). */
function shortWrite(file: string, written: number, wanted: number): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${file}: wrote ${written} of ${wanted} bytes`);
  e.code = 'ENOSPC';
  return e;
}

/** Write all of `data` at the fd's position; a write that makes no progress is a full disk. */
export function writeAllSync(fd: number, data: Uint8Array, file: string): void {
  let done = 0;
  while (done < data.length) {
    const n = fs.writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw shortWrite(file, done, data.length);
    done += n;
  }
}

const WRITE_PROBLEMS: ReadonlyMap<string, string> = new Map([
  ['ENOSPC', 'the disk is full'],
  ['EDQUOT', 'the disk quota is used up'],
  ['EROFS', 'the file system is read-only'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['ELOOP', 'it is a symbolic link (VAE Lens does not write through links)'],
  ['EISDIR', 'it is a folder'],
  ['ENOTDIR', 'a part of its path is not a folder'],
  ['ENOENT', 'its folder does not exist'],
  ['EEXIST', 'a file of that name is in the way of a folder on its path'],
  [NOT_REGULAR, 'it is not a regular file (a folder, a named pipe or a device)'],
  ['EFBIG', 'the file would be larger than the file system allows'],
  ['ENAMETOOLONG', 'its path is longer than the file system allows'],
]);

/** Causes a user fixes by freeing space; the others by fixing permissions or what stands where a file should be. */
const OUT_OF_SPACE: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const NOT_PERMITTED: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS']);

/** What to do about a failed write before trying again: make room, fix permissions, or put the file back. */
export function writeRemedy(e: unknown): 'make room' | 'fix its permissions' | 'move the run folder to a shorter path' | 'put a plain file back in its place' {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENAMETOOLONG') return 'move the run folder to a shorter path';
  return OUT_OF_SPACE.has(code) ? 'make room' : NOT_PERMITTED.has(code) ? 'fix its permissions' : 'put a plain file back in its place';
}

/** What a failed write's system error means for the user ("the disk is full"), or undefined for a bug. */
export function writeProblem(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  return code === undefined ? undefined : WRITE_PROBLEMS.get(code);
}

/** A system error of a write, as the user's problem to fix (a UserError naming the file), else unchanged. */
export function describeWriteError(e: unknown, file: string, advice = ''): Error {
  const problem = writeProblem(e);
  if (!problem) return e as Error;
  return new UserError(`cannot write ${shownPath(file)}: ${problem}.${advice ? ` ${advice}` : ''}`, { file });
}

/** Open a file of ours for writing, refusing a symbolic link in its place. */
export function openNoFollow(file: string, flags: number, mode = 0o644): number {
  const fd = fs.openSync(file, flags | NOFOLLOW, mode);
  try {
    if (!fs.fstatSync(fd).isFile()) {
      const e: NodeJS.ErrnoException = new Error(`${file} is not a regular file`);
      e.code = NOT_REGULAR;
      throw e;
    }
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Replace `file` with `data` atomically: a fresh temporary file (created exclusively, never
 * through a link), every byte written, fsync'ed, its size checked, then renamed over the old
 * one. Until the rename the old file is untouched; a failure leaves it as it was and removes the
 * temporary file. Throws the system error (see describeWriteError).
 */
export function replaceFileAtomic(file: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o644);
    try {
      writeAllSync(fd, bytes, file);
      fs.fsyncSync(fd);
      const size = fs.fstatSync(fd).size;
      if (size !== bytes.length) throw shortWrite(file, size, bytes.length);
    } finally {
      fs.closeSync(fd);
    }
    refuseLink(file);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // Where the temporary could not be made (a path too long) it cannot be removed either: the cause is e.
    }
    throw e;
  }
  syncDirectory(path.dirname(file));
}

/**
 * The process id in the name of a temporary left by replaceFileAtomic (`NAME.tmp-PID-TAG`) or by the
 * Python companion (`NAME.tmp-PID`); undefined for any other name.
 */
export function temporaryWriter(name: string): number | undefined {
  const m = /.\.tmp-([0-9]+)(?:-[0-9a-z]{1,6})?$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Whether `file` is itself a symbolic link (false when it does not exist). */
export function isSymbolicLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** rename() replaces a link rather than writing through it, but a planted link is a sign of mischief: say so. */
function refuseLink(file: string): void {
  if (!isSymbolicLink(file)) return;
  const e: NodeJS.ErrnoException = new Error(`${file} is a symbolic link`);
  e.code = 'ELOOP';
  throw e;
}

/**
 * Append `data` at the end of the file open as `fd` (opened with O_APPEND), and fsync it. When the
 * write fails part-way, the file is cut back to its previous length, so a record is either
 * whole or absent.
 */
export function appendAllSync(fd: number, data: string | Uint8Array, file: string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const before = fs.fstatSync(fd).size;
  try {
    writeAllSync(fd, bytes, file);
    fs.fsyncSync(fd);
  } catch (e) {
    try {
      fs.ftruncateSync(fd, before);
      fs.fsyncSync(fd);
    } catch {
      // The cut is best effort; readers skip a torn last line, and reopen() cuts it too.
    }
    throw e;
  }
}

/** Make a rename durable: the new directory entry reaches the disk only with the directory's own fsync. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be opened or synced on some platforms (Windows); the rename itself stands.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

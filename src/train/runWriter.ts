/**
 * Writes a run folder (format: core/runFormat.ts). Every metrics record is appended and
 * fsync'ed as soon as it exists, and JSON files are replaced atomically (write, fsync,
 * rename), so a crash of the trainer or the editor loses nothing already reported.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { RUN_FILES, toJsonLine, toRunJson, type MetricsRecord, type RunMeta, type RunSummary } from '../core/runFormat';

export class RunWriter {
  private metricsFd: number | undefined;

  private constructor(readonly dir: string) {}

  /** Create `<runsDir>/<name>-<timestamp>`; fails early and clearly when it cannot be written. */
  static create(runsDir: string, name: string, specText: string, now = new Date()): RunWriter {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'run';
    let dir = path.join(runsDir, `${safe}-${stamp}`);
    try {
      fs.mkdirSync(runsDir, { recursive: true });
      for (let k = 2; fs.existsSync(dir); k++) dir = path.join(runsDir, `${safe}-${stamp}-${k}`);
      fs.mkdirSync(path.join(dir, RUN_FILES.checkpoints), { recursive: true });
      fs.writeFileSync(path.join(dir, RUN_FILES.spec), specText);
    } catch (e) {
      throw new UserError(
        `cannot write the run folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Choose a writable folder with output.runsDir or --out.`,
        {
          field: 'output.runsDir',
        },
      );
    }
    return new RunWriter(dir);
  }

  /** Continue writing an existing run folder (resume). */
  static reopen(dir: string): RunWriter {
    if (!fs.existsSync(path.join(dir, RUN_FILES.meta))) throw new UserError(`${dir} is not a run folder (it has no ${RUN_FILES.meta})`);
    dropTornTail(path.join(dir, RUN_FILES.metrics));
    return new RunWriter(dir);
  }

  writeMeta(meta: RunMeta): void {
    writeJsonAtomic(path.join(this.dir, RUN_FILES.meta), meta);
  }

  appendMetrics(record: MetricsRecord): void {
    const file = path.join(this.dir, RUN_FILES.metrics);
    try {
      if (this.metricsFd === undefined) this.metricsFd = fs.openSync(file, 'a');
      fs.writeSync(this.metricsFd, toJsonLine(record));
      fs.fsyncSync(this.metricsFd);
    } catch (e) {
      throw writeFailure(e, file);
    }
  }

  writeSummary(summary: RunSummary): void {
    writeJsonAtomic(path.join(this.dir, RUN_FILES.summary), summary);
  }

  writeImages(images: unknown): void {
    writeJsonAtomic(path.join(this.dir, RUN_FILES.images), images);
  }

  checkpointPath(name = 'latest.json'): string {
    return path.join(this.dir, RUN_FILES.checkpoints, name);
  }

  close(): void {
    if (this.metricsFd !== undefined) fs.closeSync(this.metricsFd);
    this.metricsFd = undefined;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, toRunJson(value));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeFailure(e, file);
  }
  syncDirectory(path.dirname(file));
}

/** Make a rename durable: the new directory entry reaches the disk only with the directory's own fsync. */
function syncDirectory(dir: string): void {
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

const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** A failed write of a run file: the user's to fix when the disk or its permissions are the cause. */
function writeFailure(e: unknown, file: string): Error {
  const problem = WRITE_PROBLEMS[(e as NodeJS.ErrnoException).code ?? ''];
  if (!problem) return e as Error;
  return new UserError(
    `cannot write ${file}: ${problem}. Everything the run wrote before is kept; make room, then continue it with vae-lens train SPEC --resume ${path.dirname(file)}.`,
    { file },
  );
}

/**
 * A writer killed mid-line leaves a last line without its newline. Readers ignore it, but the
 * next record appended would be glued to it and spoil a line in the middle: cut it off first.
 * Only bytes after the last newline go, and only when they are not a whole record.
 */
export function dropTornTail(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch {
    return; // no metrics yet
  }
  try {
    const size = fs.fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = fs.readSync(fd, chunk, 0, end - start, start);
      const nl = chunk.subarray(0, n).lastIndexOf(10);
      if (nl >= 0) {
        end = start + nl + 1;
        break;
      }
      end = start;
    }
    if (end === size) return;
    // A record is a few kilobytes; a longer tail cannot be one.
    const tail = Buffer.alloc(Math.min(size - end, 1 << 24));
    fs.readSync(fd, tail, 0, tail.length, end);
    if (tail.length === size - end && isJson(tail.toString('utf8')))
      fs.writeSync(fd, '\n', size); // whole record, only its newline missing: keep it
    else fs.ftruncateSync(fd, end);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

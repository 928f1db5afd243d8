/**
 * Writes a run folder (format: core/runFormat.ts). Every metrics record is appended and
 * fsync'ed as soon as it exists, and JSON files are replaced atomically (write every byte,
 * fsync, rename: core/safeWrite.ts), so a crash of the trainer or the editor, or a full disk,
 * loses nothing already reported. One writer at a time (runLock.ts); never through links.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserError, shellWord, shownPath, UserError, type ValueSource } from '../core/errors';
import {
  appendAllSync,
  describeWriteError,
  isSymbolicLink,
  openNoFollow,
  replaceFileAtomic,
  temporaryWriter,
  writeProblem,
  writeRemedy,
} from '../core/safeWrite';
import { isWriterAlive } from '../core/run/liveness';
import { RUN_FILES, toJsonLine, toRunJson, type MetricsRecord, type RunMeta, type RunSummary } from '../core/runFormat';
import { lockTemporaryWriter, RunLock } from './runLock';

const SPEC_RUNS_DIR: ValueSource = { name: 'output.runsDir or --out', location: { field: 'output.runsDir' } };

export class RunWriter {
  private metricsFd: number | undefined;
  /** Reopened for a resume: a writer killed mid-line may have left a torn last record to cut before appending. */
  private tornTailPossible = false;
  /** Reopened for a resume: temporaries of a writer killed mid-write may lie about, removed at the first write. */
  private debrisPossible = false;

  private constructor(
    readonly dir: string,
    private readonly lock: RunLock,
  ) {}

  /**
   * Create `<runsDir>/<name>-<timestamp>` (or `-2`, `-3`... when taken: mkdir without `recursive`
   * fails on an existing folder, so two trainers starting together never share one) and lock it.
   * Fails early and clearly when it cannot be written, naming `from`, what chose the runs folder.
   */
  static create(runsDir: string, name: string, specText: string, now = new Date(), from: ValueSource = SPEC_RUNS_DIR): RunWriter {
    RunWriter.checkRunsDir(runsDir, from);
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'run';
    let dir = path.join(runsDir, `${safe}-${stamp}`);
    let made = false;
    try {
      fs.mkdirSync(runsDir, { recursive: true });
      for (let k = 2; !makeFolder(dir); k++) dir = path.join(runsDir, `${safe}-${stamp}-${k}`);
      made = true;
      const lock = RunLock.acquire(dir);
      fs.mkdirSync(path.join(dir, RUN_FILES.checkpoints));
      probeLongestPath(dir);
      replaceFileAtomic(path.join(dir, RUN_FILES.spec), specText);
      return new RunWriter(dir, lock);
    } catch (e) {
      // A folder this call made and could not fill is nobody's run: do not leave it behind.
      if (made) fs.rmSync(dir, { recursive: true, force: true });
      if (isUserError(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      const problem = writeProblem(e);
      const why = problem ? `${problem} (${code})` : (code ?? (e as Error).message);
      throw new UserError(`cannot write the run folder ${shownPath(dir)}: ${why}. ${folderRemedy(e, from.name)}`, from.location);
    }
  }

  /** A runs folder that is a file cannot hold run folders: said as that, not as the error of a folder made inside it. */
  static checkRunsDir(runsDir: string, from: ValueSource = SPEC_RUNS_DIR): void {
    // The runs folder itself, or the first folder on its path that exists, is what stands there.
    for (let at = path.resolve(runsDir); ; at = path.dirname(at)) {
      let stat;
      try {
        stat = fs.statSync(at, { throwIfNoEntry: false });
      } catch {
        stat = undefined; // ENOTDIR: a file further up; EACCES and the like: left to the write to say
      }
      if (stat?.isDirectory() === false) {
        const what =
          at === path.resolve(runsDir)
            ? `the runs folder ${shownPath(runsDir)} is a file`
            : `the runs folder ${shownPath(runsDir)} cannot be made: ${shownPath(at)} is a file`;
        throw new UserError(`${what}, not a folder; choose a folder with ${from.name}`, from.location);
      }
      if (stat || path.dirname(at) === at) return;
    }
  }

  /** Continue writing an existing run folder (resume); refused while another trainer writes it. */
  static reopen(dir: string): RunWriter {
    if (!fs.existsSync(path.join(dir, RUN_FILES.meta))) throw new UserError(`${shownPath(dir)} is not a run folder (it has no ${RUN_FILES.meta})`);
    const lock = RunLock.acquire(dir);
    try {
      for (const name of [RUN_FILES.metrics, RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.images, RUN_FILES.checkpoints]) refuseLinked(path.join(dir, name));
      refuseLinked(path.join(dir, RUN_FILES.checkpoints, 'latest.json'));
    } catch (e) {
      lock.release();
      throw e;
    }
    // A torn last line is cut before the first append, not here: a resume refused after this (its
    // checkpoint does not fit the model) leaves the folder as it was.
    const writer = new RunWriter(dir, lock);
    writer.tornTailPossible = true;
    writer.debrisPossible = true;
    return writer;
  }

  writeMeta(meta: RunMeta): void {
    this.removeDebris();
    writeJsonAtomic(path.join(this.dir, RUN_FILES.meta), meta);
  }

  /** One whole line, fsync'ed; a write cut short (full disk) is rolled back, so no torn record stays. */
  appendMetrics(record: MetricsRecord): void {
    this.removeDebris();
    const file = path.join(this.dir, RUN_FILES.metrics);
    try {
      if (this.tornTailPossible) {
        dropTornTail(file);
        this.tornTailPossible = false;
      }
      if (this.metricsFd === undefined) this.metricsFd = openNoFollow(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT);
      appendAllSync(this.metricsFd, toJsonLine(record), file);
    } catch (e) {
      throw writeFailure(e, file);
    }
  }

  writeSummary(summary: RunSummary): void {
    this.removeDebris();
    writeJsonAtomic(path.join(this.dir, RUN_FILES.summary), summary);
  }

  writeImages(images: unknown): void {
    this.removeDebris();
    writeJsonAtomic(path.join(this.dir, RUN_FILES.images), images);
  }

  /** Not at reopen: a resume refused after it (its checkpoint does not restore) leaves the folder as it was. */
  private removeDebris(): void {
    if (!this.debrisPossible) return;
    this.debrisPossible = false;
    removeDeadTemporaries(this.dir);
  }

  checkpointPath(name = 'latest.json'): string {
    return path.join(this.dir, RUN_FILES.checkpoints, name);
  }

  close(): void {
    if (this.metricsFd !== undefined) fs.closeSync(this.metricsFd);
    this.metricsFd = undefined;
    this.lock.release();
  }
}

/** What to do about a runs folder the run could not be made in: a folder of a shorter path, on a disk with room, or writable. */
function folderRemedy(e: unknown, chosenBy: string): string {
  const remedy = writeRemedy(e);
  if (remedy === 'move the run folder to a shorter path') return `Choose a runs folder with a shorter path with ${chosenBy}.`;
  if (remedy === 'make room') return `Make room, or choose a folder on another disk with ${chosenBy}.`;
  return `Choose a writable folder with ${chosenBy}.`;
}

/** mkdir that fails on an existing folder: true when this call made it. */
function makeFolder(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * The longest path a run writes is its checkpoint's temporary (safeWrite.replaceFileAtomic adds a
 * pid and a random tag to the name). A runs folder deep enough to leave no room for it would fail
 * at the first checkpoint, after a pass of training: make and remove a file of that length now.
 */
function probeLongestPath(dir: string): void {
  const probe = path.join(dir, RUN_FILES.checkpoints, `latest.json.tmp-${'0'.repeat(7)}-probe0`);
  fs.closeSync(fs.openSync(probe, 'wx'));
  fs.rmSync(probe);
}

/**
 * A writer killed between writing a temporary and renaming it (kill -9, a power cut) leaves the
 * temporary behind. With the lock held, those of processes no longer alive (or whose pid another
 * process has since) are debris; one of a live process (a report being written here) is left alone.
 */
function removeDeadTemporaries(dir: string): void {
  for (const at of [dir, path.join(dir, RUN_FILES.checkpoints)]) {
    let names: string[];
    try {
      names = fs.readdirSync(at);
    } catch {
      continue; // no checkpoints yet
    }
    for (const name of names) {
      // Only temporaries of the files written here (JSON, a report's HTML), not a user's file that looks alike.
      const pid = /\.(json|html)\.tmp-/.test(name) ? temporaryWriter(name) : lockTemporaryWriter(name);
      if (pid === undefined) continue;
      const file = path.join(at, name);
      try {
        const st = fs.lstatSync(file);
        if (st.isFile() && !isWriterAlive({ pid, writtenMs: st.mtimeMs })) fs.rmSync(file, { force: true });
      } catch {
        // Gone meanwhile, or not ours to remove: it stays, as before.
      }
    }
  }
}

/** A run file replaced by a symbolic link would have the resume write wherever it points. */
function refuseLinked(file: string): void {
  if (isSymbolicLink(file))
    throw new UserError(
      `${shownPath(file)} is a symbolic link; a run folder's files are written in place, never through links. Remove the link (or copy the run folder) to resume it.`,
      { file },
    );
}

/**
 * Replace a run file atomically with its JSON (see replaceFileAtomic): the old file stays whole
 * until a complete new one is on disk.
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  let text: string;
  try {
    text = toRunJson(value);
  } catch (e) {
    // V8 cannot build a string past its maximum length: the file cannot exist as one JSON text.
    if (e instanceof RangeError)
      throw new UserError(`cannot write ${shownPath(file)}: its JSON text would be longer than the longest string JavaScript can hold (${e.message})`, {
        file,
      });
    throw e;
  }
  try {
    replaceFileAtomic(file, text);
  } catch (e) {
    throw writeFailure(e, file);
  }
}

/** A failed write of a run file: the user's to fix when the disk or its permissions are the cause. */
function writeFailure(e: unknown, file: string): Error {
  return describeWriteError(
    e,
    file,
    `Everything the run wrote before is kept; ${writeRemedy(e)}, then continue it with vae-lens train SPEC --resume ${shellWord(runFolderOf(file))}.`,
  );
}

/** The run folder of one of its files (checkpoints are one level down). */
function runFolderOf(file: string): string {
  const dir = path.dirname(file);
  return path.basename(dir) === RUN_FILES.checkpoints ? path.dirname(dir) : dir;
}

/**
 * A writer killed mid-line leaves a last line without its newline. Readers ignore it, but the
 * next record appended would be glued to it and spoil a line in the middle: cut it off first.
 * Only bytes after the last newline go, and only when they are not a whole record.
 */
export function dropTornTail(file: string): void {
  let fd: number;
  try {
    fd = openNoFollow(file, fs.constants.O_RDWR);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // no metrics yet
    throw writeFailure(e, file);
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

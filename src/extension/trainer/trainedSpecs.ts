/**
 * Where the spec file of each trainer is now. A trainer starts for a path; while it trains the user may
 * rename or move the file (the explorer, `mv`, `git mv`), and tools may write it anew (an editor's safe
 * save writes a temporary file and renames it over; a checkout of a rename deletes one file and creates
 * another). The spec is the same to the user throughout, so Stop and Train must find its trainer.
 *
 * Lookups touch no disk: every progress event asks which spec a trainer is (the status bar, the CodeLens),
 * and a look per event would stat on the editor's thread. The files are looked at when a trainer starts
 * and when the file system reports a change, and each trainer's path follows its file. At another path,
 * the same spec is:
 *  - the path the editor reports it renamed to (explorer, refactorings);
 *  - a file that appears while the spec's own file is gone, with the bytes that file last had (taken
 *    again each time it is written): what `mv`, `git mv`, a moved folder and a checkout of a rename all
 *    keep. The device and inode do not do: a safe save or a checkout gives a new one, and a deleted
 *    spec's number is handed to the next new file at once.
 * A copy made while the spec's file is still there is another spec, even with the same text. A command
 * given before the file events came (Stop at once after a `mv` in a terminal) looks on disk, and takes
 * the same file only: its device and inode as well as its bytes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isWithin } from '../../core/confinement';
import { samePathKeys } from '../../core/run/paths';
import { MAX_SPEC_BYTES } from '../../core/spec';

interface FileIdentity {
  dev: number;
  ino: number;
}

interface FileLook {
  identity?: FileIdentity;
  /** The bytes' hash; none for a file larger than any spec. */
  digest?: string;
}

interface SpecFile extends FileLook {
  path: string;
  spelt: string;
  real: string;
}

/** Folders above a spec that a folder created elsewhere may be the moved copy of. */
const MAX_FOLDER_DEPTH = 8;
/** Real paths of looked-up paths kept between file events (a few specs are in sight at a time). */
const MAX_REAL_PATHS = 256;

function look(file: string): FileLook {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return {};
    const identity = { dev: st.dev, ino: st.ino };
    if (st.size > MAX_SPEC_BYTES) return { identity };
    return { identity, digest: createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
  } catch {
    return {};
  }
}

/** Whether a file is there: asked of every spec at each file created in the workspace, so no read. */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const sameIdentity = (a: FileIdentity | undefined, b: FileIdentity | undefined): boolean =>
  a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

export class TrainedSpecs<K> {
  private readonly specs = new Map<K, SpecFile>();
  private readonly realPaths = new Map<string, string>();

  /** `key` trains the spec at `specPath`: its file is looked at now. */
  add(key: K, specPath: string): void {
    this.specs.set(key, { ...this.at(specPath), ...look(specPath) });
  }

  delete(key: K): void {
    this.specs.delete(key);
  }

  keys(): K[] {
    return [...this.specs.keys()];
  }

  get size(): number {
    return this.specs.size;
  }

  /** Where `key`'s spec is now. */
  pathOf(key: K): string | undefined {
    return this.specs.get(key)?.path;
  }

  /** Whose spec is at `specPath` (its spelling, or with links resolved), from what is known: no disk. */
  find(specPath: string): K | undefined {
    const spelt = samePathKeys.spelt(specPath);
    for (const [k, s] of this.specs) if (s.spelt === spelt) return k;
    const real = this.realOf(specPath);
    for (const [k, s] of this.specs) if (s.real === real) return k;
    return undefined;
  }

  /**
   * As find, and when no spec is known there, a look on disk: is the file there a trainer's spec moved
   * without an event yet (a command given at once after a rename in a terminal)?
   */
  findOnDisk(specPath: string): K | undefined {
    const known = this.find(specPath);
    if (known !== undefined) return known;
    this.created(specPath, true);
    return this.find(specPath);
  }

  /** The editor renamed or moved `from` (a spec, or a folder holding specs) to `to`. */
  renamed(from: string, to: string): void {
    this.realPaths.clear();
    for (const s of this.specs.values()) if (isWithin(from, s.path)) this.moveTo(s, path.join(to, path.relative(from, s.path)));
  }

  /** `file` was written: where it is a spec's file, its identity is what is there now. */
  changed(file: string): void {
    const spelt = samePathKeys.spelt(file);
    for (const s of this.specs.values()) if (s.spelt === spelt) this.refresh(s);
  }

  /** `file` (or a folder) was deleted: the real paths known may have changed. Where a spec went is told by what appears. */
  deleted(): void {
    this.realPaths.clear();
  }

  /**
   * `file` (or a folder) appeared: is it, or a spec file under it, a trainer's spec whose own file is gone?
   * `sameFile`: only the very file (a look without the events that say in which order files came and went).
   */
  created(file: string, sameFile = false): void {
    this.realPaths.clear();
    // A safe save may be reported as its file created anew.
    this.changed(file);
    for (const s of this.specs.values()) {
      if (s.digest === undefined || isFile(s.path)) continue;
      for (const candidate of candidates(file, s.path)) {
        const there = look(candidate);
        if (there.digest === s.digest && (!sameFile || sameIdentity(there.identity, s.identity))) {
          this.moveTo(s, candidate, there);
          break;
        }
      }
    }
  }

  private moveTo(s: SpecFile, to: string, seen: FileLook = look(to)): void {
    Object.assign(s, this.at(to));
    // A file not (yet) there keeps the identity it had: a later event says what is there.
    if (seen.identity) Object.assign(s, { identity: seen.identity, digest: seen.digest });
  }

  private refresh(s: SpecFile): void {
    const seen = look(s.path);
    if (seen.identity) Object.assign(s, { identity: seen.identity, digest: seen.digest });
  }

  private at(specPath: string): Pick<SpecFile, 'path' | 'spelt' | 'real'> {
    return { path: specPath, spelt: samePathKeys.spelt(specPath), real: samePathKeys.real(specPath) };
  }

  private realOf(p: string): string {
    let real = this.realPaths.get(p);
    if (real === undefined) {
      if (this.realPaths.size >= MAX_REAL_PATHS) this.realPaths.clear();
      this.realPaths.set(p, (real = samePathKeys.real(p)));
    }
    return real;
  }
}

/** `file` itself, and where the spec would be if `file` were one of the folders above it moved. */
function candidates(file: string, specPath: string): string[] {
  const out = [file];
  let folder = path.dirname(specPath);
  for (let depth = 0; depth < MAX_FOLDER_DEPTH && path.dirname(folder) !== folder; depth++, folder = path.dirname(folder))
    out.push(path.join(file, path.relative(folder, specPath)));
  return out;
}

/** Which runs belong to which spec: path comparison, runs of moved and renamed specs, and ordering. Node only. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { realPathOf } from '../confinement';
import { readRegularFile } from '../safeRead';
import { MAX_SPEC_BYTES } from '../spec';
import { specChangedSince } from '../specChange';
import type { RunOverview } from './read';

/**
 * Same file? Resolved, and case-insensitive where the file system usually is; two spellings that
 * differ are compared again with their links resolved (a symlinked workspace folder, a linked spec),
 * so one spec opened by either path has the same runs and at most one trainer.
 */
export function samePath(a: string, b: string): boolean {
  return normPath(a) === normPath(b) || normPath(realPathOf(a)) === normPath(realPathOf(b));
}

function normPath(p: string): string {
  const r = path.resolve(p);
  return process.platform === 'win32' || process.platform === 'darwin' ? r.toLowerCase() : r;
}

/**
 * What samePath compares, for one path: its spelling, and (a look on disk) its real path, normalized. Two
 * paths with a key in common are the same file: lists are made unique with one look per path, not per pair.
 */
export const samePathKeys = {
  spelt: normPath,
  real: (p: string): string => normPath(realPathOf(p)),
};

/**
 * Runs of one spec, newest first. Several specs may share a runs folder; run.json says whose a run is.
 * A run.json written before the workspace was moved, cloned (from another machine, Windows too) or
 * renamed names a spec that is not there any more: such a run is this spec's when this spec is where
 * that one would be had it moved with its runs folder (the one run.json records), or, for a spec renamed beside its runs, when this
 * is the one spec there that trained the run's group's last run (`specText`, the spec's text now).
 * A run whose named spec still exists stays that spec's. What is looked up on disk goes through `disk`
 * (the run index keeps its answers until a spec changes), never blocking the thread.
 */
export async function runsOfSpec(runs: readonly RunOverview[], specPath: string, specText?: string, disk: SpecLookup = diskSpecLookup): Promise<RunOverview[]> {
  // Many runs name the same few specs: each spelling is compared (links resolved), and looked for, once.
  const seen = new Map<string, boolean>();
  const found = new Map<string, Promise<boolean>>();
  const resolved = (named: string) => (path.isAbsolute(named) ? named : path.resolve(path.dirname(specPath), named));
  const isThisSpec = (named: string) => {
    const p = resolved(named);
    let same = seen.get(p);
    if (same === undefined) seen.set(p, (same = samePath(p, specPath)));
    return same;
  };
  const exists = (named: string) => {
    const p = resolved(named);
    let is = found.get(p);
    if (is === undefined) found.set(p, (is = disk.isFile(p)));
    return is;
  };
  const mine: RunOverview[] = [];
  const orphans = new Map<string, RunOverview[]>();
  for (const r of runs) {
    if (r.meta === undefined) continue;
    if (isThisSpec(r.meta.specPath)) {
      mine.push(r);
      continue;
    }
    if (await exists(r.meta.specPath)) continue;
    const moved = movedSpecPath(r, r.meta.specPath);
    if (moved === undefined) continue;
    if (isThisSpec(moved)) mine.push(r);
    else if (!(await exists(moved))) {
      const group = orphans.get(moved);
      if (group) group.push(r);
      else orphans.set(moved, [r]);
    }
  }
  if (specText !== undefined)
    for (const [gone, group] of orphans)
      if (samePath(path.dirname(gone), path.dirname(specPath)) && (await trainedLastBySpecAlone(group, specPath, specText, disk))) mine.push(...group);
  return mine.sort(newestFirst);
}

/**
 * The spec file a run came from, for Retrain: the one its run.json names, or, when that names no file
 * here (a moved or cloned workspace), the one standing where it would be had it moved with its runs
 * folder. Undefined when run.json names none.
 */
export function specPathOfRun(run: Pick<RunOverview, 'runDir' | 'meta' | 'specText'>): string | undefined {
  const named = run.meta?.specPath;
  if (named === undefined || isFile(named)) return named;
  const moved = movedSpecPath(run, named);
  return moved !== undefined && isFile(moved) ? moved : named;
}

/**
 * Where the spec a run.json names is now if it moved with the run's runs folder: its place relative to the
 * runs folder it wrote to, taken from the run's runs folder now. That folder is the one run.json records
 * (`runsDir`); a run from before it was recorded is taken to have been written where its snapshot says
 * (output.runsDir, else .vae-lens/runs beside the spec) when its runs folder now has that folder's name,
 * and otherwise (the setting, --out) its spec is not guessed. A runs folder that did not move (an absolute
 * one outside the workspace) leads back to the path named, which is not there.
 */
function movedSpecPath(run: Pick<RunOverview, 'runDir' | 'meta' | 'specText'>, named: string): string | undefined {
  const flavor = isWindowsPath(named) ? path.win32 : path.posix;
  if (!flavor.isAbsolute(named)) return undefined;
  const runsNow = path.dirname(run.runDir);
  const recorded = run.meta?.runsDir;
  let wrote: string;
  if (recorded !== undefined) {
    if (isWindowsPath(recorded) !== isWindowsPath(named) || !flavor.isAbsolute(recorded)) return undefined;
    wrote = recorded;
  } else {
    const runsDir = run.specText === undefined ? undefined : runsDirOf(run.specText);
    if (runsDir === null) return undefined;
    const given = runsDir === undefined ? '.vae-lens/runs' : runsDir.replace(/[\\/]/g, flavor.sep);
    const absolute = flavor.isAbsolute(given) || isWindowsPath(given);
    wrote = absolute ? given : flavor.join(flavor.dirname(named), given);
    // The folders it names below the spec's (.vae-lens/runs, out; the last one of ../runs or an absolute path).
    const parts = flavor
      .normalize(given)
      .split(flavor.sep)
      .filter((p) => p !== '' && p !== '.');
    const tail = absolute ? parts.slice(-1) : parts.slice(parts.lastIndexOf('..') + 1);
    const nowParts = path.resolve(runsNow).split(path.sep).slice(-tail.length);
    if (nowParts.length < tail.length || !tail.every((name, i) => sameName(name, nowParts[i] ?? ''))) return undefined;
  }
  const relative = flavor.relative(wrote, named).split(flavor.sep);
  return path.resolve(runsNow, ...relative);
}

function sameName(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** A snapshot's output.runsDir: undefined when it has none, null when the snapshot is not readable JSON. */
function runsDirOf(snapshot: string): string | undefined | null {
  const errors: ParseError[] = [];
  const spec: unknown = parse(snapshot, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || typeof spec !== 'object' || spec === null) return null;
  const output = (spec as { output?: unknown }).output;
  const runsDir = typeof output === 'object' && output !== null ? (output as { runsDir?: unknown }).runsDir : undefined;
  return typeof runsDir === 'string' && runsDir !== '' ? runsDir : undefined;
}

/**
 * A spec renamed beside its runs: the newest run of the group that names the gone spec trained this
 * spec's text, and no other spec in its folder has that text (a copy would make the runs two specs').
 */
async function trainedLastBySpecAlone(group: readonly RunOverview[], specPath: string, specText: string, disk: SpecLookup): Promise<boolean> {
  const last = [...group].sort(newestFirst)[0]?.specText;
  if (last === undefined || specChangedSince(specText, last)) return false;
  const beside = await disk.specsIn(path.dirname(specPath));
  if (beside === undefined) return false;
  return !beside.some((other) => !samePath(other.path, specPath) && other.text !== undefined && !specChangedSince(other.text, last));
}

/** What runsOfSpec reads from disk. */
export interface SpecLookup {
  /** Whether a regular file is at `p`. */
  isFile(p: string): Promise<boolean>;
  /** The *.vae.json files in `dir` with their texts (undefined: unreadable); undefined when `dir` cannot be listed. */
  specsIn(dir: string): Promise<{ path: string; text: string | undefined }[] | undefined>;
}

/** Every look-up read from disk again. */
export const diskSpecLookup: SpecLookup = {
  isFile: (p) =>
    fs.promises.stat(p).then(
      (s) => s.isFile(),
      () => false,
    ),
  specsIn: async (dir) => {
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch {
      return undefined;
    }
    const specs = names.filter((n) => n.endsWith('.vae.json')).map((n) => path.join(dir, n));
    return Promise.all(
      specs.map(async (p) => {
        const read = await readRegularFile(p, MAX_SPEC_BYTES);
        return { path: p, text: read.ok ? read.text : undefined };
      }),
    );
  },
};

/** Look-ups kept until `clear` (a spec created, changed or deleted); a failed one is not kept. */
export class CachedSpecLookup implements SpecLookup {
  private readonly files = new Map<string, Promise<boolean>>();
  private readonly folders = new Map<string, Promise<{ path: string; text: string | undefined }[] | undefined>>();

  constructor(private readonly disk: SpecLookup = diskSpecLookup) {}

  isFile(p: string): Promise<boolean> {
    const key = path.resolve(p);
    let found = this.files.get(key);
    if (!found) this.files.set(key, (found = this.disk.isFile(p)));
    return found;
  }

  specsIn(dir: string): Promise<{ path: string; text: string | undefined }[] | undefined> {
    const key = path.resolve(dir);
    let found = this.folders.get(key);
    if (!found) {
      const p = this.disk.specsIn(dir);
      this.folders.set(key, (found = p));
      void p.then((specs) => specs === undefined && this.folders.get(key) === p && this.folders.delete(key));
    }
    return found;
  }

  clear(): void {
    this.files.clear();
    this.folders.clear();
  }
}

function isWindowsPath(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function newestFirst(a: RunOverview, b: RunOverview): number {
  return b.startedMs - a.startedMs || b.runDir.localeCompare(a.runDir);
}

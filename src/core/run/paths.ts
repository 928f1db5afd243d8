/** Which runs belong to which spec: path comparison, runs of moved and renamed specs, and ordering. Node only. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { realPathOf } from '../confinement';
import { readRegularFileSync } from '../safeRead';
import { MAX_SPEC_BYTES } from '../spec';
import { specChangedSince } from '../specChange';
import type { RunOverview } from './read';

/**
 * Same file? Resolved, and case-insensitive where the file system usually is; two spellings that
 * differ are compared again with their links resolved (a symlinked workspace folder, a linked spec),
 * so one spec opened by either path has the same runs and at most one trainer.
 */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string) => {
    const r = path.resolve(p);
    return process.platform === 'win32' || process.platform === 'darwin' ? r.toLowerCase() : r;
  };
  return norm(a) === norm(b) || norm(realPathOf(a)) === norm(realPathOf(b));
}

/**
 * Runs of one spec, newest first. Several specs may share a runs folder; run.json says whose a run is.
 * A run.json written before the workspace was moved, cloned (from another machine, Windows too) or
 * renamed names a spec that is not there any more: such a run is this spec's when this spec is where
 * that one would be had it moved with its runs folder, or, for a spec renamed beside its runs, when this
 * is the one spec there that trained the run's group's last run (`specText`, the spec's text now).
 * A run whose named spec still exists stays that spec's.
 */
export function runsOfSpec(runs: readonly RunOverview[], specPath: string, specText?: string): RunOverview[] {
  // Many runs name the same few specs: each spelling is compared (links resolved), and looked for, once.
  const seen = new Map<string, boolean>();
  const found = new Map<string, boolean>();
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
    if (is === undefined) found.set(p, (is = isFile(p)));
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
    if (exists(r.meta.specPath)) continue;
    const moved = movedSpecPath(r.runDir, r.meta.specPath, r.specText);
    if (moved === undefined) continue;
    if (isThisSpec(moved)) mine.push(r);
    else if (!exists(moved)) {
      const group = orphans.get(moved);
      if (group) group.push(r);
      else orphans.set(moved, [r]);
    }
  }
  if (specText !== undefined)
    for (const [gone, group] of orphans)
      if (samePath(path.dirname(gone), path.dirname(specPath)) && trainedLastBySpecAlone(group, specPath, specText)) mine.push(...group);
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
  const moved = movedSpecPath(run.runDir, named, run.specText);
  return moved !== undefined && isFile(moved) ? moved : named;
}

/**
 * Where the spec a run.json names is now if it moved with the run's runs folder: its place relative to the
 * runs folder it wrote to (its snapshot's output.runsDir, else .vae-lens/runs beside it), taken from the
 * run's runs folder now. Undefined when the runs folder was given as an absolute path (it did not move
 * with the spec) or the snapshot does not say where it was.
 */
function movedSpecPath(runDir: string, named: string, snapshot: string | undefined): string | undefined {
  const flavor = isWindowsPath(named) ? path.win32 : path.posix;
  if (!flavor.isAbsolute(named)) return undefined;
  const runsDir = snapshot === undefined ? undefined : runsDirOf(snapshot);
  if (runsDir === null || (runsDir !== undefined && (flavor.isAbsolute(runsDir) || isWindowsPath(runsDir)))) return undefined;
  const wrote = flavor.join(flavor.dirname(named), runsDir === undefined ? '.vae-lens/runs' : runsDir.replace(/[\\/]/g, flavor.sep));
  const relative = flavor.relative(wrote, named).split(flavor.sep);
  return path.resolve(path.dirname(runDir), ...relative);
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
function trainedLastBySpecAlone(group: readonly RunOverview[], specPath: string, specText: string): boolean {
  const last = [...group].sort(newestFirst)[0]?.specText;
  if (last === undefined || specChangedSince(specText, last)) return false;
  const dir = path.dirname(specPath);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return false;
  }
  return !names.some((n) => {
    const other = path.join(dir, n);
    if (!n.endsWith('.vae.json') || samePath(other, specPath)) return false;
    const text = readRegularFileSync(other, MAX_SPEC_BYTES);
    return text.ok && !specChangedSince(text.text, last);
  });
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

/** Which runs belong to which spec: path comparison and ordering. Node only. */
import * as path from 'node:path';
import { realPathOf } from '../confinement';
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

/** Runs of one spec, newest first. Several specs may share a runs folder; run.json says whose a run is. */
export function runsOfSpec(runs: readonly RunOverview[], specPath: string): RunOverview[] {
  // Many runs name the same few specs: each spelling is compared (links resolved) once.
  const seen = new Map<string, boolean>();
  const isThisSpec = (named: string) => {
    const p = path.isAbsolute(named) ? named : path.resolve(path.dirname(specPath), named);
    let same = seen.get(p);
    if (same === undefined) seen.set(p, (same = samePath(p, specPath)));
    return same;
  };
  return runs.filter((r) => r.meta !== undefined && isThisSpec(r.meta.specPath)).sort(newestFirst);
}

export function newestFirst(a: RunOverview, b: RunOverview): number {
  return b.startedMs - a.startedMs || b.runDir.localeCompare(a.runDir);
}

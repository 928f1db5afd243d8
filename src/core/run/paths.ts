/** Which runs belong to which spec: path comparison and ordering. Node only. */
import * as path from 'node:path';
import type { RunOverview } from './read';

/** Same file? Resolved, and case-insensitive where the file system usually is. */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string) => {
    const r = path.resolve(p);
    return process.platform === 'win32' || process.platform === 'darwin' ? r.toLowerCase() : r;
  };
  return norm(a) === norm(b);
}

/** Runs of one spec, newest first. Several specs may share a runs folder; run.json says whose a run is. */
export function runsOfSpec(runs: readonly RunOverview[], specPath: string): RunOverview[] {
  return runs
    .filter(
      (r) =>
        r.meta !== undefined && samePath(path.isAbsolute(r.meta.specPath) ? r.meta.specPath : path.resolve(path.dirname(specPath), r.meta.specPath), specPath),
    )
    .sort(newestFirst);
}

export function newestFirst(a: RunOverview, b: RunOverview): number {
  return b.startedMs - a.startedMs || b.runDir.localeCompare(a.runDir);
}

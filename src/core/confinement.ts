/**
 * What lies inside the workspace. Paths are compared after resolving links (of the longest part
 * that exists), and by path components: `..x.csv` is a file in the folder, `../x.csv` is not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The real path of `p`, resolving links in the longest existing prefix (the rest may not exist yet). */
export function realPathOf(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

/** Is `child` (already real) `root` itself or below it? By components, never by string prefix. */
export function isWithin(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Is `p` inside one of the workspace folders, links resolved? */
export function isInsideRoots(p: string, roots: readonly string[]): boolean {
  const real = realPathOf(p);
  return roots.some((root) => isWithin(realPathOf(root), real));
}

/**
 * Why Retrain should not simply train the spec a run's run.json names, or undefined when it may:
 * run.json is the run folder's to say, and a planted one could name any file on disk.
 */
export function retrainProblem(
  specPath: unknown,
  runDir: string,
  roots: readonly string[],
  runsDirsOf: (specPath: string) => readonly string[],
): string | undefined {
  if (typeof specPath !== 'string' || specPath === '') return 'its run.json names no spec';
  if (!path.isAbsolute(specPath)) return `its run.json names the spec by a relative path (${specPath})`;
  if (!/\.vae\.json$/i.test(specPath)) return `its run.json names ${specPath}, which is not a *.vae.json spec`;
  // No folder open (a lone spec): there is no workspace to be outside of, as for Train VAE; the checks below still tie the run to its spec.
  if (roots.length > 0 && !isInsideRoots(specPath, roots)) return `its spec ${specPath} is outside the workspace`;
  let st: fs.Stats;
  try {
    st = fs.statSync(specPath);
  } catch {
    return `its spec ${specPath} no longer exists`;
  }
  if (!st.isFile()) return `its spec ${specPath} is not a file`;
  const home = realPathOf(path.dirname(runDir));
  if (!runsDirsOf(specPath).some((d) => realPathOf(d) === home)) return `the run is not in the runs folder of ${specPath}`;
  return undefined;
}

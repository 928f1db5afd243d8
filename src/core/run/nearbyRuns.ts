/**
 * What a user likely meant by a path that is not a run folder: the runs folder, the spec's folder or
 * the spec itself, each of which leads to run folders. Read synchronously, for the CLI's refusals.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSpecDocument } from '../spec';
import { runsDirFor } from '../specParts/outputPaths';
import { shownPath } from '../errors';
import { RUN_FILES } from '../runFormat';
import { readRegularFileSync } from '../safeRead';
import { READ_LIMITS } from './files';

/** The runs folders `given` leads to: itself, a folder's default runs folder, a spec's runs folder. */
function runsFoldersOf(given: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(given);
  } catch {
    return [];
  }
  // A folder: itself, and the runs folder a spec in it would have by default.
  if (stat.isDirectory()) return [given, runsDirFor({ output: {} }, path.join(given, 'spec.vae.json'))];
  if (!stat.isFile() || !given.endsWith('.vae.json')) return [];
  const read = readRegularFileSync(given, READ_LIMITS.small);
  let output: { runsDir?: string } = {};
  try {
    if (read.ok) output = parseSpecDocument(read.text, given).parsed.spec.output;
  } catch {
    // A spec that does not parse still has the default runs folder.
  }
  return [runsDirFor({ output }, given)];
}

/** When a run began, for ordering: run.json's startedAt where it is a time, else when run.json was written. */
function startedMs(runDir: string): number {
  const file = path.join(runDir, RUN_FILES.meta);
  const read = readRegularFileSync(file, READ_LIMITS.small);
  if (!read.ok) return -Infinity;
  try {
    const startedAt: unknown = (JSON.parse(read.text) as { startedAt?: unknown }).startedAt;
    const ms = typeof startedAt === 'string' ? Date.parse(startedAt) : NaN;
    if (Number.isFinite(ms)) return ms;
  } catch {
    // Not JSON: the file's time below.
  }
  return fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -Infinity;
}

function runFoldersIn(runsDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir);
  } catch {
    return [];
  }
  return names.map((n) => path.join(runsDir, n)).filter((d) => fs.existsSync(path.join(d, RUN_FILES.meta)));
}

/**
 * A sentence to append to "X is not a run folder": how many run folders X leads to and the newest,
 * to name instead; '' where it leads to none.
 */
export function nearbyRunsHint(given: string): string {
  for (const runsDir of runsFoldersOf(given)) {
    const runs = runFoldersIn(runsDir)
      .map((dir) => ({ dir, at: startedMs(dir) }))
      .sort((a, b) => b.at - a.at);
    if (runs.length === 0) continue;
    const where = path.resolve(runsDir) === path.resolve(given) ? 'it' : shownPath(runsDir);
    const newest = shownPath(runs[0]!.dir);
    if (runs.length === 1) return `; ${where} holds one run folder: name it, ${newest}`;
    return `; ${where} holds ${runs.length} run folders: name one, such as the newest, ${newest}`;
  }
  return '';
}

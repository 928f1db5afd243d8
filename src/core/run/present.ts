/**
 * Whether a run listed a moment ago (the runs view, a quick pick, the panel) can still be acted on: its
 * folder may have been deleted, renamed or moved since, and its run.json deleted or edited by hand.
 * Node only, no vscode import.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES } from '../runFormat';
import { readJson, type Problems } from './files';
import { runMetaOf } from './read';

/** Said of a run folder no longer there. */
export const folderGone = (runDir: string): string => `the run folder ${runDir} no longer exists (deleted, renamed or moved since it was listed)`;

/** What is wrong with the run folder and its run.json, naming the file and where in it; undefined when both are there and usable. */
export async function runFolderProblem(runDir: string): Promise<string | undefined> {
  const folder = await fsp.stat(runDir).then(
    (s) => s,
    () => undefined,
  );
  if (folder === undefined) return folderGone(runDir);
  if (!folder.isDirectory()) return `${runDir} is no longer a run folder: it is not a folder`;
  const metaFile = path.join(runDir, RUN_FILES.meta);
  const problems: Problems = [];
  const raw = await readJson(metaFile, undefined, problems);
  if (raw === undefined && problems.length === 0) return `${metaFile} no longer exists (deleted or renamed since the run was listed)`;
  if (runMetaOf(raw, metaFile, problems) !== undefined) return undefined;
  return `${metaFile}: ${problems[0]?.message ?? `${RUN_FILES.meta} could not be used`}`;
}

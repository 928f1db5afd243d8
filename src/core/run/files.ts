/**
 * Reading a run folder's files (see runFormat.ts) safely: never blocking on a FIFO, never past a size
 * limit, and shape checks for what was read. Node only, no vscode import.
 */
import { constants as fsConstants, existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { imageGeometry } from '../imageGeometry';
import type { ImagesEvent } from '../protocol';
import { metricsParser, parseRunJson, RUN_FILES, type ParsedMetrics, type RunMeta } from '../runFormat';
import { jsonSyntaxProblem } from '../specParts/jsonc';
import { readRegularFile } from '../safeRead';
import { inSlices } from './slices';

export type RunImages = Omit<ImagesEvent, 'type'>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read limits: run.json, summary.json and the spec are small; images and metrics grow with the run. */
export const READ_LIMITS = {
  small: 1 << 20,
  images: 64 << 20,
  metrics: 512 << 20,
} as const;

export type Problems = { file: string; message: string }[];

/**
 * A run file's text, or undefined (a missing file is normal; anything else is noted in
 * `problems` when given). Never blocks on a FIFO, never reads past `limit`.
 */
export async function readText(file: string, limit: number = READ_LIMITS.small, problems?: Problems): Promise<string | undefined> {
  const r = await readRegularFile(file, limit);
  if (r.ok) return r.text;
  if (r.reason !== 'missing') problems?.push({ file, message: `${path.basename(file)} was not read: ${r.detail}` });
  return undefined;
}

/**
 * parseMetricsJsonl for readers on the editor's thread: a metrics.jsonl of tens of megabytes takes
 * seconds to parse, and the editor would freeze meanwhile.
 */
export function parseMetricsYielding(text: string): Promise<ParsedMetrics> {
  return inSlices(metricsParser(text));
}

export async function readJson(file: string, limit?: number, problems?: Problems): Promise<unknown> {
  const text = await readText(file, limit, problems);
  if (text === undefined) return undefined;
  const read = readRunJson(text);
  if ('value' in read) return read.value;
  problems?.push({ file, message: `${path.basename(file)} is not valid JSON (${read.problem})` });
  return undefined;
}

/** A run's JSON file as readers take it (parseRunJson), or where it stops being JSON. */
export function readRunJson(text: string): { value: unknown } | { problem: string } {
  const value = parseRunJson(text);
  if (value !== undefined) return { value };
  return { problem: jsonSyntaxProblem(text) ?? 'not JSON' };
}

export function isRunMeta(v: unknown): v is RunMeta {
  return isObj(v) && typeof v.name === 'string' && typeof v.specPath === 'string' && typeof v.startedAt === 'string';
}

/** A summary.json this version can use: the status is what a reader must have (runSummaryOf reads the rest). */
export function hasRunStatus(v: unknown): v is Record<string, unknown> & { status: string } {
  return isObj(v) && typeof v.status === 'string';
}

/** images.json as the panel draws it (its known fields only), or why it is not shown. */
export function runImagesOf(v: unknown): { images: RunImages; problem?: undefined } | { images?: undefined; problem: string } {
  if (!isObj(v)) return { problem: 'it is not a JSON object' };
  // The geometry first: a shape claiming too many pixels is refused without a look at the numbers.
  const { geometry, problem } = imageGeometry(v.shape, v.layout);
  if (!geometry) return { problem };
  for (const name of IMAGE_GRIDS) {
    const grid = v[name];
    if (!Array.isArray(grid)) return { problem: `"${name}" is not a list of images` };
    if (grid.length > MAX_IMAGES_PER_GRID) return { problem: `"${name}" holds ${grid.length} images, more than the ${MAX_IMAGES_PER_GRID} shown` };
    const bad = grid.findIndex((img) => !Array.isArray(img) || img.length !== geometry.values || !img.every((x) => typeof x === 'number' || x === null));
    if (bad >= 0) {
      const img: unknown = grid[bad];
      const what =
        Array.isArray(img) && img.length === geometry.values ? 'has a value that is not a number' : `is not the ${geometry.values} numbers of one image`;
      return { problem: `${name}[${bad}] ${what} (shape [${(v.shape as number[]).join(', ')}])` };
    }
  }
  const { shape, layout } = v as RunImages;
  // A null stands for a value that was not finite (JSON has no NaN): drawn as 0, as toRgba draws one.
  const grid = (name: (typeof IMAGE_GRIDS)[number]) => {
    const images = v[name] as (number | null)[][];
    return images.some((img) => img.includes(null)) ? images.map((img) => img.map((x) => x ?? 0)) : (images as number[][]);
  };
  return {
    images: {
      shape,
      ...(layout === undefined ? {} : { layout }),
      originals: grid('originals'),
      reconstructions: grid('reconstructions'),
      samples: grid('samples'),
    },
  };
}

const IMAGE_GRIDS = ['originals', 'reconstructions', 'samples'] as const;

/** Both writers write 8 of each; a few more are tolerated, thousands are not images to show. */
export const MAX_IMAGES_PER_GRID = 64;

/** Open for reading without blocking (a FIFO would wait for a writer forever); undefined unless a regular file. */
export async function openRegular(file: string): Promise<fsp.FileHandle | undefined> {
  const handle = await fsp.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return undefined;
}

/**
 * Run folders (those with a run.json) directly inside `runsDir`, also where the entry is a link to
 * a folder (a run kept on another disk); the files in it are read as any run's are.
 */
export async function listRunDirs(runsDir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const isFolder = async (e: import('node:fs').Dirent) =>
    e.isDirectory() ||
    (e.isSymbolicLink() &&
      (await fsp.stat(path.join(runsDir, e.name)).then(
        (s) => s.isDirectory(),
        () => false,
      )));
  const checks = await Promise.all(
    entries.map(async (e) => {
      const dir = path.join(runsDir, e.name);
      return (await isFolder(e)) && (await fileExists(path.join(dir, RUN_FILES.meta))) ? dir : undefined;
    }),
  );
  return checks.filter((d): d is string => d !== undefined);
}

/**
 * What tells a rewrite of a run's run.json and summary.json, as one string ("" for a file not there):
 * the modification time, and the size and inode too, for a file system that keeps times in whole
 * seconds (a summary rewritten in the second the index read it has the same time; both writers
 * replace these files by renaming a new one over them, which gives another inode).
 */
export async function runFilesStamp(runDir: string): Promise<string> {
  const times = await Promise.all(
    [RUN_FILES.meta, RUN_FILES.summary].map((f) =>
      fsp.stat(path.join(runDir, f)).then(
        (s) => `${s.mtimeMs}:${s.size}:${s.ino}`,
        () => '',
      ),
    ),
  );
  return times.join('/');
}

/**
 * The state of a run's metrics.jsonl as its size, time and inode say it: another stamp means the
 * file grew, was rewritten or replaced. Empty when there is no file.
 */
export function metricsStamp(runDir: string): Promise<string> {
  return fsp.stat(path.join(runDir, RUN_FILES.metrics)).then(stampOfStats, () => '');
}

/** metricsStamp of a file already opened. */
export const stampOfStats = (s: { size: number; mtimeMs: number; ino: number }): string => `${s.size}:${s.mtimeMs}:${s.ino}`;

/** The size and inode a stamp of metricsStamp holds; undefined for a file that was not there. */
export function stampedFile(stamp: string): { size: number; ino: number } | undefined {
  const [size, , ino] = stamp.split(':').map(Number);
  return size === undefined || ino === undefined || !Number.isFinite(size) || !Number.isFinite(ino) ? undefined : { size, ino };
}

/** A stamp of a run folder with neither run.json nor summary.json: deleted, moved, or not written yet. */
export function isEmptyRunStamp(stamp: string): boolean {
  return stamp.split('/').every((t) => t === '');
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * A run folder's copy of the spec, not a spec of the user's: one stat, and only for a file named as a
 * snapshot is (a command's argument or an open document needs the answer at once).
 */
export function isRunSnapshot(specPath: string): boolean {
  return path.basename(specPath) === RUN_FILES.spec && existsSync(path.join(path.dirname(specPath), RUN_FILES.meta));
}

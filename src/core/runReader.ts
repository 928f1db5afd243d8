/**
 * Reading run folders (see runFormat.ts) for the viewers: the editor and the CLI report. Node only, no
 * vscode import. Cheap reads for the status bar (run.json,
 * summary.json, the tail of metrics.jsonl) are kept apart from the full read the panel needs.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MAX_IMAGE_PIXELS } from './allocation';
import { judgeConvergence, type ConvergenceState } from './convergence';
import type { PanelRun } from './panelProtocol';
import type { ImagesEvent } from './protocol';
import { checkMetricsRecord, parseMetricsJsonl, RUN_FILES, type MetricsRecord, type RunMeta, type RunStatus, type RunSummary } from './runFormat';
import { readRegularFile } from './safeRead';
import { parseSpecDocument } from './spec';
import { SPEC_DEFAULTS } from './defaults';
import { MODEL_TYPE_INFO, MODEL_TYPES, type ModelType } from './modelTypes';

export type RunImages = Omit<ImagesEvent, 'type'>;

export interface RunOverview {
  runDir: string;
  meta?: RunMeta;
  summary?: RunSummary;
  /** The spec as it was when the run started. */
  specText?: string;
  last?: MetricsRecord;
  status: RunStatus;
  convergence?: ConvergenceState;
  convergenceReason?: string;
  message?: string;
  /** Set when the entropy theorem does not apply to the run (non-Gaussian decoder, fixed variance, beta != 1). */
  theoremNote?: string;
  /** Milliseconds since the epoch; for sorting newest first. */
  startedMs: number;
}

export interface RunContents extends RunOverview {
  records: MetricsRecord[];
  images?: RunImages;
  badLines: { line: number; message: string }[];
  /** Files of the run that could not be used (not regular files, over the read limit, malformed), with why. */
  problems: { file: string; message: string }[];
  tolerance: number;
  window: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read limits: run.json, summary.json and the spec are small; images and metrics grow with the run. */
export const READ_LIMITS = {
  small: 1 << 20,
  images: 64 << 20,
  metrics: 512 << 20,
} as const;

type Problems = { file: string; message: string }[];

/**
 * A run file's text, or undefined (a missing file is normal; anything else is noted in
 * `problems` when given). Never blocks on a FIFO, never reads past `limit`.
 */
async function readText(file: string, limit: number = READ_LIMITS.small, problems?: Problems): Promise<string | undefined> {
  const r = await readRegularFile(file, limit);
  if (r.ok) return r.text;
  if (r.reason !== 'missing') problems?.push({ file, message: `${path.basename(file)} was not read: ${r.detail}` });
  return undefined;
}

async function readJson(file: string, limit?: number, problems?: Problems): Promise<unknown> {
  const text = await readText(file, limit, problems);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    problems?.push({ file, message: `${path.basename(file)} is not valid JSON` });
    return undefined;
  }
}

export function isRunMeta(v: unknown): v is RunMeta {
  return isObj(v) && typeof v.name === 'string' && typeof v.specPath === 'string' && typeof v.startedAt === 'string';
}

export function isRunSummary(v: unknown): v is RunSummary {
  return isObj(v) && typeof v.status === 'string' && typeof v.epochsDone === 'number';
}

/** Images the panel can draw: a sane shape (at most MAX_IMAGE_PIXELS), and every image of that many numbers. */
export function isRunImages(v: unknown): v is RunImages {
  if (!isObj(v) || !Array.isArray(v.shape) || v.shape.length < 1 || v.shape.length > 3) return false;
  if (!v.shape.every((n) => Number.isInteger(n) && (n as number) > 0)) return false;
  const pixels = (v.shape as number[]).reduce((a, b) => a * b, 1);
  if (pixels > MAX_IMAGE_PIXELS) return false;
  const grid = (g: unknown) =>
    Array.isArray(g) &&
    g.length <= MAX_IMAGES_PER_GRID &&
    g.every((img) => Array.isArray(img) && img.length === pixels && img.every((x) => typeof x === 'number'));
  return grid(v.originals) && grid(v.reconstructions) && grid(v.samples);
}

/** The trainer writes 16 of each; a few more are tolerated, thousands are not images to show. */
const MAX_IMAGES_PER_GRID = 64;

/** Open for reading without blocking (a FIFO would wait for a writer forever); undefined unless a regular file. */
async function openRegular(file: string): Promise<fsp.FileHandle | undefined> {
  const handle = await fsp.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return undefined;
}

/** Is a process with this id alive (ours or anyone's)? */
export function isProcessAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last complete record of a metrics.jsonl, reading only its tail. */
export async function lastMetricsRecord(file: string, tailBytes = 256 * 1024): Promise<MetricsRecord | undefined> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await openRegular(file);
    if (!handle) return undefined;
    const { size } = await handle.stat();
    const start = Math.max(0, size - tailBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!.trim();
      if (!line) continue;
      try {
        const v: unknown = JSON.parse(line);
        if (!checkMetricsRecord(v)) return v as MetricsRecord;
      } catch {
        // A cut-short last line (writer mid-write) or a partial first line of the tail window.
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

const MAX_PENDING_CHARS = 16 << 20;

/**
 * Reads a growing metrics.jsonl incrementally: each call returns only the records
 * appended since the last call, holding back a line that is not finished yet.
 */
export class MetricsTail {
  private offset = 0;
  private pending = '';

  constructor(readonly file: string) {}

  private queue: Promise<unknown> = Promise.resolve();

  /** Calls are serialised: two overlapping reads would return the same records twice. */
  readNew(): Promise<MetricsRecord[]> {
    const next = this.queue.then(() => this.read());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<MetricsRecord[]> {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await openRegular(this.file);
      if (!handle) return [];
      const { size } = await handle.stat();
      if (size < this.offset) {
        // Truncated or replaced: start over.
        this.offset = 0;
        this.pending = '';
      }
      if (size === this.offset) return [];
      // At most the read limit per call: a file that grew by gigabytes is read in steps, not at once.
      const buf = Buffer.alloc(Math.min(size - this.offset, READ_LIMITS.metrics));
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      const text = this.pending + buf.subarray(0, bytesRead).toString('utf8');
      const cut = text.lastIndexOf('\n');
      this.pending = cut < 0 ? text : text.slice(cut + 1);
      // A record is kilobytes: a "line" of megabytes without its newline is not one; do not hold it.
      if (this.pending.length > MAX_PENDING_CHARS) this.pending = '';
      return cut < 0 ? [] : parseMetricsJsonl(text.slice(0, cut + 1)).records;
    } catch {
      return [];
    } finally {
      await handle?.close();
    }
  }
}

export interface SpecSettings {
  tolerance: number;
  window: number;
  theoremApplies: boolean;
}

/**
 * Convergence settings for a run: run.json's own (a script's run has no model spec), else the spec
 * snapshot's, else the defaults. Whether the theorem applies is the latest record's say when it has
 * one (an annealed beta reaches 1 mid-run), else run.json's, else the model type's.
 */
export function runSettingsOf(meta: RunMeta | undefined, specText: string | undefined, last?: MetricsRecord): SpecSettings {
  const fromSpec = specSettingsOf(specText, meta?.modelType);
  return {
    tolerance: positive(meta?.tolerance) ?? fromSpec.tolerance,
    window: positive(meta?.window) ?? fromSpec.window,
    theoremApplies: last?.theoremApplies ?? meta?.theoremApplies ?? fromSpec.theoremApplies,
  };
}

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/** The one convergence rule (core/convergence.ts) on a run's records: for runs whose writer left the verdict to the reader. */
export function judgeRecords(records: readonly MetricsRecord[], settings: SpecSettings): { state: ConvergenceState; reason: string } {
  // A decoder outside the theorem has no decoder entropy or gap (null): the scale is then |H_enc| + |H_prior|
  // and the gap terms are unknown (NaN), so only the ELBO's trend can be judged.
  const num = (v: number | null | undefined, missing: number) => (typeof v === 'number' ? v : missing);
  const verdict = judgeConvergence(
    records.map((r) => ({
      ...r,
      gapStdErr: num(r.gapStdErr, 0),
      hDec: num(r.hDec, 0),
      gap: num(r.gap, NaN),
      rDec: num(r.rDec, NaN),
      rPrior: num(r.rPrior, NaN),
    })),
    settings,
  );
  return { state: verdict.state, reason: verdict.reason };
}

/** Why the theorem does not hold for this run, when it does not (for the panel and the status bar). */
export function theoremNoteOf(meta: RunMeta | undefined, last: MetricsRecord | undefined): string | undefined {
  const applies = last?.theoremApplies ?? meta?.theoremApplies;
  if (applies !== false) return undefined;
  return last?.theoremNote ?? meta?.theoremNote ?? 'the entropy theorem does not apply to this model or objective';
}

/** A type this version does not know (a newer run): judged as if the theorem held. */
function theoremHoldsFor(modelType: string | undefined): boolean {
  return (MODEL_TYPES as readonly string[]).includes(modelType ?? '') ? MODEL_TYPE_INFO[modelType as ModelType].theoremHolds : true;
}

/** Convergence settings from the run's spec snapshot, or the defaults. */
export function specSettingsOf(specText: string | undefined, modelType: string | undefined): SpecSettings {
  const fallback = {
    tolerance: SPEC_DEFAULTS.diagnostics.tolerance,
    window: SPEC_DEFAULTS.diagnostics.window,
    theoremApplies: theoremHoldsFor(modelType),
  };
  if (specText === undefined) return fallback;
  try {
    const doc = parseSpecDocument(specText);
    const { diagnostics } = doc.parsed.spec;
    // A script's model is not in its spec: whether the theorem applies is the run's own say (runSettingsOf).
    const theoremApplies = doc.kind === 'model' ? MODEL_TYPE_INFO[doc.parsed.spec.model.type].theoremHolds : fallback.theoremApplies;
    return { tolerance: diagnostics.tolerance, window: diagnostics.window, theoremApplies };
  } catch {
    return fallback;
  }
}

/**
 * A run's status as a viewer should show it. A summary that still says "running"
 * while no process writes the run any more means the run was interrupted.
 */
export function effectiveStatus(
  meta: RunMeta | undefined,
  summary: RunSummary | undefined,
  aliveElsewhere: (pid: number | undefined) => boolean,
): { status: RunStatus; message?: string } {
  const status = summary?.status ?? 'running';
  if (status !== 'running') return { status, message: summary?.message };
  if (aliveElsewhere(meta?.pid)) return { status: 'running', message: summary?.message };
  return { status: 'stopped', message: 'interrupted: the trainer is no longer running' };
}

/** run.json, summary.json, the snapshot and the last record: enough for the status bar and the lists. */
export async function readRunOverview(runDir: string, alive: (pid: number | undefined) => boolean = isProcessAlive): Promise<RunOverview> {
  const [metaRaw, summaryRaw, specText] = await Promise.all([
    readJson(path.join(runDir, RUN_FILES.meta)),
    readJson(path.join(runDir, RUN_FILES.summary)),
    readText(path.join(runDir, RUN_FILES.spec)),
  ]);
  const meta = isRunMeta(metaRaw) ? metaRaw : undefined;
  const summary = isRunSummary(summaryRaw) ? summaryRaw : undefined;
  const last = summary?.last ?? (await lastMetricsRecord(path.join(runDir, RUN_FILES.metrics)));
  const { status, message } = effectiveStatus(meta, summary, alive);
  const startedMs = meta ? Date.parse(meta.startedAt) : NaN;
  let convergence = summary?.convergence ?? last?.convergence;
  let convergenceReason = summary?.convergenceReason ?? last?.convergenceReason;
  if (convergence === undefined && last !== undefined) {
    // A writer that leaves the verdict to the reader (the Python companion): judge its records here.
    const { records } = parseMetricsJsonl((await readText(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics)) ?? '');
    if (records.length > 0) {
      const verdict = judgeRecords(records, runSettingsOf(meta, specText, records[records.length - 1]));
      convergence = verdict.state;
      convergenceReason = verdict.reason;
    }
  }
  return {
    runDir,
    meta,
    summary,
    specText,
    last,
    status,
    message,
    convergence,
    convergenceReason,
    theoremNote: theoremNoteOf(meta, last),
    startedMs: Number.isFinite(startedMs) ? startedMs : 0,
  };
}

/** Everything the panel shows for one run. */
export async function readRunContents(runDir: string, alive: (pid: number | undefined) => boolean = isProcessAlive): Promise<RunContents> {
  const overview = await readRunOverview(runDir, alive);
  const problems: Problems = [];
  const [metricsText, imagesRaw] = await Promise.all([
    readText(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics, problems),
    readJson(path.join(runDir, RUN_FILES.images), READ_LIMITS.images, problems),
  ]);
  const imagesFile = path.join(runDir, RUN_FILES.images);
  if (imagesRaw !== undefined && !isRunImages(imagesRaw))
    problems.push({
      file: imagesFile,
      message: `${RUN_FILES.images} was not shown: its shape or image sizes are not those of up to ${MAX_IMAGES_PER_GRID} images of at most ${MAX_IMAGE_PIXELS} pixels`,
    });
  const parsed = parseMetricsJsonl(metricsText ?? '');
  const lastRecord = parsed.records[parsed.records.length - 1];
  const settings = runSettingsOf(overview.meta, overview.specText, lastRecord);
  let { convergence, convergenceReason } = overview;
  if (overview.summary?.convergence === undefined && overview.last?.convergence === undefined && parsed.records.length > 0) {
    const verdict = judgeRecords(parsed.records, settings);
    convergence = verdict.state;
    convergenceReason = verdict.reason;
  }
  return {
    ...overview,
    last: lastRecord ?? overview.last,
    theoremNote: theoremNoteOf(overview.meta, lastRecord ?? overview.last),
    convergence,
    convergenceReason,
    records: parsed.records,
    images: isRunImages(imagesRaw) ? imagesRaw : undefined,
    badLines: parsed.bad,
    problems,
    tolerance: settings.tolerance,
    window: settings.window,
  };
}

/** Located notes on what a reader left out of a run folder: bad metrics lines by number (the first 20), unread files. */
export function runFolderNotes(c: Pick<RunContents, 'runDir' | 'badLines' | 'problems'>, maxLines = 20): string[] {
  const metrics = path.join(c.runDir, RUN_FILES.metrics);
  return [
    ...c.badLines.slice(0, maxLines).map((b) => `${metrics}:${b.line}: ${b.message} (line skipped)`),
    ...(c.badLines.length > maxLines ? [`${metrics}: ${c.badLines.length - maxLines} more bad lines skipped`] : []),
    ...c.problems.map((p) => `${p.file}: ${p.message}`),
  ];
}

/** Run folders (those with a run.json) directly inside `runsDir`. */
export async function listRunDirs(runsDir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(runsDir, e.name));
  const checks = await Promise.all(dirs.map(async (d) => ((await fileExists(path.join(d, RUN_FILES.meta))) ? d : undefined)));
  return checks.filter((d): d is string => d !== undefined);
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

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

/** A run folder's copy of the spec, not a spec of the user's. */
export async function isRunSnapshot(specPath: string): Promise<boolean> {
  return path.basename(specPath) === RUN_FILES.spec && (await fileExists(path.join(path.dirname(specPath), RUN_FILES.meta)));
}

/** The panel's view of a run read from its folder (`live`: a trainer of this window is writing it). */
export function toPanelRun(c: RunContents, live: boolean): PanelRun {
  // The panel reads the verdict from the last record; a writer that left it to the reader gets the judged one there.
  const last = c.records[c.records.length - 1];
  const records =
    last && last.convergence === undefined && c.convergence !== undefined
      ? [...c.records.slice(0, -1), { ...last, convergence: c.convergence, convergenceReason: c.convergenceReason }]
      : c.records;
  return {
    runDir: c.runDir,
    name: c.meta?.name ?? path.basename(c.runDir),
    modelType: c.meta?.modelType ?? 'unknown',
    backend: c.meta?.backend ?? 'unknown',
    dataset: c.meta?.dataset,
    status: live ? 'training' : c.status,
    tolerance: c.tolerance,
    epochs: c.meta?.epochs ?? c.summary?.epochsDone ?? 0,
    records,
    images: c.images,
    message: live ? undefined : c.message,
    theoremNote: c.theoremNote,
  };
}

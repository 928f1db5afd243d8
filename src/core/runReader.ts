/**
 * Reading run folders (see runFormat.ts) for the viewers: the editor and the CLI report. Node only, no
 * vscode import. Cheap reads for the status bar (run.json,
 * summary.json, the tail of metrics.jsonl) are kept apart from the full read the panel needs.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { judgeConvergence, type ConvergenceState } from './convergence';
import type { PanelRun } from './panelProtocol';
import type { ImagesEvent } from './protocol';
import { checkMetricsRecord, parseMetricsJsonl, RUN_FILES, type MetricsRecord, type RunMeta, type RunStatus, type RunSummary } from './runFormat';
import { parseSpec } from './spec';

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
  /** Milliseconds since the epoch; for sorting newest first. */
  startedMs: number;
}

export interface RunContents extends RunOverview {
  records: MetricsRecord[];
  images?: RunImages;
  badLines: { line: number; message: string }[];
  tolerance: number;
  window: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRunMeta(v: unknown): v is RunMeta {
  return isObj(v) && typeof v.name === 'string' && typeof v.specPath === 'string' && typeof v.startedAt === 'string';
}

export function isRunSummary(v: unknown): v is RunSummary {
  return isObj(v) && typeof v.status === 'string' && typeof v.epochsDone === 'number';
}

export function isRunImages(v: unknown): v is RunImages {
  const grid = (g: unknown) => Array.isArray(g) && g.every((row) => Array.isArray(row));
  return isObj(v) && Array.isArray(v.shape) && v.shape.every((n) => typeof n === 'number') && grid(v.originals) && grid(v.reconstructions) && grid(v.samples);
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
    handle = await fsp.open(file, 'r');
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
      handle = await fsp.open(this.file, 'r');
      const { size } = await handle.stat();
      if (size < this.offset) {
        // Truncated or replaced: start over.
        this.offset = 0;
        this.pending = '';
      }
      if (size === this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      const text = this.pending + buf.subarray(0, bytesRead).toString('utf8');
      const cut = text.lastIndexOf('\n');
      this.pending = cut < 0 ? text : text.slice(cut + 1);
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

/** Convergence settings from the run's spec snapshot, or the defaults. */
export function specSettingsOf(specText: string | undefined, modelType: string | undefined): SpecSettings {
  const fallback = { tolerance: 0.01, window: 5, theoremApplies: modelType !== 'VAE-0' };
  if (specText === undefined) return fallback;
  try {
    const { spec } = parseSpec(specText);
    return { tolerance: spec.diagnostics.tolerance, window: spec.diagnostics.window, theoremApplies: spec.model.type !== 'VAE-0' };
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
  return {
    runDir,
    meta,
    summary,
    specText,
    last,
    status,
    message,
    convergence: summary?.convergence ?? last?.convergence,
    convergenceReason: summary?.convergenceReason ?? last?.convergenceReason,
    startedMs: Number.isFinite(startedMs) ? startedMs : 0,
  };
}

/** Everything the panel shows for one run. */
export async function readRunContents(runDir: string, alive: (pid: number | undefined) => boolean = isProcessAlive): Promise<RunContents> {
  const overview = await readRunOverview(runDir, alive);
  const [metricsText, imagesRaw] = await Promise.all([readText(path.join(runDir, RUN_FILES.metrics)), readJson(path.join(runDir, RUN_FILES.images))]);
  const parsed = parseMetricsJsonl(metricsText ?? '');
  const settings = specSettingsOf(overview.specText, overview.meta?.modelType);
  let { convergence, convergenceReason } = overview;
  if (convergence === undefined && parsed.records.length > 0) {
    const verdict = judgeConvergence(
      parsed.records.map((r) => ({ ...r, gapStdErr: r.gapStdErr ?? 0 })),
      settings,
    );
    convergence = verdict.state;
    convergenceReason = verdict.reason;
  }
  return {
    ...overview,
    last: parsed.records[parsed.records.length - 1] ?? overview.last,
    convergence,
    convergenceReason,
    records: parsed.records,
    images: isRunImages(imagesRaw) ? imagesRaw : undefined,
    badLines: parsed.bad,
    tolerance: settings.tolerance,
    window: settings.window,
  };
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
  return {
    runDir: c.runDir,
    name: c.meta?.name ?? path.basename(c.runDir),
    modelType: c.meta?.modelType ?? 'unknown',
    backend: c.meta?.backend ?? 'unknown',
    dataset: c.meta?.dataset,
    status: live ? 'training' : c.status,
    tolerance: c.tolerance,
    epochs: c.meta?.epochs ?? c.summary?.epochsDone ?? 0,
    records: c.records,
    images: c.images,
    message: live ? undefined : c.message,
  };
}

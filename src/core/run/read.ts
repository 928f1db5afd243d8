/**
 * Reading run folders (see runFormat.ts) for the viewers: the editor and the CLI report. Node only, no
 * vscode import. Cheap reads for the status bar (run.json, summary.json, the tail of metrics.jsonl) are
 * kept apart from the full read the panel needs.
 */
import * as path from 'node:path';
import { MAX_IMAGE_PIXELS } from '../allocation';
import type { ConvergenceState } from '../convergence';
import { parseMetricsJsonl, RUN_FILES, type MetricsRecord, type RunMeta, type RunStatus, type RunSummary } from '../runFormat';
import { isRunImages, isRunMeta, isRunSummary, MAX_IMAGES_PER_GRID, readJson, readText, READ_LIMITS, type Problems, type RunImages } from './files';
import { effectiveStatus, isProcessAlive } from './liveness';
import { judgeRecords, runSettingsOf, theoremNoteOf } from './settings';
import { lastMetricsRecord } from './tail';

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
  /** Optional fields of metrics.jsonl left out of their records (parseMetricsJsonl's `ignored`). */
  ignoredFields: { line: number; message: string; lines: number }[];
  /** Files of the run that could not be used (not regular files, over the read limit, malformed), with why. */
  problems: { file: string; message: string }[];
  tolerance: number;
  window: number;
}

/** run.json, summary.json, the snapshot and the last record: enough for the status bar and the lists. */
export function readRunOverview(runDir: string, alive: (pid: number | undefined) => boolean = isProcessAlive): Promise<RunOverview> {
  return overviewOf(runDir, alive, true);
}

/**
 * The overview; with `judgeUnjudged`, a run whose writer left the verdict to the reader is judged
 * from its metrics here. readRunContents reads and judges those records itself, once.
 */
async function overviewOf(runDir: string, alive: (pid: number | undefined) => boolean, judgeUnjudged: boolean): Promise<RunOverview> {
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
  if (judgeUnjudged && convergence === undefined && last !== undefined) {
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
  const overview = await overviewOf(runDir, alive, false);
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
    ignoredFields: parsed.ignored,
    problems,
    tolerance: settings.tolerance,
    window: settings.window,
  };
}

/** Located notes on what a reader left out of a run folder: bad metrics lines by number (the first 20), fields it could not use, unread files. */
export function runFolderNotes(c: Pick<RunContents, 'runDir' | 'badLines' | 'ignoredFields' | 'problems'>, maxLines = 20): string[] {
  const metrics = path.join(c.runDir, RUN_FILES.metrics);
  const also = (lines: number) => (lines > 1 ? `; the same on ${lines - 1} more line${lines > 2 ? 's' : ''}` : '');
  return [
    ...c.badLines.slice(0, maxLines).map((b) => `${metrics}:${b.line}: ${b.message} (line skipped)`),
    ...(c.badLines.length > maxLines ? [`${metrics}: ${c.badLines.length - maxLines} more bad lines skipped`] : []),
    ...c.ignoredFields.map((f) => `${metrics}:${f.line}: ${f.message} (field ignored, the record kept${also(f.lines)})`),
    ...c.problems.map((p) => `${p.file}: ${p.message}`),
  ];
}

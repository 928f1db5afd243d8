/**
 * Reading run folders (see runFormat.ts) for the viewers: the editor and the CLI report. Node only, no
 * vscode import. Cheap reads for the status bar (run.json, summary.json, the tail of metrics.jsonl) are
 * kept apart from the full read the panel needs.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ConvergenceState } from '../convergence';
import {
  CONVERGENCE_STATES,
  readMetricsRecord,
  RUN_FILES,
  RUN_FORMAT_VERSION,
  RUN_STATUSES,
  datasetInfo,
  datasetShape,
  sessionInfo,
  sessionShape,
  shownValue,
  type MetricsRecord,
  type ParsedMetrics,
  type RunMeta,
  type RunStatus,
  type RunSummary,
} from '../runFormat';
import {
  hasRunStatus,
  isRunMeta,
  metricsStamp,
  parseMetricsYielding,
  readJson,
  runImagesOf,
  readText,
  READ_LIMITS,
  type Problems,
  type RunImages,
} from './files';
import { effectiveStatus, isCheckable, isWriterAlive, longestPassInterval, staleAtMs, type WriterActivity, type WriterRecord } from './liveness';
import { array, boolean, isOptional, nullable, number, string, wholeNumber, type Guard, type Shape } from '../guard';
import { judgeInSlices, runJsonSettingProblem, runSettingsOf, theoremNoteOf, type RunVerdict, type SpecSettings } from './settings';
import type { PassIntervals } from './passIntervals';
import { lastMetricsRecord } from './tail';
import { verdictLabel } from '../verdictText';

export interface RunOverview {
  runDir: string;
  meta?: RunMeta;
  summary?: RunSummary;
  /** The spec as it was when the run started. */
  specText?: string;
  last?: MetricsRecord;
  /** metrics.jsonl's last record, whose verdict is the file's word (`last` may be summary.json's copy). */
  lastRecord?: MetricsRecord;
  status: RunStatus;
  convergence?: ConvergenceState;
  convergenceReason?: string;
  message?: string;
  /** Set when the entropy theorem does not apply to the run (non-Gaussian decoder, fixed variance, beta != 1). */
  theoremNote?: string;
  /** Milliseconds since the epoch, never after run.json was written; for sorting newest first. */
  startedMs: number;
  /**
   * For a run whose writer cannot be looked up: when its files were last written, and when, still silent,
   * it reads as interrupted (a write after `silentSinceMs` makes it running again).
   */
  silence?: { silentSinceMs: number; staleAtMs: number };
}

export interface RunContents extends RunOverview {
  records: MetricsRecord[];
  images?: RunImages;
  /** Why images.json is not shown, when it is there but cannot be drawn (also among `problems`). */
  imagesProblem?: string;
  badLines: { line: number; message: string }[];
  /** Optional fields of metrics.jsonl left out of their records (parseMetricsJsonl's `ignored`). */
  ignoredFields: { line: number; message: string; lines: number }[];
  /** Files of the run that could not be used (not regular files, over the read limit, malformed), with why. */
  problems: { file: string; message: string }[];
  /** Where a verdict the run's files hold is not the one judged again from its passes (also among `problems`). */
  verdictNotes: string[];
  tolerance: number;
  window: number;
}

/**
 * Whether the writer a run.json names (its pid and start, and when run.json was last written) still
 * writes the run: isWriterAlive, or the editor's own word on a trainer of its window.
 */
export type WriterAlive = (writer: WriterRecord) => boolean;

/** metrics.jsonl as read: its stamp (metricsStamp) taken before the read, its text and its records. */
export interface MetricsRead {
  stamp: string;
  text: string;
  parsed: ParsedMetrics;
}

/**
 * Judges a run's recorded passes by the one rule (judgeInSlices when nothing else is asked); the
 * editor passes its shared cache, so that a run state is judged once for every surface.
 */
export type MetricsJudge = (runDir: string, metrics: MetricsRead, settings: SpecSettings) => Promise<RunVerdict>;

const judgeHere: MetricsJudge = (_runDir, metrics, settings) => judgeInSlices(metrics.parsed.records, settings);

/**
 * Judges the recorded passes of a run whose writer left the verdict to the reader, for its overview;
 * undefined without passes. `metrics` reads the file whole (once); the editor's shared judge reads
 * only what was appended since it last judged the run, for an overview read again at each checkpoint.
 */
export type OverviewJudge = (runDir: string, settings: SpecSettings, metrics: () => Promise<MetricsRead>) => Promise<RunVerdict | undefined>;

const judgeWhole: OverviewJudge = async (_runDir, settings, metrics) => {
  const { records } = (await metrics()).parsed;
  return records.length === 0 ? undefined : judgeInSlices(records, settings);
};

/** Reads metrics.jsonl once, however many ask. */
function metricsOnce(runDir: string, problems?: Problems): () => Promise<MetricsRead> {
  return once(async () => {
    // The stamp first: a write during the read then makes the next stamp another, never the same.
    const stamp = await metricsStamp(runDir);
    const text = (await readText(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics, problems)) ?? '';
    return { stamp, text, parsed: await parseMetricsYielding(text) };
  });
}

/** run.json, summary.json, the snapshot and the last record: enough for the status bar and the lists. */
export function readRunOverview(
  runDir: string,
  alive: WriterAlive = isWriterAlive,
  judge: OverviewJudge = judgeWhole,
  intervals?: PassIntervals,
): Promise<RunOverview> {
  return overviewOf(runDir, alive, judge, { intervals });
}

/**
 * The overview without the verdict of a run whose writer left it to the reader: for a look at a run's
 * state alone (a followed run's end, every few seconds), which must not read and judge all its passes.
 */
export function readRunState(runDir: string, alive: WriterAlive = isWriterAlive, intervals?: PassIntervals): Promise<RunOverview> {
  return overviewOf(runDir, alive, undefined, { intervals });
}

/** How overviewOf reads what it needs of metrics.jsonl beside its last record, and where it says what it could not use. */
interface OverviewReads {
  problems?: Problems;
  /** The whole file, read once however many ask. */
  metrics?: () => Promise<MetricsRead>;
  /** The pace of a writer that cannot be looked up, kept from look to look: a growth is read alone, not the whole file. */
  intervals?: PassIntervals;
}

/**
 * The overview; with `judge`, a run whose writer left the verdict to the reader is judged from its
 * metrics here. readRunContents reads and judges those records itself, once, and passes `problems`
 * to hear what in run.json and summary.json could not be used.
 */
async function overviewOf(runDir: string, alive: WriterAlive, judge: OverviewJudge | undefined, reads: OverviewReads = {}): Promise<RunOverview> {
  const { problems, intervals } = reads;
  const metrics = reads.metrics ?? metricsOnce(runDir);
  const metaFile = path.join(runDir, RUN_FILES.meta);
  const summaryFile = path.join(runDir, RUN_FILES.summary);
  // Its time first: a run.json rewritten after (a resume) is then newer, never older, than this.
  const metaWrittenMs = await fsp.stat(metaFile).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  const [metaRaw, summaryRaw, specText] = await Promise.all([
    readJson(metaFile, undefined, problems),
    readJson(summaryFile, undefined, problems),
    readText(path.join(runDir, RUN_FILES.spec)),
  ]);
  const meta = runMetaOf(metaRaw, metaFile, problems);
  const lastRecord = await lastMetricsRecord(path.join(runDir, RUN_FILES.metrics));
  const summary = runSummaryOf(summaryRaw, summaryFile, problems, lastRecord);
  // A summary written less often than the records (another writer's, at its checkpoints) speaks of an
  // earlier pass: its verdict is not the run's, which the records give.
  const summaryIsCurrent = summary?.last === undefined || lastRecord === undefined || samePass(summary.last, lastRecord);
  if (!summaryIsCurrent && summary?.last !== undefined && lastRecord !== undefined && summary.status !== 'running')
    problems?.push({
      file: summaryFile,
      message: `${RUN_FILES.summary}: its last pass (${passName(summary.last)}) is not the last record of ${RUN_FILES.metrics} (${passName(lastRecord)}); the records are shown`,
    });
  const last = summaryIsCurrent ? (summary?.last ?? lastRecord) : lastRecord;
  // A writer whose process cannot be looked up is judged by how long its files have been silent.
  const activity =
    summary?.status === 'running' && !isCheckable(meta, summary)
      ? await writerActivity(runDir, intervals === undefined ? () => wholeInterval(metrics) : () => intervals.longest(runDir))
      : undefined;
  const { status, message } = effectiveStatus(meta, summary, (pid) => alive({ pid, pidStart: meta?.pidStart, writtenMs: metaWrittenMs }), activity);
  // A run cannot start after its run.json was written: a writer whose clock runs ahead (another machine)
  // would otherwise stamp a run that stays the newest for ever. This machine's file times win then.
  // A startedAt that is not a time (noted by runMetaOf) leaves the file's time to date the run.
  const declaredMs = meta ? Date.parse(meta.startedAt) : NaN;
  const startedMs = meta ? Math.min(Number.isNaN(declaredMs) ? Infinity : declaredMs, metaWrittenMs ?? Infinity) : NaN;
  const summaryVerdict = summaryIsCurrent ? summary : undefined;
  let convergence = summaryVerdict?.convergence ?? last?.convergence;
  let convergenceReason = summaryVerdict?.convergence !== undefined ? summaryVerdict.convergenceReason : last?.convergenceReason;
  if (judge !== undefined && convergence === undefined && lastRecord !== undefined) {
    // A writer that leaves the verdict to the reader (the Python companion): judge its records here,
    // by the settings of the last record (those the surfaces ask the shared judge with).
    const verdict = await judge(runDir, runSettingsOf(meta, specText, lastRecord), metrics);
    if (verdict !== undefined) {
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
    ...(lastRecord === undefined ? {} : { lastRecord }),
    status,
    message,
    convergence,
    convergenceReason,
    theoremNote: theoremNoteOf(meta, last),
    startedMs: Number.isFinite(startedMs) ? startedMs : 0,
    ...(activity !== undefined ? { silence: { silentSinceMs: activity.lastWriteMs, staleAtMs: staleAtMs(activity) } } : {}),
  };
}

/** When any of a run's files was last written, and the longest interval between its passes (`passInterval`). */
async function writerActivity(runDir: string, passInterval: () => Promise<number | undefined>): Promise<WriterActivity | undefined> {
  const times = await Promise.all(
    [RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.metrics].map((f) =>
      fsp.stat(path.join(runDir, f)).then(
        (s) => s.mtimeMs,
        () => -Infinity,
      ),
    ),
  );
  const lastWriteMs = Math.max(...times);
  if (!Number.isFinite(lastWriteMs)) return undefined;
  return { lastWriteMs, passIntervalSeconds: await passInterval() };
}

/** The longest interval between passes, from metrics.jsonl read whole. */
const wholeInterval = async (metrics: () => Promise<MetricsRead>) => longestPassInterval((await metrics()).parsed.records.map((r) => r.wallSeconds));

function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

const samePass = (a: MetricsRecord, b: MetricsRecord) => a.epoch === b.epoch && a.step === b.step;
const passName = (r: MetricsRecord) => `epoch ${r.epoch}, step ${r.step}`;

/** run.json's fields beside the three it must have, and what each must be to be used. */
const META_FIELDS: Record<string, Guard<unknown>> = {
  formatVersion: wholeNumber(1),
  runsDir: string,
  backend: string,
  engineDetail: string,
  modelType: string,
  // The Python companion writes 0 until its first pass shows the latents.
  latentDim: wholeNumber(0),
  epochs: wholeNumber(0),
  dataset: datasetInfo,
  resumedFrom: string,
  sessions: array(sessionInfo),
  pid: wholeNumber(1),
  pidStart: string,
  host: string,
  trainer: string,
  likelihood: string,
  theoremApplies: boolean,
  theoremNote: string,
  tolerance: number,
  window: number,
  threads: wholeNumber(1),
  decoderVariance: string,
  worldSize: wholeNumber(1),
  diagnosticPoints: wholeNumber(1),
  // Null where the job had no id to give.
  elasticRunId: nullable(string),
  elasticRestarts: wholeNumber(0),
};

/**
 * run.json as far as this version can use it: it must have "name", "specPath" and "startedAt";
 * another field of another kind (another writer's `epochs: "10"` or `dataset: "mnist"`) is left out
 * rather than passed on to the status bar and the panel, which would refuse the whole run, and a
 * newer format is read as far as it goes. What was left out is noted in `problems`.
 */
export function runMetaOf(raw: unknown, file: string, problems?: Problems): RunMeta | undefined {
  if (raw === undefined) return undefined;
  const note = (message: string) => problems?.push({ file, message: `${RUN_FILES.meta}: ${message}` });
  if (!isRunMeta(raw)) {
    problems?.push({ file, message: `${RUN_FILES.meta} was not used: it needs "name", "specPath" and "startedAt" as strings` });
    return undefined;
  }
  const meta: Record<string, unknown> = { ...raw };
  if (Number.isNaN(Date.parse(raw.startedAt)))
    note(
      `startedAt ${JSON.stringify(raw.startedAt)} is not a time (ISO 8601, such as 2026-03-01T12:00:00Z); the run is dated by when ${RUN_FILES.meta} was last written`,
    );
  for (const [key, guard] of Object.entries(META_FIELDS)) {
    if (meta[key] === undefined) continue;
    if (key === 'dataset' || key === 'sessions') {
      const kept = key === 'dataset' ? membersOf(meta[key], datasetShape, key, note) : sessionsOf(meta[key], note);
      // Null: not an object (or a list of them) at all, named below as any field of another kind is.
      if (kept !== null) {
        if (kept === undefined) delete meta[key];
        else meta[key] = kept;
        continue;
      }
    }
    const problem = guard.problem(meta[key], key);
    if (problem === undefined) continue;
    // The value where the field itself is wrong; a problem deeper in it (dataset.dim) names its own place.
    note(`${problem}${problem.startsWith(`${key}: `) ? `, not ${shownValue(meta[key])}` : ''}; the field is not used`);
    delete meta[key];
  }
  for (const key of ['tolerance', 'window'] as const) {
    const problem = meta[key] === undefined ? undefined : runJsonSettingProblem(key, meta[key]);
    if (problem === undefined) continue;
    note(`${problem}; the spec snapshot's (or the default) is used`);
    delete meta[key];
  }
  if (typeof meta.formatVersion === 'number' && meta.formatVersion > RUN_FORMAT_VERSION)
    note(`formatVersion ${meta.formatVersion} is newer than the ${RUN_FORMAT_VERSION} this version of VAE Lens reads; what it can read is shown`);
  return meta as unknown as RunMeta;
}

/**
 * An object of run.json read member by member, as its fields are: a wrong optional member is left out
 * alone (a Python writer's `"validationN": null` costs the dataset nothing), and each wrong member is
 * named with its value. Undefined when a member it needs is wrong or missing (the object is not used);
 * null when it is not an object at all (the caller names the whole field).
 */
function membersOf(v: unknown, shape: Shape, path: string, note: (message: string) => void): Record<string, unknown> | undefined | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const kept: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  let usable = true;
  for (const [key, guard] of Object.entries(shape)) {
    const value = kept[key];
    const problem = guard.problem(value, `${path}.${key}`);
    if (problem === undefined) continue;
    const member = `${path}.${key}`;
    const optional = isOptional(guard);
    // The value where the member itself is wrong; a problem deeper in it (imageShape[1]) names its own place.
    const itself = problem.startsWith(`${member}: `);
    const what = value === undefined ? `${member} is missing` : `${problem}${itself ? `, not ${shownValue(value)}` : ''}`;
    note(`${what}; ${!optional ? `${path} is not used` : itself ? 'the field is not used' : `${member} is not used`}`);
    if (optional) delete kept[key];
    else usable = false;
  }
  return usable ? kept : undefined;
}

/** run.json's sessions, each read member by member (membersOf); one that cannot be used leaves them all out, as a count would be wrong. */
function sessionsOf(v: unknown, note: (message: string) => void): Record<string, unknown>[] | undefined | null {
  if (!Array.isArray(v) || v.some((s: unknown) => typeof s !== 'object' || s === null || Array.isArray(s))) return null;
  const kept = v.map((s: unknown, i) => membersOf(s, sessionShape, `sessions[${i}]`, note));
  if (kept.every((s) => s !== undefined && s !== null)) return kept as Record<string, unknown>[];
  note('sessions: not used, since one of them cannot be');
  return undefined;
}

/**
 * summary.json as far as this version can use it. Its status is kept even when other fields are
 * not what it reads: a convergence state it does not know is left for the reader to judge, a `last`
 * that is not a record gives way to metrics.jsonl's, and a status it does not know reads as stopped,
 * saying so. What was left out is noted in `problems`.
 */
export function runSummaryOf(raw: unknown, file: string, problems?: Problems, lastRecord?: MetricsRecord): RunSummary | undefined {
  if (raw === undefined) return undefined;
  const note = (message: string) => problems?.push({ file, message: `${RUN_FILES.summary}: ${message}` });
  if (!hasRunStatus(raw)) {
    note('not used: it needs "status" as a string');
    return undefined;
  }
  const fields: Record<string, unknown> = { ...raw };
  // The counts say how far the run got, which its records say too: one missing or of another kind is taken from them.
  const counted = { epochsDone: lastRecord?.epoch, steps: lastRecord?.step, wallSeconds: lastRecord?.wallSeconds };
  for (const [key, fromRecords] of Object.entries(counted)) {
    const usable = typeof fields[key] === 'number' && Number.isFinite(fields[key]);
    if (fields[key] !== undefined && !usable) note(`${key}: expected a finite number, not ${shownValue(fields[key])}; the field is not used`);
    if (!usable) fields[key] = typeof fromRecords === 'number' ? fromRecords : 0;
  }
  const summary = fields as unknown as RunSummary;
  if (!(RUN_STATUSES as readonly string[]).includes(summary.status)) {
    note(`status "${summary.status}" is not one this version knows (${RUN_STATUSES.join(', ')}); the run is shown as stopped`);
    summary.message = `the run's summary says "${summary.status}", a status this version of VAE Lens does not know${summary.message ? `: ${summary.message}` : ''}`;
    summary.status = 'stopped';
  }
  if (summary.convergence !== undefined && !(CONVERGENCE_STATES as readonly string[]).includes(summary.convergence)) {
    note(`convergence ${JSON.stringify(summary.convergence)} is not a state this version knows; the run is judged from its records`);
    delete summary.convergence;
    delete summary.convergenceReason;
  }
  if (summary.convergenceReason !== undefined && typeof summary.convergenceReason !== 'string') delete summary.convergenceReason;
  if (summary.message !== undefined && typeof summary.message !== 'string') delete summary.message;
  if (summary.last !== undefined) {
    const read = readMetricsRecord(summary.last, 'last');
    if ('problem' in read) {
      note(`last was not used (${read.problem}); the last record of ${RUN_FILES.metrics} is shown`);
      delete summary.last;
    } else summary.last = read.record;
  }
  return summary;
}

/** Everything the panel shows for one run. */
export async function readRunContents(runDir: string, alive: WriterAlive = isWriterAlive, judge: MetricsJudge = judgeHere): Promise<RunContents> {
  const problems: Problems = [];
  const metrics = metricsOnce(runDir, problems);
  const overview = await overviewOf(runDir, alive, undefined, { problems, metrics });
  const [read, imagesRaw] = await Promise.all([metrics(), readJson(path.join(runDir, RUN_FILES.images), READ_LIMITS.images, problems)]);
  const { parsed } = read;
  const images = imagesRaw === undefined ? undefined : runImagesOf(imagesRaw);
  if (images?.problem !== undefined)
    problems.push({ file: path.join(runDir, RUN_FILES.images), message: `${RUN_FILES.images} was not shown: ${images.problem}` });
  const lastRecord = parsed.records[parsed.records.length - 1];
  const settings = runSettingsOf(overview.meta, overview.specText, lastRecord);
  let { convergence, convergenceReason } = overview;
  let verdictNotes: { file: string; message: string }[] = [];
  if (parsed.records.length > 0) {
    // The verdict is the rule's on the recorded passes, judged here: a verdict stored beside them may
    // have been edited by hand, or written by another program or version, and must not contradict them.
    const verdict = await judge(runDir, read, settings);
    verdictNotes = storedVerdictNotes(runDir, overview.summary, lastRecord!, verdict.state, parsed.records.length);
    for (const note of verdictNotes) problems.push(note);
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
    images: images?.images,
    imagesProblem: images?.problem,
    badLines: parsed.bad,
    ignoredFields: parsed.ignored,
    problems: parsed.samePass ? [...problems, samePassProblem(runDir, parsed.samePass, parsed.records.length)] : problems,
    verdictNotes: verdictNotes.map((n) => n.message),
    tolerance: settings.tolerance,
    window: settings.window,
  };
}

/**
 * Notes on the verdicts the run's files hold (summary.json's, where it speaks of the last pass, and
 * the last record's) that are not the state judged again from the recorded passes.
 */
export function storedVerdictNotes(
  runDir: string,
  summary: RunSummary | undefined,
  last: MetricsRecord,
  fresh: ConvergenceState,
  passes: number,
): { file: string; message: string }[] {
  const stored = [
    { file: RUN_FILES.metrics, field: 'its last record\'s "convergence"', state: last.convergence },
    // A summary of an earlier pass (noted by overviewOf) is not the run's word on this one.
    ...(summary?.last === undefined || samePass(summary.last, last) ? [{ file: RUN_FILES.summary, field: '"convergence"', state: summary?.convergence }] : []),
  ];
  return stored
    .filter((s) => s.state !== undefined && s.state !== fresh)
    .map((s) => ({
      file: path.join(runDir, s.file),
      message:
        `${s.file} (${s.field}) says "${verdictLabel(s.state)}", but judged again from the ${passes} recorded pass${passes === 1 ? '' : 'es'} the run is "${verdictLabel(fresh)}"; ` +
        `the verdict judged again is the one shown (a stored verdict edited by hand, or written by another program or another version of VAE Lens, can differ)`,
    }));
}

/** What a writer that does not advance epoch or step is told: most of its records are hidden. */
function samePassProblem(runDir: string, same: { line: number; count: number }, kept: number): { file: string; message: string } {
  return {
    file: path.join(runDir, RUN_FILES.metrics),
    message: `${RUN_FILES.metrics}: ${same.count} records, the first on line ${same.line}, are each followed by one at the same epoch and step, which replaces it as a resumed run's rewrite would; ${kept} record${kept === 1 ? ' is' : 's are'} shown. A writer gives each pass its own epoch or step`,
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
    ...c.problems.map(locatedProblem),
  ];
}

/**
 * A problem after its file's path. Its message names the file, to be read alone ("run.json was not used: ...",
 * "summary.json: status ..."): that name gives way to the path rather than follow it.
 */
function locatedProblem(p: { file: string; message: string }): string {
  const name = path.basename(p.file);
  if (p.message.startsWith(`${name}: `)) return `${p.file}: ${p.message.slice(name.length + 2)}`;
  if (p.message.startsWith(`${name} `)) return `${p.file}${p.message.slice(name.length)}`;
  return `${p.file}: ${p.message}`;
}

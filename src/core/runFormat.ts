/**
 * The run folder format: the public contract between trainers (this one or anyone's)
 * and the viewers (CLI eval/report, the editor panel). Documented in docs/run-format.md.
 *
 *   <run>/spec.vae.json     the spec text as it was when the run started
 *   <run>/run.json          RunMeta, written at start
 *   <run>/metrics.jsonl     one MetricsRecord per diagnostics pass, appended and flushed
 *   <run>/summary.json      RunSummary, written at the end (and rewritten on every checkpoint)
 *   <run>/checkpoints/      latest.json (+ epoch-NNNN.json), see train/checkpoint.ts
 *   <run>/images.json       originals, reconstructions and samples, for image data
 */
import { array, boolean, jsonNumber, literal, nullable, number, object, optional, refine, string, wholeNumber, type Guard, type Infer } from './guard';
import { IMAGE_LAYOUTS } from './imageGeometry';
import { splitLines, withoutBom } from './text';

export const RUN_FILES = {
  spec: 'spec.vae.json',
  meta: 'run.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  checkpoints: 'checkpoints',
  images: 'images.json',
} as const;

export const RUN_FORMAT_VERSION = 1;

/** The states a convergence verdict (core/convergence.ts) can take, from the least to the most settled (VAE-0's "stationary" apart). */
export const CONVERGENCE_STATES = [
  'too-early',
  'improving',
  /** The gap is open (or the ELBO falls): not at a stationary point. Also the old rule's "no". */
  'not-converged',
  'noise-limited',
  'converged',
  'collapsed',
  /** VAE-0: the ELBO is stationary; the gap need not close. */
  'stationary',
] as const;
export type ConvergenceState = (typeof CONVERGENCE_STATES)[number];

const convergenceStates = literal(...CONVERGENCE_STATES);
const numbers = array(jsonNumber);

/**
 * One diagnostics pass. The required fields are the public contract (docs/run-format.md); keep
 * them. Numbers may be null in the file (JSON has no NaN or infinity), except the pass's place in
 * the run, `epoch` and `step`. Records are open: another trainer may add fields of its own.
 */
/**
 * A pass's place in the run. Finite, and within 2^53, where doubles still tell one whole number from
 * the next: a step of 2^60 and the step after it would read as the same, and the pass as a restart.
 */
const passPlace = refine(number, (x) => Number.isFinite(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER, 'a finite number of at most 2^53 in size');

const requiredFields = {
  // A null here would compare as 0, and the reader would take the pass for a restart (addRecord).
  epoch: passPlace,
  step: passPlace,
  elbo: jsonNumber,
  elboStdErr: jsonNumber,
  hEnc: jsonNumber,
  hPrior: jsonNumber,
  hDec: jsonNumber,
  entropySum: jsonNumber,
  gap: jsonNumber,
  gapRel: jsonNumber,
  rDec: jsonNumber,
  rPrior: jsonNumber,
  sigma2: jsonNumber,
  sigma2Opt: jsonNumber,
  latentSecondMoment: numbers,
  klPerLatent: numbers,
  samplesPerSec: jsonNumber,
  wallSeconds: jsonNumber,
};

/**
 * Fields a record may carry. One this reader cannot use (a newer version's convergence state, a
 * value of another kind) is left out of the record, not the record out of the run (readMetricsRecord).
 */
const optionalFields = {
  gapStdErr: optional(jsonNumber),
  elboStdErrData: optional(jsonNumber),
  /** Null for VAE-3, where no single optimal variance exists. */
  elboAtOptVariance: optional(nullable(jsonNumber)),
  logLik: optional(jsonNumber),
  kl: optional(jsonNumber),
  collapsedLatents: optional(numbers),
  /** Mean training loss (negative minibatch ELBO) over the epoch. */
  trainLoss: optional(jsonNumber),
  validationElbo: optional(jsonNumber),
  /** Prior variances a_h^2 (VAE-2). */
  priorVariance: optional(numbers),
  convergence: optional(convergenceStates),
  convergenceReason: optional(string),
  // Evidence beside the gap (core/evidence.ts).
  /** Var_n(nu_nh) per latent; a latent is active when it exceeds 0.01 (Burda et al. 2016). */
  latentMeanVariance: optional(numbers),
  activeUnits: optional(jsonNumber),
  /** Per-latent encoder entropy 1/N sum_n 1/2 log(2 pi e t_nh^2), beside the prior's. */
  hEncPerLatent: optional(numbers),
  /** I(x; z), aggregate-posterior estimator on miPoints points (at most log miPoints). */
  mutualInformation: optional(jsonNumber),
  miPoints: optional(jsonNumber),
  /** What a diagonal encoder loses to the decoder's local posterior correlations, nats per point, on meanFieldPoints points. */
  meanFieldGap: optional(jsonNumber),
  meanFieldPoints: optional(jsonNumber),
  /** The decoder's Jacobian is the same at every point (a linear decoder): its optimum has no mean-field gap. */
  decoderLinear: optional(boolean),
  /** ELBO of the weights averaged over the last ~averagingSteps steps, same points and noise. */
  averagedElbo: optional(jsonNumber),
  averagingSteps: optional(jsonNumber),
  /** The learning rate of the last step before this pass (a decaying schedule takes the step's noise down with it). */
  learningRate: optional(jsonNumber),
  /** The plateau test: ELBO slope per epoch over the verdict's window, and its standard error. */
  elboSlope: optional(jsonNumber),
  elboSlopeStdErr: optional(jsonNumber),
  // Written by trainers whose model or objective may fall outside the theorem (the Python companion).
  /** The decoder's likelihood: `gaussian` (the theorem's case), `bernoulli` or `categorical`. */
  likelihood: optional(string),
  /** Weight of the KL term in the training objective at this pass (1: the ELBO itself). */
  beta: optional(jsonNumber),
  /** False when ELBO = entropy sum need not hold at stationary points (non-Gaussian decoder, VAE-0, beta = 0). */
  theoremApplies: optional(boolean),
  /** One line saying why the theorem does not apply. */
  theoremNote: optional(string),
  diagnosticsSeconds: optional(jsonNumber),
  points: optional(jsonNumber),
  mcSamples: optional(jsonNumber),
};

export const metricsRecord = object({ ...requiredFields, ...optionalFields }, { open: true });
const requiredPart = object(requiredFields, { open: true });
export type MetricsRecord = Infer<typeof metricsRecord>;

/** images.json: originals, reconstructions and samples of image data. */
export const imageSetShape = {
  /** [h, w], [h, w, c] or [c, h, w] (c 1, 3 or 4); pixel values in [0, 1], row-major (imageGeometry.ts reads it). */
  shape: array(number),
  /** The order of a three-number shape ("hwc" or "chw"); without it, channels first only when the first size alone is a channel count. */
  layout: optional(literal(...IMAGE_LAYOUTS)),
  originals: array(array(number)),
  reconstructions: array(array(number)),
  samples: array(array(number)),
};
export const imageSet = object(imageSetShape);
export type ImageSet = Infer<typeof imageSet>;

export const RUN_STATUSES = ['running', 'completed', 'stopped', 'failed', 'diverged'] as const;
export const runStatus = literal(...RUN_STATUSES);
export type RunStatus = Infer<typeof runStatus>;

export const datasetShape = {
  n: wholeNumber(0),
  dim: wholeNumber(0),
  /** Shape of one example when the data are images, e.g. [28, 28]. */
  imageShape: optional(array(wholeNumber(1))),
  source: string,
  validationN: optional(wholeNumber(0)),
};
export const datasetInfo = object(datasetShape, { open: true });
export type DatasetInfo = Infer<typeof datasetInfo>;

/**
 * One process's training of a run: the first, and each resume. run.json's own backend, startedAt, pid...
 * are the last session's; `sessions` keeps them all, oldest first.
 */
export const sessionShape = {
  startedAt: string,
  backend: string,
  engineDetail: optional(string),
  threads: optional(wholeNumber(1)),
  pid: optional(wholeNumber(1)),
  pidStart: optional(string),
  host: optional(string),
  /** The epoch its checkpoint had reached when it started (0 for the first). */
  fromEpoch: optional(wholeNumber(0)),
};
export const sessionInfo = object(sessionShape, { open: true });
export type SessionInfo = Infer<typeof sessionInfo>;

export interface RunMeta {
  formatVersion: number;
  name: string;
  specPath: string;
  /**
   * The folder the run folder was made in, absolute, as it was when specPath was written (absent in older
   * runs): where the spec is relative to it is how a moved or cloned workspace finds the spec again.
   */
  runsDir?: string;
  startedAt: string;
  backend: string;
  /** How the engine was chosen, and for tfjs-node the folder it was loaded from. */
  engineDetail?: string;
  modelType: string;
  latentDim: number;
  epochs: number;
  dataset: DatasetInfo;
  resumedFrom?: string;
  /** Every session that trained the run, oldest first (absent in older runs: then the one run.json describes). */
  sessions?: SessionInfo[];
  /** The writer's process id, on `host` (absent in older runs: then this machine). */
  pid?: number;
  /** The writer's start as its machine counts it (liveness.ts processStart): tells a pid handed out again. */
  pidStart?: string;
  host?: string;
  // Optional, from trainers other than VAE Lens's own (whose spec snapshot says these).
  /** Who wrote the run, e.g. `vae_lens (Python)`. */
  trainer?: string;
  likelihood?: string;
  theoremApplies?: boolean;
  theoremNote?: string;
  /** The convergence rule's settings when the run has no model spec to read them from. */
  tolerance?: number;
  window?: number;
  /** Threads the wasm engine's kernels ran on (absent for other engines and older runs). */
  threads?: number;
  // Written by the Python companion; shown as they are, not used by the reader's rules.
  /** The decoder variance's kind (`fixed`, `scalar`, `per-dimension`, `latent`, `none`). */
  decoderVariance?: string;
  worldSize?: number;
  diagnosticPoints?: number;
  /** A torchrun job's id (null where it had none) and its workers' restarts. */
  elasticRunId?: string | null;
  elasticRestarts?: number;
}

export interface RunSummary {
  status: RunStatus;
  endedAt?: string;
  epochsDone: number;
  steps: number;
  wallSeconds: number;
  last?: MetricsRecord;
  convergence?: ConvergenceState;
  convergenceReason?: string;
  message?: string;
  lastCheckpoint?: string;
}

/** The numbers every record holds (or null for a non-finite one), besides its per-latent lists. */
export const REQUIRED_NUMBERS = [
  'epoch',
  'step',
  'elbo',
  'elboStdErr',
  'hEnc',
  'hPrior',
  'hDec',
  'entropySum',
  'gap',
  'gapRel',
  'rDec',
  'rPrior',
  'sigma2',
  'sigma2Opt',
  'samplesPerSec',
  'wallSeconds',
] as const satisfies readonly (keyof MetricsRecord)[];

/** Check one parsed line against the contract; returns a message or undefined. */
export function checkMetricsRecord(v: unknown): string | undefined {
  return metricsRecord.problem(v, '');
}

/**
 * A non-finite number as other writers spell it in text: Python's and numpy's str() ("nan", "inf"),
 * JavaScript's String() ("NaN", "Infinity"), R's jsonlite ("Inf", and "NA" for R's missing value).
 */
const NON_FINITE_STRING = /^(?:[+-]?(?:nan|inf|infinity)|na)$/i;

const allFields: Record<string, Guard<unknown>> = { ...requiredFields, ...optionalFields };
/** The fields that hold a number or null (a non-finite one), or a list of them. */
const NULLABLE_NUMBER_FIELDS = Object.keys(allFields).filter(
  (k) => allFields[k]!.problem(null, '') === undefined && allFields[k]!.problem(0, '') === undefined,
);
const NULLABLE_NUMBER_LIST_FIELDS = Object.keys(allFields).filter((k) => allFields[k]!.problem([null, 0], '') === undefined);

const isNonFiniteString = (x: unknown): boolean => typeof x === 'string' && NON_FINITE_STRING.test(x);

/**
 * The record with a non-finite number read as null, as JSON's null and Python's bare NaN are: a diverged
 * pass is then kept (and judged not converged) rather than skipped. That is a number written as a string
 * ("nan", "Infinity"), and one too large for a double (1e999, which JSON.parse makes Infinity), which is
 * named in `overflowed` by its field: a writer that meant a finite number has lost it. Only in fields that
 * hold numbers: a note that says "NaN" stays text, and `epoch` and `step` are never null.
 */
function withNonFiniteAsNull(v: unknown, at: (key: string) => string): { value: unknown; overflowed: string[] } {
  const overflowed: string[] = [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { value: v, overflowed };
  const fields = v as Record<string, unknown>;
  const own = (key: string) => (Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined);
  const overflow = (x: unknown, where: string) => {
    const is = typeof x === 'number' && !Number.isFinite(x);
    if (is) overflowed.push(`${where}: ${x} (${OVERFLOW}) is read as null, a value that is not finite`);
    return is;
  };
  let copy: Record<string, unknown> | undefined;
  for (const key of NULLABLE_NUMBER_FIELDS) {
    const x = own(key);
    if (isNonFiniteString(x) || overflow(x, at(key))) (copy ??= { ...fields })[key] = null;
  }
  for (const key of NULLABLE_NUMBER_LIST_FIELDS) {
    const list = own(key);
    if (!Array.isArray(list)) continue;
    const nulled = list.map((x: unknown, i) => (isNonFiniteString(x) || overflow(x, `${at(key)}[${i}]`) ? null : x));
    if (nulled.some((x, i) => x !== list[i])) (copy ??= { ...fields })[key] = nulled;
  }
  return { value: copy ?? v, overflowed };
}

const OVERFLOW = 'a number too large for a double, as 1e999 is';

/**
 * One parsed line as a record: its required fields must meet the contract, and an optional field
 * that does not (another writer's value of another kind, a newer version's convergence state) is
 * left out and named in `ignored`, so the pass still counts. `path` prefixes the fields named.
 */
export function readMetricsRecord(v: unknown, path = ''): { record: MetricsRecord; ignored: string[] } | { problem: string } {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const { value: read, overflowed } = withNonFiniteAsNull(v, at);
  const problem = requiredPart.problem(read, path);
  if (problem !== undefined) return { problem: requiredProblem(problem, read, at) };
  const record = { ...(read as Record<string, unknown>) };
  // -0 (numpy's -0.0) is the pass before training, as 0 is.
  for (const key of ['epoch', 'step']) if (Object.is(record[key], -0)) record[key] = 0;
  // One value per latent in each list: lists of other lengths cannot say which latent a value is of.
  const latents = (record.latentSecondMoment as unknown[]).length;
  const perLatent = (key: string, n: number) =>
    `${at(key)}: ${n} value${n === 1 ? '' : 's'} where latentSecondMoment has ${latents}; each holds one value per latent`;
  const klCount = (record.klPerLatent as unknown[]).length;
  if (klCount !== latents) return { problem: perLatent('klPerLatent', klCount) };
  const ignored: string[] = [...overflowed, ...withoutNegativeMagnitudes(record, at)];
  for (const [key, guard] of OPTIONAL_ENTRIES) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const value = record[key];
    const p =
      guard.problem(value, at(key)) ??
      (OPTIONAL_PER_LATENT.includes(key) && Array.isArray(value) && value.length !== latents ? perLatent(key, value.length) : undefined);
    if (p === undefined) continue;
    ignored.push(p);
    delete record[key];
  }
  return { record: record as MetricsRecord, ignored };
}

/**
 * A required field's problem, said as a writer can act on it: a field left out is missing (a number
 * with no value at this pass is written null; epoch, step and the per-latent lists always have one), one of another kind
 * is quoted. A problem deeper in a field (klPerLatent[2]) names its own place.
 */
function requiredProblem(problem: string, read: unknown, at: (key: string) => string): string {
  const key = Object.keys(requiredFields).find((k) => problem.startsWith(`${at(k)}: `));
  if (key === undefined || typeof read !== 'object' || read === null) return problem;
  const value = (read as Record<string, unknown>)[key];
  if (value !== undefined) return `${problem}, not ${shownValue(value)}`;
  const nullable = key !== 'epoch' && key !== 'step' && (REQUIRED_NUMBERS as readonly string[]).includes(key);
  return `${at(key)} is missing: every record needs it${nullable ? ' (write null for a value this pass does not have)' : ''}`;
}

/** A value as a note quotes it: numbers as they read (Infinity, not JSON's null), others as JSON, cut short. */
export function shownValue(v: unknown): string {
  const text = typeof v === 'number' ? String(v) : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The fields the format defines as never negative, by what they are. Another writer's sign (a signed
 * gap over the terms, a log-variance where a variance belongs) would otherwise be read as a small value:
 * a gapRel of -0.3 would read as within any tolerance.
 */
const NEVER_NEGATIVE: Readonly<Record<string, string>> = {
  gapRel: '|gap| / (|hEnc| + |hPrior| + |hDec|)',
  elboStdErr: 'a standard error',
  gapStdErr: 'a standard error',
  elboStdErrData: 'a standard error',
  elboSlopeStdErr: 'a standard error',
  sigma2: 'a variance',
  sigma2Opt: 'a variance',
  latentMeanVariance: 'a variance',
  priorVariance: 'a variance',
  learningRate: 'a step size',
  samplesPerSec: 'a rate',
  wallSeconds: 'a time',
  diagnosticsSeconds: 'a time',
  activeUnits: 'a count',
  miPoints: 'a count',
  meanFieldPoints: 'a count',
  averagingSteps: 'a count',
  points: 'a count',
  mcSamples: 'a count',
};

const NEVER_NEGATIVE_ENTRIES = Object.entries(NEVER_NEGATIVE);

/**
 * Negative values in NEVER_NEGATIVE's fields (or their lists' entries) set to null in `record`, a value
 * the pass does not have, as a non-finite one is; returns each, named by its field.
 */
function withoutNegativeMagnitudes(record: Record<string, unknown>, at: (key: string) => string): string[] {
  const notes: string[] = [];
  const negative = (x: unknown): x is number => typeof x === 'number' && x < 0;
  const note = (where: string, x: number, what: string) => notes.push(`${where}: ${x} is read as null: it is ${what}, never negative`);
  for (const [key, what] of NEVER_NEGATIVE_ENTRIES) {
    const value = record[key];
    if (negative(value)) {
      note(at(key), value, what);
      record[key] = null;
    } else if (Array.isArray(value) && value.some(negative)) {
      value.forEach((x: unknown, i) => negative(x) && note(`${at(key)}[${i}]`, x, what));
      record[key] = value.map((x: unknown) => (negative(x) ? null : x));
    }
  }
  return notes;
}

const OPTIONAL_ENTRIES = Object.entries(optionalFields) as [string, Guard<unknown>][];

/** The optional fields that hold one value per latent, as latentSecondMoment and klPerLatent do. */
const OPTIONAL_PER_LATENT: readonly string[] = ['priorVariance', 'latentMeanVariance', 'hEncPerLatent'];

/**
 * A run file's text (run.json, summary.json, a line of metrics.jsonl) as JSON. Python's `json` module
 * writes non-finite floats as the bare words NaN, Infinity and -Infinity unless told not to; they are
 * read as null, which is how the format writes a non-finite number. Undefined when the text is not
 * JSON even so.
 */
export function parseRunJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (!/NaN|Infinity/.test(text)) return undefined;
  }
  // Strings are matched whole, so the words inside them stay as they are.
  const nulled = text.replace(/"(?:[^"\\]|\\.)*"|-?\b(?:NaN|Infinity)\b/g, (m) => (m.startsWith('"') ? m : 'null'));
  try {
    return JSON.parse(nulled) as unknown;
  } catch {
    return undefined;
  }
}

export interface ParsedMetrics {
  records: MetricsRecord[];
  /** Lines that did not parse or broke the contract (1-based line numbers). */
  bad: { line: number; message: string }[];
  /** Optional fields left out of records that otherwise met the contract: each problem's first line, and on how many lines it was. */
  ignored: { line: number; message: string; lines: number }[];
  /** True when the last line was cut short (a writer killed mid-write); it is ignored. */
  truncatedTail: boolean;
  /**
   * Records replaced by the next one at the same epoch and step, where they outnumber the records
   * kept: a writer that does not advance either (a resume rewrites a pass or two, not most of them).
   * The line of the first such record, and how many.
   */
  samePass?: { line: number; count: number };
}

/** Below this many, records replaced by one at the same pass may be a resume's rewrites. */
const SAME_PASS_NOTED = 3;

/** Whether `record` is a pass after `last` (a later epoch, or the same epoch at a later step), which addRecord keeps both of. */
export function comesAfter(record: MetricsRecord, last: MetricsRecord): boolean {
  return record.epoch > last.epoch || (record.epoch === last.epoch && record.step > last.step);
}

/**
 * Add a record to a run's list. A record that is not after the last one starts the history over
 * from there (a resumed run redoes the epochs after its checkpoint), so the records it replaces are
 * dropped; returns whether any were. "After" is a later epoch, or the same epoch at a later step: a
 * script may diagnose several times an epoch under one epoch number, and those passes all count.
 */
export function addRecord(records: MetricsRecord[], record: MetricsRecord): boolean {
  let replaced = false;
  while (records.length > 0 && !comesAfter(record, records[records.length - 1]!)) {
    records.pop();
    replaced = true;
  }
  records.push(record);
  return replaced;
}

/** Parse metrics.jsonl, tolerating a partial last line. */
export function parseMetricsJsonl(text: string): ParsedMetrics {
  const parser = metricsParser(text);
  for (;;) {
    const step = parser.next();
    if (step.done) return step.value;
  }
}

/** How many lines metricsParser reads between its pauses. */
const LINES_PER_PAUSE = 256;

/**
 * parseMetricsJsonl in steps: it pauses every LINES_PER_PAUSE lines, so that a reader on a thread with
 * other work (the editor's) can give that thread back between steps (run/read.ts, parseMetricsYielding).
 */
export function* metricsParser(text: string): Generator<void, ParsedMetrics, void> {
  // A byte-order mark before the first record (an editor's save) is not part of it.
  const lines = splitLines(withoutBom(text));
  const records: MetricsRecord[] = [];
  const bad: { line: number; message: string }[] = [];
  const ignored = new Map<string, { line: number; message: string; lines: number }>();
  let truncatedTail = false;
  let samePass: { line: number; count: number } | undefined;
  let lastLine = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i % LINES_PER_PAUSE === LINES_PER_PAUSE - 1) yield;
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const isLast = i === lines.length - 1; // no newline after it: possibly cut short
    const v = parseRunJson(line);
    if (v === undefined) {
      const spread = spreadValueEnd(lines, i);
      if (spread !== undefined) {
        bad.push({ line: i + 1, message: notARecord(spread.value, `${i + 1}-${spread.end + 1}`)! });
        i = spread.end;
      } else if (isLast) truncatedTail = true;
      else bad.push({ line: i + 1, message: 'not valid JSON' });
      continue;
    }
    const array = notARecord(v);
    if (array !== undefined) {
      bad.push({ line: i + 1, message: array });
      continue;
    }
    const read = readMetricsRecord(v);
    if ('problem' in read) {
      bad.push({ line: i + 1, message: read.problem });
      continue;
    }
    for (const message of read.ignored) {
      const seen = ignored.get(message);
      if (seen) seen.lines++;
      else ignored.set(message, { line: i + 1, message, lines: 1 });
    }
    const before = records[records.length - 1];
    if (before !== undefined && before.epoch === read.record.epoch && before.step === read.record.step) {
      samePass ??= { line: lastLine, count: 0 };
      samePass.count++;
    }
    addRecord(records, read.record);
    lastLine = i + 1;
  }
  const noted = samePass !== undefined && samePass.count >= SAME_PASS_NOTED && samePass.count >= records.length;
  return { records, bad, ignored: [...ignored.values()], truncatedTail, ...(noted ? { samePass } : {}) };
}

/**
 * Where a JSON object or array that starts on line `start` ends, when the lines from there hold one
 * pretty-printed value (Python's json.dumps with indent): the writer is told that, once, rather than of
 * each of its lines. Such a value opens and closes in the first column, and only its inner lines are
 * indented, so each line is looked at once.
 */
function spreadValueEnd(lines: readonly string[], start: number): { end: number; value: unknown } | undefined {
  const open = lines[start]![0];
  if (open !== '{' && open !== '[') return undefined;
  const close = open === '{' ? '}' : ']';
  for (let j = start + 1; j < lines.length; j++) {
    const line = lines[j]!;
    if (line.startsWith('{') || line.startsWith('[')) return undefined;
    if (!line.startsWith(close)) continue;
    const value = parseRunJson(lines.slice(start, j + 1).join('\n'));
    return value === undefined ? undefined : { end: j, value };
  }
  return undefined;
}

/**
 * Why JSON on one line, or spread over lines `span`, is not a record, in words a writer can act on;
 * undefined for an object on one line (readMetricsRecord judges it).
 */
function notARecord(v: unknown, span?: string): string | undefined {
  const one = `${RUN_FILES.metrics} holds each record as a JSON object on one line`;
  const where = span === undefined ? '' : ` on lines ${span}`;
  if (Array.isArray(v)) return `a JSON array of ${v.length} value${v.length === 1 ? '' : 's'}${where}: ${one}`;
  if (span === undefined) return undefined;
  return typeof v === 'object' && v !== null ? `a record spread over lines ${span}: ${one} (JSON written without indentation)` : 'not valid JSON';
}

/** JSON.stringify that writes non-finite numbers as null (JSON has no NaN), as the format says. */
export function toRunJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));
}

/** One metrics.jsonl line. */
export function toJsonLine(v: unknown): string {
  return toRunJson(v) + '\n';
}

/** CSV of the scalar fields and per-latent arrays, for export. */
export function metricsToCsv(records: readonly MetricsRecord[]): string {
  const scalar = [...REQUIRED_NUMBERS, 'gapStdErr', 'elboAtOptVariance', 'trainLoss', 'validationElbo'] as const;
  const H = records.reduce((m, r) => Math.max(m, r.latentSecondMoment.length), 0);
  const header = [...scalar, ...range(H).map((h) => `m_${h}`), ...range(H).map((h) => `kl_${h}`)];
  const rows = records.map((r) => {
    const rec = r as unknown as Record<string, unknown>;
    const cells = scalar.map((k) => (typeof rec[k] === 'number' ? String(rec[k]) : ''));
    for (let h = 0; h < H; h++) cells.push(String(r.latentSecondMoment[h] ?? ''));
    for (let h = 0; h < H; h++) cells.push(String(r.klPerLatent[h] ?? ''));
    return cells.join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

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
import type { ConvergenceState } from './convergence';

export const RUN_FILES = {
  spec: 'spec.vae.json',
  meta: 'run.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  checkpoints: 'checkpoints',
  images: 'images.json',
} as const;

export const RUN_FORMAT_VERSION = 1;

/** One diagnostics pass. The first block of fields is the public contract; keep them. */
export interface MetricsRecord {
  epoch: number;
  step: number;
  elbo: number;
  elboStdErr: number;
  hEnc: number;
  hPrior: number;
  hDec: number;
  entropySum: number;
  gap: number;
  gapRel: number;
  rDec: number;
  rPrior: number;
  sigma2: number;
  sigma2Opt: number;
  latentSecondMoment: number[];
  klPerLatent: number[];
  samplesPerSec: number;
  wallSeconds: number;

  // Optional extras (a record from another trainer may omit them).
  gapStdErr?: number;
  elboStdErrData?: number;
  elboAtOptVariance?: number | null;
  logLik?: number;
  kl?: number;
  collapsedLatents?: number[];
  /** Mean training loss (negative minibatch ELBO) over the epoch. */
  trainLoss?: number;
  validationElbo?: number;
  /** Prior variances a_h^2 (VAE-2). */
  priorVariance?: number[];
  convergence?: ConvergenceState;
  convergenceReason?: string;
  diagnosticsSeconds?: number;
  points?: number;
  mcSamples?: number;
}

export type RunStatus = 'running' | 'completed' | 'stopped' | 'failed' | 'diverged';

export interface DatasetInfo {
  n: number;
  dim: number;
  /** Shape of one example when the data are images, e.g. [28, 28]. */
  imageShape?: number[];
  source: string;
  validationN?: number;
}

export interface RunMeta {
  formatVersion: number;
  name: string;
  specPath: string;
  startedAt: string;
  backend: string;
  modelType: string;
  latentDim: number;
  epochs: number;
  dataset: DatasetInfo;
  resumedFrom?: string;
  pid?: number;
  /** Threads the wasm engine's kernels ran on (absent for other engines and older runs). */
  threads?: number;
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

const REQUIRED_NUMBERS = [
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
] as const;

/** Check one parsed line against the contract; returns a message or undefined. */
export function checkMetricsRecord(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a record must be a JSON object';
  const o = v as Record<string, unknown>;
  for (const k of REQUIRED_NUMBERS) {
    // JSON has no NaN/Infinity: writers store them as null, and readers accept that.
    if (typeof o[k] !== 'number' && o[k] !== null) return `field "${k}" must be a number`;
  }
  for (const k of ['latentSecondMoment', 'klPerLatent'] as const) {
    if (!Array.isArray(o[k]) || !(o[k] as unknown[]).every((x) => typeof x === 'number' || x === null)) return `field "${k}" must be an array of numbers`;
  }
  return undefined;
}

export interface ParsedMetrics {
  records: MetricsRecord[];
  /** Lines that did not parse or broke the contract (1-based line numbers). */
  bad: { line: number; message: string }[];
  /** True when the last line was cut short (a writer killed mid-write); it is ignored. */
  truncatedTail: boolean;
}

/** Parse metrics.jsonl, tolerating a partial last line. */
/**
 * Add a record to a run's list. A record whose epoch is not after the last one's starts the
 * history over from that epoch (a resumed run redoes the epochs after its checkpoint), so the
 * records it replaces are dropped. Returns whether any were.
 */
export function addRecord(records: MetricsRecord[], record: MetricsRecord): boolean {
  let replaced = false;
  while (records.length > 0 && records[records.length - 1]!.epoch >= record.epoch) {
    records.pop();
    replaced = true;
  }
  records.push(record);
  return replaced;
}

export function parseMetricsJsonl(text: string): ParsedMetrics {
  const lines = text.split('\n');
  const records: MetricsRecord[] = [];
  const bad: { line: number; message: string }[] = [];
  let truncatedTail = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const isLast = i === lines.length - 1; // no newline after it: possibly cut short
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (isLast) truncatedTail = true;
      else bad.push({ line: i + 1, message: 'not valid JSON' });
      return;
    }
    const problem = checkMetricsRecord(v);
    if (problem) bad.push({ line: i + 1, message: problem });
    else addRecord(records, v as MetricsRecord);
  });
  return { records, bad, truncatedTail };
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

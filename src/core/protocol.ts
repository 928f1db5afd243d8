/**
 * The protocol between the editor (client) and the trainer process (server), like a
 * language server's: the extension host forks `dist/trainer.js` with an IPC channel
 * and they exchange these messages. Every received message is checked with the
 * guards below before use; nothing untyped crosses the boundary.
 */
import type { SourceLocation } from './errors';
import type { DatasetInfo, MetricsRecord, RunStatus } from './runFormat';
import type { BackendChoice } from './spec';

export const PROTOCOL_VERSION = 1;

// ---- editor → trainer ----
export interface StartRequest {
  type: 'start';
  specPath: string;
  /** Parent folder for the new run folder; default from the spec. */
  runsDir?: string;
  backend?: BackendChoice;
  epochs?: number;
  /** Resume from a run folder's latest checkpoint. */
  resume?: string;
  /** Folders to look for @tensorflow/tfjs-node in (the user's own install), besides the trainer's own. */
  tfjsNodeSearchPaths?: string[];
  /** Allow data files outside `workspaceRoots` (setting). */
  allowOutsideWorkspace?: boolean;
  workspaceRoots?: string[];
  /** Threads for the wasm engine's kernels, overriding the spec's training.threads. */
  threads?: number;
  /** Cores to leave free when neither this request nor the spec sets the thread count (the editor leaves one). */
  reserveCores?: number;
}
export interface StopRequest {
  type: 'stop';
}
export type ToTrainer = StartRequest | StopRequest;

// ---- trainer → editor ----
export interface StartedEvent {
  type: 'started';
  runDir: string;
  backend: string;
  dataset: DatasetInfo;
  epochs: number;
  stepsPerEpoch: number;
}
export interface ProgressEvent {
  type: 'progress';
  epoch: number;
  /** Fraction of the current epoch done, 0..1. */
  epochFraction: number;
  step: number;
  samplesPerSec: number;
  etaSeconds: number;
  loss: number;
}
export interface DiagnosticsEvent {
  type: 'diagnostics';
  record: MetricsRecord;
}
export interface ImagesEvent {
  type: 'images';
  /** Row-major pixel values in [0, 1], each image `shape[0] x shape[1]`. */
  shape: number[];
  originals: number[][];
  reconstructions: number[][];
  samples: number[][];
}
export interface LogEvent {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}
export interface DoneEvent {
  type: 'done';
  status: RunStatus;
  runDir: string;
  message?: string;
}
export interface ErrorEvent {
  type: 'error';
  message: string;
  /** Set when the problem is in the user's input (spec, data): shown as a diagnostic, no stack. */
  location?: SourceLocation;
  userError: boolean;
  runDir?: string;
}
export type FromTrainer = StartedEvent | ProgressEvent | DiagnosticsEvent | ImagesEvent | LogEvent | DoneEvent | ErrorEvent;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number';
const isStr = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown) => v === undefined || isStr(v);

export function isToTrainer(v: unknown): v is ToTrainer {
  if (!isObj(v)) return false;
  if (v.type === 'stop') return true;
  if (v.type !== 'start') return false;
  return (
    isStr(v.specPath) &&
    optStr(v.runsDir) &&
    optStr(v.backend) &&
    (v.epochs === undefined || isNum(v.epochs)) &&
    (v.threads === undefined || isNum(v.threads)) &&
    (v.reserveCores === undefined || isNum(v.reserveCores)) &&
    optStr(v.resume) &&
    (v.workspaceRoots === undefined || (Array.isArray(v.workspaceRoots) && v.workspaceRoots.every(isStr))) &&
    (v.tfjsNodeSearchPaths === undefined || (Array.isArray(v.tfjsNodeSearchPaths) && v.tfjsNodeSearchPaths.every(isStr)))
  );
}

export function isFromTrainer(v: unknown): v is FromTrainer {
  if (!isObj(v)) return false;
  switch (v.type) {
    case 'started':
      return isStr(v.runDir) && isStr(v.backend) && isObj(v.dataset) && isNum(v.epochs) && isNum(v.stepsPerEpoch);
    case 'progress':
      return isNum(v.epoch) && isNum(v.epochFraction) && isNum(v.step) && isNum(v.samplesPerSec) && isNum(v.etaSeconds);
    case 'diagnostics':
      return isObj(v.record) && isNum(v.record.epoch) && isNum(v.record.elbo);
    case 'images':
      return Array.isArray(v.shape) && Array.isArray(v.originals) && Array.isArray(v.reconstructions) && Array.isArray(v.samples);
    case 'log':
      return isStr(v.message) && (v.level === 'info' || v.level === 'warn' || v.level === 'error');
    case 'done':
      return isStr(v.status) && isStr(v.runDir);
    case 'error':
      return isStr(v.message) && typeof v.userError === 'boolean';
    default:
      return false;
  }
}

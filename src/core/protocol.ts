/**
 * The protocol between the editor (client) and the trainer process (server), like a
 * language server's: the extension host forks `dist/trainer.js` with an IPC channel
 * and they exchange these messages. Each message is declared once, as a schema; its type and
 * its check both come from that declaration, and every received message is checked before use.
 *
 * The start request carries the client's PROTOCOL_VERSION and the trainer refuses another one
 * (an extension updated while an old trainer bundle is still on disk, or the reverse).
 */
import { sourceLocation } from './errors';
import { array, boolean, is, literal, number, object, optional, string, tagged, type Infer } from './guard';
import { datasetInfo, imageSetShape, metricsRecord, runStatus } from './runFormat';
import { BACKENDS } from './specSchema';

export const PROTOCOL_VERSION = 3;

// ---- editor → trainer ----
const startRequestSchema = object({
  type: literal('start'),
  protocolVersion: number,
  specPath: string,
  /**
   * The spec's text exactly as the editor checked it: the trainer parses this rather than reading
   * `specPath` again, so it cannot train a different spec than the one the editor accepted (a save
   * in between). Left out by the CLI, whose trainer reads the file.
   */
  specText: optional(string),
  /** Who asked: its options are then the command line's flags or the editor's settings, and messages name them so. */
  requestedBy: optional(literal('cli', 'editor')),
  /** Parent folder for the new run folder; default from the spec. */
  runsDir: optional(string),
  backend: optional(literal(...BACKENDS)),
  epochs: optional(number),
  /** Resume from a run folder's latest checkpoint. */
  resume: optional(string),
  /** Folders to look for @tensorflow/tfjs-node in (the user's own install), besides the trainer's own. */
  tfjsNodeSearchPaths: optional(array(string)),
  /** Allow data files outside `workspaceRoots` (setting). */
  allowOutsideWorkspace: optional(boolean),
  workspaceRoots: optional(array(string)),
  /** Threads for the wasm engine's kernels, overriding the spec's training.threads. */
  threads: optional(number),
  /** Cores to leave free when neither this request nor the spec sets the thread count (the editor leaves one). */
  reserveCores: optional(number),
});
const stopRequest = object({ type: literal('stop') });

export const toTrainer = tagged({ start: startRequestSchema, stop: stopRequest });
export type StartRequest = Infer<typeof startRequestSchema>;
export type StopRequest = Infer<typeof stopRequest>;
export type ToTrainer = Infer<typeof toTrainer>;

// ---- trainer → editor ----
const startedEvent = object({
  type: literal('started'),
  protocolVersion: number,
  runDir: string,
  backend: string,
  dataset: datasetInfo,
  epochs: number,
  stepsPerEpoch: number,
});
const progressEvent = object({
  type: literal('progress'),
  epoch: number,
  /** Fraction of the current epoch done, 0..1. */
  epochFraction: number,
  step: number,
  samplesPerSec: number,
  etaSeconds: number,
  loss: number,
});
const diagnosticsEvent = object({ type: literal('diagnostics'), record: metricsRecord });
const imagesEvent = object({ type: literal('images'), ...imageSetShape });
const logEvent = object({ type: literal('log'), level: literal('info', 'warn', 'error'), message: string });
const doneEvent = object({ type: literal('done'), status: runStatus, runDir: string, message: optional(string) });
const errorEvent = object({
  type: literal('error'),
  message: string,
  /** Set when the problem is in the user's input (spec, data): shown as a diagnostic, no stack. */
  location: optional(sourceLocation),
  userError: boolean,
  runDir: optional(string),
});

export const fromTrainer = tagged({
  started: startedEvent,
  progress: progressEvent,
  diagnostics: diagnosticsEvent,
  images: imagesEvent,
  log: logEvent,
  done: doneEvent,
  error: errorEvent,
});
export type StartedEvent = Infer<typeof startedEvent>;
export type ProgressEvent = Infer<typeof progressEvent>;
export type DiagnosticsEvent = Infer<typeof diagnosticsEvent>;
export type ImagesEvent = Infer<typeof imagesEvent>;
export type LogEvent = Infer<typeof logEvent>;
export type DoneEvent = Infer<typeof doneEvent>;
export type ErrorEvent = Infer<typeof errorEvent>;
export type FromTrainer = Infer<typeof fromTrainer>;

/** A start request of this protocol version. */
export const startRequest = (fields: Omit<StartRequest, 'type' | 'protocolVersion'>): StartRequest => ({
  type: 'start',
  protocolVersion: PROTOCOL_VERSION,
  ...fields,
});

/** The request's options that stand in for spec fields, by the names their sender gives them. */
const OPTION_NAMES = {
  cli: { runsDir: '--out', backend: '--backend', epochs: '--epochs', threads: '--threads' },
  editor: { runsDir: 'vaeLens.runsDirectory', backend: 'vaeLens.backend', epochs: 'epochs', threads: 'vaeLens.threads' },
} as const;

/** What the user knows an option of this request by: the flag, the setting, or the request's own name for it. */
export function requestOptionName(req: Pick<StartRequest, 'requestedBy'>, option: keyof (typeof OPTION_NAMES)['cli']): string {
  return req.requestedBy ? OPTION_NAMES[req.requestedBy][option] : option;
}

export const isToTrainer = (v: unknown): v is ToTrainer => is(toTrainer, v);
export const isFromTrainer = (v: unknown): v is FromTrainer => is(fromTrainer, v);
/** Why a message was refused, for the log line that says so. */
export const toTrainerProblem = (v: unknown): string | undefined => toTrainer.problem(v, 'message');
export const fromTrainerProblem = (v: unknown): string | undefined => fromTrainer.problem(v, 'message');

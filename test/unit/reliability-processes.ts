/**
 * Real training processes for the fault tests: the built CLI (bin/vae-lens.js, dist/cli.js) and
 * the editor's trainer process (dist/trainer.js, forked with an IPC channel). Every event they
 * send is checked against the protocol's guards, so a malformed one fails the test.
 */
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isFromTrainer, type FromTrainer, type StartRequest, type ToTrainer } from '../../src/core/protocol';
import { parseMetricsJsonl, RUN_FILES, type ParsedMetrics, type RunSummary } from '../../src/core/runFormat';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'vae-lens.js');
export const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const PROCESS_TIMEOUT_MS = 120_000;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A spec small enough that an epoch takes tens of milliseconds. */
export function tinySpec(name: string, over: { epochs?: number; learningRate?: number; initialVariance?: number; n?: number } = {}): string {
  return JSON.stringify(
    {
      name,
      data: { synthetic: 'circle', n: over.n ?? 512, noise: 0.05, seed: 3 },
      model: { latentDim: 2, encoder: { hidden: [16] }, decoder: { hidden: [16] }, ...(over.initialVariance ? { initialVariance: over.initialVariance } : {}) },
      training: { epochs: over.epochs ?? 30, batchSize: 32, learningRate: over.learningRate ?? 0.005, backend: 'wasm' },
      diagnostics: { mcSamples: 2, subset: 128 },
    },
    null,
    2,
  );
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  events: FromTrainer[];
}

/**
 * Run `vae-lens ARGS`; with `--json` each stdout line is a protocol event, given to `onEvent`
 * as it arrives (so a test can kill the process at a chosen moment).
 */
export function runCli(args: string[], onEvent?: (ev: FromTrainer, child: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: FromTrainer[] = [];
    let out = '';
    let err = '';
    let pending = '';
    const notEvents: string[] = [];
    const streamsEvents = args[0] === 'train' && args.includes('--json');
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!streamsEvents) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const ev = parseJson(line);
        if (!isFromTrainer(ev)) {
          notEvents.push(line);
          continue;
        }
        events.push(ev);
        onEvent?.(ev, child);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (notEvents.length > 0) reject(new Error(`train --json printed lines that are not protocol events:\n${notEvents.join('\n').slice(0, 1000)}`));
      else resolve({ code, signal, out, err, events });
    });
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

export interface TrainerRun {
  child: ChildProcess;
  events: FromTrainer[];
  malformed: unknown[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(msg: ToTrainer | Record<string, unknown>): void;
  /** Resolves with the first event that satisfies `pred` (already received or still to come). */
  waitFor(pred: (ev: FromTrainer) => boolean, what: string): Promise<FromTrainer>;
}

/** Fork the editor's trainer process, as the extension does, and start a run. */
export function forkTrainer(start: StartRequest): TrainerRun {
  const child = fork(TRAINER, [], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const events: FromTrainer[] = [];
  const malformed: unknown[] = [];
  const waiters: { pred: (ev: FromTrainer) => boolean; resolve: (ev: FromTrainer) => void }[] = [];
  child.stdout!.resume();
  child.stderr!.resume();
  child.on('message', (msg: unknown) => {
    if (!isFromTrainer(msg)) {
      malformed.push(msg);
      return;
    }
    events.push(msg);
    for (const w of waiters.splice(0)) {
      if (w.pred(msg)) w.resolve(msg);
      else waiters.push(w);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    }),
  );
  const run: TrainerRun = {
    child,
    events,
    malformed,
    exited,
    send: (msg) => {
      if (child.connected) child.send(msg);
    },
    waitFor: (pred, what) => {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return Promise.race([
        new Promise<FromTrainer>((resolve) => waiters.push({ pred, resolve })),
        exited.then((e): FromTrainer => {
          throw new Error(`the trainer exited (${e.code ?? e.signal}) before ${what}: ${JSON.stringify(events.slice(-3))}`);
        }),
      ]);
    },
  };
  run.send(start);
  return run;
}

export function readMetrics(runDir: string): { text: string; parsed: ParsedMetrics } {
  const file = path.join(runDir, RUN_FILES.metrics);
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return { text, parsed: parseMetricsJsonl(text) };
}

export function readSummary(runDir: string): RunSummary {
  return JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.summary), 'utf8')) as RunSummary;
}

/** The complete lines of a metrics.jsonl (a torn last line excluded). */
export function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a torn tail
  return lines.filter((l) => l.trim() !== '');
}

/** Lines of `before` that are no longer at their place in `after`: what a fault (and its recovery) lost. */
export function recordsLost(before: string, after: string): number {
  const a = completeLines(before);
  const b = completeLines(after);
  return a.filter((line, i) => b[i] !== line).length;
}

export const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+|internal error/, `a stack trace was printed:\n${s}`);

export const startedDir = (events: readonly FromTrainer[]): string => {
  const started = events.find((e) => e.type === 'started');
  assert.ok(started && started.type === 'started', `no started event: ${JSON.stringify(events.slice(0, 3))}`);
  return started.runDir;
};

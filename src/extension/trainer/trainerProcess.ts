/**
 * One trainer child process (dist/trainer.js) running one spec: forks it, sends the
 * StartRequest, checks every message it sends with isFromTrainer, and guarantees that
 * exactly one DoneEvent is emitted, even when the process crashes or has to be killed.
 * No vscode import: the extension wires the log function to its OutputChannel.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import {
  fromTrainerProblem,
  isFromTrainer,
  type DoneEvent,
  type FromTrainer,
  type ProgressEvent,
  type StartedEvent,
  type StartRequest,
} from '../../core/protocol';
import { killProcessTree } from '../../core/processTree';
import { datasetKnown } from '../../core/wording';
import type { MetricsRecord } from '../../core/runFormat';
import { Emitter } from '../emitter';
import { BoundedLines } from './boundedLines';

export type TrainerState = 'starting' | 'running' | 'stopping' | 'exited';

/** The OS scheduling priority of the trainer process (setting vaeLens.trainerPriority). */
export type TrainerPriority = 'below-normal' | 'normal';

export interface TrainerProcessOptions {
  trainerPath: string;
  request: StartRequest;
  log: (line: string) => void;
  /** How long a stop request may take before the process is killed. */
  stopGraceMs?: number;
  /** Extra environment for the child (tests). */
  env?: NodeJS.ProcessEnv;
  priority?: TrainerPriority;
}

export const DEFAULT_STOP_GRACE_MS = 15_000;

/**
 * Training keeps a core busy for minutes. At below-normal priority it gets the cycles the
 * editor, the extension host and the panel leave, so the window stays responsive on a small
 * machine and training loses nothing on an idle one.
 */
function lowerPriority(pid: number | undefined, log: (line: string) => void): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch (e) {
    log(`could not lower the trainer's priority (${(e as Error).message}); it runs at normal priority`);
  }
}
const KILL_ESCALATION_MS = 2_000;

export class TrainerProcess {
  readonly specPath: string;
  private readonly child: ChildProcess;
  private readonly events = new Emitter<FromTrainer>();
  private exitWaiters: (() => void)[] = [];
  private killTimers: NodeJS.Timeout[] = [];
  private doneSent = false;
  private lastError: string | undefined;
  private stopRequested = false;

  state: TrainerState = 'starting';
  started: StartedEvent | undefined;
  lastProgress: ProgressEvent | undefined;
  lastRecord: MetricsRecord | undefined;
  done: DoneEvent | undefined;

  constructor(private readonly opts: TrainerProcessOptions) {
    this.specPath = opts.request.specPath;
    this.child = fork(opts.trainerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      env: { ...process.env, ...opts.env },
    });
    if (opts.priority !== 'normal') lowerPriority(this.child.pid, opts.log);
    this.pipeLines(this.child.stdout, '');
    this.pipeLines(this.child.stderr, 'stderr: ');
    this.child.on('message', (m: unknown) => this.onMessage(m));
    this.child.on('error', (err) => this.onSpawnError(err));
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.send(opts.request);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get runDir(): string | undefined {
    return this.started?.runDir;
  }

  /** The spec's text as this run was started with it (undefined: the trainer reads the file). */
  get specText(): string | undefined {
    return this.opts.request.specText;
  }

  onEvent(listener: (e: FromTrainer) => void) {
    return this.events.on(listener);
  }

  /** Ask the trainer to finish its step and write everything; kill it if it does not exit in time. */
  stop(): Promise<void> {
    if (this.state === 'exited') return Promise.resolve();
    const exited = this.whenExited();
    if (this.stopRequested) return exited;
    this.stopRequested = true;
    this.state = 'stopping';
    this.send({ type: 'stop' });
    const grace = this.opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.killTimers.push(
      setTimeout(() => {
        this.opts.log(`trainer (pid ${this.pid}) did not stop within ${Math.round(grace / 1000)}s; terminating it`);
        this.terminate();
        this.killTimers.push(setTimeout(() => this.kill(), KILL_ESCALATION_MS));
      }, grace),
    );
    return exited;
  }

  get exited(): boolean {
    return this.state === 'exited';
  }

  /**
   * SIGTERM: the trainer stops at its next step, and a script it runs is killed with its process group.
   * Windows has no SIGTERM a process can catch, so there the trainer is ended with every process it started.
   */
  terminate(): void {
    if (this.state === 'exited') return;
    if (process.platform === 'win32' && this.pid !== undefined) killProcessTree(this.pid, { group: false });
    else this.child.kill('SIGTERM');
  }

  /** Kill now, without waiting for the trainer to write its summary. */
  kill(): void {
    if (this.state === 'exited') return;
    if (process.platform === 'win32' && this.pid !== undefined) killProcessTree(this.pid, { group: false });
    else this.child.kill('SIGKILL');
  }

  whenExited(): Promise<void> {
    if (this.state === 'exited') return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /**
   * Release the listeners and ask the trainer to stop (with the usual grace period): never a kill. The
   * extension's deactivate owns the shutdown; VS Code disposes the subscriptions right after calling it,
   * without waiting, so a kill here would cut every trainer off before it wrote its summary and checkpoint.
   */
  dispose(): void {
    void this.stop();
    this.events.dispose();
  }

  private send(message: StartRequest | { type: 'stop' }): void {
    if (!this.child.connected) return;
    this.child.send(message, (err) => {
      if (err) this.opts.log(`could not send "${message.type}" to the trainer: ${err.message}`);
    });
  }

  private onMessage(m: unknown): void {
    if (!isFromTrainer(m)) {
      this.opts.log(`ignored a malformed message from the trainer (${fromTrainerProblem(m)}): ${truncate(safeJson(m), 200)}`);
      return;
    }
    switch (m.type) {
      case 'started':
        this.started = m;
        if (this.state === 'starting') this.state = 'running';
        this.opts.log(
          `run folder ${m.runDir} (backend ${m.backend}, ${datasetKnown(m.dataset) ? `${m.dataset.n} points of dimension ${m.dataset.dim}` : 'data as the script reads them'})`,
        );
        break;
      case 'progress':
        this.lastProgress = m;
        break;
      case 'diagnostics':
        this.lastRecord = m.record;
        break;
      case 'log':
        this.opts.log(`${m.level === 'info' ? '' : `${m.level}: `}${m.message}`);
        break;
      case 'error':
        this.lastError = m.message;
        this.opts.log(`error: ${m.message}`);
        break;
      case 'images':
        break;
      case 'done':
        if (this.doneSent) return;
        this.doneSent = true;
        this.done = m;
        this.opts.log(`run ${m.status}${m.message ? `: ${m.message}` : ''}`);
        break;
    }
    this.events.fire(m);
  }

  private onSpawnError(err: Error): void {
    this.lastError = `could not start the trainer: ${err.message}`;
    this.opts.log(this.lastError);
    this.events.fire({ type: 'error', message: this.lastError, userError: false });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    for (const t of this.killTimers) clearTimeout(t);
    this.killTimers = [];
    if (!this.doneSent) {
      this.doneSent = true;
      const how = signal ? `was ended by ${signal}` : `exited with code ${code}`;
      const status = this.stopRequested ? 'stopped' : 'failed';
      const message = this.stopRequested ? `stopped (the trainer ${how})` : (this.lastError ?? `the trainer ${how} before finishing`);
      if (!this.stopRequested && this.lastError === undefined) {
        this.events.fire({ type: 'error', message, userError: false, runDir: this.runDir });
      }
      this.done = { type: 'done', status, runDir: this.runDir ?? '', message };
      this.opts.log(`run ${status}: ${message}`);
      this.events.fire(this.done);
    }
    this.state = 'exited';
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
  }

  private pipeLines(stream: NodeJS.ReadableStream | null, prefix: string): void {
    if (!stream) return;
    const lines = new BoundedLines((line) => this.opts.log(prefix + line));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => lines.push(chunk));
    stream.on('end', () => lines.end());
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
